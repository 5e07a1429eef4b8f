/** Key tests: one key, all, a batch; results kept with the key and learned from. */
import { afterEach, describe, expect, test } from 'bun:test'
import { keyId, maskKey } from '../../../core/secrets.ts'
import { assertNoSecrets, type Harness, KEYS, startHarness } from '../../support.ts'

let h: Harness
afterEach(async () => {
	assertNoSecrets(h.logs)
	await h.close()
})

const ids = KEYS.map(keyId)
const keysList = async (query = '') => (await (await h.admin(`/admin/keys${query}`)).json()).keys as any[]
const entry = async (id: string) => (await keysList()).find((k) => k.id === id)
const chats = () => h.fake.requests.filter((r) => r.path === '/v1/chat/completions')

describe('POST /admin/keys/{id}/test', () => {
	test('calls the cheapest model of the catalog with one token; the result is kept and shown with the key', async () => {
		h = await startHarness()
		const res = await h.admin(`/admin/keys/${ids[0]}/test`, { method: 'POST' })
		expect(res.status).toBe(200)
		const body = await res.json()
		expect(body).toMatchObject({ id: ids[0], key: maskKey(KEYS[0]), ok: true, status: 200, model: 'qwen3.5-4b-32k-fast' })
		expect(typeof body.latency_ms).toBe('number')
		expect(chats()).toHaveLength(1)
		expect(chats()[0]!.body).toMatchObject({ model: 'qwen3.5-4b-32k-fast', max_tokens: 1 })
		const shown = await entry(ids[0]!)
		expect(shown.last_test).toMatchObject({ ok: true, status: 200, model: 'qwen3.5-4b-32k-fast', at: body.at })
		expect(shown.counts).toEqual({ success: 1, failure: 0 })
		expect(JSON.stringify(body)).not.toContain(KEYS[0])
	})

	test('the model chosen is used; a model the catalog does not list is a 400, an unknown key a 404', async () => {
		h = await startHarness()
		const res = await h.admin(`/admin/keys/${ids[1]}/test`, { method: 'POST', json: { model: 'gpt-5-mini' } })
		expect((await res.json()).model).toBe('gpt-5-mini')
		expect(chats()[0]!.body.model).toBe('gpt-5-mini')
		const bad = await h.admin(`/admin/keys/${ids[1]}/test`, { method: 'POST', json: { model: 'no-such-model' } })
		expect(bad.status).toBe(400)
		expect((await bad.json()).error.code).toBe('model_not_found')
		const missing = await h.admin('/admin/keys/0000000000000000/test', { method: 'POST' })
		expect(missing.status).toBe(404)
		expect(chats()).toHaveLength(1)
	})

	test('a 401 with AUTO_BAN on bans the key with its reason', async () => {
		h = await startHarness({ env: { AUTO_BAN: 'true' } })
		h.fake.setKey(KEYS[0], { valid: false })
		const body = await (await h.admin(`/admin/keys/${ids[0]}/test`, { method: 'POST' })).json()
		expect(body).toMatchObject({ ok: false, status: 401 })
		const shown = await entry(ids[0]!)
		expect(shown.status).toBe('banned')
		expect(shown.reason).toContain('HTTP 401')
		expect(shown.last_test).toMatchObject({ ok: false, status: 401 })
		expect(shown.counts).toEqual({ success: 0, failure: 1 })
	})

	test('a 401 without AUTO_BAN marks the key failing (not active); a later success lifts the mark', async () => {
		h = await startHarness()
		h.fake.setKey(KEYS[2], { valid: false })
		await h.admin(`/admin/keys/${ids[2]}/test`, { method: 'POST' })
		let shown = await entry(ids[2]!)
		expect(shown.status).toBe('failing')
		expect(shown.failing.reason).toContain('401')
		expect((await keysList('?status=failing')).map((k) => k.id)).toEqual([ids[2]])

		h.fake.setKey(KEYS[2], {})
		await h.admin(`/admin/keys/${ids[2]}/test`, { method: 'POST' })
		shown = await entry(ids[2]!)
		expect(shown.status).toBe('active')
		expect(shown.failing).toBeNull()
	})
})

describe('POST /admin/keys/test', () => {
	test('tests every key, or the batch named; unknown ids are reported, not fatal', async () => {
		h = await startHarness()
		h.fake.setKey(KEYS[1], { valid: false })
		const all = (await (await h.admin('/admin/keys/test', { method: 'POST' })).json()).results
		expect(Object.fromEntries(all.map((r: any) => [r.id, r.ok]))).toEqual({ [ids[0]!]: true, [ids[1]!]: false, [ids[2]!]: true })
		const batch = (await (await h.admin('/admin/keys/test', { method: 'POST', json: { ids: [ids[2], 'nope'] } })).json()).results
		expect(batch).toHaveLength(2)
		expect(batch[0]).toMatchObject({ id: ids[2], ok: true })
		expect(batch[1]).toEqual({ id: 'nope', error: 'key_not_found' })
		expect(chats()).toHaveLength(4)
	})

	test('the API password does not open the test routes', async () => {
		h = await startHarness()
		expect((await h.call('/admin/keys/test', { method: 'POST' })).status).toBe(401)
		expect((await h.call(`/admin/keys/${ids[0]}/test`, { method: 'POST' })).status).toBe(401)
		expect(chats()).toHaveLength(0)
	})
})
