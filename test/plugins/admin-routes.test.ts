/**
 * Every /admin/* route the loaded plugins mount opens with the panel password as a bearer, and
 * none opens with the API password or without credentials. The routes come from the composed
 * app itself, so a route mounted behind another guard (the /v1 API-key check) fails here.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { API_PASSWORD, type Harness, PANEL_PASSWORD, startHarness } from '../support.ts'

let h: Harness
let routes: { method: string; path: string }[]

beforeAll(async () => {
	h = await startHarness()
	routes = (h.gateway.app.routes as { method: string; path: string }[])
		.filter((r) => r.path === '/admin' || r.path.startsWith('/admin/'))
		.filter((r) => r.method !== 'HEAD' && r.method !== 'OPTIONS')
})
afterAll(() => h.close())

/** A concrete URL for a route pattern (`:id` -> a harmless value). */
const concrete = (path: string) => path.replace(/:[A-Za-z]+/g, 'no-such-id').replace(/\*$/, 'x')

const send = (method: string, path: string, bearer: string | null) =>
	h.call(concrete(path), {
		method,
		auth: bearer,
		...(method === 'GET' || method === 'DELETE' ? {} : { json: {} }),
	})

describe('every /admin route', () => {
	test('the list of admin routes is the one the README documents at least', () => {
		const paths = new Set(routes.map((r) => r.path))
		for (const p of ['/admin/keys', '/admin/models', '/admin/models/selection', '/admin/rate-limits', '/admin/settings', '/admin/storage'])
			expect(paths).toContain(p)
	})

	test('opens with the panel bearer', async () => {
		const refused: string[] = []
		for (const { method, path } of routes) {
			const res = await send(method, path, PANEL_PASSWORD)
			// Any answer but "who are you": 2xx, or 400/404/422 for the dummy body and id.
			if (res.status === 401 || res.status === 403) refused.push(`${method} ${path} -> ${res.status}`)
			await res.arrayBuffer()
		}
		expect(refused).toEqual([])
	})

	test('GET /admin/models answers the catalog; PUT /admin/models/selection stores a selection', async () => {
		const list = await h.admin('/admin/models')
		expect(list.status).toBe(200)
		const body = (await list.json()) as { catalog: unknown[] | null; selected: unknown }
		expect(Array.isArray(body.catalog)).toBe(true)
		const put = await h.admin('/admin/models/selection', { method: 'PUT', json: { models: ['claude-sonnet-4-6'] } })
		expect(put.status).toBe(200)
		expect(await put.json()).toEqual({ selected: ['claude-sonnet-4-6'] })
		const models = (await (await h.call('/v1/models')).json()) as { data: { id: string }[] }
		expect(models.data.map((m) => m.id)).toEqual(['claude-sonnet-4-6'])
	})
	test('refuses the API password and no credentials (last: failed logins throttle the caller)', async () => {
		const opened: string[] = []
		for (const { method, path } of routes) {
			for (const bearer of [API_PASSWORD, null]) {
				const res = await send(method, path, bearer)
				// 429: the failed-login throttle, which refuses too.
				if (res.status !== 401 && res.status !== 403 && res.status !== 429)
					opened.push(`${method} ${path} (${bearer ? 'API password' : 'none'}) -> ${res.status}`)
				await res.arrayBuffer()
			}
		}
		expect(opened).toEqual([])
	})
})
