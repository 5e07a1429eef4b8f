/**
 * The overview (the landing page) as htmx polls it, in each state: empty, populated, error,
 * hostile names; the incident banner on every page; the login landing on it.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import { keyId } from '../../../core/secrets.ts'
import { harnessSet, KEYS, PANEL_PASSWORD, testClock } from '../../support.ts'
import { login, session } from './panel-support.ts'
import { FlakyLogStorage, fragment, flushLog, XSS } from './pages-support.ts'

const harnesses = harnessSet()
afterEach(() => harnesses.closeAll())

const ask = (h: Awaited<ReturnType<typeof harnesses.start>>, model = 'claude-sonnet-4-6') => h.chat({ model, messages: [{ role: 'user', content: 'hi' }] })

describe('overview', () => {
	test('the landing page after login, first in the navigation; the keys page stays linked', async () => {
		const h = await harnesses.start()
		expect((await login(h, PANEL_PASSWORD)).headers.get('location')).toBe('/ui/overview')
		const { text } = await fragment(h, await session(h), '/ui/overview', { full: true })
		expect(text).toContain('<h1>Overview</h1>')
		expect(text.indexOf('href="/ui/overview"')).toBeLessThan(text.indexOf('href="/ui/keys"'))
		expect(text).toContain('aria-current="page">Overview')
		expect(text).toContain('hx-get="/ui/fragments/overview"')
	})

	test('empty: zero requests, dashes for rates and latencies, every key active, nothing needs attention', async () => {
		const h = await harnesses.start()
		const { status, text } = await fragment(h, await session(h), '/ui/fragments/overview')
		expect(status).toBe(200)
		expect(text).toMatch(/data-field="requests"><div class="tile-label">Requests<\/div><div class="tile-value">0</)
		expect(text).toMatch(/data-field="success_rate">.*?tile-value">–</)
		expect(text).toContain(`<li data-keys="active"><span class="count">${KEYS.length}</span>`)
		expect(text).toContain('data-attention="none"')
		// The per-minute chart: 60 empty columns.
		expect(text.match(/data-requests="0"/g)?.length).toBe(60)
	})

	test('populated: requests, success rate, errors by class, tokens, the per-minute chart, key health and needs attention', async () => {
		const h = await harnesses.start({ env: { AUTO_BAN: 'true' } })
		for (let i = 0; i < 3; i++) expect((await ask(h)).status).toBe(200)
		expect((await ask(h, 'no-such-model')).status).toBe(404)
		const banned = keyId(KEYS[1] as string)
		await h.gateway.services.pool?.setStatus(banned, 'banned', `auto-ban: HTTP 401 from upstream: ${XSS}`)
		await flushLog(h)
		const { text } = await fragment(h, await session(h), '/ui/fragments/overview')
		expect(text).toMatch(/data-field="requests">.*?tile-value">4</)
		expect(text).toMatch(/data-field="success_rate">.*?tile-value">75\.0 %</)
		expect(text).toContain('<td class="num" data-error="client">1</td>')
		expect(text).toContain('<td class="num" data-error="upstream">0</td>')
		expect(text).toMatch(/data-tokens="prompt">[1-9]\d*</)
		expect(text).toMatch(/data-field="latency">.*?tile-value">\d+ ms</)
		// The last minute's column holds the four requests, one failed.
		expect(text).toContain('data-requests="4" data-errors="1"')
		expect(text).toContain('class="chart-bar-error"')
		expect(text).toContain('<li data-keys="banned"><span class="count">1</span>')
		expect(text).toContain(`<li data-keys="active"><span class="count">${KEYS.length - 1}</span>`)
		expect(text).toContain('data-attention="banned"')
		expect(text).toContain(`href="/ui/keys#key-${banned}"`)
		// Hostile text from the upstream shows as text; no secret key anywhere.
		expect(text).not.toContain(XSS)
		expect(text).toContain('&lt;script&gt;')
		for (const key of KEYS) expect(text).not.toContain(key)
	})

	test('error: the request log cannot be read; storage down is listed as needing attention', async () => {
		const storage = new FlakyLogStorage()
		const h = await harnesses.start({ storage })
		const s = await session(h)
		storage.failing = true
		storage.ping = async () => {
			throw new Error('connection refused (test)')
		}
		const { status, text } = await fragment(h, s, '/ui/fragments/overview')
		expect(status).toBe(200)
		expect(text).toContain('The request log cannot be read: request log read failed (test)')
		expect(text).toContain('data-attention="storage"')
		expect(text).toContain('Storage (memory) is down')
	})

	test('the request log turned off: the overview says so and still shows key health', async () => {
		const h = await harnesses.start({ env: { DISABLE_PLUGINS: 'request-log' } })
		const { status, text } = await fragment(h, await session(h), '/ui/fragments/overview')
		expect(status).toBe(200)
		expect(text).toContain('<code>request-log</code>')
		expect(text).toContain('data-keys="active"')
	})

	test('an upstream incident: a banner with its cause on the overview and on every page (the status fragment), gone after recovery', async () => {
		const c = testClock()
		const h = await harnesses.start({ now: c.now, env: { AUTO_BAN: 'true', RATE_LIMIT_MAX_WAIT: '0' } })
		const s = await session(h)
		expect((await ask(h)).status).toBe(200)
		c.advance(60_000)
		h.fake.outage('auth')
		expect((await ask(h)).status).toBeGreaterThanOrEqual(400)
		const overview = await fragment(h, s, '/ui/fragments/overview')
		expect(overview.text).toContain('data-incident="auth"')
		expect(overview.text).toContain(`Upstream incident: ${KEYS.length} keys refused at once`)
		const banner = await fragment(h, s, '/ui/fragments/status')
		expect(banner.text).toContain('data-banner="incident"')
		expect(banner.text).toContain('class="banner"')
		// The banner polls from the first moment a page is shown.
		const page = await fragment(h, s, '/ui/settings', { full: true })
		expect(page.text).toContain('hx-trigger="load, every 5s"')
		h.fake.outage(null)
		c.advance(6000)
		expect((await ask(h)).status).toBe(200)
		expect((await fragment(h, s, '/ui/fragments/status')).text).not.toContain('data-banner')
		expect((await fragment(h, s, '/ui/fragments/overview')).text).not.toContain('data-incident')
	})
})
