import { afterEach, describe, expect, test } from 'bun:test'
import { type Doc, type DocKind, type DocMutation, MemoryStorage } from '../../../core/storage.ts'
import { maskKey } from '../../../core/secrets.ts'
import { API_PASSWORD, assertNoSecrets, type Harness, KEYS, startHarness, testClock } from '../../support.ts'
import { MSG_MISSING_AUTH } from '../../fake-gateway.ts'

let h: Harness
afterEach(async () => {
	assertNoSecrets(h.logs)
	await h.close()
})

const ask = (model = 'claude-sonnet-4-6', content = 'hi') => h.chat({ model, messages: [{ role: 'user', content }] })
const chats = () => h.fake.requests.filter((r) => r.path === '/v1/chat/completions')

const clock = testClock

describe('header-driven rotation', () => {
	test('3 keys x limit 3: nine requests succeed, each key exactly 3 times, no 429 upstream; the tenth gets 429 + Retry-After', async () => {
		const c = clock()
		h = await startHarness({ now: c.now, fakeOptions: { limit: 3 }, env: { RATE_LIMIT_MAX_WAIT: '0' } })
		for (let i = 0; i < 9; i++) expect((await ask()).status).toBe(200)
		for (const key of KEYS) expect(h.fake.count(key, 'claude-sonnet-4-6')).toEqual({ sent: 3, ok: 3, rateLimited: 0 })
		const tenth = await ask()
		expect(tenth.status).toBe(429)
		expect(Number(tenth.headers.get('retry-after'))).toBeGreaterThanOrEqual(59)
		const error = (await tenth.json()).error
		expect(error.type).toBe('rate_limit_error')
		expect(chats()).toHaveLength(9)
		expect(chats().every((r) => r.status === 200)).toBe(true)

		// The windows reset upstream and here: the pool serves again.
		c.advance(61_000)
		expect((await ask()).status).toBe(200)
	})

	test('limits are per key AND model: a key exhausted for one model still serves another', async () => {
		const c = clock()
		h = await startHarness({ now: c.now, keys: [KEYS[0]], fakeOptions: { limit: 1 }, env: { RATE_LIMIT_MAX_WAIT: '0' } })
		expect((await ask('claude-sonnet-4-6')).status).toBe(200)
		expect((await ask('claude-sonnet-4-6')).status).toBe(429)
		expect((await ask('gpt-5')).status).toBe(200)
		expect(chats().filter((r) => r.status === 429)).toHaveLength(0)
	})

	test('with a storage round trip per update, sequential requests stay on the key that probed the limit', async () => {
		// Like Redis: read, a round trip, then compare-and-swap (an update that changes nothing
		// writes nothing, so it may decide on a read that is already stale).
		class SlowStorage extends MemoryStorage {
			override async updateDoc<T extends Doc>(kind: DocKind, id: string, mutate: DocMutation<T>): Promise<T | null> {
				for (;;) {
					const snapshot = await this.getDoc<T>(kind, id)
					await Bun.sleep(3)
					const next = mutate(snapshot === null ? null : structuredClone(snapshot))
					if (next === undefined) return snapshot
					let swapped = false
					const stored = await super.updateDoc<T>(kind, id, (current) => {
						if (JSON.stringify(current) !== JSON.stringify(snapshot)) return undefined
						swapped = true
						return next
					})
					if (swapped) return stored
				}
			}
		}
		h = await startHarness({ storage: new SlowStorage() })
		for (let i = 0; i < 4; i++) expect((await ask()).status).toBe(200)
		expect(new Set(chats().map((r) => r.key)).size).toBe(1)
	})

	test('CALLS_PER_ROTATION=2: each key serves two calls, then the next one', async () => {
		h = await startHarness({ env: { CALLS_PER_ROTATION: '2' } })
		for (let i = 0; i < 6; i++) await ask()
		const used = chats().map((r) => r.key)
		expect(used[0]).toBe(used[1])
		expect(used[2]).toBe(used[3])
		expect(used[4]).toBe(used[5])
		expect(new Set(used).size).toBe(3)
	})

	test('responses to the client carry nothing that identifies a key', async () => {
		h = await startHarness()
		const response = await ask()
		for (const [name, value] of response.headers) {
			expect(name.startsWith('x-ratelimit')).toBe(false)
			for (const key of KEYS) expect(value).not.toContain(key)
		}
		expect(await response.text()).not.toContain(KEYS[0].slice(0, 12))
	})
})

describe('failure classes', () => {
	test('a 429 on one key: the client still gets 200, and that key is skipped until its Retry-After', async () => {
		const c = clock()
		h = await startHarness({ now: c.now, env: { CALLS_PER_ROTATION: '1' } })
		h.fake.fault(KEYS[0], { kind: 'rate-limit', retryAfter: 30 })
		// One round over the three keys meets the fault once, and retries it elsewhere.
		for (let i = 0; i < 3; i++) expect((await ask()).status).toBe(200)
		const limited = chats().find((r) => r.status === 429)
		expect(limited?.key).toBe(KEYS[0])
		for (let i = 0; i < 6; i++) expect((await ask()).status).toBe(200)
		const after = chats().slice(chats().indexOf(limited!) + 1)
		expect(after.some((r) => r.key === KEYS[0])).toBe(false)
		c.advance(31_000)
		for (let i = 0; i < 3; i++) await ask()
		expect(
			chats()
				.slice(-3)
				.some((r) => r.key === KEYS[0]),
		).toBe(true)
	})

	test('a key that is briefly cooling is waited for when the wait is short (RATE_LIMIT_MAX_WAIT)', async () => {
		h = await startHarness({ keys: [KEYS[0]], env: { RATE_LIMIT_MAX_WAIT: '5' } })
		h.fake.fault(KEYS[0], { kind: 'rate-limit', retryAfter: 1 })
		const started = Date.now()
		const response = await ask()
		expect(response.status).toBe(200)
		expect(Date.now() - started).toBeGreaterThanOrEqual(900)
		expect(chats().map((r) => r.status)).toEqual([429, 200])
	})

	test('AUTO_BAN: a key answering 401 is banned after one request and never used again', async () => {
		h = await startHarness({ env: { AUTO_BAN: 'true', CALLS_PER_ROTATION: '1' } })
		h.fake.setKey(KEYS[1], { valid: false })
		for (let i = 0; i < 6; i++) expect((await ask()).status).toBe(200)
		expect(chats().filter((r) => r.key === KEYS[1])).toHaveLength(1)
		const report = (await (await h.admin('/admin/rate-limits')).json()).rate_limits
		const banned = report.find((k: { key: string }) => k.key === maskKey(KEYS[1]))
		expect(banned.status).toBe('banned')
		expect(banned.reason).toContain('401')
		// The operator lifts the ban.
		expect((await h.admin(`/admin/keys/${banned.id}/unban`, { method: 'POST' })).status).toBe(200)
		h.fake.setKey(KEYS[1], { valid: true })
		for (let i = 0; i < 3; i++) await ask()
		expect(chats().filter((r) => r.key === KEYS[1]).length).toBeGreaterThan(1)
	})

	test('without AUTO_BAN a 401 only cools the key down', async () => {
		h = await startHarness({ env: { CALLS_PER_ROTATION: '1' } })
		h.fake.setKey(KEYS[0], { valid: false })
		for (let i = 0; i < 4; i++) expect((await ask()).status).toBe(200)
		const report = (await (await h.admin('/admin/rate-limits')).json()).rate_limits
		expect(report.find((k: { key: string }) => k.key === maskKey(KEYS[0])).status).toBe('cooling')
	})

	test('a 400 for bad input bans nothing, even with 400 in AUTO_BAN_ERROR_CODES', async () => {
		h = await startHarness({ env: { AUTO_BAN: 'true', AUTO_BAN_ERROR_CODES: '400,401,403' } })
		for (let i = 0; i < 5; i++) {
			// A region the gateway refuses: the upstream's own 400 for the client's input.
			const response = await h.chat({ model: 'claude-sonnet-4-6', model_region: 'us', messages: [{ role: 'user', content: 'x' }] })
			expect(response.status).toBe(400)
		}
		expect(chats().filter((r) => r.status === 400)).toHaveLength(5)
		const report = (await (await h.admin('/admin/rate-limits')).json()).rate_limits
		expect(report.every((k: { status: string }) => k.status === 'active')).toBe(true)
		expect((await ask()).status).toBe(200)
	})

	test('a model the catalog does not list is refused with 404 before anything is stored or sent', async () => {
		h = await startHarness()
		expect((await ask()).status).toBe(200)
		const before = { limits: await h.storage.listDocs('limits'), usage: await h.storage.readCounters('') }
		for (let i = 0; i < 5; i++) {
			const response = await h.chat({ model: `no-such-model-${i}`, messages: [{ role: 'user', content: 'x' }] })
			expect(response.status).toBe(404)
			const body = await response.json()
			expect(body.error.code).toBe('model_not_found')
			expect(body.error.param).toBe('model')
		}
		expect(chats()).toHaveLength(1)
		expect(await h.storage.listDocs('limits')).toEqual(before.limits)
		await h.gateway.close()
		expect(JSON.stringify(await h.storage.readCounters(''))).not.toContain('no-such-model')
	})

	test('a backend too contended to settle a window answers 503 storage_busy with Retry-After, not 500', async () => {
		class Contended extends MemoryStorage {
			override async updateDoc<T extends Doc>(kind: DocKind, id: string, mutate: DocMutation<T>): Promise<T | null> {
				if (kind === 'limits') throw new Error(`Test updateDoc ${kind}/${id}: still conflicting after 1000 attempts`)
				return super.updateDoc(kind, id, mutate)
			}
		}
		h = await startHarness({ storage: new Contended() })
		const response = await ask()
		expect(response.status).toBe(503)
		expect(response.headers.get('retry-after')).toBe('1')
		expect((await response.json()).error.code).toBe('storage_busy')
		expect(chats()).toHaveLength(0)
	})

	test('rate windows of models that left the catalog are pruned once idle', async () => {
		const c = clock()
		h = await startHarness({ now: c.now })
		expect((await ask()).status).toBe(200)
		const stale = { ...(await h.storage.listDocs<Record<string, unknown> & { id: string }>('limits'))[0]!, id: 'k:gone-model', model: 'gone-model' }
		await h.storage.putDoc('limits', { ...stale, lastUsedAt: c.now() - 3_600_000 })
		await h.storage.putDoc('limits', { ...stale, id: 'k:recent-model', model: 'recent-model', lastUsedAt: c.now() })
		const pool = h.gateway.services.pool!
		expect(await pool.pruneModels(new Set(['claude-sonnet-4-6']))).toBe(1)
		const models = (await h.storage.listDocs<{ id: string; model: string }>('limits')).map((w) => w.model).sort()
		expect(models).toEqual(['claude-sonnet-4-6', 'recent-model'])
	})

	test('5xx on one key is retried on another key without banning or cooling it (500 not in AUTO_BAN_ERROR_CODES)', async () => {
		h = await startHarness({ env: { AUTO_BAN: 'true', AUTO_BAN_ERROR_CODES: '401,403' } })
		h.fake.fault(KEYS[0], { kind: 'status', status: 500, envelope: 'B' }, { times: 1 })
		h.fake.fault(KEYS[1], { kind: 'status', status: 500, envelope: 'B' }, { times: 1 })
		h.fake.fault(KEYS[2], { kind: 'status', status: 500, envelope: 'B' }, { times: 1 })
		// Three keys fail once each; the fourth attempt (a key again) succeeds.
		expect((await ask()).status).toBe(200)
		expect(chats().map((r) => r.status)).toEqual([500, 500, 500, 200])
		expect(
			new Set(
				chats()
					.slice(0, 3)
					.map((r) => r.key),
			).size,
		).toBe(3)
		const report = (await (await h.admin('/admin/rate-limits')).json()).rate_limits
		expect(report.every((k: { status: string }) => k.status === 'active')).toBe(true)
	})

	test('AUTO_BAN_ERROR_CODES decides: 500 listed bans the key that answers 500, and only that key', async () => {
		h = await startHarness({ env: { AUTO_BAN: 'true', AUTO_BAN_ERROR_CODES: '401,403,500', CALLS_PER_ROTATION: '1' } })
		h.fake.fault(KEYS[0], { kind: 'status', status: 500, envelope: 'B' }, { persistent: true })
		h.fake.fault(KEYS[1], { kind: 'status', status: 503, envelope: 'B' }, { times: 1 })
		for (let i = 0; i < 4; i++) expect((await ask()).status).toBe(200)
		const report = (await (await h.admin('/admin/rate-limits')).json()).rate_limits as { key: string; status: string; reason: string | null }[]
		const byKey = (k: string) => report.find((r) => r.key === maskKey(k))
		expect(byKey(KEYS[0])?.status).toBe('banned')
		expect(byKey(KEYS[0])?.reason).toContain('HTTP 500')
		// 503 is not listed: the key that answered it once stays in the pool.
		expect(byKey(KEYS[1])?.status).toBe('active')
		expect(chats().filter((r) => r.key === KEYS[0])).toHaveLength(1)
	})

	test('a key-level 400 ("no access to LLM Gateway") bans only when 400 is listed', async () => {
		const noAccess = { kind: 'status', status: 400, envelope: 'B', message: MSG_MISSING_AUTH } as const
		h = await startHarness({ env: { AUTO_BAN: 'true', AUTO_BAN_ERROR_CODES: '403', CALLS_PER_ROTATION: '1' } })
		h.fake.fault(KEYS[0], noAccess, { persistent: true })
		for (let i = 0; i < 3; i++) expect((await ask()).status).toBe(200)
		let report = (await (await h.admin('/admin/rate-limits')).json()).rate_limits as { key: string; status: string }[]
		expect(report.find((r) => r.key === maskKey(KEYS[0]))?.status).toBe('cooling')
		await h.close()

		h = await startHarness({ env: { AUTO_BAN: 'true', AUTO_BAN_ERROR_CODES: '400', CALLS_PER_ROTATION: '1' } })
		h.fake.fault(KEYS[0], noAccess, { persistent: true })
		for (let i = 0; i < 3; i++) expect((await ask()).status).toBe(200)
		report = (await (await h.admin('/admin/rate-limits')).json()).rate_limits
		expect(report.find((r) => r.key === maskKey(KEYS[0]))?.status).toBe('banned')
	})

	test('RETRY_429_ENABLED=false: one attempt only', async () => {
		h = await startHarness({ env: { RETRY_429_ENABLED: 'false' } })
		h.fake.fault('*', { kind: 'status', status: 503, envelope: 'B' }, { times: 1 })
		expect((await ask()).status).toBe(502)
		expect(chats()).toHaveLength(1)
	})
})

describe('/admin/rate-limits and key administration', () => {
	test('numbers agree with the fake gateway’s own counters; no full key anywhere', async () => {
		const c = clock()
		h = await startHarness({ now: c.now, fakeOptions: { limit: 10 }, env: { CALLS_PER_ROTATION: '2' } })
		for (let i = 0; i < 5; i++) await ask()
		for (let i = 0; i < 2; i++) await ask('gpt-5')
		const response = await h.admin('/admin/rate-limits')
		const text = await response.text()
		for (const key of KEYS) expect(text).not.toContain(key)
		const report = JSON.parse(text).rate_limits as {
			key: string
			models: Record<string, { limit: number; remaining: number; used: number; reset_in_seconds: number }>
		}[]
		expect(report).toHaveLength(3)
		for (const key of KEYS) {
			const entry = report.find((k) => k.key === maskKey(key))!
			for (const model of ['claude-sonnet-4-6', 'gpt-5']) {
				const fake = h.fake.window(key, model)
				const mine = entry.models[model]
				if (h.fake.count(key, model).sent === 0) {
					expect(mine).toBeUndefined()
					continue
				}
				if (!mine) throw new Error(`no ${model} window reported for ${maskKey(key)}`)
				expect(mine.limit).toBe(fake.limit)
				expect(mine.remaining).toBe(fake.remaining)
				expect(mine.used).toBe(h.fake.count(key, model).sent)
				expect(Math.abs(mine.reset_in_seconds - fake.resetInSeconds)).toBeLessThanOrEqual(1)
			}
		}
	})

	test('every admin route refuses the API password and no credentials', async () => {
		h = await startHarness()
		// Every admin route the OpenAPI document lists, path parameters filled in: a new admin
		// route is covered without touching this test.
		const spec = await (await h.call('/swagger/json', { auth: null })).json()
		const routes = Object.entries(spec.paths as Record<string, Record<string, unknown>>)
			.filter(([path]) => path.startsWith('/admin'))
			.flatMap(([path, methods]) => Object.keys(methods).map((m): [string, string] => [m.toUpperCase(), path.replace(/\{[^}]+\}/g, 'abc')]))
		expect(routes.length).toBeGreaterThanOrEqual(15)
		expect(routes).toContainEqual(['GET', '/admin/rate-limits'])
		// Each wrong password from its own address: repeated failures from one address are throttled (429).
		let peer = 0
		for (const [method, path] of routes) {
			for (const auth of [null, API_PASSWORD]) {
				const response = await h.call(path, { method, auth, peer: `10.3.0.${++peer}`, json: method === 'POST' ? { keys: ['x'] } : undefined })
				expect(response.status).toBe(401)
				expect((await response.json()).error.type).toBe('authentication_error')
			}
		}
		// The guard runs before body validation: a bad body without credentials is 401, not a schema error.
		const bad = await h.call('/admin/keys', { method: 'POST', auth: null, json: { nope: 1 } })
		expect(bad.status).toBe(401)
	})

	test('add, deduplicate, disable, enable and remove keys; env keys cannot be removed here', async () => {
		h = await startHarness({ keys: [KEYS[0]] })
		h.fake.setKey(KEYS[1], {})
		const added = await (await h.admin('/admin/keys', { method: 'POST', json: { keys: [KEYS[1], KEYS[1], KEYS[0]] } })).json()
		expect(added.added).toHaveLength(1)
		expect(added.duplicates).toHaveLength(1)
		let keys = (await (await h.admin('/admin/keys')).json()).keys as { id: string; key: string; source: string; status: string }[]
		expect(keys).toHaveLength(2)
		const adminKey = keys.find((k) => k.source === 'admin')!
		const envKey = keys.find((k) => k.source === 'env')!
		expect(adminKey.key).toBe(maskKey(KEYS[1]))

		await h.admin(`/admin/keys/${envKey.id}/disable`, { method: 'POST' })
		for (let i = 0; i < 3; i++) expect((await ask()).status).toBe(200)
		expect(chats().every((r) => r.key === KEYS[1])).toBe(true)
		await h.admin(`/admin/keys/${envKey.id}/enable`, { method: 'POST' })

		expect((await h.admin(`/admin/keys/${envKey.id}`, { method: 'DELETE' })).status).toBe(400)
		expect((await h.admin(`/admin/keys/${adminKey.id}`, { method: 'DELETE' })).status).toBe(200)
		expect((await h.admin('/admin/keys/nope', { method: 'DELETE' })).status).toBe(404)
		keys = (await (await h.admin('/admin/keys')).json()).keys
		expect(keys.map((k) => k.id)).toEqual([envKey.id])

		await h.admin(`/admin/keys/${envKey.id}/disable`, { method: 'POST' })
		const none = await ask()
		expect(none.status).toBe(503)
		expect((await none.json()).error.code).toBe('no_available_keys')
		expect((await h.admin('/admin/keys', { method: 'POST', json: { keys: [] } })).status).toBe(400)
	})

	test('state survives a restart on the same storage', async () => {
		const storage = new MemoryStorage()
		const c = clock()
		h = await startHarness({ storage, now: c.now, keys: [KEYS[0]], fakeOptions: { limit: 2 }, env: { RATE_LIMIT_MAX_WAIT: '0' } })
		await ask()
		await ask()
		await h.gateway.close()
		// Same storage, new gateway and a fresh fake that still remembers the window.
		const fake = h.fake
		h = await startHarness({ storage, now: c.now, keys: [KEYS[0]], fake, env: { RATE_LIMIT_MAX_WAIT: '0' } })
		const response = await ask()
		expect(response.status).toBe(429)
		expect(chats().filter((r) => r.status === 429)).toHaveLength(0)
	})
})

describe('shared state that does not answer in time', () => {
	test('withinTime turns a reservation that hangs into 503 storage_busy with Retry-After', async () => {
		const { withinTime } = await import('../../../plugins/rate-limits/storage-busy.ts')
		const hang = new Promise<never>(() => {})
		const err = await withinTime(hang, 20).catch((e) => e)
		expect(err.status).toBe(503)
		expect(err.code).toBe('storage_busy')
		expect(err.headers['retry-after']).toBe('1')
		expect(await withinTime(Promise.resolve(7), 20)).toBe(7)
	})
})
