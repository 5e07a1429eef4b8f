/**
 * Failed authentication, throttled per client address: a slowdown, not a wall. The first few
 * failures are free; after that each further attempt from the same address must wait twice as
 * long as the last (1 s, 2 s, 4 s ... up to a minute). Another address is never affected, so
 * whoever floods the port cannot lock the operator out. A success clears the address.
 * Per instance, in memory, bounded: the oldest addresses are forgotten first.
 */
export interface ThrottleOptions {
	/** Failures allowed before the slowdown starts. @default 5 */
	free?: number
	/** First wait. @default 1000 */
	baseDelayMs?: number
	/** Longest wait. @default 60000 */
	maxDelayMs?: number
	/** An address idle this long starts afresh. @default 900000 */
	forgetMs?: number
	/** Addresses remembered at most. @default 10000 */
	maxEntries?: number
}

interface Entry {
	failures: number
	last: number
}

export class FailureThrottle {
	private readonly entries = new Map<string, Entry>()
	private readonly free: number
	private readonly base: number
	private readonly max: number
	private readonly forget: number
	private readonly cap: number

	constructor(
		options: ThrottleOptions = {},
		private readonly now: () => number = Date.now,
	) {
		this.free = options.free ?? 5
		this.base = options.baseDelayMs ?? 1000
		this.max = options.maxDelayMs ?? 60_000
		this.forget = options.forgetMs ?? 900_000
		this.cap = options.maxEntries ?? 10_000
	}

	private entry(address: string): Entry | undefined {
		const entry = this.entries.get(address)
		if (entry && this.now() - entry.last >= this.forget) {
			this.entries.delete(address)
			return undefined
		}
		return entry
	}

	/** How long this address must still wait before its next attempt is looked at (0: go ahead). */
	waitMs(address: string): number {
		const entry = this.entry(address)
		if (!entry || entry.failures < this.free) return 0
		const delay = Math.min(this.max, this.base * 2 ** (entry.failures - this.free))
		return Math.max(0, entry.last + delay - this.now())
	}

	fail(address: string): void {
		const entry = this.entry(address) ?? { failures: 0, last: 0 }
		entry.failures++
		entry.last = this.now()
		this.entries.delete(address)
		this.entries.set(address, entry)
		while (this.entries.size > this.cap) {
			const oldest = this.entries.keys().next().value
			if (oldest === undefined) break
			this.entries.delete(oldest)
		}
	}

	succeed(address: string): void {
		this.entries.delete(address)
	}
}
