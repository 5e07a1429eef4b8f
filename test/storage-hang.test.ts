/**
 * A shared backend that keeps its connection open but stops answering (a paused redis-server:
 * SIGSTOP, as in a network partition): past the storage timeout it counts as down, requests are
 * answered from memory, /health says 503 within a second, and everything recovers after SIGCONT.
 * Uses a private redis-server on a spare port (never the shared one), signalled only by its pid.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { withResilience } from '../core/storage-resilient.ts'
import { createRedisStorage } from '../plugins/storage-redis/redis-storage.ts'
import { type Harness, startHarness, sparePort } from './support.ts'

const REDIS_SERVER = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find(existsSync)
let redis: ReturnType<typeof Bun.spawn> | null = null
let dir = ''
let h: Harness | null = null
const cleanups: (() => Promise<unknown>)[] = []

async function startRedis(port: number): Promise<void> {
	redis = Bun.spawn([REDIS_SERVER as string, '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
		stdout: 'ignore',
		stderr: 'ignore',
	})
	const deadline = Date.now() + 10_000
	while (Date.now() < deadline) {
		const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
		probe.on('error', () => {})
		const ok = await probe
			.connect()
			.then(() => probe.ping())
			.then(
				() => true,
				() => false,
			)
		probe.disconnect()
		if (ok) return
		await Bun.sleep(50)
	}
	throw new Error('private redis-server did not start')
}

const pause = () => redis?.kill('SIGSTOP')
const resume = () => redis?.kill('SIGCONT')

/** Resolves with the value and how long it took, or rejects after `ms` (so old code fails instead of hanging). */
async function within<T>(ms: number, call: Promise<T>): Promise<{ value: T; ms: number }> {
	const begin = performance.now()
	let timer: ReturnType<typeof setTimeout> | undefined
	const late = new Promise<never>((_, reject) => {
		timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)
	})
	try {
		const value = await Promise.race([call, late])
		return { value, ms: performance.now() - begin }
	} finally {
		clearTimeout(timer)
	}
}

afterAll(async () => {
	resume()
	await h?.close().catch(() => {})
	for (const cleanup of cleanups) await cleanup().catch(() => {})
	if (redis) {
		redis.kill('SIGKILL')
		await redis.exited
	}
	if (dir) await rm(dir, { recursive: true, force: true })
})

describe.skipIf(!REDIS_SERVER)('a Redis that stops answering (SIGSTOP)', () => {
	test('the wrapper: a hung call is answered from memory after the timeout, then recovers', async () => {
		dir = await mkdtemp(join(tmpdir(), 'amb2api-hang-'))
		const port = await sparePort()
		await startRedis(port)
		const events = { down: 0, up: 0 }
		const storage = withResilience(await createRedisStorage({ url: `redis://127.0.0.1:${port}`, prefix: 'hang-unit' }), {
			onDown: () => events.down++,
			onUp: () => events.up++,
			retryMs: 100,
			timeoutMs: 300,
		})
		cleanups.push(() => storage.close())
		await storage.addCounters('usage', { ok: 2 })

		pause()
		const hung = await within(2000, storage.addCounters('usage', { ok: 1 }))
		expect(hung.value).toEqual({ ok: 3 })
		expect(hung.ms).toBeGreaterThanOrEqual(250)
		expect(events).toEqual({ down: 1, up: 0 })
		// Down now: the next calls do not wait at all.
		const fast = await within(2000, storage.addCounters('usage', { ok: 1 }))
		expect(fast.value).toEqual({ ok: 4 })
		expect(fast.ms).toBeLessThan(50)
		await expect(within(2000, storage.ping())).rejects.toThrow('unreachable')
		// The probe keeps timing out while paused (it must not stay stuck on one unanswered ping).
		await Bun.sleep(700)
		expect(storage.healthy).toBe(false)

		resume()
		const deadline = Date.now() + 5000
		while (!storage.healthy && Date.now() < deadline) await Bun.sleep(50)
		expect(storage.healthy).toBe(true)
		expect(events).toEqual({ down: 1, up: 1 })
		// The call that timed out may also have landed late: 4 counted here, at most 5 there.
		const stored = (await storage.readCounters('usage')).usage?.ok ?? 0
		expect(stored).toBeGreaterThanOrEqual(4)
		expect(stored).toBeLessThanOrEqual(5)
		await redis?.kill('SIGKILL')
		await redis?.exited
		redis = null
	}, 30_000)

	test('the gateway: /health 503 within a second, chats keep being answered, recovery after SIGCONT', async () => {
		const port = await sparePort()
		await startRedis(port)
		h = await startHarness({ storage: null, env: { REDIS_URI: `redis://127.0.0.1:${port}/0`, REDIS_PREFIX: 'hang', STORAGE_TIMEOUT_MS: '500' } })
		const created = await h.admin('/admin/clients', { method: 'POST', json: { name: 'hang-client' } })
		expect(created.status).toBe(201)
		const clientKey = (await created.json()).key as string
		const ask = (auth?: string) => h!.chat({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'hello' }] }, auth)
		expect((await ask(clientKey)).status).toBe(200)
		expect((await ask()).status).toBe(200)
		expect((await h.call('/health', { auth: null })).status).toBe(200)

		pause()
		const health = await within(3000, h.call('/health', { auth: null }))
		expect(health.value.status).toBe(503)
		expect(health.ms).toBeLessThan(1000)
		const client = await within(3000, ask(clientKey))
		expect(client.value.status).toBe(200)
		expect(client.ms).toBeLessThan(1500)
		const password = await within(3000, ask())
		expect(password.value.status).toBe(200)
		expect(password.ms).toBeLessThan(1500)
		const again = await within(3000, h.call('/health', { auth: null }))
		expect(again.value.status).toBe(503)
		expect(again.ms).toBeLessThan(100)
		expect(h.logs.filter((l) => l.includes('storage backend unreachable'))).toHaveLength(1)

		resume()
		const deadline = Date.now() + 10_000
		let status = 503
		while (status !== 200 && Date.now() < deadline) {
			status = (await within(3000, h.call('/health', { auth: null }))).value.status
			if (status !== 200) await Bun.sleep(100)
		}
		expect(status).toBe(200)
		expect(h.logs.filter((l) => l.includes('storage backend is back'))).toHaveLength(1)
		expect((await within(3000, ask(clientKey))).value.status).toBe(200)
	}, 60_000)
})
