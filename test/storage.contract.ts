/**
 * The storage contract as one test suite, run against every backend (memory, file, Redis,
 * PostgreSQL, MongoDB, and the resilient wrapper). A backend's test file calls
 * `storageContract` with a factory that opens a fresh, isolated store on each call (its own
 * prefix, schema, database or directory) and cleans those up in its own `afterAll`.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import type { Doc, LogRow, Storage } from '../core/storage.ts'

export interface ContractOptions {
	/** Opens the data of `closed` again after it was closed: a restart. Without it, the restart test is skipped. */
	reopen?: (closed: Storage) => Promise<Storage>
	/** A second, independent connection (another instance) on the same data as `of`. Without it, the two-connection tests are skipped. */
	secondConnection?: (of: Storage) => Promise<Storage>
}

type Counted = Doc & { n: number }

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)))

const increment = (storage: Storage, id: string) => storage.updateDoc<Counted>('limits', id, (current) => ({ id, n: (current?.n ?? 0) + 1 }))

export function storageContract(name: string, open: () => Promise<Storage>, options: ContractOptions = {}): void {
	describe(`storage contract: ${name}`, () => {
		const opened: Storage[] = []
		const track = async (pending: Promise<Storage>) => {
			const storage = await pending
			opened.push(storage)
			return storage
		}
		const fresh = () => track(open())
		const { reopen, secondConnection } = options

		afterEach(async () => {
			for (const storage of opened.splice(0).reverse()) await storage.close().catch(() => {})
		})

		const row = (id: string, at: number, fields: Record<string, string | number | boolean | null> = {}): LogRow => ({
			id,
			at,
			model: 'm1',
			status: 200,
			client: null,
			ok: true,
			...fields,
		})

		test('request log: appended in a batch, read newest first (equal times by id), duplicates ignored, copies', async () => {
			const s = await fresh()
			expect(await s.queryLog({ limit: 10 })).toEqual([])
			await s.appendLog([row('a', 1000), row('c', 3000, { model: 'm2', status: 429 }), row('b', 2000, { client: 'team "x"' })])
			await s.appendLog([row('d', 3000), row('a', 9999, { model: 'changed' })])
			await s.appendLog([])
			const all = await s.queryLog({ limit: 10 })
			expect(all.map((r) => r.id)).toEqual(['d', 'c', 'b', 'a'])
			expect(all[3]).toEqual(row('a', 1000))
			expect(all[2]).toEqual(row('b', 2000, { client: 'team "x"' }))
			expect(await s.getLogRow('c')).toEqual(row('c', 3000, { model: 'm2', status: 429 }))
			expect(await s.getLogRow('missing')).toBeNull()
			const copy = (await s.queryLog({ limit: 1 }))[0]!
			copy.model = 'mutated'
			expect((await s.getLogRow('d'))?.model).toBe('m1')
		})

		test('request log: equality filters (type-exact), time range, limit and cursor paging', async () => {
			const s = await fresh()
			const rows = Array.from({ length: 25 }, (_, i) =>
				row(`r${String(i).padStart(2, '0')}`, 10_000 + Math.floor(i / 2) * 100, { model: i % 3 === 0 ? 'gpt-4.1' : 'claude', status: i % 5 === 0 ? 502 : 200 }),
			)
			await s.appendLog(rows)
			const expected = [...rows].sort((a, b) => b.at - a.at || (a.id < b.id ? 1 : -1))
			expect((await s.queryLog({ limit: 100, where: { model: 'gpt-4.1' } })).map((r) => r.id)).toEqual(
				expected.filter((r) => r.model === 'gpt-4.1').map((r) => r.id),
			)
			expect((await s.queryLog({ limit: 100, where: { status: 502, model: 'claude' } })).map((r) => r.id)).toEqual(
				expected.filter((r) => r.status === 502 && r.model === 'claude').map((r) => r.id),
			)
			expect(await s.queryLog({ limit: 100, where: { status: '502' } })).toEqual([])
			expect(await s.queryLog({ limit: 100, where: { id: 'r07' } })).toEqual([rows[7]!])
			const ranged = await s.queryLog({ limit: 100, from: 10_200, to: 10_500 })
			expect(ranged.map((r) => r.id)).toEqual(expected.filter((r) => r.at >= 10_200 && r.at < 10_500).map((r) => r.id))
			// Pages of 4 through every row, ties on `at` split across pages included.
			const seen: string[] = []
			let after: { at: number; id: string } | undefined
			for (;;) {
				const page = await s.queryLog({ limit: 4, ...(after ? { after } : {}) })
				if (!page.length) break
				seen.push(...page.map((r) => r.id))
				const last = page[page.length - 1]!
				after = { at: last.at, id: last.id }
			}
			expect(seen).toEqual(expected.map((r) => r.id))
			const claudePage = await s.queryLog({ limit: 3, where: { model: 'claude' }, after: { at: 11_000, id: 'r20' } })
			expect(claudePage.map((r) => r.id)).toEqual(
				expected
					.filter((r) => r.model === 'claude' && (r.at < 11_000 || (r.at === 11_000 && r.id < 'r20')))
					.slice(0, 3)
					.map((r) => r.id),
			)
		})

		test('request log retention: rows older than the cut go, then the oldest beyond the count', async () => {
			const s = await fresh()
			await s.appendLog(Array.from({ length: 30 }, (_, i) => row(`p${String(i).padStart(2, '0')}`, 1000 + i * 10)))
			expect(await s.pruneLog(1100, 1000)).toBe(10)
			expect((await s.queryLog({ limit: 100 })).map((r) => r.id).at(-1)).toBe('p10')
			expect(await s.pruneLog(0, 5)).toBe(15)
			expect((await s.queryLog({ limit: 100 })).map((r) => r.id)).toEqual(['p29', 'p28', 'p27', 'p26', 'p25'])
			expect(await s.pruneLog(0, 5)).toBe(0)
			// Equal times at the edge: the newest by id stay.
			await s.appendLog([row('q1', 5000), row('q2', 5000), row('q3', 5000)])
			expect(await s.pruneLog(0, 2)).toBe(6)
			expect((await s.queryLog({ limit: 100 })).map((r) => r.id)).toEqual(['q3', 'q2'])
			expect(await s.getLogRow('p29')).toBeNull()
			expect(await s.pruneLog(Number.MAX_SAFE_INTEGER, 100)).toBe(2)
			expect(await s.queryLog({ limit: 100 })).toEqual([])
		})

		test('names its backend and location without credentials; ping answers', async () => {
			const s = await fresh()
			expect(['memory', 'file', 'redis', 'postgres', 'mongodb']).toContain(s.kind)
			expect(s.where.length).toBeGreaterThan(0)
			expect(s.where).not.toMatch(/\/\/[^/@]*:[^/@]*@/)
			await s.ping()
		})

		test('settings: round trip; a patch writes only its fields; null and undefined remove', async () => {
			const s = await fresh()
			expect(await s.loadSettings()).toEqual({})
			const nested = { list: [1, 'two', { deep: null }], 'dotted.key': { 'gpt-4.1': true } }
			await s.saveSettings({ mode: 'round_robin', calls: 100, on: false, nested })
			expect(await s.loadSettings()).toEqual({ mode: 'round_robin', calls: 100, on: false, nested })
			await s.saveSettings({ calls: 5, mode: null, on: undefined })
			expect(await s.loadSettings()).toEqual({ calls: 5, nested })
			await s.saveSettings({})
			expect(await s.loadSettings()).toEqual({ calls: 5, nested })
			// What a caller gets is a copy.
			const loaded = await s.loadSettings()
			;(loaded.nested as { list: unknown[] }).list.push('mutated')
			expect((await s.loadSettings()).nested).toEqual(nested)
		})

		test('initSettings: set-if-absent per field; the first value stays; concurrent callers agree', async () => {
			const s = await fresh()
			await s.saveSettings({ kept: 'old' })
			expect(await s.initSettings({ kept: 'new', fresh: { n: 1 } })).toEqual({ kept: 'old', fresh: { n: 1 } })
			expect(await s.initSettings({ fresh: { n: 2 } })).toEqual({ fresh: { n: 1 } })
			expect(await s.loadSettings()).toEqual({ kept: 'old', fresh: { n: 1 } })
			expect(await s.initSettings({})).toEqual({})
			const other = secondConnection ? await track(secondConnection(s)) : s
			const racers = Array.from({ length: 12 }, (_, i) => (i % 2 ? other : s).initSettings({ race: `value-${i}` }))
			const landed = await Promise.all(racers)
			const winners = new Set(landed.map((r) => r.race))
			expect(winners.size).toBe(1)
			expect((await s.loadSettings()).race).toBe([...winners][0])
		})

		test('docs: put, get, list per kind, replace, delete', async () => {
			const s = await fresh()
			expect(await s.listDocs('keys')).toEqual([])
			expect(await s.getDoc('keys', 'missing')).toBeNull()
			const odd = 'k:2/ü.x$%_'
			await s.putDoc('keys', { id: 'k1', enabled: true, stats: { 'gpt-4.1': 3 } })
			await s.putDoc('keys', { id: odd, enabled: false })
			await s.putDoc('clients', { id: 'k1', quota: 10 })
			const byId = (docs: Doc[]) => [...docs].sort((a, b) => a.id.localeCompare(b.id))
			expect(byId(await s.listDocs('keys'))).toEqual(
				byId([
					{ id: 'k1', enabled: true, stats: { 'gpt-4.1': 3 } },
					{ id: odd, enabled: false },
				]),
			)
			expect(await s.listDocs('clients')).toEqual([{ id: 'k1', quota: 10 }])
			expect(await s.getDoc('keys', odd)).toEqual({ id: odd, enabled: false })
			await s.putDoc('keys', { id: 'k1', enabled: false })
			expect(await s.getDoc('keys', 'k1')).toEqual({ id: 'k1', enabled: false })
			expect(await s.deleteDoc('keys', 'k1')).toBe(true)
			expect(await s.deleteDoc('keys', 'k1')).toBe(false)
			expect(await s.getDoc('keys', 'k1')).toBeNull()
			expect(await s.listDocs('keys')).toEqual([{ id: odd, enabled: false }])
			expect(await s.getDoc('clients', 'k1')).toEqual({ id: 'k1', quota: 10 })
			// A stored doc is not the caller's object.
			const doc = { id: 'c2', tags: ['a'] }
			await s.putDoc('clients', doc)
			doc.tags.push('b')
			expect(await s.getDoc('clients', 'c2')).toEqual({ id: 'c2', tags: ['a'] })
		})

		test('updateDoc: creates, modifies, undefined leaves it, null deletes', async () => {
			const s = await fresh()
			expect(await s.updateDoc<Counted>('limits', 'w', () => undefined)).toBeNull()
			expect(await s.getDoc('limits', 'w')).toBeNull()
			expect(await s.updateDoc<Counted>('limits', 'w', () => null)).toBeNull()
			const seen: (Counted | null)[] = []
			const created = await s.updateDoc<Counted>('limits', 'w', (current) => {
				seen.push(current)
				// The stored id is the addressed one, whatever mutate returns.
				return { id: 'other', n: 1 }
			})
			expect(seen.at(-1)).toBeNull()
			expect(created).toEqual({ id: 'w', n: 1 })
			expect(await s.getDoc('limits', 'w')).toEqual({ id: 'w', n: 1 })
			expect(await s.getDoc('limits', 'other')).toBeNull()
			expect(await increment(s, 'w')).toEqual({ id: 'w', n: 2 })
			expect(await s.updateDoc<Counted>('limits', 'w', () => undefined)).toEqual({ id: 'w', n: 2 })
			expect(await s.getDoc('limits', 'w')).toEqual({ id: 'w', n: 2 })
			expect(await s.updateDoc<Counted>('limits', 'w', () => null)).toBeNull()
			expect(await s.getDoc('limits', 'w')).toBeNull()
			expect(await s.listDocs('limits')).toEqual([])
		})

		test('updateDoc: 50 concurrent increments end at exactly 50', async () => {
			const s = await fresh()
			await Promise.all(Array.from({ length: 50 }, () => increment(s, 'hot')))
			expect(await s.getDoc<Counted>('limits', 'hot')).toEqual({ id: 'hot', n: 50 })
		})

		test.skipIf(!secondConnection)('updateDoc: 50 concurrent increments over two connections end at exactly 50', async () => {
			const a = await fresh()
			const b = await track(secondConnection!(a))
			await Promise.all(Array.from({ length: 50 }, (_, i) => increment(i % 2 ? a : b, 'hot')))
			expect(await a.getDoc<Counted>('limits', 'hot')).toEqual({ id: 'hot', n: 50 })
			expect(await b.getDoc<Counted>('limits', 'hot')).toEqual({ id: 'hot', n: 50 })
		})

		test('counters: add returns the new values; read and delete by prefix', async () => {
			const s = await fresh()
			expect(await s.readCounters('')).toEqual({})
			expect(await s.addCounters('usage:k1', { ok: 1, fail: 0 })).toEqual({ ok: 1, fail: 0 })
			expect(await s.addCounters('usage:k1', { ok: 2, 'gpt-4.1': 3 })).toEqual({ ok: 3, 'gpt-4.1': 3 })
			expect(await s.addCounters('usage:k1', { ok: -1 })).toEqual({ ok: 2 })
			await s.addCounters('usage:k2', { ok: 5 })
			await s.addCounters('other', { n: 1 })
			// Prefixes are literal: no LIKE or regex wildcards.
			await s.addCounters('sp%_.*[x', { n: 1 })
			await s.addCounters('spXYZZ[x', { n: 1 })
			expect(await s.readCounters('usage:')).toEqual({ 'usage:k1': { ok: 2, fail: 0, 'gpt-4.1': 3 }, 'usage:k2': { ok: 5 } })
			expect(Object.keys(await s.readCounters('')).sort()).toEqual(['other', 'sp%_.*[x', 'spXYZZ[x', 'usage:k1', 'usage:k2'])
			expect(await s.readCounters('sp%_.*')).toEqual({ 'sp%_.*[x': { n: 1 } })
			expect(await s.readCounters('nothing')).toEqual({})
			expect(await s.deleteCounters('usage:')).toBe(2)
			expect(await s.readCounters('usage:')).toEqual({})
			expect(await s.deleteCounters('usage:')).toBe(0)
			expect(await s.readCounters('other')).toEqual({ other: { n: 1 } })
			// Concurrent adds are all counted.
			await Promise.all(Array.from({ length: 100 }, (_, i) => s.addCounters('par', { n: 1, [`f${i % 3}`]: 2 })))
			expect(await s.readCounters('par')).toEqual({ par: { n: 100, f0: 68, f1: 66, f2: 66 } })
		})

		test('counters: expireAt drops the group; a later add starts from zero', async () => {
			const s = await fresh()
			const t = Date.now()
			await s.addCounters('exp:soon', { n: 1 }, t + 400)
			await s.addCounters('exp:soon', { n: 1 })
			await s.addCounters('exp:never', { n: 1 })
			await s.addCounters('exp:past', { n: 1 }, t - 1000)
			expect(await s.readCounters('exp:')).toEqual({ 'exp:soon': { n: 2 }, 'exp:never': { n: 1 } })
			await sleep(t + 600 - Date.now())
			expect(await s.readCounters('exp:')).toEqual({ 'exp:never': { n: 1 } })
			expect(await s.addCounters('exp:soon', { n: 1 })).toEqual({ n: 1 })
			expect(await s.reserveCounter('exp:past', 'n', 1)).toEqual({ granted: true, value: 1 })
			expect(await s.readCounters('exp:')).toEqual({ 'exp:soon': { n: 1 }, 'exp:never': { n: 1 }, 'exp:past': { n: 1 } })
		})

		test('reserveCounter: grants within the limit only, honours `by`, reports the value', async () => {
			const s = await fresh()
			expect(await s.reserveCounter('q', 'req', 3)).toEqual({ granted: true, value: 1 })
			expect(await s.reserveCounter('q', 'req', 3)).toEqual({ granted: true, value: 2 })
			expect(await s.reserveCounter('q', 'req', 3)).toEqual({ granted: true, value: 3 })
			expect(await s.reserveCounter('q', 'req', 3)).toEqual({ granted: false, value: 3 })
			expect(await s.reserveCounter('q', 'req', 4, 2)).toEqual({ granted: false, value: 3 })
			expect(await s.reserveCounter('q', 'req', 5, 2)).toEqual({ granted: true, value: 5 })
			expect(await s.reserveCounter('q', 'big', 3, 4)).toEqual({ granted: false, value: 0 })
			expect(await s.reserveCounter('q', 'other', 10, 1)).toEqual({ granted: true, value: 1 })
			expect(await s.readCounters('q')).toEqual({ q: { req: 5, other: 1 } })
			const t = Date.now()
			expect(await s.reserveCounter('q-exp', 'n', 5, 1, t + 300)).toEqual({ granted: true, value: 1 })
			await sleep(t + 500 - Date.now())
			expect(await s.readCounters('q-exp')).toEqual({})
			expect(await s.reserveCounter('q-exp', 'n', 1)).toEqual({ granted: true, value: 1 })
		})

		test('reserveCounter: 200 parallel reservations against a limit of 50 grant exactly 50', async () => {
			const s = await fresh()
			const started = performance.now()
			const results = await Promise.all(Array.from({ length: 200 }, () => s.reserveCounter('quota:k', 'ok', 50)))
			const ms = performance.now() - started
			console.log(`[storage ${name}] 200 parallel reservations, limit 50: ${ms.toFixed(1)} ms`)
			expect(results.filter((r) => r.granted)).toHaveLength(50)
			expect(
				results
					.filter((r) => r.granted)
					.map((r) => r.value)
					.sort((a, b) => a - b),
			).toEqual(Array.from({ length: 50 }, (_, i) => i + 1))
			expect(results.filter((r) => !r.granted).every((r) => r.value === 50)).toBe(true)
			expect(await s.readCounters('quota:')).toEqual({ 'quota:k': { ok: 50 } })
		})

		test.skipIf(!secondConnection)('reserveCounter: 200 parallel over two connections grant exactly 50', async () => {
			const a = await fresh()
			const b = await track(secondConnection!(a))
			const started = performance.now()
			const results = await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 ? a : b).reserveCounter('quota:k', 'ok', 50)))
			const ms = performance.now() - started
			console.log(`[storage ${name}] 200 parallel reservations over two connections, limit 50: ${ms.toFixed(1)} ms`)
			expect(results.filter((r) => r.granted)).toHaveLength(50)
			expect(await a.readCounters('quota:')).toEqual({ 'quota:k': { ok: 50 } })
			expect(await b.readCounters('quota:')).toEqual({ 'quota:k': { ok: 50 } })
		})

		test.skipIf(!reopen)('restart: settings, docs, counters and their expiry survive close and reopen', async () => {
			const s = await fresh()
			await s.saveSettings({ mode: 'fill_first', nested: { a: [1, 2] } })
			await s.putDoc('keys', { id: 'k1', enabled: true })
			await s.putDoc('clients', { id: 'c1', quota: 10 })
			await increment(s, 'w')
			await s.addCounters('r:forever', { ok: 7, fail: 1 })
			const soon = Date.now() + 1500
			await s.addCounters('r:soon', { ok: 1 }, soon)
			await s.addCounters('r:later', { ok: 2 }, Date.now() + 3_600_000)
			await s.addCounters('r:gone', { ok: 3 }, Date.now() - 1)
			await s.reserveCounter('r:quota', 'n', 2)
			await s.appendLog([row('l1', 1000), row('l2', 2000), row('l3', 3000)])
			await s.pruneLog(1500, 100)
			await s.close()

			const again = await track(reopen!(s))
			expect(await again.loadSettings()).toEqual({ mode: 'fill_first', nested: { a: [1, 2] } })
			expect(await again.listDocs('keys')).toEqual([{ id: 'k1', enabled: true }])
			expect(await again.getDoc('clients', 'c1')).toEqual({ id: 'c1', quota: 10 })
			expect(await again.getDoc('limits', 'w')).toEqual({ id: 'w', n: 1 })
			expect(await again.readCounters('r:')).toEqual({
				'r:forever': { ok: 7, fail: 1 },
				'r:soon': { ok: 1 },
				'r:later': { ok: 2 },
				'r:quota': { n: 1 },
			})
			expect((await again.queryLog({ limit: 10 })).map((r) => r.id)).toEqual(['l3', 'l2'])
			expect(await again.reserveCounter('r:quota', 'n', 2)).toEqual({ granted: true, value: 2 })
			expect(await again.reserveCounter('r:quota', 'n', 2)).toEqual({ granted: false, value: 2 })
			await sleep(soon + 200 - Date.now())
			expect(Object.keys(await again.readCounters('r:')).sort()).toEqual(['r:forever', 'r:later', 'r:quota'])
		})
	})
}
