/**
 * Steady state costs less than one storage call per request (group commit and leases), counted
 * on the storage itself, not timed: memory and a real Redis, 16 clients in parallel.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import Redis from 'ioredis'
import { MemoryStorage, type Storage } from '../../../core/storage.ts'
import { createRedisStorage } from '../../../plugins/storage-redis/redis-storage.ts'
import { createFakeGateway } from '../../fake-gateway.ts'
import { KEYS, startHarness } from '../../support.ts'

const REDIS_URL = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379'
const prefix = `amb2api_rt_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`

afterAll(async () => {
	const redis = new Redis(REDIS_URL)
	const keys = await redis.keys(`${prefix}*`)
	if (keys.length) await redis.del(...keys)
	redis.disconnect()
})

/** Counts every storage call by method. */
function counting(inner: Storage): { storage: Storage; calls: Map<string, number> } {
	const calls = new Map<string, number>()
	const storage = new Proxy(inner, {
		get(target, prop, receiver) {
			const value = Reflect.get(target, prop, receiver)
			if (typeof value !== 'function') return value
			return (...args: unknown[]) => {
				calls.set(String(prop), (calls.get(String(prop)) ?? 0) + 1)
				return value.apply(target, args)
			}
		},
	})
	return { storage, calls }
}

const backends: Record<string, () => Promise<Storage>> = {
	memory: async () => new MemoryStorage(),
	redis: () => createRedisStorage({ url: REDIS_URL, prefix }),
}

describe.each(Object.keys(backends))('storage calls per request on %s', (name) => {
	test('16 parallel clients, 480 requests after warm-up: under one storage call per request', async () => {
		const { storage, calls } = counting(await (backends[name] as () => Promise<Storage>)())
		const fake = createFakeGateway({ keys: Object.fromEntries(KEYS.map((k) => [k, {}])), limit: 1_000_000 })
		const h = await startHarness({ fake, storage, env: { DAILY_REQUEST_LIMIT: '100000', LOG_LEVEL: 'warning' } })
		try {
			const ask = async () => {
				const response = await h.chat({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'x' }] })
				expect(response.status).toBe(200)
				await response.text()
			}
			for (let i = 0; i < 10; i++) await ask()
			calls.clear()
			const client = async () => {
				for (let i = 0; i < 30; i++) await ask()
			}
			await Promise.all(Array.from({ length: 16 }, client))
			const total = [...calls.values()].reduce((a, b) => a + b, 0)
			// Before group commit and leases: a window CAS, a quota reservation and a correction
			// each, i.e. at least 3 per request.
			expect(total / 480).toBeLessThan(1)
		} finally {
			await h.close()
			await fake.stop()
		}
	}, 60_000)
})
