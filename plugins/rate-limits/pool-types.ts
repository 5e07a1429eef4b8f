/**
 * The key pool's types: key records, options, the daily-quota gate, outcomes, leases and reports.
 * A leaf: it imports nothing from this folder, so every file here can use it without a cycle.
 */
import type { Doc } from '../../core/storage.ts'

export type KeyStatus = 'active' | 'disabled' | 'banned'

export interface KeyRecord extends Doc {
	key: string
	source: 'env' | 'admin'
	status: KeyStatus
	/** Why the key is disabled or banned, or why it cools down. */
	reason: string | null
	changedAt: number | null
	addedAt: number
	/** Key-level cooldown (auth failure without auto-ban): all models. */
	cooldownUntil: number | null
	/** Refused with 401/403 while AUTO_BAN was off (or during an incident): shown until a success lifts it. */
	failing?: KeyFailing | null
	/** The last key test (POST /admin/keys/{id}/test, re-validation, incident probe). */
	lastTest?: KeyTestRecord | null
}

export interface KeyFailing {
	since: number
	reason: string
}

/** One key test as kept with the key (every instance sees it). */
export interface KeyTestRecord {
	at: number
	ok: boolean
	/** HTTP status, or null when no answer came (network error, timeout). */
	status: number | null
	ms: number
	model: string
	/** One line for the operator; never the key. */
	text: string
}

/**
 * Nearly every key failed the same way within a short window: the upstream (auth) or the
 * network is down, not the keys. Nothing is banned on that evidence while it lasts.
 */
export interface Incident {
	cause: 'auth' | 'network'
	since: number
	/** How many distinct keys failed that way within the window. */
	keys: number
	/** The last failure's message (no key in it). */
	message: string
	lastProbeAt: number | null
}

/** What a daily-quota gate says about one key today: spent (until the next reset) or not. */
export interface QuotaState {
	/** The whole key is spent until this reset; null while it has requests left. */
	exhaustedUntil: number | null
	/** Models whose own daily limit is spent (until the next reset). */
	models: Record<string, number>
	reason: string | null
}

/** A key record as stored: its state, and for admin keys the sealed key (key-records.ts). */
export interface StoredKeyRecord extends Doc {
	source: KeyRecord['source']
	status: KeyRecord['status']
	reason: string | null
	changedAt: number | null
	addedAt: number
	cooldownUntil: number | null
	failing?: KeyFailing | null
	lastTest?: KeyTestRecord | null
	/** Admin keys: the key, sealed with the record id as additional data. */
	sealed?: string
	/** Only in records written by earlier versions (plain text); `upgrade` removes it. */
	key?: string
}

export interface KeyPoolOptions {
	/** Consecutive requests a key serves before round robin moves on. @default 100 */
	callsPerRotation: number
	/** Ban a key answering one of `autoBanCodes` (never for the client's own 4xx or one model's access). @default false */
	autoBan: boolean
	/** @default [401, 403] */
	autoBanCodes: readonly number[]
	/** When no key has headroom, wait for a reset that is at most this far away. @default 5000 */
	maxWaitMs: number
	/** How long a probe of an unknown limit may hold other requests back. @default 300000 */
	probeTtlMs: number
	/** Key-level cooldown after an auth failure when auto-ban is off. @default 60000 */
	authCooldownMs?: number
	/** How long a key without access to a model is left out for that model. @default 3600000 */
	deniedMs?: number
	/** How stale the in-process copy of the key list may get (other instances' changes). @default 1000 */
	refreshMs?: number
	/** Most rate-window slots an instance reserves ahead per key and model (0 = none). @default 32 */
	leaseMax?: number
	/** How long leased slots are held before the unused ones go back. @default 1000 */
	leaseMs?: number
	/** Requests with an affinity key (stable prompt prefix) prefer the key rendezvous hashing ranks first. @default true */
	affinity?: boolean
	/** Order for requests without an affinity key. @default 'round_robin' */
	selection?: 'round_robin' | 'fill_first' | 'random'
}

/**
 * A daily quota per upstream key (and model), checked after the rate window: reserve takes one
 * request atomically in the backend, release gives it back when the attempt failed.
 */
export interface KeyGate {
	reserve(keyId: string, model: string): Promise<{ granted: true } | { granted: false; until: number; reason: string }>
	release(keyId: string, model: string): Promise<void>
	/** Today's state of these keys' quotas (what the key list shows); absent = not known. */
	states?(keyIds: readonly string[]): Promise<Map<string, QuotaState>>
}

/** What an upstream attempt ended with, as the pool needs to know it. */
export type Outcome =
	| { kind: 'success'; headers: Headers }
	| { kind: 'rate-limit'; status?: number; headers: Headers; message: string }
	| { kind: 'key'; status: number; headers: Headers; message: string }
	| { kind: 'no-model-access'; headers: Headers; message: string }
	/** `unanswered`: no HTTP answer at all (timeout, network error): the slot is given back, so a hanging upstream never looks like a spent rate limit. */
	| { kind: 'transient'; status?: number; headers?: Headers; message: string; unanswered?: boolean }
	| { kind: 'client'; headers: Headers }
	| { kind: 'aborted' }

/**
 * Why a request's key was chosen: `affinity` (the key its prompt prefix ranks first),
 * `rotation` (KEY_SELECTION, no stable prefix), `fallback` (the preferred key had no headroom,
 * was banned, cooling, out of quota, or already tried by this request).
 */
export type KeyChoice = 'affinity' | 'rotation' | 'fallback'

export interface Lease {
	readonly keyId: string
	readonly choice: KeyChoice
	readonly key: string
	readonly masked: string
	readonly model: string
	/** This request probes a limit nobody knows yet: others wait for its answer's headers. */
	readonly probe: boolean
	settle(outcome: Outcome): Promise<void>
}

export interface AcquireOptions {
	/** Keys already tried by this request. */
	exclude?: ReadonlySet<string>
	signal?: AbortSignal
	/** Requests with the same affinity key prefer the same key (a prompt-prefix hash); null/absent: rotation. */
	affinity?: string | null
}

/** Thrown by acquire when every key was already tried by this request. */
export class KeysExhaustedError extends Error {}

/** A key's state as shown: its own status, then what keeps an active key from serving. */
export type ShownStatus = KeyStatus | 'cooling' | 'failing' | 'quota_exhausted'

export interface KeyReport {
	id: string
	key: string
	source: 'env' | 'admin'
	/**
	 * disabled and banned are the operator's (or auto-ban's) word; otherwise quota_exhausted (the
	 * daily quota is spent until quota_reset_at), cooling (key-level cooldown), failing (refused
	 * with 401/403 without a ban), or active. Per-model cooling and windows are under models.
	 */
	status: ShownStatus
	reason: string | null
	changed_at: string | null
	cooldown_until: string | null
	failing: { since: string; reason: string } | null
	/** Daily quota spent: until when (the next 07:00 UTC), and why. */
	quota: { exhausted_until: string | null; models: Record<string, string>; reason: string | null } | null
	last_test: { at: string; ok: boolean; status: number | null; latency_ms: number; model: string; text: string } | null
	/** Upstream answers with this key since its counts were last cleared (all instances). */
	counts: { success: number; failure: number }
	models: Record<
		string,
		{
			status: 'active' | 'exhausted' | 'cooling' | 'denied' | 'unknown' | 'quota_exhausted'
			limit: number | null
			remaining: number | null
			used: number
			reset_in_seconds: number | null
			last_used_at: string | null
			reason: string | null
		}
	>
}

export const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())
