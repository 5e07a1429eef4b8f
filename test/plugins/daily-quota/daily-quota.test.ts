import { afterAll, afterEach, describe, expect, test } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import postgres from 'postgres'
import { keyId, maskKey } from '../../../core/secrets.ts'
import { MemoryStorage, type Storage } from '../../../core/storage.ts'
import { createFileStorage } from '../../../plugins/storage-file/file-storage.ts'
import { createPostgresStorage } from '../../../plugins/storage-postgres/postgres-storage.ts'
import { createRedisStorage } from '../../../plugins/storage-redis/redis-storage.ts'
import { createFakeGateway } from '../../fake-gateway.ts'
import { type Harness, harnessSet, KEYS, testClock } from '../../support.ts'

const harnesses = harnessSet()
afterEach(() => harnesses.closeAll())
const start = harnesses.start

const clock = testClock

const msg = (content = 'hi') => [{ role: 'user', content }]
const ask = (h: Harness, model = 'claude-sonnet-4-6') => h.chat({ model, messages: msg() })
const chats = (h: Harness) => h.fake.requests.filter((r) => r.path === '/v1/chat/completions')
const setQuota = (h: Harness, key: string, body: unknown) => h.admin(`/admin/quotas/${keyId(key)}`, { method: 'PUT', json: body })
const quotas = async (h: Harness) =>
	(await (await h.admin('/admin/quotas')).json()) as {
		day: string
		next_reset: string
		default_daily_limit: number | null
		quotas: {
			id: string
			key: string
			daily_limit: number | null
			daily_limit_source: string
			model_limits: Record<string, number>
			used: { total: number; models: Record<string, number> }
			next_reset: string
		}[]
	}

describe('daily quotas of upstream keys', () => {
	test('a key at its quota is left out and the next key serves; every key at its quota -> 429 naming the reset; back after 07:00 UTC', async () => {
		const c = clock()
		const h = await start({ now: c.now, keys: [KEYS[0], KEYS[1]], env: { RATE_LIMIT_MAX_WAIT: '0' } })
		// The pool's order (keys added at the same time are ordered by id): first serves until its quota is spent.
		const [first, second] = (await quotas(h)).quotas.map((q) => [KEYS[0], KEYS[1]].find((k) => keyId(k) === q.id)!)
		if (!first || !second) throw new Error('expected a quota row for each of the two keys')
		expect((await setQuota(h, first, { daily_limit: 2 })).status).toBe(200)
		expect((await setQuota(h, second, { daily_limit: 1 })).status).toBe(200)
		for (let i = 0; i < 3; i++) expect((await ask(h)).status).toBe(200)
		expect(chats(h).map((r) => r.key)).toEqual([first, first, second])

		const refused = await ask(h)
		expect(refused.status).toBe(429)
		const error = (await refused.json()).error
		expect(error.type).toBe('rate_limit_error')
		expect(error.code).toBe('daily_quota_exhausted')
		expect(error.message).toContain('2026-11-27T07:00:00.000Z')
		expect(error.reset_at).toBe('2026-11-27T07:00:00.000Z')
		// The field clients of the original product read, same instant.
		expect(error.next_reset_time).toBe('2026-11-27T07:00:00.000Z')
		expect(Number(refused.headers.get('retry-after'))).toBe(19 * 3600)
		// Nothing was sent upstream for it.
		expect(chats(h)).toHaveLength(3)

		const view = await quotas(h)
		expect(view.day).toBe('2026-11-26')
		expect(view.next_reset).toBe('2026-11-27T07:00:00.000Z')
		expect(view.default_daily_limit).toBe(1000)
		expect(view.quotas.map((q) => [q.key, q.daily_limit, q.daily_limit_source, q.used.total])).toEqual([
			[maskKey(first), 2, 'key', 2],
			[maskKey(second), 1, 'key', 1],
		])

		// 06:59:59.999 is still the same day; 07:00:00.000 is a new one.
		c.set(Date.parse('2026-11-27T06:59:59.999Z'))
		expect((await ask(h)).status).toBe(429)
		c.set(Date.parse('2026-11-27T07:00:00.000Z'))
		expect((await ask(h)).status).toBe(200)
		// A fresh day's counters: only this request is in them.
		const served = keyId(chats(h).at(-1)!.key!)
		expect((await quotas(h)).quotas.map((q) => [q.id, q.used.total])).toEqual([first, second].map((k) => [keyId(k), keyId(k) === served ? 1 : 0]))
		expect((await ask(h)).status).toBe(200)
	})

	test('DAILY_REQUEST_LIMIT is the default; a failed attempt gives its reservation back', async () => {
		const c = clock()
		const h = await start({ now: c.now, keys: [KEYS[0]], env: { DAILY_REQUEST_LIMIT: '2', RATE_LIMIT_MAX_WAIT: '0' } })
		expect((await quotas(h)).default_daily_limit).toBe(2)
		// A 5xx, retried on the same (only) key: one success, one reservation.
		h.fake.fault(KEYS[0], { kind: 'status', status: 502 })
		expect((await ask(h)).status).toBe(200)
		expect(chats(h).map((r) => r.status)).toEqual([502, 200])
		expect((await quotas(h)).quotas[0]!.used.total).toBe(1)
		// A client error does not spend quota either.
		expect(
			(await h.chat({ model: 'qwen3.5-4b-32k-fast', messages: msg('weather?'), tools: [{ type: 'function', function: { name: 'f', parameters: {} } }] }))
				.status,
		).toBe(400)
		expect((await quotas(h)).quotas[0]!.used.total).toBe(1)
		expect((await ask(h)).status).toBe(200)
		expect((await ask(h)).status).toBe(429)
		// Raising the limit lets the key serve again at once.
		expect((await setQuota(h, KEYS[0], { daily_limit: 3 })).status).toBe(200)
		expect((await ask(h)).status).toBe(200)
		// null: back to the default (2), already spent.
		const back = await (await setQuota(h, KEYS[0], { daily_limit: null })).json()
		expect(back).toMatchObject({ daily_limit: 2, daily_limit_source: 'default', used: { total: 3 } })
		expect((await ask(h)).status).toBe(429)
	})

	test('DAILY_REQUEST_LIMIT=0: unlimited, but counted', async () => {
		const h = await start({ keys: [KEYS[0]], env: { DAILY_REQUEST_LIMIT: '0' } })
		for (let i = 0; i < 3; i++) expect((await ask(h)).status).toBe(200)
		const view = await quotas(h)
		expect(view.default_daily_limit).toBeNull()
		expect(view.quotas[0]).toMatchObject({ daily_limit: null, used: { total: 3 } })
	})

	test('per-model limits: a key spent for one model still serves others; null removes a limit', async () => {
		const c = clock()
		const h = await start({ now: c.now, keys: [KEYS[0]], env: { RATE_LIMIT_MAX_WAIT: '0' } })
		const set = await setQuota(h, KEYS[0], { model_limits: { 'gpt-5': 1, 'claude-sonnet-4-6': 2 } })
		expect(set.status).toBe(200)
		expect((await set.json()).model_limits).toEqual({ 'gpt-5': 1, 'claude-sonnet-4-6': 2 })
		expect((await ask(h, 'gpt-5')).status).toBe(200)
		const refused = await ask(h, 'gpt-5')
		expect(refused.status).toBe(429)
		expect((await refused.json()).error.message).toContain('daily limit 1 for model gpt-5 reached')
		expect((await ask(h, 'claude-sonnet-4-6')).status).toBe(200)
		expect((await ask(h, 'claude-sonnet-4-6')).status).toBe(200)
		expect((await ask(h, 'claude-sonnet-4-6')).status).toBe(429)
		expect((await ask(h, 'gemini-2.5-flash')).status).toBe(200)
		// A model refusal gave its total reservation back: 1 + 2 + 1 successes.
		expect((await quotas(h)).quotas[0]!.used).toEqual({ total: 4, models: { 'gpt-5': 1, 'claude-sonnet-4-6': 2 } })

		expect((await setQuota(h, KEYS[0], { model_limits: { 'gpt-5': null } })).status).toBe(200)
		expect((await quotas(h)).quotas[0]!.model_limits).toEqual({ 'claude-sonnet-4-6': 2 })
		expect((await ask(h, 'gpt-5')).status).toBe(200)
		expect((await ask(h, 'claude-sonnet-4-6')).status).toBe(429)
	})

	test('limits are validated, unknown keys are 404, and limits survive a restart and are shared by instances', async () => {
		const storage = new MemoryStorage()
		const h = await start({ storage, keys: [KEYS[0]] })
		for (const body of [
			{ daily_limit: 0 },
			{ daily_limit: -1 },
			{ daily_limit: 1.5 },
			{ daily_limit: 'ten' },
			{ model_limits: { 'gpt-5': 0 } },
			{ model_limits: ['gpt-5'] },
		]) {
			const response = await setQuota(h, KEYS[0], body)
			expect(response.status).toBe(400)
			expect((await response.json()).error.type).toBe('invalid_request_error')
		}
		const missing = await h.admin('/admin/quotas/nope', { method: 'PUT', json: { daily_limit: 5 } })
		expect(missing.status).toBe(404)
		expect((await setQuota(h, KEYS[0], { daily_limit: 7, model_limits: { 'gpt-5': 3 } })).status).toBe(200)

		// A second instance on the same storage sees them; so does a restart.
		const other = await start({ storage, keys: [KEYS[0]], fake: h.fake })
		expect((await quotas(other)).quotas[0]).toMatchObject({ daily_limit: 7, model_limits: { 'gpt-5': 3 } })
		// Limits never show up as rate windows.
		const report = (await (await other.admin('/admin/rate-limits')).json()).rate_limits
		expect(Object.keys(report[0].models)).toEqual([])
	})
})

describe('100 concurrent requests against a quota of 40: exactly 40 succeed', () => {
	const redisUrl = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379'
	const pgBase = process.env.POSTGRES_TEST_DSN ?? 'postgres://postgres@127.0.0.1:5432/test'
	const run = `amb2api-quota-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`
	const pgRun = run.replace(/-/g, '_')
	const schemas: string[] = []
	let dirs: string[] = []
	let pgAdmin: postgres.Sql | null = null

	afterAll(async () => {
		for (const dir of dirs) await rm(dir, { recursive: true, force: true })
		dirs = []
		if (pgAdmin) {
			for (const schema of schemas) await pgAdmin.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
			await pgAdmin.end()
		}
		const raw = new Redis(redisUrl)
		let cursor = '0'
		do {
			const [next, keys] = await raw.scan(cursor, 'MATCH', `${run}*`, 'COUNT', 1000)
			cursor = next
			if (keys.length) await raw.del(...keys)
		} while (cursor !== '0')
		await raw.quit()
	})

	/**
	 * `instances` gateways (each with its own connection from `open`) share one fake with a high
	 * rate limit and one key; 100 requests in parallel, spread over the instances.
	 */
	async function race(open: () => Promise<Storage>, instances = 1) {
		const fake = createFakeGateway({ keys: { [KEYS[0]]: {} }, limit: 1000 })
		const gateways: Harness[] = []
		for (let i = 0; i < instances; i++) {
			gateways.push(await start({ storage: await open(), keys: [KEYS[0]], fake, env: { DAILY_REQUEST_LIMIT: '40', RATE_LIMIT_MAX_WAIT: '0' } }))
		}
		const started = performance.now()
		const responses = await Promise.all(Array.from({ length: 100 }, (_, i) => ask(gateways[i % instances]!)))
		const ms = Math.round(performance.now() - started)
		const statuses = responses.map((r) => r.status)
		const refused = await Promise.all(responses.filter((r) => r.status !== 200).map((r) => r.json()))
		await Promise.all(responses.filter((r) => r.status === 200).map((r) => r.text()))
		expect(statuses.filter((s) => s === 200)).toHaveLength(40)
		expect(statuses.filter((s) => s === 429)).toHaveLength(60)
		expect(new Set(refused.map((b) => b.error.code))).toEqual(new Set(['daily_quota_exhausted']))
		expect(fake.count(KEYS[0], 'claude-sonnet-4-6')).toEqual({ sent: 40, ok: 40, rateLimited: 0 })
		expect((await quotas(gateways[0]!)).quotas[0]!.used.total).toBe(40)
		console.log(`quota race on ${gateways[0]!.storage.kind} x${instances}: 40/100 granted in ${ms} ms`)
		await fake.stop()
	}

	test('file backend', async () => {
		const dir = await mkdtemp(join(tmpdir(), 'amb2api-quota-'))
		dirs.push(dir)
		await race(() => createFileStorage({ dir }))
	})

	test('Redis, one instance', async () => {
		await race(() => createRedisStorage({ url: redisUrl, prefix: `${run}-one` }))
	})

	test('Redis, two instances sharing it', async () => {
		await race(() => createRedisStorage({ url: redisUrl, prefix: `${run}-two` }), 2)
	})

	const pgSchema = async () => {
		pgAdmin ??= postgres(pgBase, { max: 2, onnotice: () => {} })
		const schema = `${pgRun}_${schemas.length}`
		await pgAdmin.unsafe(`CREATE SCHEMA "${schema}"`)
		schemas.push(schema)
		const url = new URL(pgBase)
		url.searchParams.set('search_path', schema)
		return url.toString()
	}

	test('PostgreSQL, one instance', async () => {
		const dsn = await pgSchema()
		await race(() => createPostgresStorage({ dsn }))
	})

	test('PostgreSQL, two instances sharing it', async () => {
		const dsn = await pgSchema()
		await race(() => createPostgresStorage({ dsn }), 2)
	})
})

describe('daily quota leases', () => {
	test('requests reserved ahead are spent without a round trip, shown as unused, and go back on close', async () => {
		const { DailyQuota } = await import('../../../plugins/daily-quota/daily-quota.ts')
		const storage = new MemoryStorage()
		const quota = new DailyQuota({ storage }, { defaultDailyLimit: 1000 })
		const total = async () => Object.values(await storage.readCounters('quota:'))[0]?.total
		expect(await quota.reserve('k1', 'm')).toEqual({ granted: true })
		// One for the request, 32 ahead (an eighth of what is left, at most 32).
		expect(await total()).toBe(33)
		expect(await quota.reserve('k1', 'm')).toEqual({ granted: true })
		expect(await total()).toBe(33)
		expect((await quota.usedToday()).get('k1')?.total).toBe(2)
		await quota.close()
		expect(await total()).toBe(2)
		expect((await quota.usedToday()).get('k1')?.total).toBe(2)
	})
})
