/** Panel test helpers: log in from an address, read the session cookie and the page's CSRF token. */
import { expect } from 'bun:test'
import { type Harness, PANEL_PASSWORD } from '../../support.ts'

export const FORM = { 'content-type': 'application/x-www-form-urlencoded' }

export const login = (h: Harness, password: string, peer = '10.0.0.1', headers: Record<string, string> = {}) =>
	h.call('/ui/login', { method: 'POST', auth: null, peer, body: new URLSearchParams({ password }), headers: { ...FORM, ...headers } })

/** Logs in and reads the session cookie and the page's CSRF token. */
export async function session(h: Harness, peer = '10.0.0.1'): Promise<{ cookie: string; csrf: string }> {
	const ok = await login(h, PANEL_PASSWORD, peer)
	expect(ok.status).toBe(303)
	const cookie = (ok.headers.get('set-cookie') as string).split(';')[0] as string
	const page = await (await h.call('/ui/keys', { auth: null, headers: { cookie } })).text()
	const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1]
	if (!csrf) throw new Error('no CSRF token on the page')
	return { cookie, csrf }
}
