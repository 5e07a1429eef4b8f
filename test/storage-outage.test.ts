/**
 * The gateway on a shared backend that goes away while it serves: requests keep being answered,
 * the outage is logged once, and the gateway recovers by itself when the server returns. Uses a
 * private redis-server on a spare port (never the shared one), stopped only by its pid.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { maskKey } from '../core/secrets.ts'
import { type Harness, PANEL_PASSWORD, startHarness, sparePort } from './support.ts'

const REDIS_SERVER = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find(existsSync)
let redis: ReturnType<typeof Bun.spawn> | null = null
let dir = ''
let h: Harness | null = null

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

async function stopRedis(): Promise<void> {
	if (!redis) return
	redis.kill('SIGKILL')
	await redis.exited
	redis = null
}

afterAll(async () => {
	await h?.close().catch(() => {})
	await stopRedis()
	if (dir) await rm(dir, { recursive: true, force: true })
})

describe.skipIf(!REDIS_SERVER)('Redis goes away while the gateway serves', () => {
	test('requests are answered throughout; the outage is logged once; recovery is automatic', async () => {
		dir = await mkdtemp(join(tmpdir(), 'amb2api-outage-'))
		const port = await sparePort()
		await startRedis(port)
		h = await startHarness({ storage: null, env: { REDIS_URI: `redis://127.0.0.1:${port}/0`, REDIS_PREFIX: 'outage' } })
		expect(h.gateway.storage.kind).toBe('redis')
		const ask = (i: number) => h!.chat({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: `request ${i}` }] })
		for (let i = 0; i < 3; i++) expect((await ask(i)).status).toBe(200)
		const created = await h.admin('/admin/clients', { method: 'POST', json: { name: 'before-the-outage' } })
		const clientKey = (await created.json()).key as string

		await stopRedis()
		for (let i = 0; i < 5; i++) expect((await ask(10 + i)).status).toBe(200)
		const storageInfo = await (await h.admin('/admin/storage')).json()
		expect(storageInfo).toMatchObject({ backend: 'redis', healthy: false })
		expect(storageInfo.where).not.toContain(PANEL_PASSWORD)
		expect((await h.call('/health', { auth: null })).status).toBe(503)
		expect(h.logs.filter((l) => l.includes('storage backend unreachable'))).toHaveLength(1)

		await startRedis(port)
		const deadline = Date.now() + 15_000
		let healthy = false
		while (!healthy && Date.now() < deadline) {
			healthy = (await (await h.admin('/admin/storage')).json()).healthy
			if (!healthy) await Bun.sleep(200)
		}
		expect(healthy).toBe(true)
		expect(h.logs.filter((l) => l.includes('storage backend is back'))).toHaveLength(1)
		for (let i = 0; i < 3; i++) expect((await ask(20 + i)).status).toBe(200)
		// The server came back empty: noticed, said loudly, and the memory written back, so a
		// client key made before the outage still works and is stored again.
		expect(h.logs.filter((l) => l.includes('came back without its data'))).toHaveLength(1)
		const withKey = await h.chat({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'with a client key' }] }, clientKey)
		expect(withKey.status).toBe(200)
		const clients = (await (await h.admin('/admin/clients')).json()).clients as { name: string }[]
		expect(clients.map((c) => c.name)).toEqual(['before-the-outage'])

		// What changed during the outage reached the new (empty) server: the key pool and its windows.
		const raw = new Redis({ port, host: '127.0.0.1' })
		const keys = await raw.keys('outage:*')
		raw.disconnect()
		expect(keys.length).toBeGreaterThan(0)
		const report = (await (await h.admin('/admin/rate-limits')).json()).rate_limits as { key: string; models: Record<string, { used: number }> }[]
		// The restarted server kept nothing (no persistence); what changed during and after the
		// outage was written back: the window of the key that served then counts every request it sent.
		const chats = h.fake.requests.filter((r) => r.path === '/v1/chat/completions')
		const duringOutage = new Set(chats.slice(3, 8).map((r) => r.key as string))
		for (const key of duringOutage) {
			const entry = report.find((k) => k.key === maskKey(key))
			expect(entry?.models['claude-sonnet-4-6']?.used).toBe(h.fake.count(key, 'claude-sonnet-4-6').sent)
		}
	}, 60_000)
})
