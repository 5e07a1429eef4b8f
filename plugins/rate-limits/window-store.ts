/**
 * The `limits` documents: each key's rate window per model (rate-window.ts holds the logic),
 * reserved and corrected atomically in the storage backend so instances sharing it agree.
 *
 * Group commit: per window, this instance keeps at most one reservation and one correction in
 * flight. Requests arriving meanwhile queue, and the next atomic update applies all of them in
 * order, with the same pure functions (`reserve`, `observe`, ...) a single request would use.
 * So k concurrent requests on one hot window cost about two storage round trips, not k CAS
 * retries, and the guarantee stays: every slot is taken inside the backend's atomic update, so
 * instances together never reserve beyond a key's headroom.
 *
 * Leases: when a window has ample headroom, a reservation also takes a few slots ahead (at most
 * `lease.max`, an eighth of what is left) and this instance spends them without a round trip.
 * What it did not use goes back after `lease.ms`, on close, or when the pool learns the key
 * must stop (429, no access): it is counted as used meanwhile, so other instances see less
 * headroom, never more. Another instance's 429 reaches this one within `lease.ms` at most.
 * The window counts the slots leased and not yet settled (`leased`, until `leasedUntil`), so
 * an instance that finds no headroom while others hold leases waits for their return
 * (RATE_LIMIT_MAX_WAIT) instead of answering 429 with headroom unspent.
 */

/**
 * A lease's settlement is a storage round trip after its timer, late on a busy machine: the
 * window counts it outstanding this much longer. Only a crashed instance's lease ever lapses.
 */
const SETTLE_SLACK_MS = 5000
import { keyedBatcher } from '../../core/batch.ts'
import type { Storage } from '../../core/storage.ts'
import { storageBusy as busy, withinTime } from './storage-busy.ts'
import { emptyWindow, giveBack, leaseSize, noteLease, refund, reserve, type Reservation, sameWindow, type WindowRecord, windowId } from './rate-window.ts'

export interface LeaseOptions {
	/** Most slots one instance reserves ahead per window (0 = no leases). @default 32 */
	max: number
	/** Unused leased slots go back to the shared window after this long. @default 1000 */
	ms: number
}

/** Slots of a window this instance reserved in storage ahead of demand and spends locally. */
interface Leased {
	slots: number
	/** How many were leased: the window counts them outstanding until this lease is settled. */
	taken: number
	/** The window's reset when leased: slots go back only to that window. */
	resetAt: number | null
	until: number
	timer: ReturnType<typeof setTimeout>
}

interface Ref {
	keyId: string
	model: string
}

/** How long a success's correction may wait to share its write (design: bookkeeping ≤ 250 ms). */
const LAZY_MS = 100

export class WindowStore {
	private readonly reserveBatch = keyedBatcher<Ref & { now: number }, Reservation>((wid, items) => this.reserveMany(wid, items))
	private readonly changeBatch = keyedBatcher<Ref & { fn: (w: WindowRecord) => void }, WindowRecord | null>((wid, items) => this.changeMany(wid, items))
	/** Corrections nobody waits for (a success's headers): at most one write per window every LAZY_MS. */
	private readonly lazyBatch = keyedBatcher<Ref & { fn: (w: WindowRecord) => void }, WindowRecord | null>((wid, items) => this.changeMany(wid, items), {
		lingerMs: LAZY_MS,
	})

	private readonly leased = new Map<string, Leased>()
	private closed = false

	constructor(
		private readonly storage: Storage,
		private readonly probeTtlMs: number,
		private readonly lease: LeaseOptions = { max: 32, ms: 1000 },
		private readonly now: () => number = Date.now,
	) {}

	/** Takes one request slot of the key's window for the model, if it has headroom. */
	reserve(keyId: string, model: string, now: number): Promise<Reservation> {
		const wid = windowId(keyId, model)
		const local = this.leased.get(wid)
		if (local && this.hasLeased(wid, now)) {
			local.slots--
			return Promise.resolve({ granted: true, probe: false })
		}
		return withinTime(this.reserveBatch(wid, { keyId, model, now })).catch(busy)
	}

	private async reserveMany(wid: string, items: (Ref & { now: number })[]): Promise<Reservation[]> {
		const first = items[0]
		if (!first) return []
		// Whatever is left of an old lease goes back in the same atomic update.
		const old = this.takeLease(wid)
		const now = this.now()
		let results: Reservation[] = []
		let extra = 0
		let resetAt: number | null = null
		await this.storage.updateDoc<WindowRecord>('limits', wid, (current) => {
			const w = current ?? emptyWindow(first.keyId, first.model)
			// Runs again on a fresh value after a conflict: results are those of the last run.
			if (old) giveBack(w, old.slots, old.resetAt, now, old.taken)
			results = items.map((item) => reserve(w, item.now, this.probeTtlMs))
			extra = 0
			if (!this.closed && results.every((r) => r.granted && !r.probe)) {
				const want = leaseSize(w, this.lease.max)
				while (extra < want && reserve(w, now, this.probeTtlMs).granted) extra++
				noteLease(w, extra, now + this.lease.ms + SETTLE_SLACK_MS)
			}
			resetAt = w.resetAt
			return results.some((r) => r.granted) || extra > 0 || old || !current ? w : undefined
		})
		if (extra > 0) {
			const timer = setTimeout(() => void this.returnLease(wid).catch(() => {}), this.lease.ms)
			this.leased.set(wid, { slots: extra, taken: extra, resetAt, until: now + this.lease.ms, timer })
		}
		return results
	}

	private takeLease(wid: string): Leased | undefined {
		const local = this.leased.get(wid)
		if (!local) return undefined
		this.leased.delete(wid)
		clearTimeout(local.timer)
		return local.taken > 0 ? local : undefined
	}

	/** Gives this instance's unused slots of one window back (lease over, or the key must stop). */
	async returnLease(wid: string): Promise<void> {
		const local = this.takeLease(wid)
		if (!local) return
		const now = this.now()
		await this.storage.updateDoc<WindowRecord>('limits', wid, (w) => {
			if (!w) return undefined
			const before = { ...w }
			giveBack(w, local.slots, local.resetAt, now, local.taken)
			return sameWindow(before, w) ? undefined : w
		})
	}

	/** Whether this instance holds leased slots of a window it may spend now. */
	hasLeased(wid: string, now: number): boolean {
		const local = this.leased.get(wid)
		return local !== undefined && local.slots > 0 && local.until > now && (local.resetAt === null || local.resetAt > now)
	}

	/** Slots of a window this instance holds unused (counted as used in storage meanwhile). */
	unusedLease(wid: string, resetAt: number | null): number {
		const local = this.leased.get(wid)
		return local && local.resetAt === resetAt ? local.slots : 0
	}

	/** Drops the lease of a key's window for a model (the pool learned the key must stop). */
	dropLease(keyId: string, model: string): Promise<void> {
		return this.returnLease(windowId(keyId, model))
	}

	/** Gives every unused leased slot back; no new leases afterwards. */
	async close(): Promise<void> {
		this.closed = true
		await Promise.allSettled([...this.leased.keys()].map((wid) => this.returnLease(wid)))
		await Promise.all([this.lazyBatch.idle(), this.changeBatch.idle(), this.reserveBatch.idle()])
	}

	/** Gives a reserved slot back (the request was never sent). */
	async refund(keyId: string, model: string): Promise<void> {
		await this.change(keyId, model, refund)
	}

	/**
	 * Applies a correction; writes only when the window changed. Resolves to the stored window.
	 * `lazy`: nobody waits for it, so it joins the corrections of the next LAZY_MS in one update.
	 */
	change(keyId: string, model: string, fn: (w: WindowRecord) => void, lazy = false): Promise<WindowRecord | null> {
		return (lazy ? this.lazyBatch : this.changeBatch)(windowId(keyId, model), { keyId, model, fn }).catch(busy)
	}

	private async changeMany(wid: string, items: (Ref & { fn: (w: WindowRecord) => void })[]): Promise<(WindowRecord | null)[]> {
		const first = items[0]
		if (!first) return []
		const stored = await this.storage.updateDoc<WindowRecord>('limits', wid, (current) => {
			const w = current ? { ...current } : emptyWindow(first.keyId, first.model)
			for (const item of items) item.fn(w)
			// Most answers confirm what we already know: no write then.
			return current && sameWindow(current, w) ? undefined : w
		})
		return items.map(() => stored)
	}

	list(): Promise<WindowRecord[]> {
		return this.storage.listDocs<WindowRecord>('limits')
	}

	/**
	 * Removes the windows of models the catalog no longer lists, once idle for `idleMs` (the
	 * catalog is volatile: a model that comes back within that time keeps what was learnt).
	 * Resolves to how many went.
	 */
	async pruneModels(models: ReadonlySet<string>, idleMs: number): Promise<number> {
		const now = this.now()
		let removed = 0
		for (const w of await this.list()) {
			if (models.has(w.model) || (w.lastUsedAt !== null && now - w.lastUsedAt < idleMs)) continue
			if (await this.storage.deleteDoc('limits', w.id)) removed++
		}
		return removed
	}

	/** Removes every window of a key. */
	async removeKey(keyId: string): Promise<void> {
		for (const w of await this.list()) {
			if (w.keyId === keyId) await this.storage.deleteDoc('limits', w.id)
		}
	}

	/** Lifts cooldowns, denials and probes of every window of a key; resolves to their ids. */
	async clearKey(keyId: string): Promise<string[]> {
		const ids: string[] = []
		for (const w of await this.list()) {
			if (w.keyId !== keyId) continue
			await this.storage.updateDoc<WindowRecord>('limits', w.id, (cur) =>
				cur ? { ...cur, cooldownUntil: null, deniedUntil: null, probeUntil: null, reason: null } : undefined,
			)
			ids.push(w.id)
		}
		return ids
	}
}
