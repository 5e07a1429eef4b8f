import { afterEach, describe, expect, test } from 'bun:test'
import { maskKey } from '../../../core/secrets.ts'
import { escapeHtml, html, raw } from '../../../views/html.ts'
import { harnessSet, type Harness, KEYS, PANEL_PASSWORD } from '../../support.ts'
import { FORM, login, session } from './panel-support.ts'

const harnesses = harnessSet()
afterEach(() => harnesses.closeAll())

const post = (h: Harness, path: string, s: { cookie: string; csrf?: string }, body: Record<string, string> = {}, headers: Record<string, string> = {}) =>
	h.call(path, {
		method: 'POST',
		auth: null,
		body: new URLSearchParams({ ...body, ...(s.csrf ? { _csrf: s.csrf } : {}) }),
		headers: { ...FORM, cookie: s.cookie, ...headers },
	})

describe('panel login and session', () => {
	test('login sets an HttpOnly SameSite session cookie that opens /ui and /admin; pages carry security headers', async () => {
		const h = await harnesses.start()
		const page = await h.call('/ui', { auth: null })
		expect(page.status).toBe(200)
		expect(await page.text()).toContain('name="password"')
		expect(page.headers.get('content-security-policy')).toContain("default-src 'self'")
		expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'")
		expect(page.headers.get('x-frame-options')).toBe('DENY')
		expect(page.headers.get('x-content-type-options')).toBe('nosniff')

		expect((await login(h, 'wrong')).status).toBe(401)
		expect((await login(h, PANEL_PASSWORD, '10.0.0.1', { 'sec-fetch-site': 'cross-site' })).status).toBe(403)
		const ok = await login(h, PANEL_PASSWORD)
		expect(ok.status).toBe(303)
		const cookie = ok.headers.get('set-cookie') as string
		expect(cookie).toContain('HttpOnly')
		expect(cookie).toContain('SameSite=Strict')
		expect(cookie).not.toContain('Secure')
		expect(cookie).not.toContain(PANEL_PASSWORD)
		const sessionCookie = cookie.split(';')[0] as string

		const dashboard = await h.call('/ui/keys', { auth: null, headers: { cookie: sessionCookie } })
		const text = await dashboard.text()
		expect(text).toContain('Keys and rate limits')
		expect(text).toContain('/ui/assets/htmx.js')
		expect(text).toContain('rel="icon"')
		for (const key of KEYS) {
			expect(text).not.toContain(key)
			expect(text).toContain(maskKey(key))
		}
		expect(dashboard.headers.get('cache-control')).toBe('no-store')
		expect(dashboard.headers.get('x-frame-options')).toBe('DENY')
		expect((await h.call('/admin/rate-limits', { auth: null, headers: { cookie: sessionCookie } })).status).toBe(200)
		expect((await h.call('/ui/fragments/keys', { auth: null, headers: { cookie: sessionCookie, 'hx-request': 'true' } })).status).toBe(200)
		expect((await h.call('/ui/assets/htmx.js', { auth: null })).headers.get('content-type')).toContain('javascript')
		expect((await h.call('/favicon.ico', { auth: null })).status).toBe(200)

		// A forged or tampered cookie opens nothing.
		const tampered = sessionCookie.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'))
		expect((await h.call('/admin/rate-limits', { auth: null, headers: { cookie: tampered } })).status).toBe(401)
		expect((await h.call('/ui/fragments/keys', { auth: null, headers: { cookie: tampered, 'hx-request': 'true' } })).status).toBe(401)
	})

	test('behind a trusted proxy that says https, the cookie is Secure; an untrusted X-Forwarded-Proto is ignored', async () => {
		const h = await harnesses.start({ env: { TRUSTED_PROXY: '10.9.9.9' } })
		const direct = await login(h, PANEL_PASSWORD, '10.0.0.7', { 'x-forwarded-proto': 'https' })
		expect(direct.headers.get('set-cookie')).not.toContain('Secure')
		const proxied = await login(h, PANEL_PASSWORD, '10.9.9.9', { 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.5' })
		expect(proxied.headers.get('set-cookie')).toContain('; Secure')
	})

	test('a malformed session cookie is no session, never a 500', async () => {
		const h = await harnesses.start()
		for (const cookie of ['amb2api_session=%', 'amb2api_session=%E0%A4%A', 'amb2api_session=a.b.c.d', `amb2api_session=${'x'.repeat(5000)}`]) {
			expect((await h.call('/ui', { auth: null, headers: { cookie } })).status).toBe(200)
			expect((await h.call('/admin/keys', { auth: null, headers: { cookie } })).status).toBe(401)
			expect((await h.call('/ui/keys', { auth: null, headers: { cookie } })).status).toBe(303)
		}
	})

	test('logout ends the session on every instance sharing the storage', async () => {
		const h = await harnesses.start()
		const other = await harnesses.start({ storage: h.storage, fake: h.fake })
		const s = await session(h)
		expect((await other.call('/admin/rate-limits', { auth: null, headers: { cookie: s.cookie } })).status).toBe(200)
		const out = await post(h, '/ui/logout', s)
		expect(out.status).toBe(303)
		expect(out.headers.get('set-cookie')).toContain('Max-Age=0')
		expect((await h.call('/admin/rate-limits', { auth: null, headers: { cookie: s.cookie } })).status).toBe(401)
		// The other instance had the session cached as valid; it re-checks within a second.
		await Bun.sleep(1100)
		expect((await other.call('/admin/rate-limits', { auth: null, headers: { cookie: s.cookie } })).status).toBe(401)
	})

	test('a panel password change ends every session, on every instance', async () => {
		// No PANEL_PASSWORD in the environment: the password is stored, so the panel may change it.
		const h = await harnesses.start({ env: { PANEL_PASSWORD: '' } })
		const other = await harnesses.start({ env: { PANEL_PASSWORD: '' }, storage: h.storage, fake: h.fake })
		const printed = h.logs.find((l) => l.includes('Panel password')) as string
		const password = /Panel password \(\/ui, \/admin\): (\S+)/.exec(printed)?.[1] as string
		const ok = await login(h, password)
		const cookie = (ok.headers.get('set-cookie') as string).split(';')[0] as string
		expect((await other.call('/admin/rate-limits', { auth: null, headers: { cookie } })).status).toBe(200)
		const change = await h.call('/admin/panel-password', { auth: password, method: 'POST', json: { current: password, password: 'a-new-panel-password-42' } })
		expect(change.status).toBe(200)
		expect((await h.call('/admin/rate-limits', { auth: null, headers: { cookie } })).status).toBe(401)
		await Bun.sleep(1100)
		expect((await other.call('/admin/rate-limits', { auth: null, headers: { cookie } })).status).toBe(401)
		expect((await login(other, 'a-new-panel-password-42')).status).toBe(303)
	})
})

describe('throttling failed authentication per client address', () => {
	test('a login throttled from one address does not lock out another; the throttle is a slowdown', async () => {
		const h = await harnesses.start()
		for (let i = 0; i < 5; i++) expect((await login(h, `wrong-${i}`, '10.0.0.66')).status).toBe(401)
		const throttled = await login(h, PANEL_PASSWORD, '10.0.0.66')
		expect(throttled.status).toBe(429)
		expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
		expect(Number(throttled.headers.get('retry-after'))).toBeLessThanOrEqual(2)
		// Many more failures elsewhere never stop the right password from another address.
		for (let i = 0; i < 20; i++) await login(h, `wrong-${i}`, `10.1.0.${i}`)
		expect((await login(h, PANEL_PASSWORD, '192.168.1.2')).status).toBe(303)
		// A slowdown, not a wall: after the wait the same address may try again.
		await Bun.sleep(1100)
		expect((await login(h, PANEL_PASSWORD, '10.0.0.66')).status).toBe(303)
	})

	test('wrong admin bearers are throttled per address; the right bearer from another address works', async () => {
		const h = await harnesses.start()
		for (let i = 0; i < 5; i++) expect((await h.call('/admin/keys', { auth: `wrong-${i}`, peer: '10.0.0.5' })).status).toBe(401)
		expect((await h.call('/admin/keys', { auth: PANEL_PASSWORD, peer: '10.0.0.5' })).status).toBe(429)
		expect((await h.call('/admin/keys', { auth: PANEL_PASSWORD, peer: '10.0.0.6' })).status).toBe(200)
	})

	test('X-Forwarded-For counts only from a trusted proxy', async () => {
		const h = await harnesses.start({ env: { TRUSTED_PROXY: '10.9.9.9' } })
		// Behind the proxy: the client in X-Forwarded-For is throttled, not the proxy.
		for (let i = 0; i < 5; i++) await h.call('/admin/keys', { auth: 'wrong', peer: '10.9.9.9', headers: { 'x-forwarded-for': '198.51.100.1' } })
		expect((await h.call('/admin/keys', { auth: PANEL_PASSWORD, peer: '10.9.9.9', headers: { 'x-forwarded-for': '198.51.100.1' } })).status).toBe(429)
		expect((await h.call('/admin/keys', { auth: PANEL_PASSWORD, peer: '10.9.9.9', headers: { 'x-forwarded-for': '198.51.100.2' } })).status).toBe(200)
		// From anyone else the header is ignored: rotating it does not escape the throttle.
		for (let i = 0; i < 5; i++) await h.call('/admin/keys', { auth: 'wrong', peer: '10.0.0.8', headers: { 'x-forwarded-for': `198.51.100.${10 + i}` } })
		expect((await h.call('/admin/keys', { auth: PANEL_PASSWORD, peer: '10.0.0.8', headers: { 'x-forwarded-for': '198.51.100.99' } })).status).toBe(429)
	})
})

describe('CSRF', () => {
	const STATE_CHANGING: [string, string, Record<string, string>][] = [
		['POST', '/ui/keys/add', { keys: 'aai-csrf-key-0000000000001' }],
		['POST', '/ui/keys/ID/disable', {}],
		['POST', '/ui/models', { all: '1' }],
		['POST', '/ui/quotas/ID', { daily_limit: '5' }],
		['POST', '/ui/clients', { name: 'evil' }],
		['POST', '/ui/settings', { calls_per_rotation: '7' }],
		['POST', '/ui/logs/clear', {}],
		['POST', '/ui/logout', {}],
		['POST', '/ui/password', { current: 'x', password: 'y'.repeat(12) }],
	]

	test('cross-site form posts with the session cookie are refused on every state-changing panel route', async () => {
		const h = await harnesses.start()
		const s = await session(h)
		const id = (await (await h.admin('/admin/keys')).json()).keys[0].id as string
		for (const [, path, body] of STATE_CHANGING) {
			const p = path.replace('ID', id)
			// No token at all (a plain cross-site form).
			expect({ p, status: (await post(h, p, { cookie: s.cookie }, body)).status }).toEqual({ p, status: 403 })
			// The right token but from another site.
			expect({ p, status: (await post(h, p, s, body, { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' })).status }).toEqual({ p, status: 403 })
			expect({ p, status: (await post(h, p, s, body, { 'sec-fetch-site': 'same-site' })).status }).toEqual({ p, status: 403 })
			// A token of another session.
			const other = await session(h, '10.0.0.2')
			expect({ p, status: (await post(h, p, { cookie: s.cookie, csrf: other.csrf }, body)).status }).toEqual({ p, status: 403 })
		}
		expect((await (await h.admin('/admin/keys')).json()).keys).toHaveLength(KEYS.length)
		expect((await (await h.admin('/admin/clients')).json()).clients).toHaveLength(0)
		// The same-origin post with its token goes through.
		expect(
			(await post(h, '/ui/keys/add', s, { keys: 'aai-csrf-key-0000000000001' }, { origin: 'http://localhost', 'sec-fetch-site': 'same-origin' })).status,
		).toBe(303)
		expect((await (await h.admin('/admin/keys')).json()).keys).toHaveLength(KEYS.length + 1)
	})

	test('cookie-authenticated /admin writes need the token; bearer calls do not', async () => {
		const h = await harnesses.start()
		const s = await session(h)
		const writes: [string, string, unknown][] = [
			['POST', '/admin/clients', { name: 'evil' }],
			['POST', '/admin/keys', { keys: ['aai-csrf-key-0000000000002'] }],
			['POST', '/admin/usage/reset', {}],
			['PUT', '/admin/settings', { calls_per_rotation: 3 }],
			['PUT', '/admin/models/selection', { models: null }],
		]
		const id = (await (await h.admin('/admin/keys')).json()).keys[0].id as string
		writes.push(['POST', `/admin/keys/${id}/disable`, undefined], ['PUT', `/admin/quotas/${id}`, { daily_limit: 3 }])
		for (const [method, path, json] of writes) {
			const refused = await h.call(path, { method, auth: null, json, headers: { cookie: s.cookie } })
			expect({ path, status: refused.status }).toEqual({ path, status: 403 })
			const crossSite = await h.call(path, { method, auth: null, json, headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, 'sec-fetch-site': 'cross-site' } })
			expect({ path, status: crossSite.status }).toEqual({ path, status: 403 })
		}
		expect((await (await h.admin('/admin/clients')).json()).clients).toHaveLength(0)
		const withToken = await h.call('/admin/clients', {
			method: 'POST',
			auth: null,
			json: { name: 'ok' },
			headers: { cookie: s.cookie, 'x-csrf-token': s.csrf },
		})
		expect(withToken.status).toBe(201)
		expect((await h.admin('/admin/clients', { method: 'POST', json: { name: 'bearer' } })).status).toBe(201)
		// Reading with the cookie needs no token.
		expect((await h.call('/admin/clients', { auth: null, headers: { cookie: s.cookie } })).status).toBe(200)
	})
})

describe('views escape by default', () => {
	test('interpolations are escaped, raw() and nested templates are not', () => {
		const name = '<img src=x onerror=alert(1)>'
		expect(html`<td>${name}</td>`.toString()).toBe('<td>&lt;img src=x onerror=alert(1)&gt;</td>')
		expect(html`<a title="${'"quoted"'}">`.toString()).toBe('<a title="&quot;quoted&quot;">')
		expect(html`<p>${html`<b>${'&'}</b>`}</p>`.toString()).toBe('<p><b>&amp;</b></p>')
		expect(html`${raw('<br>')}${[1, '<', null, false]}`.toString()).toBe('<br>1&lt;')
		expect(escapeHtml(`'`)).toBe('&#39;')
	})
})
