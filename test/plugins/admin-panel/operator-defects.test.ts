/**
 * The defects an operator hit in the panel, each through the real app: notices that a poll
 * wiped, settings refusals far from the Save button, the models page without select none or a
 * filter, the quotas' new-model row, model limits that forgot today's use, usage that counted no
 * failure, the log showing the panel's own requests, the login forgetting a deep link, and an
 * empty log filter. (Layout at 390 px and what a browser does are in panel.browser.test.ts.)
 */
import { afterEach, describe, expect, test } from 'bun:test'
import { keyId } from '../../../core/secrets.ts'
import { harnessSet, type Harness, KEYS, PANEL_PASSWORD } from '../../support.ts'
import { FORM, login, session } from './panel-support.ts'

const harnesses = harnessSet()
afterEach(() => harnesses.closeAll())

type Session = { cookie: string; csrf: string }

async function htmx(h: Harness, s: Session, path: string, form?: Record<string, string>) {
	const response = await h.call(path, {
		method: form ? 'POST' : 'GET',
		auth: null,
		headers: { cookie: s.cookie, 'hx-request': 'true', 'x-csrf-token': s.csrf, ...(form ? FORM : {}) },
		body: form ? new URLSearchParams(form) : undefined,
	})
	return response.text()
}

/** The element with this id and everything inside it (ids in the panel are unique). */
function element(markup: string, id: string): string {
	const start = markup.search(new RegExp(`<(\\w+)[^>]*\\sid="${id}"`))
	if (start < 0) return ''
	const tag = /^<(\w+)/.exec(markup.slice(start))?.[1] as string
	let depth = 0
	const re = new RegExp(`<${tag}[\\s>]|</${tag}>`, 'g')
	re.lastIndex = start
	for (let m = re.exec(markup); m; m = re.exec(markup)) {
		depth += m[0].startsWith('</') ? -1 : 1
		if (depth === 0) return markup.slice(start, m.index + m[0].length)
	}
	return markup.slice(start)
}

describe('notices stay until dismissed or replaced', () => {
	test('the 2 s poll carries the table only; the notice of an action sits outside it', async () => {
		const h = await harnesses.start()
		const s = await session(h)
		const answer = await htmx(h, s, `/ui/keys/${keyId(KEYS[0] as string)}/disable`, {})
		const polled = element(answer, 'keys-live')
		expect(polled).toContain('hx-trigger="every 2s"')
		expect(polled).not.toContain('disabled.')
		expect(element(answer, 'keys-notice')).toContain(`Key ${keyId(KEYS[0] as string).slice(0, 8)} disabled.`)
		expect(element(answer, 'keys-notice')).toContain('data-dismiss')
		// What the poll answers replaces #keys-live only: no notice in it.
		const poll = await htmx(h, s, '/ui/fragments/keys')
		expect(poll.startsWith('<div id="keys-live"')).toBe(true)
		expect(poll).not.toContain('notice')
		// A key test's answer is a notice too (it used to be a table row the poll removed).
		const tested = await htmx(h, s, `/ui/keys/${keyId(KEYS[1] as string)}/test`, {})
		expect(element(tested, 'keys-notice')).toMatch(/HTTP 200 from \S+ in \d+ ms/)
	})
})

describe('settings', () => {
	test('a refused value is reported at its field (highlighted) and beside Save, by its environment name', async () => {
		const h = await harnesses.start({ env: { LOG_LEVEL: '' } })
		const s = await session(h)
		const answer = await htmx(h, s, '/ui/settings', { log_body_max: 'lots' })
		const row = element(answer, 'setting-LOG_BODY_MAX')
		expect(row).toContain('class="row-invalid"')
		expect(row).toContain('aria-invalid="true"')
		expect(row).toContain('value="lots"')
		expect(row).toContain('LOG_BODY_MAX was not saved: it must be a whole number from 0 to 10000000.')
		const bar = element(answer, 'settings-outcome')
		expect(bar).toContain('LOG_BODY_MAX was not saved')
		expect(bar.indexOf('LOG_BODY_MAX was not saved')).toBeLessThan(bar.indexOf('type="submit"'))
		expect(answer).not.toContain('log_body_max=')
		// The notice is not at the top of the page any more.
		expect(answer.indexOf('notice-error')).toBeGreaterThan(answer.indexOf('setting-ANTI_TRUNCATION_LIST_MODELS'))
		// A saved value is named as the operator knows it.
		expect(await htmx(h, s, '/ui/settings', { log_level: 'warning' })).toContain('Saved: LOG_LEVEL.')
	})

	test('settings with a fixed set of values are a choice, not a text box', async () => {
		const h = await harnesses.start({ env: { LOG_LEVEL: '' } })
		const s = await session(h)
		const page = await htmx(h, s, '/ui/settings')
		const level = element(page, 'setting-LOG_LEVEL')
		expect(level).toContain('<select id="s-LOG_LEVEL" name="log_level">')
		for (const v of ['debug', 'info', 'warning', 'error']) expect(level).toContain(`<option value="${v}"`)
		expect(element(page, 'setting-FAKE_STREAM_HEARTBEAT_STYLE')).toContain('<select')
	})
})

describe('models page', () => {
	test('select none, select shown, a text filter, a vendor filter, and the note that hidden models can still be called', async () => {
		const h = await harnesses.start()
		const s = await session(h)
		const page = await htmx(h, s, '/ui/models')
		expect(page).toContain('data-select="none"')
		expect(page).toContain('data-select="all"')
		expect(page).toContain('data-models-filter')
		expect(page).toMatch(/<select id="models-vendor" data-models-vendor>.*<option value="anthropic">|<option value="claude">/)
		expect(page).toContain('clients can still call them by name')
		// Every row says its vendor, for the filter.
		expect(page).toMatch(/<tr id="row-m-claude-sonnet-4-6" data-model="claude-sonnet-4-6 [^"]*" data-vendor="[^"]+">/)
	})
})

describe('quotas page', () => {
	test('the new model is chosen from the catalog, a typo is refused, and the entry row is empty after a save', async () => {
		const h = await harnesses.start()
		const s = await session(h)
		const id = keyId(KEYS[0] as string)
		const page = await htmx(h, s, '/ui/quotas')
		const form = element(page, `quota-${id}`)
		expect(form).toContain('<select aria-label="New model" name="new_model" data-sync>')
		expect(form).toContain('<option value="claude-sonnet-4-6">')
		const typo = await htmx(h, s, `/ui/quotas/${id}`, { new_model: 'claude-sonet-4-6', new_limit: '5' })
		expect(typo).toContain('The upstream catalog has no model claude-sonet-4-6.')
		// The refused entry is kept for correction...
		expect(element(typo, `quota-${id}`)).toContain('value="5"')
		expect((await (await h.admin('/admin/quotas')).json()).quotas[0].model_limits).toEqual({})
		const saved = await htmx(h, s, `/ui/quotas/${id}`, { new_model: 'claude-sonnet-4-6', new_limit: '5' })
		expect(saved).toContain('saved')
		// ...and after a save the row is empty: no selected model, no limit.
		const row = /<tr class="new-model">[\s\S]*?<\/tr>/.exec(element(saved, `quota-${id}`))?.[0] as string
		expect(row).not.toContain(' selected')
		expect(row).toContain('name="new_limit" type="number" min="1" placeholder="Limit" value=""')
		// The limited model has its own row now, and is no longer offered for a new limit.
		expect(row).not.toContain('value="claude-sonnet-4-6"')
	})

	test("a model limit set during the day starts from the model's use today: 7 used, limit 8, one more gets through", async () => {
		const h = await harnesses.start({ keys: [KEYS[0] as string] })
		const s = await session(h)
		const ask = () => h.chat({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'hi' }] })
		for (let i = 0; i < 7; i++) expect((await ask()).status).toBe(200)
		const id = keyId(KEYS[0] as string)
		await htmx(h, s, `/ui/quotas/${id}`, { new_model: 'claude-sonnet-4-6', new_limit: '8' })
		const statuses: number[] = []
		for (let i = 0; i < 8; i++) statuses.push((await ask()).status)
		expect(statuses.filter((st) => st === 200)).toHaveLength(1)
		expect(statuses.at(-1)).toBe(429)
		const used = (await (await h.admin('/admin/quotas')).json()).quotas[0].used
		expect(used.models['claude-sonnet-4-6']).toBe(8)
		// Other models are still served.
		expect((await h.chat({ model: 'gpt-5', messages: [{ role: 'user', content: 'hi' }] })).status).toBe(200)
	})
})

describe('usage counts failures', () => {
	test('six upstream 500s show per key as failed attempts, whether or not a retry succeeded', async () => {
		const h = await harnesses.start()
		const s = await session(h)
		h.fake.fault('*', { kind: 'status', status: 500 }, { times: 6 })
		// Retries spend the six 500s on whichever keys they try; some requests fail, later ones succeed.
		for (let i = 0; i < 6; i++) await h.chat({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'hi' }] })
		const failed = (key: string) => h.fake.requests.filter((r) => r.key === key && r.status === 500).length
		expect(KEYS.reduce((sum, k) => sum + failed(k), 0)).toBe(6)
		await h.gateway.services.usage?.flush()
		const report = await (await h.admin('/admin/usage')).json()
		for (const key of KEYS) {
			const row = report.keys.find((k: { id: string }) => k.id === keyId(key))
			expect({ key, failed: row?.totals.failed_attempts ?? 0 }).toEqual({ key, failed: failed(key) })
		}
		const page = await htmx(h, s, '/ui/usage')
		expect(page).toContain('Failed attempts')
		const shown = [...page.matchAll(/<td class="num" data-field="failed_attempts">(\d+)<\/td>/g)].map((m) => Number(m[1]))
		// The per-key table: one row per key (and the no-key row), adding up to the six.
		expect(shown.reduce((a, b) => a + b, 0)).toBe(6)
	})

	test('client refusals (401, 403, 404, bad JSON, a quota 429) are client failures', async () => {
		const h = await harnesses.start()
		const created = await (
			await h.admin('/admin/clients', { method: 'POST', json: { name: 'limited', daily_limit: 1, allowed_models: ['claude-sonnet-4-6'] } })
		).json()
		const hi = { model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'hi' }] }
		expect((await h.chat(hi, 'wrong-password')).status).toBe(401)
		expect((await h.chat({ ...hi, model: 'gpt-5' }, created.key)).status).toBe(403)
		expect((await h.chat({ ...hi, model: 'no-such-model' })).status).toBe(404)
		expect((await h.call('/v1/chat/completions', { method: 'POST', body: '{"model":', headers: { 'content-type': 'application/json' } })).status).toBe(400)
		expect((await h.chat(hi, created.key)).status).toBe(200)
		expect((await h.chat(hi, created.key)).status).toBe(429)
		// The request observers hear of an answer just after it is sent.
		await Bun.sleep(20)
		await h.gateway.services.usage?.flush()
		const report = await (await h.admin('/admin/usage')).json()
		expect(report.totals.failures_client).toBe(5)
		expect(report.totals.successes).toBe(1)
		expect(report.totals.requests).toBe(6)
		const page = await htmx(h, await session(h), '/ui/usage')
		expect(element(page, 'usage')).toContain('<td class="num" data-field="failures_client">5</td>')
	})
})

describe('logs page', () => {
	test("the panel's own page loads, polls and assets are left out unless asked for", async () => {
		const h = await harnesses.start({ env: { LOG_LEVEL: 'debug' } })
		const s = await session(h)
		await h.call('/ui/assets/panel.css', { auth: null })
		await htmx(h, s, '/ui/fragments/keys')
		h.gateway.log.warn({ marker: 'operator-line' }, 'a line for the operator')
		await Bun.sleep(20)
		const page = await htmx(h, s, '/ui/logs')
		expect(page).toContain('operator-line')
		expect(page).not.toContain('/ui/assets/panel.css')
		expect(page).not.toContain('/ui/fragments/keys')
		const all = await htmx(h, s, '/ui/logs?panel=1')
		expect(all).toContain('/ui/assets/panel.css')
		expect(all).toContain('/ui/fragments/keys')
		// The poller keeps the choice.
		expect(all).toContain('panel=1')
	})

	test('a filter that matches nothing says so', async () => {
		const h = await harnesses.start()
		const s = await session(h)
		const page = await htmx(h, s, '/ui/logs?level=warning&q=nothing-matches-this')
		expect(element(page, 'log-lines')).toContain('<li class="empty" data-empty>No lines match.</li>')
		const css = await (await h.call('/ui/assets/panel.css', { auth: null })).text()
		expect(css).toContain('.loglines:has(li.log) li.empty{display:none}')
	})
})

describe('login from a deep link', () => {
	test('the operator lands on the page they asked for; a next that leaves the panel is ignored', async () => {
		const h = await harnesses.start()
		const asked = await h.call('/ui/settings', { auth: null })
		expect(asked.status).toBe(303)
		expect(asked.headers.get('location')).toBe('/ui?next=%2Fui%2Fsettings')
		const form = await (await h.call('/ui?next=%2Fui%2Fsettings', { auth: null })).text()
		expect(form).toContain('<input type="hidden" name="next" value="/ui/settings">')
		const back = await h.call('/ui/login', {
			method: 'POST',
			auth: null,
			headers: FORM,
			body: new URLSearchParams({ password: PANEL_PASSWORD, next: '/ui/settings' }),
		})
		expect(back.status).toBe(303)
		expect(back.headers.get('location')).toBe('/ui/settings')
		for (const next of ['https://evil.example/ui/keys', '//evil.example/ui/', '/admin/keys', '/ui/fragments/keys']) {
			const away = await h.call('/ui/login', { method: 'POST', auth: null, headers: FORM, body: new URLSearchParams({ password: PANEL_PASSWORD, next }) })
			expect(away.headers.get('location')).toBe('/ui/overview')
		}
		expect((await login(h, PANEL_PASSWORD)).headers.get('location')).toBe('/ui/overview')
	})
})
