/** What GET /admin/keys shows is the state the pool acts on; batch actions; re-validation. */
import { afterEach, describe, expect, test } from 'bun:test'
import { keyId } from '../../../core/secrets.ts'
import { KeyTests } from '../../../plugins/key-health/key-tests.ts'
import { assertNoSecrets, type Harness, KEYS, startHarness, testClock } from '../../support.ts'

let h: Harness
afterEach(async () => {
	assertNoSecrets(h.logs)
	await h.close()
})

const ids = KEYS.map(keyId)
const ask = (model = 'claude-sonnet-4-6') => h.chat({ model, messages: [{ role: 'user', content: 'hi' }] })
const keysList = async (query = '') => (await (await h.admin(`/admin/keys${query}`)).json()).keys as any[]
const byId = async () => Object.fromEntries((await keysList()).map((k) => [k.id, k]))

describe('honest state', () => {
	test('a key over its daily quota shows quota_exhausted until the next 07:00 UTC, not active', async () => {
		const c = testClock(Date.UTC(2026, 10, 26, 12, 0, 0))
		h = await startHarness({ now: c.now, keys: [KEYS[0]], env: { DAILY_REQUEST_LIMIT: '2', RATE_LIMIT_MAX_WAIT: '0' } })
		expect((await ask()).status).toBe(200)
		expect((await keysList())[0].status).toBe('active')
		expect((await ask()).status).toBe(200)
		expect((await ask()).status).toBe(429)
		const [key] = await keysList()
		expect(key.status).toBe('quota_exhausted')
		expect(key.quota).toMatchObject({ exhausted_until: '2026-11-27T07:00:00.000Z', reason: 'daily limit 2 reached' })
		expect(key.models['claude-sonnet-4-6'].status).toBe('quota_exhausted')
		expect(key.counts).toEqual({ success: 2, failure: 0 })
		// The next usage day: active again.
		c.set(Date.UTC(2026, 10, 27, 7, 0, 1))
		expect((await keysList())[0].status).toBe('active')
	})

	test('a 429 cools one model only: the key stays active, that model shows cooling, the other does not', async () => {
		h = await startHarness({ keys: [KEYS[0]], env: { RATE_LIMIT_MAX_WAIT: '0' } })
		expect((await ask('gpt-5')).status).toBe(200)
		h.fake.fault(KEYS[0], { kind: 'rate-limit', retryAfter: 30 })
		expect((await ask('claude-sonnet-4-6')).status).toBe(429)
		const [key] = await keysList()
		expect(key.status).toBe('active')
		expect(key.models['claude-sonnet-4-6'].status).toBe('cooling')
		expect(key.models['gpt-5'].status).toBe('active')
		expect(key.counts).toEqual({ success: 1, failure: 1 })
	})

	test('filters by status and by text; a bad status is a 400', async () => {
		h = await startHarness()
		await h.admin(`/admin/keys/${ids[1]}/disable`, { method: 'POST' })
		expect((await keysList('?status=disabled')).map((k) => k.id)).toEqual([ids[1]])
		expect((await keysList('?status=active,disabled')).length).toBe(3)
		expect((await keysList(`?q=${ids[2]!.slice(0, 10)}`)).map((k) => k.id)).toEqual([ids[2]])
		expect((await keysList('?q=by%20the%20operator')).map((k) => k.id)).toEqual([ids[1]])
		const bad = await h.admin('/admin/keys?status=sleeping')
		expect(bad.status).toBe(400)
		expect((await bad.json()).error.code).toBe('invalid_status')
		expect((await (await h.admin('/admin/rate-limits?status=disabled')).json()).rate_limits.map((k: any) => k.id)).toEqual([ids[1]])
	})
})

describe('batch actions and clean-up', () => {
	test('batch disable, enable and delete; env keys cannot be deleted; unknown ids are reported', async () => {
		h = await startHarness()
		const added = await (await h.admin('/admin/keys', { method: 'POST', json: { keys: ['aai-key-delta-000000000004', 'aai-key-echo-0000000000005'] } })).json()
		const batch = (json: unknown) => h.admin('/admin/keys/batch', { method: 'POST', json })
		let res = await (await batch({ action: 'disable', ids: [ids[0], added.added[0], 'nope'] })).json()
		expect(res.results).toEqual({ [ids[0]!]: 'disabled', [added.added[0]]: 'disabled', nope: 'not_found' })
		expect((await byId())[ids[0]!].status).toBe('disabled')
		res = await (await batch({ action: 'enable', ids: [ids[0]] })).json()
		expect((await byId())[ids[0]!].status).toBe('active')
		res = await (await batch({ action: 'delete', ids: [...added.added, ids[2]] })).json()
		expect(res.results).toEqual({ [added.added[0]]: 'removed', [added.added[1]]: 'removed', [ids[2]!]: 'env_key' })
		expect((await keysList()).length).toBe(3)
		expect((await batch({ action: 'explode', ids: [ids[0]] })).status).toBe(400)
		expect((await batch({ action: 'enable', ids: [] })).status).toBe(400)
	})

	test('prune-usage removes the rate windows and counts of keys that left the pool, and only theirs', async () => {
		h = await startHarness({ env: { CALLS_PER_ROTATION: '1' } })
		const extra = 'aai-key-foxtrot-0000000006'
		const { added } = await (await h.admin('/admin/keys', { method: 'POST', json: { keys: [extra] } })).json()
		h.fake.setKey(extra, {})
		for (let i = 0; i < 8; i++) expect((await ask()).status).toBe(200)
		await h.gateway.services.pool!.close()
		const windowsOf = async (id: string) => (await h.storage.listDocs<any>('limits')).filter((w) => w.keyId === id).length
		expect(await windowsOf(added[0])).toBe(1)
		// Another instance removed the key's record; its data stays behind.
		await h.storage.deleteDoc('keys', added[0])
		const res = await (await h.admin('/admin/keys/prune-usage', { method: 'POST' })).json()
		expect(res.removed).toEqual([added[0]])
		expect(await windowsOf(added[0])).toBe(0)
		for (const id of ids) expect(await windowsOf(id!)).toBe(1)
		expect((await keysList()).every((k) => k.counts.success > 0)).toBe(true)
	})
})

describe('re-validation (KEY_REVALIDATE_MINUTES)', () => {
	test('banned and failing keys are re-tested with the cheapest model; one that answers is restored and logged', async () => {
		h = await startHarness({ env: { AUTO_BAN: 'true' } })
		h.fake.setKey(KEYS[0], { valid: false })
		await h.admin(`/admin/keys/${ids[0]}/test`, { method: 'POST' })
		expect((await byId())[ids[0]!].status).toBe('banned')
		const tests = new KeyTests({ pool: h.gateway.services.pool!, tester: h.gateway.services.keyTester!, log: h.gateway.log, now: Date.now })
		// Still refused: stays banned.
		expect(await tests.revalidate()).toBe(0)
		expect((await byId())[ids[0]!].status).toBe('banned')
		h.fake.setKey(KEYS[0], {})
		const before = h.fake.requests.length
		expect(await tests.revalidate()).toBe(1)
		const calls = h.fake.requests.slice(before)
		expect(calls).toHaveLength(1)
		expect(calls[0]!.body.model).toBe('qwen3.5-4b-32k-fast')
		const key = (await byId())[ids[0]!]
		expect(key.status).toBe('active')
		expect(key.last_test.ok).toBe(true)
		expect(h.logs.some((l) => l.includes('re-validation: a banned key answers again; restored'))).toBe(true)
		// Healthy keys are not tested at all.
		expect(await tests.revalidate()).toBe(0)
		expect(h.fake.requests.length).toBe(before + 1)
	})

	test('KEY_REVALIDATE_MINUTES is off by default and validated', async () => {
		h = await startHarness({ env: { KEY_REVALIDATE_MINUTES: '2' } })
		const settings = await (await h.admin('/admin/settings')).json()
		expect(JSON.stringify(settings)).toContain('key_revalidate_minutes')
		await h.close()
		await expect(startHarness({ env: { KEY_REVALIDATE_MINUTES: 'soon' } })).rejects.toThrow(/KEY_REVALIDATE_MINUTES/)
		h = await startHarness()
	})
})
