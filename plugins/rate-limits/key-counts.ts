/**
 * Per-key success and failure counts (every instance's, in one counter group of the backend).
 * Counted in process and written at most every FLUSH_MS, so the hot path never waits for them:
 * a crash loses at most that much of the counts.
 */
import type { Storage } from '../../core/storage.ts'

const GROUP = 'keyhealth:counts'
const FLUSH_MS = 250

export class KeyCounts {
	private pending = new Map<string, number>()
	private timer: ReturnType<typeof setTimeout> | undefined
	private flushing: Promise<void> = Promise.resolve()

	constructor(private readonly storage: Storage) {}

	add(keyId: string, ok: boolean): void {
		const field = `${keyId}:${ok ? 'success' : 'failure'}`
		this.pending.set(field, (this.pending.get(field) ?? 0) + 1)
		if (this.timer === undefined) {
			this.timer = setTimeout(() => void this.flush(), FLUSH_MS)
			;(this.timer as { unref?: () => void }).unref?.()
		}
	}

	/** Writes what was counted so far. */
	flush(): Promise<void> {
		clearTimeout(this.timer)
		this.timer = undefined
		if (!this.pending.size) return this.flushing
		const deltas = Object.fromEntries(this.pending)
		this.pending = new Map()
		this.flushing = this.flushing.then(() => this.storage.addCounters(GROUP, deltas).then(() => undefined)).catch(() => {})
		return this.flushing
	}

	/** Every key's counts, pending ones included. */
	async read(): Promise<Map<string, { success: number; failure: number }>> {
		const stored = (await this.storage.readCounters(GROUP))[GROUP] ?? {}
		const out = new Map<string, { success: number; failure: number }>()
		const put = (field: string, value: number) => {
			const cut = field.lastIndexOf(':')
			const id = field.slice(0, cut)
			const kind = field.slice(cut + 1)
			if (kind !== 'success' && kind !== 'failure') return
			const entry = out.get(id) ?? { success: 0, failure: 0 }
			entry[kind] += value
			out.set(id, entry)
		}
		for (const [field, value] of Object.entries(stored)) put(field, value)
		for (const [field, value] of this.pending) put(field, value)
		return out
	}

	/** Removes the counts of keys not in `keep`; resolves to the ids removed. */
	async prune(keep: ReadonlySet<string>): Promise<string[]> {
		await this.flush()
		const gone = [...(await this.read()).entries()].filter(([id]) => !keep.has(id))
		if (!gone.length) return []
		const deltas: Record<string, number> = {}
		for (const [id, c] of gone) {
			if (c.success) deltas[`${id}:success`] = -c.success
			if (c.failure) deltas[`${id}:failure`] = -c.failure
		}
		await this.storage.addCounters(GROUP, deltas)
		return gone.map(([id]) => id)
	}
}
