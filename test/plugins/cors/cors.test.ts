/**
 * CORS on /v1/* only: preflight answered, Access-Control-* on answers (streams and errors
 * included), never a wildcard with credentials, a list echoes the matching origin with
 * `Vary: Origin`, and /admin, /ui, /metrics never answer cross-origin.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { type Harness, PANEL_PASSWORD, startHarness } from '../../support.ts'

const APP = 'https://chat.example.com'
const preflight = (h: Harness, path: string, origin = APP) =>
	h.call(path, {
		method: 'OPTIONS',
		auth: null,
		headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
	})

describe('CORS with the default (*)', () => {
	let h: Harness
	beforeAll(async () => {
		h = await startHarness()
	})
	afterAll(() => h.close())

	test('a preflight for /v1/chat/completions is a 204 allowing the method and headers', async () => {
		const res = await preflight(h, '/v1/chat/completions')
		expect(res.status).toBe(204)
		expect(res.headers.get('access-control-allow-origin')).toBe('*')
		expect(res.headers.get('access-control-allow-methods')).toContain('POST')
		expect(res.headers.get('access-control-allow-headers')).toBe('authorization, content-type')
		expect(res.headers.get('access-control-allow-credentials')).toBeNull()
	})

	test('answers, streamed ones and errors too, carry Allow-Origin * and never credentials', async () => {
		const body = { model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'hi' }] }
		for (const [init, status] of [
			[{ json: body }, 200],
			[{ json: { ...body, stream: true } }, 200],
			[{ json: body, auth: 'wrong' }, 401],
			[{ json: { model: 'claude-sonnet-4-6' } }, 400],
		] as const) {
			const res = await h.call('/v1/chat/completions', { method: 'POST', headers: { origin: APP }, ...init })
			expect(res.status).toBe(status)
			expect(res.headers.get('access-control-allow-origin')).toBe('*')
			expect(res.headers.get('access-control-allow-credentials')).toBeNull()
			expect(res.headers.get('access-control-expose-headers')).toContain('x-request-id')
			await res.arrayBuffer()
		}
		const models = await h.call('/v1/models', { headers: { origin: APP } })
		expect(models.headers.get('access-control-allow-origin')).toBe('*')
	})

	test('/admin, /ui, /metrics and /health get no CORS, preflight or not', async () => {
		for (const path of ['/admin/keys', '/ui', '/metrics', '/health', '/admin/models']) {
			const pre = await preflight(h, path)
			expect(pre.headers.get('access-control-allow-origin')).toBeNull()
			const res = await h.call(path, { headers: { origin: APP, authorization: `Bearer ${PANEL_PASSWORD}` } })
			expect(res.headers.get('access-control-allow-origin')).toBeNull()
		}
	})
})

describe('CORS with a list of origins', () => {
	let h: Harness
	beforeAll(async () => {
		h = await startHarness({ env: { CORS_ALLOW_ORIGINS: `${APP}, https://other.example.org` } })
	})
	afterAll(() => h.close())

	test('the matching origin is echoed with credentials and Vary: Origin', async () => {
		const pre = await preflight(h, '/v1/chat/completions')
		expect(pre.status).toBe(204)
		expect(pre.headers.get('access-control-allow-origin')).toBe(APP)
		expect(pre.headers.get('access-control-allow-credentials')).toBe('true')
		expect(pre.headers.get('vary')).toContain('Origin')
		const res = await h.call('/v1/models', { headers: { origin: 'https://other.example.org' } })
		expect(res.headers.get('access-control-allow-origin')).toBe('https://other.example.org')
		expect(res.headers.get('vary')).toContain('Origin')
	})

	test('an origin not on the list gets no Allow-Origin (the browser refuses), still Vary: Origin', async () => {
		const pre = await preflight(h, '/v1/chat/completions', 'https://evil.example.net')
		expect(pre.headers.get('access-control-allow-origin')).toBeNull()
		const res = await h.call('/v1/models', { headers: { origin: 'https://evil.example.net' } })
		expect(res.status).toBe(200)
		expect(res.headers.get('access-control-allow-origin')).toBeNull()
		expect(res.headers.get('vary')).toContain('Origin')
	})
})

describe('CORS turned off', () => {
	test('DISABLE_PLUGINS=cors: no CORS headers at all', async () => {
		const h = await startHarness({ env: { DISABLE_PLUGINS: 'cors' } })
		try {
			const res = await h.call('/v1/models', { headers: { origin: APP } })
			expect(res.headers.get('access-control-allow-origin')).toBeNull()
		} finally {
			await h.close()
		}
	})
})
