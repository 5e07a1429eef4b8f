// amb2api panel: countdowns between polls, the "disconnected" banner, copy buttons, log pause
// and trimming, confirmations for links, resetting forms after a successful htmx post, the
// theme toggle, dismissible notices, local times beside UTC ones, date-and-time fields in the
// browser's zone, and the models page's filters.
// No inline script anywhere (the CSP allows only our own files). Words come from the page
// (data-* attributes), so this file speaks every language the server does.
(function () {
	'use strict'
	var root = document.documentElement
	var lang = root.lang || 'en'
	var serverNow = Number(document.body && document.body.dataset.serverNow)
	var skew = Number.isFinite(serverNow) ? serverNow - Date.now() : 0
	var down = null
	var zh = lang.indexOf('zh') === 0

	function fmt(s) {
		if (zh) {
			if (s < 60) return s + ' 秒'
			if (s < 3600) return Math.floor(s / 60) + ' 分 ' + (s % 60) + ' 秒'
			return Math.floor(s / 3600) + ' 小时 ' + Math.floor((s % 3600) / 60) + ' 分'
		}
		if (s < 60) return s + ' s'
		if (s < 3600) return Math.floor(s / 60) + ' min ' + (s % 60) + ' s'
		return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min'
	}

	// Times: the server writes UTC; the browser adds its own time zone beside it (or, for log lines, shows it instead).
	var timeOfDay = new Intl.DateTimeFormat(lang, { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false })
	var dateTime = new Intl.DateTimeFormat(lang, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false, timeZoneName: 'short' })
	function localTimes(scope) {
		;(scope || document).querySelectorAll('time[data-local]:not([data-localized])').forEach(function (el) {
			var when = new Date(el.getAttribute('datetime'))
			if (isNaN(when.getTime())) return
			el.setAttribute('data-localized', '')
			if (el.getAttribute('data-local') === 'time') {
				el.title = el.textContent
				el.textContent = timeOfDay.format(when) + '.' + String(when.getMilliseconds()).padStart(3, '0')
				return
			}
			var local = document.createElement('span')
			local.className = 'local-time'
			local.textContent = ' (' + dateTime.format(when) + ')'
			el.after(local)
		})
	}

	// Date-and-time fields (a client key's expiry): the server renders them in UTC and names the zone
	// in a hidden field; here they are shown in the browser's zone, and the form names that zone, so
	// the server reads them back right and stores UTC.
	var zone = ''
	try {
		zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ''
	} catch (e) {}
	function pad(n) {
		return String(n).padStart(2, '0')
	}
	function zonedFields(scope) {
		if (!zone) return
		;(scope || document).querySelectorAll('[data-zoned]').forEach(function (box) {
			var tz = box.querySelector('[data-zone-field]')
			var day = box.querySelector('input[type=date]')
			var time = box.querySelector('input[type=time]')
			if (!tz || !day || !time || tz.value === zone) return
			var utc = box.getAttribute('data-utc')
			var when = utc ? new Date(utc) : null
			if (when && !isNaN(when.getTime())) {
				day.value = when.getFullYear() + '-' + pad(when.getMonth() + 1) + '-' + pad(when.getDate())
				time.value = pad(when.getHours()) + ':' + pad(when.getMinutes())
			}
			tz.value = zone
			var label = box.querySelector('[data-zone-label]')
			if (label) label.textContent = label.getAttribute('data-template').replace('{zone}', zone)
		})
	}

	function tick() {
		var now = Date.now() + skew
		document.querySelectorAll('[data-until]').forEach(function (el) {
			var left = Math.ceil((Number(el.getAttribute('data-until')) - now) / 1000)
			var text = left > 0 ? fmt(left) : zh ? '现在' : 'now'
			if (el.textContent !== text) el.textContent = text
		})
		localTimes()
	}
	setInterval(tick, 1000)
	document.addEventListener('DOMContentLoaded', function () {
		localTimes()
		zonedFields()
		modelsCount()
		var invalid = document.querySelector('[aria-invalid=true]')
		if (invalid) invalid.focus()
	})

	function banner(show) {
		var el = document.getElementById('disconnected')
		if (!el) return
		if (show) {
			if (down === null) down = new Date()
			var time = el.querySelector('time')
			if (time) {
				time.textContent = down.toLocaleTimeString(lang)
				time.setAttribute('datetime', down.toISOString())
			}
			el.hidden = false
		} else {
			down = null
			el.hidden = true
		}
	}
	document.addEventListener('htmx:error', function () {
		banner(true)
	})
	document.addEventListener('htmx:after:request', function (e) {
		var ctx = e.detail && e.detail.ctx
		var status = ctx && ctx.response ? ctx.response.status : 0
		if (status > 0 && status < 500) banner(false)
		else if (status >= 500) banner(true)
		var form = e.target
		if (status >= 200 && status < 300 && form && form.matches && form.matches('form[data-reset]')) form.reset()
		var lines = document.getElementById('log-lines')
		if (lines) {
			var items = lines.querySelectorAll('li.log')
			for (var i = 0; i < items.length - 1000; i++) items[i].remove()
		}
	})
	document.addEventListener('htmx:after:swap', function () {
		// Fields the server decides (a quota's new-model row): a morph keeps typed values, so put the rendered ones back.
		document.querySelectorAll('[data-sync]').forEach(function (el) {
			if (el.tagName === 'SELECT') {
				var chosen = el.querySelector('option[selected]')
				el.value = chosen ? chosen.value : ''
			} else el.value = el.getAttribute('value') || ''
		})
		var invalid = document.querySelector('[aria-invalid=true]')
		if (invalid && document.activeElement !== invalid) {
			invalid.focus()
			invalid.scrollIntoView({ block: 'center' })
		}
		localTimes()
		zonedFields()
		modelsCount()
	})
	document.addEventListener('htmx:config:request', function (e) {
		var el = e.target
		if (el && el.id === 'log-poller' && document.body.classList.contains('logs-paused')) e.preventDefault()
	})

	// The models page: filter by text and vendor, select what is shown, select none.
	function modelRows() {
		return Array.prototype.slice.call(document.querySelectorAll('form[data-models] tbody tr[data-model]'))
	}
	function modelsCount() {
		var out = document.querySelector('[data-models-count]')
		if (!out) return
		var n = modelRows().filter(function (tr) {
			var box = tr.querySelector('input[type=checkbox]')
			return box && box.checked
		}).length
		out.textContent = out.getAttribute('data-template').replace('{n}', String(n))
	}
	function filterModels() {
		var text = document.querySelector('[data-models-filter]')
		var vendor = document.querySelector('[data-models-vendor]')
		var needle = text ? text.value.trim().toLowerCase() : ''
		var only = vendor ? vendor.value : ''
		modelRows().forEach(function (tr) {
			tr.hidden = (needle && tr.getAttribute('data-model').indexOf(needle) < 0) || (only && tr.getAttribute('data-vendor') !== only)
		})
	}
	document.addEventListener('input', function (e) {
		if (e.target.matches && e.target.matches('[data-models-filter],[data-models-vendor]')) filterModels()
	})
	document.addEventListener('change', function (e) {
		if (e.target.matches && e.target.matches('[data-models-vendor]')) filterModels()
		if (e.target.matches && e.target.matches('form[data-models] input[type=checkbox]')) modelsCount()
	})

	function setCookie(name, value) {
		document.cookie = name + '=' + value + '; Path=/; Max-Age=31536000; SameSite=Lax' + (location.protocol === 'https:' ? '; Secure' : '')
	}

	document.addEventListener('click', function (e) {
		var t = e.target
		if (!(t instanceof Element)) return
		var copy = t.closest('[data-copy]')
		if (copy) {
			var input = document.querySelector(copy.getAttribute('data-copy'))
			if (input) {
				input.select()
				if (navigator.clipboard) navigator.clipboard.writeText(input.value).catch(function () {})
				else document.execCommand('copy')
				copy.textContent = copy.getAttribute('data-copied') || copy.textContent
			}
			return
		}
		var dismiss = t.closest('[data-dismiss]')
		if (dismiss) {
			var box = dismiss.closest('.notice')
			if (box) box.remove()
			return
		}
		var select = t.closest('[data-select]')
		if (select) {
			var all = select.getAttribute('data-select') === 'all'
			modelRows().forEach(function (tr) {
				var check = tr.querySelector('input[type=checkbox]')
				// "Select shown" adds the rows the filters show; "select none" clears every row.
				if (check && (!all || !tr.hidden)) check.checked = all
			})
			modelsCount()
			return
		}
		var theme = t.closest('#theme-toggle')
		if (theme) {
			// system -> dark -> light -> system; remembered in a cookie, so the server renders it (no flash).
			var order = ['auto', 'dark', 'light']
			var next = order[(order.indexOf(theme.getAttribute('data-theme-now')) + 1) % order.length]
			theme.setAttribute('data-theme-now', next)
			theme.textContent = theme.getAttribute('data-label-' + next)
			if (next === 'auto') root.removeAttribute('data-theme')
			else root.setAttribute('data-theme', next)
			setCookie('amb2api_theme', next)
			return
		}
		var confirmLink = t.closest('[data-confirm]')
		if (confirmLink && !window.confirm(confirmLink.getAttribute('data-confirm'))) {
			e.preventDefault()
			return
		}
		if (t.id === 'log-pause') {
			var paused = document.body.classList.toggle('logs-paused')
			t.setAttribute('aria-pressed', String(paused))
			t.textContent = t.getAttribute(paused ? 'data-label-resume' : 'data-label-pause')
		}
	})
})()
