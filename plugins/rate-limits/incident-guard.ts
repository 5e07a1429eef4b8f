/**
 * The mass-failure guard. One key refused with 401/403 is a dead key; nearly every key refused
 * the same way within a short window, with no success in between, is an upstream incident (or a
 * network outage), and banning every key for it would leave the pool dead after the upstream
 * recovers. While an incident lasts nothing is banned on that evidence, keys only cool down
 * briefly, and the first success (a request or a re-probe) ends it.
 *
 * The evidence is this instance's own traffic: every instance sees the same upstream, so each
 * one reaches the same verdict on its own, without a storage round trip per failure.
 */
import type { Incident } from './pool-types.ts'

export type IncidentCause = Incident['cause']

export interface IncidentGuardOptions {
	/** How far back failures count as one event. @default 30000 */
	windowMs?: number
	/** Share of the keys in play that must fail: "nearly all". @default 0.9 */
	share?: number
	/** Fewer keys than this can never tell an incident from dead keys. @default 2 */
	minKeys?: number
}

export class IncidentGuard {
	private readonly failures: Record<IncidentCause, Map<string, number>> = { auth: new Map(), network: new Map() }
	private lastSuccessAt = -Infinity
	private current: Incident | null = null

	constructor(
		private readonly now: () => number,
		private readonly options: IncidentGuardOptions = {},
	) {}

	get windowMs(): number {
		return this.options.windowMs ?? 30_000
	}

	/** The incident under way, if any. */
	get incident(): Incident | null {
		return this.current
	}

	/**
	 * A key failed with `cause`. `activeIds`: the keys that can serve now (status active).
	 * Resolves to the incident when this failure starts one (null when it was already under way
	 * or there is none).
	 */
	failure(cause: IncidentCause, keyId: string, activeIds: readonly string[], message: string): Incident | null {
		const now = this.now()
		const seen = this.failures[cause]
		seen.set(keyId, now)
		for (const [id, at] of seen) if (now - at > this.windowMs) seen.delete(id)
		if (this.current) {
			if (this.current.cause === cause) {
				this.current.keys = Math.max(this.current.keys, seen.size)
				this.current.message = message
			}
			return null
		}
		// A success within the window: the upstream answers, so these keys are what fails.
		if (now - this.lastSuccessAt <= this.windowMs) return null
		// Keys in play: those that can serve, and those that failed just now (auto-ban may have taken them out).
		const inPlay = new Set([...activeIds, ...seen.keys()])
		const needed = Math.max(this.options.minKeys ?? 2, Math.ceil(inPlay.size * (this.options.share ?? 0.9)))
		if (inPlay.size < (this.options.minKeys ?? 2) || seen.size < needed) return null
		this.current = { cause, since: Math.min(...seen.values()), keys: seen.size, message, lastProbeAt: null }
		return this.current
	}

	/** Whether a failure of `cause` is part of an incident under way (then nothing is banned for it). */
	covers(cause: IncidentCause): boolean {
		return this.current?.cause === cause
	}

	/** The keys that failed with `cause` within the window. */
	failedKeys(cause: IncidentCause): string[] {
		return [...this.failures[cause].keys()]
	}

	/** An upstream answer that was not a failure: resolves to the incident it ended, if any. */
	success(): Incident | null {
		this.lastSuccessAt = this.now()
		const ended = this.current
		if (ended) {
			this.current = null
			this.failures.auth.clear()
			this.failures.network.clear()
		}
		return ended
	}

	/** A re-probe ran while the incident lasts (and failed). */
	probed(): void {
		if (this.current) this.current.lastProbeAt = this.now()
	}
}
