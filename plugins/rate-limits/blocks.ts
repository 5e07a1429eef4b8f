/**
 * What this instance knows blocks a key for a model, and until when, plus the requests waiting
 * for something to change. Saves the storage round trip for keys that cannot serve, and tells
 * apart why none can (limit, quota, no access).
 */
import { sleep } from '../../core/sleep.ts'

/** Why a key cannot serve a model right now: its rate window, its daily quota, or no access at all. */
export interface Block {
	until: number
	why: 'window' | 'quota' | 'denied'
	reason: string | null
}

export class Blocks {
	private readonly blocked = new Map<string, Block>()
	private readonly waiters = new Set<() => void>()

	get(wid: string): Block | undefined {
		return this.blocked.get(wid)
	}

	set(wid: string, block: Block): void {
		this.blocked.set(wid, block)
	}

	delete(wid: string): void {
		this.blocked.delete(wid)
	}

	/** Forgets every block of one kind. */
	forget(why: Block['why']): void {
		for (const [wid, block] of this.blocked) if (block.why === why) this.blocked.delete(wid)
	}

	/** Resolves after `ms`, or earlier when `wake` is called or the signal aborts. */
	waitForChange(ms: number, signal?: AbortSignal): Promise<void> {
		return new Promise((resolve) => {
			const wake = () => {
				this.waiters.delete(wake)
				resolve()
			}
			this.waiters.add(wake)
			sleep(ms, signal).then(wake)
		})
	}

	wake(): void {
		for (const wake of [...this.waiters]) wake()
	}
}
