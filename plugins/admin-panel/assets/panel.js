// amb2api panel: countdowns between polls, the "disconnected" banner, copy buttons, log pause
// and trimming, confirmations for links, and resetting forms after a successful htmx post.
// No inline script anywhere (the CSP allows only our own files).
(function () {
	'use strict'
	var serverNow = Number(document.body && document.body.dataset.serverNow)
	var skew = Number.isFinite(serverNow) ? serverNow - Date.now() : 0
	var down = null

	function fmt(s) {
		if (s < 60) return s + ' s'
		if (s < 3600) return Math.floor(s / 60) + ' min ' + (s % 60) + ' s'
		return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min'
	}
	function tick() {
		var now = Date.now() + skew
		document.querySelectorAll('[data-until]').forEach(function (el) {
			var left = Math.ceil((Number(el.getAttribute('data-until')) - now) / 1000)
			var text = left > 0 ? fmt(left) : 'now'
			if (el.textContent !== text) el.textContent = text
		})
	}
	setInterval(tick, 1000)

	function banner(show) {
		var el = document.getElementById('disconnected')
		if (!el) return
		if (show) {
			if (down === null) down = new Date()
			var time = el.querySelector('time')
			if (time) {
				time.textContent = down.toLocaleTimeString()
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
	document.addEventListener('htmx:config:request', function (e) {
		var el = e.target
		if (el && el.id === 'log-poller' && document.body.classList.contains('logs-paused')) e.preventDefault()
	})
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
				copy.textContent = 'Copied'
			}
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
			t.textContent = paused ? 'Resume' : 'Pause'
		}
	})
})()
