/**
 * The rate-limit window of one upstream key for one model, as pure functions.
 *
 * The upstream limits each key per model (`X-RateLimit-Limit` requests per 60-s window) and
 * reports `Remaining` and `Reset` (seconds until the window resets) on every answer. We keep a
 * local copy that is decremented when a request is *sent* (a reservation) and corrected from the
 * headers when the answer arrives, so a key with no headroom is never used (proactive, not
 * reactive). These functions run inside the storage backend's atomic document update, so several
 * instances sharing Redis/PostgreSQL never reserve more than the remaining headroom together.
 */
import type { Doc } from '../../core/storage.ts'

export interface WindowRecord extends Doc {
	keyId: string
	model: string
	/** Requests per window, from X-RateLimit-Limit; null until the upstream told us. */
	limit: number | null
	/** Requests left in the current window (our reservations included); null = unknown. */
	remaining: number | null
	/** Epoch ms when the window resets; null = unknown. */
	resetAt: number | null
	/** Requests sent in the current window through amb2api. */
	used: number
	/** After a 429: not used for this model until then. */
	cooldownUntil: number | null
	/** The key has no access to this model (plan): not used for it until then. */
	deniedUntil: number | null
	/** While the limit is unknown, one request at a time probes it; others wait until it answers. */
	probeUntil: number | null
	/** The upstream answered without rate-limit headers: "no rate limit" (docs/upstream-api.md §7). */
	unlimited: boolean
	reason: string | null
	lastUsedAt: number | null
	/** Slots instances hold leased (counted in `used`) and have not settled yet; absent in older records. */
	leased?: number
	/** When the last of those leases is back at the latest; a crashed instance's count lapses then. */
	leasedUntil?: number | null
}

/** Unknown reset: assume the documented 60-s window, so nothing is ever blocked without an end. */
export const DEFAULT_WINDOW_MS = 60_000
/** Upstream resets are whole seconds: wait a little past them rather than hit the old window. */
const RESET_SLACK_MS = 250

export function windowId(keyId: string, model: string): string {
	return `${keyId}:${model}`
}

export function emptyWindow(keyId: string, model: string): WindowRecord {
	return {
		id: windowId(keyId, model),
		keyId,
		model,
		limit: null,
		remaining: null,
		resetAt: null,
		used: 0,
		cooldownUntil: null,
		deniedUntil: null,
		probeUntil: null,
		unlimited: false,
		reason: null,
		lastUsedAt: null,
	}
}

const WINDOW_FIELDS = [
	'limit',
	'remaining',
	'resetAt',
	'used',
	'cooldownUntil',
	'deniedUntil',
	'probeUntil',
	'unlimited',
	'reason',
	'lastUsedAt',
	'leased',
	'leasedUntil',
] as const

/** Whether two states of one window are the same (then nothing needs writing). */
export function sameWindow(a: WindowRecord, b: WindowRecord): boolean {
	return WINDOW_FIELDS.every((field) => a[field] === b[field])
}

/**
 * `leased`: no headroom left, but instances hold leased slots they may not spend: worth waiting
 * until `until`, when they are back, rather than answering 429 while headroom sits unspent.
 */
export type Reservation = { granted: true; probe: boolean } | { granted: false; until: number; why: 'exhausted' | 'cooling' | 'denied' | 'probing' | 'leased' }

/** A window whose reset has passed starts over at its full limit. */
function rollOver(w: WindowRecord, now: number): void {
	if (w.resetAt !== null && w.resetAt <= now) {
		w.remaining = w.limit
		w.used = 0
		w.resetAt = null
	}
}

/**
 * Takes one request slot if there is headroom. Mutates `w`; the caller stores it.
 * `probeTtlMs` bounds how long a probe may block others if its answer never comes.
 */
export function reserve(w: WindowRecord, now: number, probeTtlMs: number): Reservation {
	if (w.deniedUntil !== null && w.deniedUntil > now) return { granted: false, until: w.deniedUntil, why: 'denied' }
	if (w.cooldownUntil !== null && w.cooldownUntil > now) return { granted: false, until: w.cooldownUntil, why: 'cooling' }
	rollOver(w, now)
	if (!w.unlimited) {
		if (w.limit === null) {
			if (w.probeUntil !== null && w.probeUntil > now) return { granted: false, until: w.probeUntil, why: 'probing' }
			w.probeUntil = now + probeTtlMs
			w.used++
			w.lastUsedAt = now
			return { granted: true, probe: true }
		}
		const remaining = w.remaining ?? w.limit - w.used
		if (remaining <= 0) {
			if (w.resetAt === null) w.resetAt = now + DEFAULT_WINDOW_MS
			const leasedUntil = w.leasedUntil ?? null
			if ((w.leased ?? 0) > 0 && leasedUntil !== null && leasedUntil > now && leasedUntil < w.resetAt)
				return { granted: false, until: leasedUntil, why: 'leased' }
			return { granted: false, until: w.resetAt, why: 'exhausted' }
		}
		w.remaining = remaining - 1
		if (w.remaining === 0 && w.resetAt === null) w.resetAt = now + DEFAULT_WINDOW_MS
	}
	w.used++
	w.lastUsedAt = now
	return { granted: true, probe: false }
}

export interface LimitHeaders {
	limit: number | null
	remaining: number | null
	/** Seconds until reset (relative, as the upstream sends it). */
	resetSeconds: number | null
	retryAfterSeconds: number | null
}

const num = (value: string | null): number | null => {
	if (value === null || value.trim() === '') return null
	const n = Number(value)
	return Number.isFinite(n) ? n : null
}

/** Reads X-RateLimit-* and Retry-After (seconds, or an HTTP date). */
export function readLimitHeaders(headers: Headers, now: number): LimitHeaders {
	let retryAfterSeconds = num(headers.get('retry-after'))
	if (retryAfterSeconds === null && headers.get('retry-after')) {
		const date = Date.parse(headers.get('retry-after') as string)
		if (Number.isFinite(date)) retryAfterSeconds = Math.max(0, (date - now) / 1000)
	}
	return {
		limit: num(headers.get('x-ratelimit-limit')),
		remaining: num(headers.get('x-ratelimit-remaining')),
		resetSeconds: num(headers.get('x-ratelimit-reset')),
		retryAfterSeconds,
	}
}

export const hasLimitHeaders = (h: LimitHeaders): boolean => h.limit !== null || h.remaining !== null || h.resetSeconds !== null

/**
 * Corrects the window from an answer's headers. Our own count already includes requests still in
 * flight, which the upstream has not seen yet, so within a window the lower of the two is right.
 */
export function observe(w: WindowRecord, h: LimitHeaders, now: number): void {
	w.probeUntil = null
	if (!hasLimitHeaders(h)) return
	w.unlimited = false
	if (h.limit !== null) w.limit = h.limit
	if (h.resetSeconds !== null) {
		// The reset header is seconds from now; <= 0 means the window is just rolling over.
		const resetAt = now + (h.resetSeconds > 0 ? h.resetSeconds * 1000 : DEFAULT_WINDOW_MS) + RESET_SLACK_MS
		// Whole seconds upstream: a difference under a second is the same reset, and keeping the
		// stored one lets an unchanged window skip its storage write.
		if (w.resetAt === null || Math.abs(resetAt - w.resetAt) >= 1000) w.resetAt = resetAt
	}
	if (h.remaining !== null) {
		w.remaining = w.remaining === null ? h.remaining : Math.min(w.remaining, h.remaining)
		if (w.resetAt === null) w.resetAt = now + DEFAULT_WINDOW_MS
	}
	if (w.limit !== null && w.remaining !== null) w.used = Math.max(w.used, w.limit - w.remaining)
}

/** A 2xx without any rate-limit header: the upstream says this endpoint is not rate-limited. */
export function observeUnlimited(w: WindowRecord): void {
	w.probeUntil = null
	if (w.limit === null) w.unlimited = true
}

/** A 429 (or a rate limit signalled as 400): cool down until Retry-After, else the reset, else 60 s. */
export function coolDown(w: WindowRecord, h: LimitHeaders, now: number, reason: string): number {
	observe(w, h, now)
	const seconds = h.retryAfterSeconds ?? h.resetSeconds ?? DEFAULT_WINDOW_MS / 1000
	const until = now + Math.max(1, seconds) * 1000 + RESET_SLACK_MS
	w.cooldownUntil = until
	w.remaining = 0
	w.resetAt = Math.max(w.resetAt ?? 0, until)
	w.reason = reason
	return until
}

/** The key may not use this model (plan restriction): leave it out for this model for a while. */
export function deny(w: WindowRecord, now: number, forMs: number, reason: string): void {
	w.probeUntil = null
	w.deniedUntil = now + forMs
	w.reason = reason
}

/**
 * The request never counted upstream (refused before rate accounting, or never sent): give the
 * slot back so a failed request does not eat the window.
 */
export function refund(w: WindowRecord): void {
	w.probeUntil = null
	if (w.used > 0) w.used--
	if (w.limit !== null && w.remaining !== null) w.remaining = Math.min(w.limit, w.remaining + 1)
}

/** Releases a probe without learning anything (network error, client gone). */
export function releaseProbe(w: WindowRecord): void {
	w.probeUntil = null
}

/**
 * Slots an instance leased but did not use go back to the window they were taken from, and only
 * to it: once the window has reset (or its reset moved), they lapsed with it and nothing is given.
 */
export function giveBack(w: WindowRecord, slots: number, leasedResetAt: number | null, now: number, taken = 0): void {
	// The lease is settled whatever came back: its slots are no longer outstanding.
	if (taken > 0 && w.leased !== undefined) {
		w.leased = Math.max(0, w.leased - taken)
		if (w.leased === 0) w.leasedUntil = null
	}
	if (slots <= 0 || w.resetAt !== leasedResetAt || (w.resetAt !== null && w.resetAt <= now)) return
	w.used = Math.max(0, w.used - slots)
	if (w.limit !== null && w.remaining !== null) w.remaining = Math.min(w.limit, w.remaining + slots)
}

/** Notes `slots` leased by one instance until `until` (they are already counted in `used`). */
export function noteLease(w: WindowRecord, slots: number, until: number): void {
	if (slots <= 0) return
	w.leased = (w.leased ?? 0) + slots
	w.leasedUntil = Math.max(w.leasedUntil ?? 0, until)
}

/**
 * How many extra slots one instance may lease ahead: a share of what is left, so several
 * instances can lease from one window, and none when headroom is short or the window's end is
 * unknown (then every request reserves on its own). Unlimited windows lease `max`.
 */
export function leaseSize(w: WindowRecord, max: number): number {
	if (max <= 0 || w.probeUntil !== null) return 0
	if (w.unlimited) return max
	// Only with a known end: a leased slot is never spent in a later window than it was counted in.
	if (w.limit === null || w.remaining === null || w.resetAt === null) return 0
	return Math.min(max, Math.floor(w.remaining / 8))
}
