import { afterAll, describe, expect, test } from 'bun:test'
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Storage } from '../../../core/storage.ts'
import { createFileStorage } from '../../../plugins/storage-file/file-storage.ts'
import { storageContract } from '../../storage.contract.ts'

const root = await mkdtemp(join(tmpdir(), 'amb2api-file-storage-'))
let next = 0
const dirOf = new WeakMap<Storage, string>()
const newDir = () => join(root, `store-${next++}`)

async function open(dir = newDir()): Promise<Storage> {
	const storage = await createFileStorage({ dir })
	dirOf.set(storage, dir)
	return storage
}

storageContract('file', () => open(), { reopen: (closed) => open(dirOf.get(closed)) })

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('file storage specifics', () => {
	test('the directory is 0700, data files are 0600, one JSON file per area', async () => {
		const dir = newDir()
		const storage = await createFileStorage({ dir })
		await storage.saveSettings({ a: 1 })
		await storage.putDoc('keys', { id: 'k1', key: 'secret' })
		await storage.putDoc('clients', { id: 'c1' })
		await storage.putDoc('limits', { id: 'l1' })
		await storage.addCounters('usage', { ok: 1 }, Date.now() + 60_000)
		await storage.close()
		expect((await stat(dir)).mode & 0o777).toBe(0o700)
		const files = (await readdir(dir)).sort()
		expect(files).toEqual(['clients.json', 'counters.json', 'keys.json', 'limits.json', 'settings.json'])
		for (const file of files) expect((await stat(join(dir, file))).mode & 0o777).toBe(0o600)
		expect(JSON.parse(await readFile(join(dir, 'keys.json'), 'utf8'))).toEqual([{ id: 'k1', key: 'secret' }])
		expect(JSON.parse(await readFile(join(dir, 'counters.json'), 'utf8')).usage.values).toEqual({ ok: 1 })
	})

	test('per-request counters coalesce into one write within the flush delay; acknowledged changes are on disk first', async () => {
		const dir = newDir()
		const storage = await createFileStorage({ dir, flushDelayMs: 30 })
		for (let i = 0; i < 1000; i++) await storage.addCounters(`usage:${i % 10}`, { ok: 1 })
		expect(storage.writes.counters).toBe(0)
		// An acknowledged change: when its promise resolves, the file already holds it.
		await storage.saveSettings({ first: 1 })
		expect(JSON.parse(await readFile(join(dir, 'settings.json'), 'utf8'))).toEqual({ first: 1 })
		// A burst of concurrent changes shares writes (group commit) instead of one write each.
		const before = storage.writes.settings
		await Promise.all(Array.from({ length: 100 }, (_, i) => storage.saveSettings({ [`f${i}`]: i })))
		expect(storage.writes.settings - before).toBeLessThanOrEqual(3)
		expect(Object.keys(JSON.parse(await readFile(join(dir, 'settings.json'), 'utf8')))).toHaveLength(101)
		await Promise.all(Array.from({ length: 50 }, (_, i) => storage.putDoc('keys', { id: `k${i}` })))
		expect(JSON.parse(await readFile(join(dir, 'keys.json'), 'utf8'))).toHaveLength(50)
		await sleep(150)
		expect(storage.writes.counters).toBeGreaterThanOrEqual(1)
		expect(storage.writes.counters).toBeLessThanOrEqual(3)
		const onDisk = JSON.parse(await readFile(join(dir, 'counters.json'), 'utf8'))
		expect(onDisk['usage:3'].values.ok).toBe(100)
		await storage.close()
	})

	test('close() writes what is pending', async () => {
		const dir = newDir()
		const storage = await createFileStorage({ dir, flushDelayMs: 60_000 })
		await storage.putDoc('keys', { id: 'k1' })
		await storage.addCounters('c', { n: 2 })
		await storage.close()
		const again = await createFileStorage({ dir })
		expect(await again.listDocs('keys')).toEqual([{ id: 'k1' }])
		expect(await again.readCounters('')).toEqual({ c: { n: 2 } })
		await again.close()
	})

	test('leftover and half-written temp files from a crash are ignored and removed', async () => {
		const dir = newDir()
		const first = await createFileStorage({ dir })
		await first.saveSettings({ good: true })
		await first.close()
		// What a crash between writing the temp file and the rename leaves behind.
		await writeFile(join(dir, `.settings.json.${crypto.randomUUID()}.tmp`), '{"good": fal')
		await writeFile(join(dir, `.counters.json.${crypto.randomUUID()}.tmp`), '')
		const again = await createFileStorage({ dir })
		expect(await again.loadSettings()).toEqual({ good: true })
		expect((await readdir(dir)).filter((name) => name.endsWith('.tmp'))).toEqual([])
		await again.close()
	})

	test('a corrupt data file stops start-up with a message naming it, and is not overwritten', async () => {
		const dir = newDir()
		await mkdir(dir, { recursive: true })
		await writeFile(join(dir, 'keys.json'), '[{"id": "k1", "key": "sk-')
		const error = await createFileStorage({ dir }).catch((err: Error) => err)
		expect(error).toBeInstanceOf(Error)
		expect((error as Error).message).toContain(join(dir, 'keys.json'))
		expect(await readFile(join(dir, 'keys.json'), 'utf8')).toBe('[{"id": "k1", "key": "sk-')
	})

	test('counter expiry survives a restart (injected clock)', async () => {
		const dir = newDir()
		let now = 1_000_000
		const first = await createFileStorage({ dir, now: () => now })
		await first.addCounters('day', { n: 1 }, now + 1000)
		await first.addCounters('forever', { n: 1 })
		await first.close()
		now += 500
		const second = await createFileStorage({ dir, now: () => now })
		expect(await second.readCounters('')).toEqual({ day: { n: 1 }, forever: { n: 1 } })
		await second.close()
		now += 1000
		const third = await createFileStorage({ dir, now: () => now })
		expect(await third.readCounters('')).toEqual({ forever: { n: 1 } })
		await third.close()
	})

	test('a failing write is reported by ping and retried', async () => {
		const dir = newDir()
		const storage = await createFileStorage({ dir, flushDelayMs: 10 })
		await rm(dir, { recursive: true })
		// Not on disk, so not acknowledged: an honest 503, never a silent success.
		await expect(storage.saveSettings({ a: 1 })).rejects.toMatchObject({ status: 503, code: 'storage_write_failed' })
		await expect(storage.ping()).rejects.toThrow(/cannot write/)
		await mkdir(dir, { recursive: true })
		await sleep(1200)
		await storage.ping()
		expect(JSON.parse(await readFile(join(dir, 'settings.json'), 'utf8'))).toEqual({ a: 1 })
		await storage.close()
	})
})

afterAll(async () => {
	await rm(root, { recursive: true, force: true })
})
