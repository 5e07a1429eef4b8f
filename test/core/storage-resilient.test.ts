import { describe, expect, test } from 'bun:test'
import { MemoryStorage, type Storage } from '../../core/storage.ts'
import { withResilience } from '../../core/storage-resilient.ts'
import { storageContract } from '../storage.contract.ts'

/** A backend whose calls can be made to fail like a lost connection. */
function flaky(inner: Storage = new MemoryStorage()) {
	const control = {
		inner,
		/** Returns true for a call that should fail as if the connection were gone. */
		fails: (_method: string, _args: unknown[]): boolean => false,
		down() {
			control.fails = () => true
		},
		up() {
			control.fails = () => false
		},
	}
	const backend = new Proxy(inner, {
		get(target, prop, receiver) {
			const value = Reflect.get(target, prop, receiver)
			if (typeof value !== 'function') return value
			return (...args: unknown[]) =>
				control.fails(String(prop), args)
					? Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379'))
					: (value as (...a: unknown[]) => unknown).apply(target, args)
		},
	}) as Storage
	return { backend, control }
}

function wrap(backend: Storage, retryMs = 20) {
	const events = { down: [] as Error[], up: 0 }
	const storage = withResilience(backend, {
		onDown: (err) => events.down.push(err),
		onUp: () => events.up++,
		retryMs,
	})
	return { storage, events }
}

async function until(condition: () => boolean, ms = 3000): Promise<void> {
	const deadline = Date.now() + ms
	while (!condition()) {
		if (Date.now() > deadline) throw new Error('condition not met in time')
		await new Promise((resolve) => setTimeout(resolve, 5))
	}
}

// While the backend answers, the wrapper is transparent.
storageContract('resilient(memory)', async () => withResilience(new MemoryStorage(), { onDown: () => {}, onUp: () => {} }))

describe('resilient storage', () => {
	test('while down: answers from the last good reads, counts on, reports down once; then replays and reports up once', async () => {
		const { backend, control } = flaky()
		await control.inner.saveSettings({ mode: 'round_robin' })
		await control.inner.putDoc('keys', { id: 'k1', enabled: true })
		await control.inner.addCounters('quota:k1', { ok: 48 })
		const { storage, events } = wrap(backend)
		expect(storage.kind).toBe('memory')
		expect(storage.where).toBe(backend.where)
		await storage.loadSettings()
		await storage.listDocs('keys')
		await storage.readCounters('')
		await storage.addCounters('seen', { n: 10 })

		control.down()
		const reads = await Promise.all(Array.from({ length: 20 }, () => storage.loadSettings()))
		expect(reads.every((r) => r.mode === 'round_robin')).toBe(true)
		expect(events.down).toHaveLength(1)
		expect(events.down[0]!.message).toContain('ECONNREFUSED')
		expect(storage.healthy).toBe(false)
		await expect(storage.ping()).rejects.toThrow(/unreachable/)
		expect(await storage.listDocs('keys')).toEqual([{ id: 'k1', enabled: true }])
		expect(await storage.getDoc('keys', 'k1')).toEqual({ id: 'k1', enabled: true })
		expect(await storage.readCounters('seen')).toEqual({ seen: { n: 10 } })

		// Quotas continue from the last known value: 48 of 50, so 2 of 5 are granted.
		const reservations = await Promise.all(Array.from({ length: 5 }, () => storage.reserveCounter('quota:k1', 'ok', 50)))
		expect(reservations.filter((r) => r.granted)).toHaveLength(2)
		expect(await storage.addCounters('usage', { ok: 3 })).toEqual({ ok: 3 })
		expect(await storage.addCounters('usage', { ok: 3, fail: 1 })).toEqual({ ok: 6, fail: 1 })
		await storage.putDoc('keys', { id: 'k2', enabled: true })
		await storage.updateDoc('keys', 'k1', (doc) => doc && { ...doc, enabled: false })
		await storage.updateDoc('keys', 'k1', () => undefined)
		await storage.saveSettings({ mode: 'random', extra: 1 })
		await storage.saveSettings({ extra: null })
		expect(await storage.loadSettings()).toEqual({ mode: 'random' })
		expect(events.down).toHaveLength(1)
		expect(events.up).toBe(0)

		control.up()
		await until(() => storage.healthy)
		expect(events.up).toBe(1)
		expect(events.down).toHaveLength(1)
		expect(await control.inner.readCounters('')).toEqual({ 'quota:k1': { ok: 50 }, seen: { n: 10 }, usage: { ok: 6, fail: 1 } })
		expect(await control.inner.listDocs('keys')).toEqual([
			{ id: 'k1', enabled: false },
			{ id: 'k2', enabled: true },
		])
		const { storage_marker: marker, ...settings } = await control.inner.loadSettings()
		expect(settings).toEqual({ mode: 'random' })
		expect(typeof marker).toBe('string')
		await storage.ping()
		await storage.close()
	})

	test('an error while the backend still answers is passed on, not treated as an outage', async () => {
		const { backend } = flaky()
		const { storage, events } = wrap(backend)
		await expect(
			storage.updateDoc('keys', 'k1', () => {
				throw new TypeError('bad input')
			}),
		).rejects.toThrow('bad input')
		expect(events.down).toHaveLength(0)
		expect(storage.healthy).toBe(true)
		await storage.close()
	})

	test('a prefix delete while down drops the deltas journaled before it, not after', async () => {
		const { backend, control } = flaky()
		await control.inner.addCounters('u:a', { n: 5 })
		const { storage } = wrap(backend)
		control.down()
		await storage.addCounters('u:b', { n: 2 })
		await storage.addCounters('v', { n: 1 })
		expect(await storage.deleteCounters('u:')).toBe(1)
		await storage.addCounters('u:a', { n: 1 })
		expect(await storage.readCounters('')).toEqual({ 'u:a': { n: 1 }, v: { n: 1 } })
		control.up()
		await until(() => storage.healthy)
		expect(await control.inner.readCounters('')).toEqual({ 'u:a': { n: 1 }, v: { n: 1 } })
		await storage.close()
	})

	test('a replay that fails midway stays down and resumes later without counting twice', async () => {
		const { backend, control } = flaky()
		const { storage, events } = wrap(backend)
		control.down()
		for (const name of ['a', 'b', 'c']) await storage.addCounters(name, { n: 1 })
		let failedOnce = false
		control.fails = (method, args) => {
			if (method === 'addCounters' && args[0] === 'b' && !failedOnce) return (failedOnce = true)
			return false
		}
		await until(() => storage.healthy)
		expect(failedOnce).toBe(true)
		expect(events.up).toBe(1)
		expect(await control.inner.readCounters('')).toEqual({ a: { n: 1 }, b: { n: 1 }, c: { n: 1 } })
		await storage.close()
	})

	test('calls made during the replay are kept and replayed too', async () => {
		const { backend, control } = flaky()
		const { storage } = wrap(backend)
		control.down()
		await storage.addCounters('a', { n: 1 })
		let release: () => void = () => {}
		const gate = new Promise<void>((resolve) => (release = resolve))
		const slowAdd = control.inner.addCounters.bind(control.inner)
		control.inner.addCounters = async (...args) => {
			await gate
			return slowAdd(...args)
		}
		control.up()
		await new Promise((resolve) => setTimeout(resolve, 60))
		expect(storage.healthy).toBe(false)
		await storage.addCounters('a', { n: 10 })
		await storage.putDoc('limits', { id: 'late' })
		release()
		await until(() => storage.healthy)
		expect(await control.inner.readCounters('')).toEqual({ a: { n: 11 } })
		expect(await control.inner.getDoc('limits', 'late')).toEqual({ id: 'late' })
		await storage.close()
	})

	test('close() while down makes a last attempt to replay the journal', async () => {
		const { backend, control } = flaky()
		const { storage } = wrap(backend, 60_000)
		control.down()
		await storage.addCounters('a', { n: 3 })
		expect(storage.healthy).toBe(false)
		control.up()
		await storage.close()
		expect(await control.inner.readCounters('')).toEqual({ a: { n: 3 } })
	})
})
