/**
 * Counter deltas written in the background: deltas to one group within `lingerMs` are merged
 * into one write. For bookkeeping nobody waits on; a failing backend is logged once per streak.
 */
import type { Logger } from '../../core/log.ts'
import type { Counters, Storage } from '../../core/storage.ts'

export class CounterBatch {
	private buffer = new Map<string, { deltas: Counters; expireAt?: number }>()
	private draining: Promise<void> | null = null
	private wake: (() => void) | null = null
	private failing = false

	constructor(
		private readonly storage: Storage,
		private readonly log: Logger,
		private readonly lingerMs = 100,
	) {}

	add(name: string, deltas: Counters, expireAt?: number): void {
		const pending = this.buffer.get(name)
		if (pending) for (const [field, delta] of Object.entries(deltas)) pending.deltas[field] = (pending.deltas[field] ?? 0) + delta
		else this.buffer.set(name, { deltas: { ...deltas }, expireAt })
		this.draining ??= this.drain()
	}

	/** Resolves once every delta added so far is written (or failed). */
	flush(): Promise<void> {
		this.wake?.()
		return this.draining ?? Promise.resolve()
	}

	private async drain(): Promise<void> {
		try {
			await new Promise<void>((resolve) => {
				this.wake = resolve
				setTimeout(resolve, this.lingerMs)
			})
			this.wake = null
			while (this.buffer.size) {
				const batch = [...this.buffer]
				this.buffer.clear()
				await Promise.all(batch.map(([name, { deltas, expireAt }]) => this.write(name, deltas, expireAt)))
			}
		} finally {
			this.draining = null
		}
	}

	private async write(name: string, deltas: Counters, expireAt?: number): Promise<void> {
		try {
			await this.storage.addCounters(name, deltas, expireAt)
			this.failing = false
		} catch (err) {
			if (!this.failing) this.log.warn({ counter: name, err: String(err) }, 'client spend counters could not be written')
			this.failing = true
		}
	}
}
