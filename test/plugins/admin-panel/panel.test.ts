import { afterEach, describe, expect, test } from 'bun:test'
import { maskKey } from '../../../core/secrets.ts'
import { escapeHtml, html, raw } from '../../../views/html.ts'
import { assertNoSecrets, type Harness, KEYS, PANEL_PASSWORD, startHarness } from '../../support.ts'

let h: Harness
afterEach(async () => {
	assertNoSecrets(h.logs)
	await h.close()
})

const login = (password: string) =>
	h.call('/ui/login', { method: 'POST', auth: null, body: new URLSearchParams({ password }), headers: { 'content-type': 'application/x-www-form-urlencoded' } })

describe('panel', () => {
	test('login with the panel password sets an HttpOnly SameSite session cookie that opens /ui and /admin', async () => {
		h = await startHarness()
		const page = await h.call('/ui', { auth: null })
		expect(page.status).toBe(200)
		expect(await page.text()).toContain('name="password"')

		expect((await login('wrong')).status).toBe(401)
		const ok = await login(PANEL_PASSWORD)
		expect(ok.status).toBe(303)
		const cookie = ok.headers.get('set-cookie') as string
		expect(cookie).toContain('HttpOnly')
		expect(cookie).toContain('SameSite=Strict')
		expect(cookie).not.toContain(PANEL_PASSWORD)
		const session = cookie.split(';')[0]

		const dashboard = await h.call('/ui', { auth: null, headers: { cookie: session } })
		const text = await dashboard.text()
		expect(text).toContain('Upstream keys')
		expect(text).toContain('/ui/assets/htmx.js')
		for (const key of KEYS) {
			expect(text).not.toContain(key)
			expect(text).toContain(maskKey(key))
		}
		expect(dashboard.headers.get('cache-control')).toBe('no-store')
		expect((await h.call('/admin/rate-limits', { auth: null, headers: { cookie: session } })).status).toBe(200)
		expect((await h.call('/ui/fragments/keys', { auth: null, headers: { cookie: session } })).status).toBe(200)
		expect((await h.call('/ui/assets/htmx.js', { auth: null })).headers.get('content-type')).toContain('javascript')

		// A forged or tampered cookie opens nothing.
		const tampered = session.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'))
		expect((await h.call('/admin/rate-limits', { auth: null, headers: { cookie: tampered } })).status).toBe(401)
		expect((await h.call('/ui/fragments/keys', { auth: null, headers: { cookie: tampered } })).status).toBe(401)

		const logout = await h.call('/ui/logout', { method: 'POST', auth: null, headers: { cookie: session } })
		expect(logout.headers.get('set-cookie')).toContain('Max-Age=0')
	})

	test('failed logins are throttled', async () => {
		h = await startHarness()
		for (let i = 0; i < 10; i++) expect((await login(`wrong-${i}`)).status).toBe(401)
		const throttled = await login(PANEL_PASSWORD)
		expect(throttled.status).toBe(429)
		expect(throttled.headers.get('retry-after')).toBe('60')
	})

	test('a session from one instance is valid on another sharing the storage', async () => {
		h = await startHarness()
		const session = ((await login(PANEL_PASSWORD)).headers.get('set-cookie') as string).split(';')[0]
		const other = await startHarness({ storage: h.storage, fake: h.fake })
		try {
			expect((await other.call('/admin/rate-limits', { auth: null, headers: { cookie: session } })).status).toBe(200)
		} finally {
			await other.gateway.close()
		}
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
