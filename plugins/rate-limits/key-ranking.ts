/**
 * The order in which keys are tried for one request.
 * - With an affinity key (a stable prompt prefix, or the client's prompt_cache_key): rendezvous
 *   hashing. Every key gets a score from hash(affinity, key id) and the highest score is
 *   preferred, so every instance ranks alike without asking storage, and a key that joins or
 *   leaves the pool moves only the prefixes that it wins or loses.
 * - Without one: KEY_SELECTION. `round_robin` keeps a key for CALLS_PER_ROTATION requests then
 *   moves on; `fill_first` always starts at the first key (the next one serves only when it is
 *   full); `random` starts anywhere.
 */
import type { KeyRecord } from './pool-types.ts'

export type KeySelection = 'round_robin' | 'fill_first' | 'random'

/** 32-bit FNV-1a with a final avalanche: cheap, and the same on every instance and runtime. */
function hash32(text: string): number {
	let h = 0x811c9dc5
	for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193)
	h ^= h >>> 16
	h = Math.imul(h, 0x85ebca6b)
	h ^= h >>> 13
	h = Math.imul(h, 0xc2b2ae35)
	h ^= h >>> 16
	return h >>> 0
}

/** The rendezvous score of one key for one affinity key (two 32-bit halves: ties are practically impossible). */
export function affinityScore(affinity: string, keyId: string): number {
	return hash32(`${affinity}\u0000${keyId}`) * 0x100000000 + hash32(`${keyId}\u0000${affinity}`)
}

/** Keys from most to least preferred for an affinity key. */
export function rankByAffinity<K extends Pick<KeyRecord, 'id'>>(affinity: string, keys: readonly K[]): K[] {
	return keys
		.map((key) => ({ key, score: affinityScore(affinity, key.id) }))
		.sort((a, b) => b.score - a.score || a.key.id.localeCompare(b.key.id))
		.map((entry) => entry.key)
}

/** Rotation state of one instance (headroom itself is shared and atomic; the cursor need not be). */
export class Rotation {
	private current = 0
	private callsOnCurrent = 0

	constructor(
		private readonly mode: () => KeySelection,
		private readonly callsPerRotation: () => number,
		private readonly random: () => number = Math.random,
	) {}

	/** Positions into `all` in the order to try them. */
	order(size: number): number[] {
		if (size === 0) return []
		const mode = this.mode()
		let start = 0
		if (mode === 'random') start = Math.floor(this.random() * size) % size
		else if (mode === 'round_robin') {
			if (this.callsOnCurrent >= this.callsPerRotation()) {
				this.current = (this.current + 1) % size
				this.callsOnCurrent = 0
			}
			start = this.current % size
		}
		// A plain loop: Array.from with a callback costs more than the rest of the selection.
		const order = new Array<number>(size)
		for (let i = 0; i < size; i++) order[i] = (start + i) % size
		return order
	}

	/** The key at `position` served a request. */
	served(position: number): void {
		if (this.mode() !== 'round_robin') return
		if (position === this.current) this.callsOnCurrent++
		else {
			this.current = position
			this.callsOnCurrent = 1
		}
	}
}
