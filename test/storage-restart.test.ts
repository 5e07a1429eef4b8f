/**
 * A shared backend restarts under a `withResilience`-wrapped storage in use: calls keep being
 * answered (from memory), the wrapper notices the server return by itself, and what was counted
 * meanwhile reaches the server. Runs private servers (never the shared ones on 6379/5432), on
 * spare ports, and stops only those, by pid.
 */
import { sparePort } from './support.ts'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync } from 'node:fs'
import { chown, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import postgres from 'postgres'
import { withResilience } from '../core/storage-resilient.ts'
import type { Storage } from '../core/storage.ts'
import { createPostgresStorage } from '../plugins/storage-postgres/postgres-storage.ts'
import { createRedisStorage } from '../plugins/storage-redis/redis-storage.ts'

const REDIS_SERVER = '/usr/bin/redis-server'
const PG_BIN = '/usr/lib/postgresql/15/bin'
const haveRedis = existsSync(REDIS_SERVER)
const havePostgres = existsSync(join(PG_BIN, 'postgres')) && existsSync(join(PG_BIN, 'initdb'))
if (!haveRedis) console.warn(`storage-restart: ${REDIS_SERVER} not found, Redis restart test skipped`)
if (!havePostgres) console.warn(`storage-restart: PostgreSQL 15 binaries not found in ${PG_BIN}, PostgreSQL restart test skipped`)

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function until(what: string, condition: () => boolean | Promise<boolean>, ms: number): Promise<void> {
	const deadline = Date.now() + ms
	for (;;) {
		try {
			if (await condition()) return
		} catch {}
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
		await sleep(50)
	}
}

/** Processes this file started; afterAll stops whichever still run. */
const started = new Set<Bun.Subprocess>()

function spawn(cmd: string[], cwd?: string): Bun.Subprocess {
	const proc = Bun.spawn(cmd, { cwd, stdout: 'ignore', stderr: 'pipe' })
	started.add(proc)
	void proc.exited.then(() => started.delete(proc))
	return proc
}

async function stop(proc: Bun.Subprocess, signal: NodeJS.Signals): Promise<void> {
	proc.kill(signal)
	const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000)
	await proc.exited
	clearTimeout(timer)
}

/** The wrapper under test, recording its reports. */
function resilient(backend: Storage) {
	const events = { down: 0, up: 0, empty: 0 }
	const storage = withResilience(backend, { onDown: () => events.down++, onUp: () => events.up++, onEmpty: () => events.empty++, retryMs: 100 })
	return { storage, events }
}

/** Every call must be answered promptly while the server is gone. */
async function timed<T>(call: Promise<T>): Promise<T> {
	const begin = performance.now()
	const value = await call
	expect(performance.now() - begin).toBeLessThan(3000)
	return value
}

const cleanups: (() => Promise<void>)[] = []

/**
 * Rejections nobody handled while a server was down. postgres.js can leave a refused reconnect's
 * promise unhandled while its server restarts (the gateway's entry logs such a rejection and keeps
 * serving); anything else that escapes is a failure of the wrapper under test.
 */
const stray: unknown[] = []
const onStray = (err: unknown) => void stray.push(err)
process.on('unhandledRejection', onStray)
// postgres.js 3.4.9 could also write to a socket its server had just closed, from a deferred
// callback (`socket.write` on null), thrown where nobody catches it: patches/ fixes that in the
// driver; the check below keeps it fixed.
process.on('uncaughtException', onStray)
const connectionError = (err: unknown) => /^(ECONNREFUSED|ECONNRESET|EPIPE|CONNECTION_)/.test(String((err as { code?: unknown })?.code ?? ''))

// Stopping a private PostgreSQL (a checkpoint) can take several seconds on a busy machine.
afterAll(async () => {
	process.off('unhandledRejection', onStray)
	process.off('uncaughtException', onStray)
	for (const proc of [...started]) await stop(proc, 'SIGINT').catch(() => {})
	for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {})
}, 60_000)

describe.skipIf(!haveRedis)('restart: private redis-server', () => {
	let port = 0
	let server: Bun.Subprocess
	const start = async () => {
		server = spawn([REDIS_SERVER, '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'])
		const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 })
		probe.on('error', () => {})
		await until(
			'redis-server to answer',
			async () => {
				if (probe.status !== 'ready') await probe.connect().catch(() => {})
				return (await probe.ping()) === 'PONG'
			},
			10_000,
		)
		probe.disconnect()
	}

	beforeAll(async () => {
		port = await sparePort()
		await start()
	})

	test('keeps serving while Redis is down, recovers by itself, replays what was counted', async () => {
		const url = `redis://127.0.0.1:${port}`
		const { storage, events } = resilient(await createRedisStorage({ url, prefix: 'restart' }))
		cleanups.push(() => storage.close())
		await storage.saveSettings({ mode: 'fill_first' })
		await storage.loadSettings()
		await storage.putDoc('keys', { id: 'k1', enabled: true })
		await storage.listDocs('keys')
		await storage.addCounters('usage', { ok: 5 })
		for (let i = 0; i < 3; i++) await storage.reserveCounter('quota', 'n', 10)

		// A crash: the server goes away without warning (and, with no persistence, loses its data).
		await stop(server, 'SIGKILL')
		for (let i = 0; i < 30; i++) {
			expect(await timed(storage.addCounters('usage', { ok: 1 }))).toEqual({ ok: 6 + i })
			expect((await timed(storage.loadSettings())).mode).toBe('fill_first')
		}
		const grants = await Promise.all(Array.from({ length: 20 }, () => timed(storage.reserveCounter('quota', 'n', 10))))
		expect(grants.filter((r) => r.granted)).toHaveLength(7)
		expect(await timed(storage.listDocs('keys'))).toEqual([{ id: 'k1', enabled: true }])
		await timed(storage.putDoc('keys', { id: 'k2', enabled: true }))
		expect(events).toMatchObject({ down: 1, up: 0 })
		expect(storage.healthy).toBe(false)
		await expect(storage.ping()).rejects.toThrow()

		await start()
		await until('the wrapper to recover', () => storage.healthy, 15_000)
		expect(events).toMatchObject({ down: 1, up: 1 })
		// The new server started empty: the wrapper noticed (its marker was gone) and wrote back
		// everything it held, what was counted while down included, and nothing twice.
		expect(events.empty).toBe(1)
		expect(await storage.readCounters('')).toEqual({ usage: { ok: 35 }, quota: { n: 10 } })
		expect(await storage.getDoc('keys', 'k1')).toEqual({ id: 'k1', enabled: true })
		expect(await storage.getDoc('keys', 'k2')).toEqual({ id: 'k2', enabled: true })
		expect((await storage.loadSettings()).mode).toBe('fill_first')
		const raw = new Redis(url)
		expect(await raw.hgetall('restart:counter:usage')).toEqual({ ok: '35' })
		await raw.quit()
	})
})

describe.skipIf(!havePostgres)('restart: private PostgreSQL', () => {
	let port = 0
	let dir = ''
	let server: Bun.Subprocess
	const asRoot = process.getuid?.() === 0
	// The server refuses to run as root: drop to the postgres user (setpriv execs, so the pid
	// we hold is the postmaster's own).
	const asPostgres = (cmd: string[]) => (asRoot ? ['setpriv', '--reuid=postgres', '--regid=postgres', '--init-groups', '--', ...cmd] : cmd)
	const dsn = () => `postgres://postgres@127.0.0.1:${port}/postgres`
	const start = async () => {
		server = spawn(
			asPostgres([
				join(PG_BIN, 'postgres'),
				'-D',
				join(dir, 'data'),
				'-p',
				String(port),
				'-k',
				dir,
				'-c',
				'listen_addresses=127.0.0.1',
				'-c',
				'fsync=off',
				'-c',
				'max_connections=40',
			]),
			dir,
		)
		await until(
			'postgres to answer',
			async () => {
				const sql = postgres(dsn(), { max: 1, connect_timeout: 1, onnotice: () => {} })
				try {
					await sql`SELECT 1`
					return true
				} finally {
					await sql.end({ timeout: 0 })
				}
			},
			20_000,
		)
	}

	beforeAll(async () => {
		port = await sparePort()
		dir = await mkdtemp(join(tmpdir(), 'amb2api-pg-'))
		cleanups.push(() => rm(dir, { recursive: true, force: true }))
		if (asRoot) {
			const id = Bun.spawnSync(['id', '-u', 'postgres']).stdout.toString().trim()
			const gid = Bun.spawnSync(['id', '-g', 'postgres']).stdout.toString().trim()
			await chown(dir, Number(id), Number(gid))
		}
		const init = Bun.spawnSync(
			asPostgres([join(PG_BIN, 'initdb'), '-D', join(dir, 'data'), '-A', 'trust', '-U', 'postgres', '-N', '-E', 'UTF8', '--locale=C']),
			{ cwd: dir },
		)
		if (init.exitCode !== 0) throw new Error(`initdb failed: ${init.stderr.toString()}`)
		await start()
	}, 60_000)

	test('keeps serving while PostgreSQL restarts, recovers by itself, replays what was counted', async () => {
		const { storage, events } = resilient(await createPostgresStorage({ dsn: dsn() }))
		cleanups.push(() => storage.close())
		await storage.saveSettings({ mode: 'fill_first' })
		await storage.loadSettings()
		await storage.addCounters('usage', { ok: 5 })
		for (let i = 0; i < 3; i++) await storage.reserveCounter('quota', 'n', 10)
		await storage.readCounters('')

		// A fast shutdown: open sessions are terminated, new connections refused.
		await stop(server, 'SIGINT')
		for (let i = 0; i < 30; i++) {
			expect(await timed(storage.addCounters('usage', { ok: 1 }))).toEqual({ ok: 6 + i })
			expect((await timed(storage.loadSettings())).mode).toBe('fill_first')
		}
		const grants = await Promise.all(Array.from({ length: 20 }, () => timed(storage.reserveCounter('quota', 'n', 10))))
		expect(grants.filter((r) => r.granted)).toHaveLength(7)
		await timed(storage.saveSettings({ while_down: true }))
		expect(events).toMatchObject({ down: 1, up: 0 })
		expect(storage.healthy).toBe(false)

		await start()
		await until('the wrapper to recover', () => storage.healthy, 15_000)
		expect(events).toMatchObject({ down: 1, up: 1 })
		// The data survived the restart, plus everything counted while the server was down.
		expect(await storage.readCounters('')).toEqual({ usage: { ok: 35 }, quota: { n: 10 } })
		expect(events.empty).toBe(0)
		expect(await storage.loadSettings()).toMatchObject({ mode: 'fill_first', while_down: true })
		expect(stray.filter((err) => !connectionError(err))).toEqual([])
	}, 60_000)
})
