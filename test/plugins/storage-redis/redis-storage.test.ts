import { afterAll, describe, expect, test } from 'bun:test'
import { Redis } from 'ioredis'
import type { Storage } from '../../../core/storage.ts'
import { createRedisStorage } from '../../../plugins/storage-redis/redis-storage.ts'
import { storageContract } from '../../storage.contract.ts'

const url = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379'
/** Every key of this run starts with it; afterAll deletes them all. */
const run = `amb2api-test-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`
let next = 0
const prefixOf = new WeakMap<Storage, string>()

async function open(prefix = `${run}-${next++}`): Promise<Storage> {
	const storage = await createRedisStorage({ url, prefix })
	prefixOf.set(storage, prefix)
	return storage
}

storageContract('redis', () => open(), {
	reopen: (closed) => open(prefixOf.get(closed)),
	secondConnection: (of) => open(prefixOf.get(of)),
})

describe('redis storage specifics', () => {
	test('every key lives under the prefix; settings and docs are hashes', async () => {
		const prefix = `${run}-layout`
		const storage = await createRedisStorage({ url, prefix })
		const raw = new Redis(url)
		try {
			await storage.saveSettings({ mode: 'random' })
			await storage.putDoc('keys', { id: 'k1' })
			await storage.addCounters('usage:k1', { ok: 1 }, Date.now() + 60_000)
			const keys = (await raw.keys(`${prefix}:*`)).sort()
			expect(keys).toEqual([`${prefix}:counter:usage:k1`, `${prefix}:counters`, `${prefix}:docs:keys`, `${prefix}:settings`])
			expect(await raw.hget(`${prefix}:settings`, 'mode')).toBe('"random"')
			expect(await raw.pttl(`${prefix}:counter:usage:k1`)).toBeGreaterThan(50_000)
			expect(storage.where).toEndWith(` prefix ${prefix}`)
			expect(storage.where).toStartWith(url.startsWith('rediss:') ? 'rediss://' : 'redis://')
		} finally {
			await storage.close()
			await raw.quit()
		}
	})

	test('an injected client is used and not closed', async () => {
		const client = new Redis(url)
		const storage = await createRedisStorage({ url, prefix: `${run}-injected`, client })
		await storage.saveSettings({ a: 1 })
		await storage.close()
		expect(client.status).toBe('ready')
		expect(await client.hget(`${run}-injected:settings`, 'a')).toBe('1')
		await client.quit()
	})

	test('an unreachable Redis fails start-up with a clear error, without the password', async () => {
		const started = Date.now()
		const error = await createRedisStorage({ url: 'redis://user:s3cret-pw@127.0.0.1:1/0', prefix: run }).catch((err: Error) => err)
		expect(error).toBeInstanceOf(Error)
		const message = (error as Error).message
		expect(message).toContain('Redis at redis://user@127.0.0.1:1/0')
		expect(message).not.toContain('s3cret-pw')
		expect(Date.now() - started).toBeLessThan(8000)
	}, 15_000)
})

afterAll(async () => {
	const raw = new Redis(url)
	let cursor = '0'
	do {
		const [nextCursor, keys] = await raw.scan(cursor, 'MATCH', `${run}-*`, 'COUNT', 1000)
		cursor = nextCursor
		if (keys.length) await raw.del(...keys)
	} while (cursor !== '0')
	await raw.quit()
})
