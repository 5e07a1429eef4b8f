/**
 * One table of rate-window cases, run against every backend (memory, file, Redis, PostgreSQL,
 * MongoDB when MONGODB_URI is set) through the pool's window store: the reservation and the
 * corrections that run inside each backend's atomic update must agree with rate-window.ts,
 * which is also run directly on a plain object as the reference.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Redis from 'ioredis'
import { MongoClient } from 'mongodb'
import postgres from 'postgres'
import { MemoryStorage, type Storage } from '../../../core/storage.ts'
import { createFileStorage } from '../../../plugins/storage-file/file-storage.ts'
import { createMongoStorage } from '../../../plugins/storage-mongodb/mongo-storage.ts'
import { createPostgresStorage } from '../../../plugins/storage-postgres/postgres-storage.ts'
import { createRedisStorage } from '../../../plugins/storage-redis/redis-storage.ts'
import {
	coolDown,
	deny,
	emptyWindow,
	giveBack,
	observe,
	observeUnlimited,
	readLimitHeaders,
	refund,
	reserve,
	type WindowRecord,
	windowId,
} from '../../../plugins/rate-limits/rate-window.ts'
import { WindowStore } from '../../../plugins/rate-limits/window-store.ts'

const T0 = Date.UTC(2026, 10, 26, 12, 0, 0)
const PROBE_TTL = 30_000
const KEY = 'k1'
const MODEL = 'claude-sonnet-4-6'

const headers = (h: Record<string, string | number>) => new Headers(Object.entries(h).map(([k, v]): [string, string] => [k, String(v)]))

/** One step at `at` ms after T0. `expect` on reserve: granted (probe?) or the refusal's why and until. */
type Step =
	| { op: 'reserve'; at: number; expect: { granted: true; probe?: boolean } | { granted: false; why: string; until: number } }
	| { op: 'reserveMany'; at: number; n: number; granted: number }
	| { op: 'observe'; at: number; headers: Record<string, string | number> }
	| { op: 'unlimited' }
	| { op: 'cool'; at: number; headers: Record<string, string | number> }
	| { op: 'deny'; at: number; forMs: number }
	| { op: 'refund' }
	| { op: 'giveBack'; at: number; slots: number; leasedResetAt: number | null }
	| { op: 'state'; fields: Partial<WindowRecord> }

interface Case {
	name: string
	steps: Step[]
}

const limit = (n: number, remaining: number, reset = 60) => ({ 'x-ratelimit-limit': n, 'x-ratelimit-remaining': remaining, 'x-ratelimit-reset': reset })

export const CASES: Case[] = [
	{
		name: 'unknown limit: one probe at a time, then the learnt limit',
		steps: [
			{ op: 'reserve', at: 0, expect: { granted: true, probe: true } },
			{ op: 'reserve', at: 10, expect: { granted: false, why: 'probing', until: T0 + PROBE_TTL } },
			{ op: 'observe', at: 20, headers: limit(3, 2) },
			{ op: 'state', fields: { limit: 3, remaining: 2, used: 1, probeUntil: null, resetAt: T0 + 20 + 60_000 + 250 } },
			{ op: 'reserve', at: 30, expect: { granted: true, probe: false } },
			{ op: 'reserve', at: 40, expect: { granted: true, probe: false } },
			{ op: 'reserve', at: 50, expect: { granted: false, why: 'exhausted', until: T0 + 20 + 60_000 + 250 } },
			{ op: 'state', fields: { remaining: 0, used: 3 } },
		],
	},
	{
		name: 'the window resets: full headroom again',
		steps: [
			{ op: 'observe', at: 0, headers: limit(2, 0, 1) },
			{ op: 'reserve', at: 500, expect: { granted: false, why: 'exhausted', until: T0 + 1250 } },
			{ op: 'reserve', at: 1250, expect: { granted: true, probe: false } },
			{ op: 'state', fields: { remaining: 1, used: 1, resetAt: null } },
		],
	},
	{
		name: 'the lower of our count and the upstream one wins within a window',
		steps: [
			{ op: 'observe', at: 0, headers: limit(10, 9) },
			{ op: 'reserve', at: 1, expect: { granted: true } },
			{ op: 'reserve', at: 2, expect: { granted: true } },
			{ op: 'observe', at: 3, headers: limit(10, 8) },
			{ op: 'state', fields: { remaining: 7, used: 3 } },
			{ op: 'observe', at: 4, headers: limit(10, 2) },
			{ op: 'state', fields: { remaining: 2, used: 8 } },
		],
	},
	{
		name: 'a 429 cools the window down until Retry-After',
		steps: [
			{ op: 'observe', at: 0, headers: limit(10, 5) },
			{ op: 'cool', at: 100, headers: { ...limit(10, 0, 30), 'retry-after': 7 } },
			{ op: 'state', fields: { remaining: 0, cooldownUntil: T0 + 100 + 7000 + 250 } },
			{ op: 'reserve', at: 200, expect: { granted: false, why: 'cooling', until: T0 + 100 + 7000 + 250 } },
		],
	},
	{
		name: 'no access to the model: denied for a while',
		steps: [
			{ op: 'deny', at: 0, forMs: 3_600_000 },
			{ op: 'reserve', at: 10, expect: { granted: false, why: 'denied', until: T0 + 3_600_000 } },
			{ op: 'reserve', at: 3_600_000, expect: { granted: true, probe: true } },
		],
	},
	{
		name: 'a refund gives the slot back, never beyond the limit',
		steps: [
			{ op: 'observe', at: 0, headers: limit(3, 3) },
			{ op: 'reserve', at: 1, expect: { granted: true } },
			{ op: 'refund' },
			{ op: 'state', fields: { remaining: 3, used: 0 } },
			{ op: 'refund' },
			{ op: 'state', fields: { remaining: 3, used: 0 } },
		],
	},
	{
		name: 'no rate-limit headers: unlimited, every reservation granted',
		steps: [
			{ op: 'reserve', at: 0, expect: { granted: true, probe: true } },
			{ op: 'unlimited' },
			{ op: 'reserveMany', at: 1, n: 50, granted: 50 },
			{ op: 'state', fields: { unlimited: true, remaining: null, used: 51, probeUntil: null } },
		],
	},
	{
		name: 'leased slots go back to their own window only',
		steps: [
			{ op: 'observe', at: 0, headers: limit(10, 10, 2) },
			{ op: 'reserveMany', at: 1, n: 4, granted: 4 },
			{ op: 'giveBack', at: 2, slots: 3, leasedResetAt: T0 + 2250 },
			{ op: 'state', fields: { remaining: 9, used: 1 } },
			{ op: 'giveBack', at: 3, slots: 3, leasedResetAt: T0 + 99 },
			{ op: 'state', fields: { remaining: 9, used: 1 } },
			{ op: 'giveBack', at: 2250, slots: 1, leasedResetAt: T0 + 2250 },
			{ op: 'state', fields: { remaining: 9, used: 1 } },
		],
	},
	{
		name: 'many at once against a limit of 10: exactly the headroom is granted',
		steps: [
			{ op: 'observe', at: 0, headers: limit(10, 10) },
			{ op: 'reserveMany', at: 1, n: 25, granted: 10 },
			{ op: 'state', fields: { remaining: 0, used: 10 } },
		],
	},
]

/** The reference: the pure functions on one object. */
function reference(steps: Step[]): unknown[] {
	let w = emptyWindow(KEY, MODEL)
	const out: unknown[] = []
	for (const step of steps) {
		const now = 'at' in step ? T0 + step.at : T0
		switch (step.op) {
			case 'reserve':
				out.push(reserve(w, now, PROBE_TTL))
				break
			case 'reserveMany':
				out.push(Array.from({ length: step.n }, () => reserve(w, now, PROBE_TTL)).filter((r) => r.granted).length)
				break
			case 'observe':
				observe(w, readLimitHeaders(headers(step.headers), now), now)
				break
			case 'unlimited':
				observeUnlimited(w)
				break
			case 'cool':
				coolDown(w, readLimitHeaders(headers(step.headers), now), now, 'cooling')
				break
			case 'deny':
				deny(w, now, step.forMs, 'denied')
				break
			case 'refund':
				refund(w)
				break
			case 'giveBack':
				giveBack(w, step.slots, step.leasedResetAt, now)
				break
			case 'state':
				out.push({ ...w })
				w = { ...w }
				break
		}
	}
	return out
}

/** The same steps through the window store, on a backend. */
async function onBackend(storage: Storage, steps: Step[], key: string): Promise<unknown[]> {
	const store = new WindowStore(storage, PROBE_TTL, { max: 0, ms: 1000 }, () => T0)
	const out: unknown[] = []
	for (const step of steps) {
		const now = 'at' in step ? T0 + step.at : T0
		switch (step.op) {
			case 'reserve':
				out.push(await store.reserve(key, MODEL, now))
				break
			case 'reserveMany': {
				// Concurrent: the store batches them into its atomic updates.
				const results = await Promise.all(Array.from({ length: step.n }, () => store.reserve(key, MODEL, now)))
				out.push(results.filter((r) => r.granted).length)
				break
			}
			case 'observe':
				await store.change(key, MODEL, (w) => observe(w, readLimitHeaders(headers(step.headers), now), now))
				break
			case 'unlimited':
				await store.change(key, MODEL, observeUnlimited)
				break
			case 'cool':
				await store.change(key, MODEL, (w) => void coolDown(w, readLimitHeaders(headers(step.headers), now), now, 'cooling'))
				break
			case 'deny':
				await store.change(key, MODEL, (w) => deny(w, now, step.forMs, 'denied'))
				break
			case 'refund':
				await store.refund(key, MODEL)
				break
			case 'giveBack':
				await store.change(key, MODEL, (w) => giveBack(w, step.slots, step.leasedResetAt, now))
				break
			case 'state':
				out.push(await storage.getDoc<WindowRecord>('limits', windowId(key, MODEL)))
				break
		}
	}
	return out
}

/** Compares what a step list expects with what ran. */
function check(steps: Step[], results: unknown[]): void {
	let i = 0
	for (const step of steps) {
		if (step.op === 'reserve') {
			const r = results[i++] as { granted: boolean; probe?: boolean; why?: string; until?: number }
			expect(r).toMatchObject(step.expect)
		} else if (step.op === 'reserveMany') expect(results[i++]).toBe(step.granted)
		else if (step.op === 'state') expect(results[i++]).toMatchObject(step.fields)
	}
}

const run = `amb2api_wcases_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`
const REDIS_URL = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379'
const PG_DSN = process.env.POSTGRES_TEST_DSN ?? 'postgres://postgres@127.0.0.1:5432/test'
const MONGO = process.env.MONGODB_URI
const cleanups: (() => Promise<void>)[] = []
afterAll(async () => {
	for (const clean of cleanups) await clean().catch(() => {})
})

const backends: Record<string, () => Promise<Storage>> = {
	memory: async () => new MemoryStorage(() => T0),
	file: async () => {
		const dir = await mkdtemp(join(tmpdir(), 'amb2api-wcases-'))
		const storage = await createFileStorage({ dir })
		cleanups.push(async () => {
			await storage.close()
			await rm(dir, { recursive: true, force: true })
		})
		return storage
	},
	redis: async () => {
		const storage = await createRedisStorage({ url: REDIS_URL, prefix: run })
		cleanups.push(async () => {
			await storage.close()
			const redis = new Redis(REDIS_URL)
			const keys = await redis.keys(`${run}*`)
			if (keys.length) await redis.del(...keys)
			redis.disconnect()
		})
		return storage
	},
	postgres: async () => {
		const sql = postgres(PG_DSN, { max: 1, onnotice: () => {} })
		await sql.unsafe(`CREATE SCHEMA "${run}"`)
		const url = new URL(PG_DSN)
		url.searchParams.set('search_path', run)
		const storage = await createPostgresStorage({ dsn: url.toString() })
		cleanups.push(async () => {
			await storage.close()
			await sql.unsafe(`DROP SCHEMA "${run}" CASCADE`)
			await sql.end()
		})
		return storage
	},
	...(MONGO
		? {
				mongodb: async () => {
					const storage = await createMongoStorage({ uri: MONGO, database: run })
					cleanups.push(async () => {
						await storage.close()
						const client = new MongoClient(MONGO)
						await client.db(run).dropDatabase()
						await client.close()
					})
					return storage
				},
			}
		: {}),
}

describe('window cases: the reference (rate-window.ts on a plain object)', () => {
	for (const c of CASES) test(c.name, () => check(c.steps, reference(c.steps)))
})

describe.each(Object.keys(backends))('window cases on %s', (name) => {
	let storage: Storage | null = null
	let n = 0
	for (const c of CASES) {
		test(c.name, async () => {
			storage ??= await (backends[name] as () => Promise<Storage>)()
			const results = await onBackend(storage, c.steps, `key${n++}`)
			check(c.steps, results)
			// And field for field what the reference computes.
			const states = (rs: unknown[]) =>
				rs.filter((r) => r !== null && typeof r === 'object' && 'keyId' in r).map((r) => ({ ...(r as WindowRecord), id: '', keyId: '' }))
			expect(states(results)).toEqual(states(reference(c.steps)))
		})
	}
})

describe('window leases', () => {
	test('slots reserved ahead are spent locally, counted as used in storage, and go back on close', async () => {
		const storage = new MemoryStorage(() => T0)
		const store = new WindowStore(storage, PROBE_TTL, { max: 32, ms: 60_000 }, () => T0)
		await store.change(KEY, MODEL, (w) => observe(w, readLimitHeaders(headers(limit(200, 200)), T0), T0))
		const stored = async () => (await storage.getDoc<WindowRecord>('limits', windowId(KEY, MODEL)))!
		expect(await store.reserve(KEY, MODEL, T0)).toEqual({ granted: true, probe: false })
		// One for the request and 24 ahead (an eighth of the 199 left).
		expect((await stored()).remaining).toBe(200 - 1 - 24)
		for (let i = 0; i < 24; i++) expect((await store.reserve(KEY, MODEL, T0)).granted).toBe(true)
		expect((await stored()).remaining).toBe(175)
		expect(store.unusedLease(windowId(KEY, MODEL), (await stored()).resetAt)).toBe(0)
		// The lease is spent: the next one reserves in storage again (and leases anew).
		expect((await store.reserve(KEY, MODEL, T0)).granted).toBe(true)
		const after = await stored()
		const unused = store.unusedLease(windowId(KEY, MODEL), after.resetAt)
		expect(unused).toBe(Math.floor((175 - 1) / 8))
		await store.close()
		expect((await stored()).remaining).toBe(175 - 1)
		expect((await stored()).used).toBe(26)
	})
})
