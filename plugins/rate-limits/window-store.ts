/**
 * The `limits` documents: each key's rate window per model (rate-window.ts holds the logic),
 * reserved and corrected atomically in the storage backend so instances sharing it agree.
 */
import type { Storage } from '../../core/storage.ts'
import { emptyWindow, refund, reserve, type Reservation, sameWindow, type WindowRecord, windowId } from './rate-window.ts'

export class WindowStore {
	constructor(
		private readonly storage: Storage,
		private readonly probeTtlMs: number,
	) {}

	/** Takes one request slot of the key's window for the model, if it has headroom. */
	async reserve(keyId: string, model: string, now: number): Promise<Reservation> {
		let result: Reservation = { granted: false, until: now, why: 'probing' }
		await this.storage.updateDoc<WindowRecord>('limits', windowId(keyId, model), (current) => {
			const w = current ?? emptyWindow(keyId, model)
			result = reserve(w, now, this.probeTtlMs)
			return result.granted || !current ? w : undefined
		})
		return result
	}

	/** Gives a reserved slot back (the request was never sent). */
	async refund(keyId: string, model: string): Promise<void> {
		await this.storage.updateDoc<WindowRecord>('limits', windowId(keyId, model), (w) => (w ? (refund(w), w) : undefined))
	}

	/** Applies a correction; writes only when the window changed. Resolves to the stored window. */
	change(keyId: string, model: string, fn: (w: WindowRecord) => void): Promise<WindowRecord | null> {
		return this.storage.updateDoc<WindowRecord>('limits', windowId(keyId, model), (current) => {
			const w = current ? { ...current } : emptyWindow(keyId, model)
			fn(w)
			// Most answers confirm what we already know: no write then.
			return current && sameWindow(current, w) ? undefined : w
		})
	}

	list(): Promise<WindowRecord[]> {
		return this.storage.listDocs<WindowRecord>('limits')
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
