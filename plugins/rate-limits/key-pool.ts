/**
 * The key pool: which upstream key serves a request, and what each answer teaches us about it.
 *
 * - A key is identified by a hash of itself; keys from ASSEMBLY_API_KEYS and keys added through
 *   the admin API are one pool, stored as `keys` documents.
 * - Rate-limit state lives per key *and model* in `limits` documents (see rate-window.ts), reserved
 *   and corrected atomically in the storage backend, so instances sharing it agree.
 * - Rotation: keep the current key for CALLS_PER_ROTATION calls, then move on; move earlier when
 *   the current key has no headroom for the model.
 * - Failure classes: 429 -> cool down that key for that model; 401/403 -> ban (AUTO_BAN) or cool the
 *   key down; no access to a model -> skip the key for that model; 5xx / network -> nobody's fault.
 * - AUTO_BAN: with it on, an upstream status listed in AUTO_BAN_ERROR_CODES bans the key, whatever
 *   its class, with two exceptions that no list can override: the client's own bad request and a
 *   key's missing access to one model (skipped for that model) never ban.
 */
import { NotFoundError, RateLimitError, ServiceUnavailableError } from '../../core/errors.ts'
import type { Logger } from '../../core/log.ts'
import { keyId, maskKey } from '../../core/secrets.ts'
import { sleep } from '../../core/sleep.ts'
import type { Doc, Storage } from '../../core/storage.ts'
import type { KeyRecords, StoredKeyRecord } from './key-records.ts'
import {
	coolDown,
	deny,
	emptyWindow,
	hasLimitHeaders,
	observe,
	observeUnlimited,
	readLimitHeaders,
	refund,
	releaseProbe,
	reserve,
	type Reservation,
	sameWindow,
	type WindowRecord,
	windowId,
} from './rate-window.ts'

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
}

/**
 * A daily quota per upstream key (and model), checked after the rate window: reserve takes one
 * request atomically in the backend, release gives it back when the attempt failed.
 */
export interface KeyGate {
	reserve(keyId: string, model: string): Promise<{ granted: true } | { granted: false; until: number; reason: string }>
	release(keyId: string, model: string): Promise<void>
}

export interface KeyPoolDeps {
	storage: Storage
	log: Logger
	/** Daily quotas; absent = none. */
	gate?: KeyGate
	now?: () => number
	/** Called for every key the pool learns, so the logger can scrub it. */
	onSecret?: (key: string) => void
	/** How key records are stored: admin keys sealed, env keys as id and state only (key-records.ts). */
	records: KeyRecords
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

export interface Lease {
	readonly keyId: string
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
}

/** Thrown by acquire when every key was already tried by this request. */
export class KeysExhaustedError extends Error {}

export interface KeyReport {
	id: string
	key: string
	source: 'env' | 'admin'
	status: KeyStatus | 'cooling'
	reason: string | null
	changed_at: string | null
	cooldown_until: string | null
	models: Record<
		string,
		{
			status: 'active' | 'exhausted' | 'cooling' | 'denied' | 'unknown'
			limit: number | null
			remaining: number | null
			used: number
			reset_in_seconds: number | null
			last_used_at: string | null
			reason: string | null
		}
	>
}

/** Why a key cannot serve a model right now: its rate window, its daily quota, or no access at all. */
interface Block {
	until: number
	why: 'window' | 'quota' | 'denied'
	reason: string | null
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

export class KeyPool {
	private keys: KeyRecord[] = []
	private loadedAt = -Infinity
	private loading: Promise<void> | null = null
	/** Rotation cursor (per instance: headroom itself is shared and atomic). */
	private current = 0
	private callsOnCurrent = 0
	/**
	 * What this instance knows blocks a key for a model, and until when: saves the storage round
	 * trip for keys that cannot serve, and tells apart why none can (limit, quota, no access).
	 */
	private blocked = new Map<string, Block>()
	private waiters = new Set<() => void>()
	private readonly now: () => number
	/** ASSEMBLY_API_KEYS: always in the pool (reload puts missing ones back). */
	private envKeys: readonly string[] = []
	/** Daily quotas, when the daily-quota plugin is on (it registers itself). */
	private gate: KeyGate | undefined

	constructor(
		private readonly deps: KeyPoolDeps,
		private readonly options: KeyPoolOptions,
	) {
		this.now = deps.now ?? Date.now
		this.gate = deps.gate
	}

	/** A gate checked after the rate window (the daily quota). */
	setGate(gate: KeyGate): void {
		this.gate = gate
	}

	/** Puts the environment's keys into the pool (once each) and loads the pool. */
	async init(envKeys: readonly string[]): Promise<void> {
		this.envKeys = [...new Set(envKeys)]
		this.deps.records.setEnvKeys(this.envKeys)
		const envIds = new Set(this.envKeys.map(keyId))
		// A key that left ASSEMBLY_API_KEYS leaves the pool: the environment owns env keys.
		for (const record of await this.deps.storage.listDocs<StoredKeyRecord>('keys')) {
			if (record.source === 'env' && !envIds.has(record.id)) await this.deps.storage.deleteDoc('keys', record.id)
		}
		await this.reload()
	}

	private newRecord(key: string, source: 'env' | 'admin'): KeyRecord {
		return { id: keyId(key), key, source, status: 'active', reason: null, changedAt: null, addedAt: this.now(), cooldownUntil: null }
	}

	/** Env keys missing from storage (first start, or a shared backend that lost its data) are put back. */
	private async ensureEnvKeys(stored: KeyRecord[]): Promise<KeyRecord[]> {
		const added: KeyRecord[] = []
		for (const key of this.envKeys) {
			const record = this.newRecord(key, 'env')
			if (stored.some((k) => k.id === record.id)) continue
			const doc = await this.deps.records.toStored(record)
			const put = await this.deps.storage.updateDoc<StoredKeyRecord>('keys', record.id, (current) => current ?? doc)
			const back = put && (await this.deps.records.fromStored(put))
			if (back) added.push(back)
		}
		return added
	}

	async reload(): Promise<void> {
		const records = await this.deps.records.load(this.deps.storage)
		records.push(...(await this.ensureEnvKeys(records)))
		records.sort((a, b) => a.addedAt - b.addedAt || a.id.localeCompare(b.id))
		for (const record of records) this.deps.onSecret?.(record.key)
		this.keys = records
		this.loadedAt = this.now()
	}

	/** The key list, reloaded when older than `refreshMs`; no promise at all on the hot path. */
	private fresh(): KeyRecord[] | Promise<KeyRecord[]> {
		if (this.now() - this.loadedAt <= (this.options.refreshMs ?? 1000)) return this.keys
		this.loading ??= this.reload()
			.catch((err) => this.deps.log.warn({ err: String(err) }, 'key list reload failed; using the last one'))
			.finally(() => {
				this.loading = null
			})
		return this.loading.then(() => this.keys)
	}

	get size(): number {
		return this.keys.length
	}

	/** Throws the 503 a request would end with when no key can serve at all (no upstream call needed). */
	async checkServable(): Promise<void> {
		const current = this.fresh()
		this.assertServable(Array.isArray(current) ? current : await current)
	}

	private assertServable(keys: KeyRecord[]): void {
		if (!keys.length) {
			throw new ServiceUnavailableError(
				'No AssemblyAI API key is configured. Set ASSEMBLY_API_KEYS (comma-separated) and restart, or add keys with POST /admin/keys.',
				'no_keys_configured',
			)
		}
		if (!keys.some((k) => k.status === 'active')) {
			throw new ServiceUnavailableError('Every upstream key is disabled or banned. Re-enable one with POST /admin/keys/{id}/enable.', 'no_available_keys')
		}
	}

	/**
	 * A key with headroom for `model`, reserved. Waits for a reset at most `maxWaitMs` away (and
	 * for an in-flight probe); otherwise throws 429 with Retry-After, or 503 when no key can serve.
	 */
	async acquire(model: string, options: AcquireOptions = {}): Promise<Lease> {
		const exclude = options.exclude ?? new Set<string>()
		const started = this.now()
		for (;;) {
			const current = this.fresh()
			const keys = Array.isArray(current) ? current : await current
			this.assertServable(keys)
			const enabled = keys.filter((k) => k.status === 'active')
			const now = this.now()
			const candidates = enabled.filter((k) => !exclude.has(k.id))
			if (!candidates.length) throw new KeysExhaustedError('every key was tried for this request')

			// The earliest moment something may change, per kind of block.
			const until = { window: Infinity, quota: Infinity, denied: Infinity }
			let probing = false
			let quotaReason = ''
			const note = (block: Block) => {
				until[block.why] = Math.min(until[block.why], block.until)
				if (block.why === 'quota') quotaReason = block.reason ?? quotaReason
			}
			const remember = (wid: string, block: Block) => {
				this.blocked.set(wid, block)
				note(block)
			}
			for (const [position, record] of this.rotationOrder(keys, candidates)) {
				if (record.cooldownUntil !== null && record.cooldownUntil > now) {
					note({ until: record.cooldownUntil, why: 'window', reason: null })
					continue
				}
				const wid = windowId(record.id, model)
				const known = this.blocked.get(wid)
				if (known !== undefined && known.until > now) {
					note(known)
					continue
				}
				const result = await this.reserveWindow(record.id, model, now)
				if (result.granted) {
					const quota = this.gate ? await this.gate.reserve(record.id, model) : { granted: true as const }
					if (!quota.granted) {
						// Daily quota spent: give the window slot back and leave the key out until the reset.
						await this.deps.storage.updateDoc<WindowRecord>('limits', wid, (w) => (w ? (refund(w), w) : undefined))
						remember(wid, { until: quota.until, why: 'quota', reason: quota.reason })
						continue
					}
					this.blocked.delete(wid)
					this.advance(position)
					return this.lease(record, model, result.probe, this.gate !== undefined)
				}
				if (result.why === 'probing') {
					probing = true
					note({ until: result.until, why: 'window', reason: null })
				} else {
					remember(wid, { until: result.until, why: result.why === 'denied' ? 'denied' : 'window', reason: null })
				}
			}

			if (!probing && until.window === Infinity) {
				// Nothing frees up by waiting a little: say which wall every key hit.
				if (until.quota < Infinity) {
					throw new RateLimitError(
						`Every upstream key reached its daily quota for model ${model} (${quotaReason}). Quotas reset at ${new Date(until.quota).toISOString()}.`,
						Math.max(1, (until.quota - this.now()) / 1000),
						'daily_quota_exhausted',
						{ reset_at: new Date(until.quota).toISOString() },
					)
				}
				if (until.denied < Infinity) {
					throw new NotFoundError(`No configured AssemblyAI key has access to model ${model}.`, 'model_not_found')
				}
			}
			const earliest = Math.min(until.window, until.quota, until.denied)
			const waitMs = earliest - this.now()
			const waited = this.now() - started
			if (options.signal?.aborted) throw new KeysExhaustedError('client went away')
			if (probing || waitMs + waited <= this.options.maxWaitMs) {
				// A probe answers within one request's time; a near reset is worth waiting for.
				await this.waitForChange(Math.max(1, Math.min(waitMs, probing ? 100 : 250)), options.signal)
				continue
			}
			throw new RateLimitError(
				`Every upstream key has reached its rate limit for model ${model}. Retry after ${new Date(earliest).toISOString()}.`,
				Math.max(1, waitMs / 1000),
				'rate_limit_exceeded',
			)
		}
	}

	/** Candidates in rotation order, starting at the current key unless it served its share. */
	private rotationOrder(all: KeyRecord[], candidates: KeyRecord[]): [number, KeyRecord][] {
		const allowed = new Set(candidates.map((k) => k.id))
		if (this.callsOnCurrent >= this.options.callsPerRotation) {
			this.current = (this.current + 1) % all.length
			this.callsOnCurrent = 0
		}
		const start = this.current % all.length
		const order: [number, KeyRecord][] = []
		for (let i = 0; i < all.length; i++) {
			const position = (start + i) % all.length
			if (allowed.has(all[position].id)) order.push([position, all[position]])
		}
		return order
	}

	private advance(position: number): void {
		if (position === this.current) this.callsOnCurrent++
		else {
			this.current = position
			this.callsOnCurrent = 1
		}
	}

	private async reserveWindow(id: string, model: string, now: number): Promise<Reservation> {
		let result: Reservation = { granted: false, until: now, why: 'probing' }
		await this.deps.storage.updateDoc<WindowRecord>('limits', windowId(id, model), (current) => {
			const w = current ?? emptyWindow(id, model)
			result = reserve(w, now, this.options.probeTtlMs)
			return result.granted || !current ? w : undefined
		})
		return result
	}

	private waitForChange(ms: number, signal?: AbortSignal): Promise<void> {
		return new Promise((resolve) => {
			const wake = () => {
				this.waiters.delete(wake)
				resolve()
			}
			this.waiters.add(wake)
			sleep(ms, signal).then(wake)
		})
	}

	private wakeWaiters(): void {
		for (const wake of [...this.waiters]) wake()
	}

	private lease(record: KeyRecord, model: string, probe: boolean, quotaTaken: boolean): Lease {
		let settled = false
		return {
			keyId: record.id,
			key: record.key,
			masked: maskKey(record.key),
			model,
			probe,
			settle: async (outcome) => {
				if (settled) return
				settled = true
				try {
					// Only successful requests spend the daily quota.
					if (quotaTaken && outcome.kind !== 'success') await this.gate?.release(record.id, model)
					await this.settle(record, model, outcome)
				} finally {
					this.wakeWaiters()
				}
			},
		}
	}

	private async settle(record: KeyRecord, model: string, outcome: Outcome): Promise<void> {
		const now = this.now()
		const wid = windowId(record.id, model)
		const update = (fn: (w: WindowRecord) => void) =>
			this.deps.storage.updateDoc<WindowRecord>('limits', wid, (current) => {
				const w = current ? { ...current } : emptyWindow(record.id, model)
				fn(w)
				// Most answers confirm what we already know: no write then.
				return current && sameWindow(current, w) ? undefined : w
			})
		switch (outcome.kind) {
			case 'success': {
				const limits = readLimitHeaders(outcome.headers, now)
				const w = await update((w) => (hasLimitHeaders(limits) ? observe(w, limits, now) : observeUnlimited(w)))
				this.noteBlocked(wid, w, now)
				return
			}
			case 'rate-limit': {
				const limits = readLimitHeaders(outcome.headers, now)
				let until = now
				await update((w) => {
					until = coolDown(w, limits, now, `rate limited upstream: ${outcome.message}`)
				})
				this.blocked.set(wid, { until, why: 'window', reason: null })
				this.deps.log.info({ key: maskKey(record.key), model, until: iso(until) }, 'key cooling down after upstream rate limit')
				await this.autoBan(record, outcome.status, outcome.message)
				return
			}
			case 'no-model-access': {
				const deniedMs = this.options.deniedMs ?? 3_600_000
				await update((w) => deny(w, now, deniedMs, outcome.message))
				this.blocked.set(wid, { until: now + deniedMs, why: 'denied', reason: outcome.message })
				this.deps.log.warn({ key: maskKey(record.key), model }, 'key has no access to this model; skipping it for this model')
				return
			}
			case 'key': {
				await update((w) => refund(w))
				const banned = await this.autoBan(record, outcome.status, outcome.message)
				if (!banned) {
					await this.coolKey(record.id, now + (this.options.authCooldownMs ?? 60_000), `HTTP ${outcome.status} from upstream: ${outcome.message}`)
					this.deps.log.warn({ key: maskKey(record.key), status: outcome.status, banned }, 'key cooling down after auth failure')
				}
				return
			}
			case 'client': {
				const limits = readLimitHeaders(outcome.headers, now)
				// A refusal without rate-limit headers never reached the upstream's accounting.
				await update((w) => (hasLimitHeaders(limits) ? observe(w, limits, now) : refund(w)))
				return
			}
			case 'transient': {
				const limits = outcome.headers ? readLimitHeaders(outcome.headers, now) : null
				await update((w) => (limits && hasLimitHeaders(limits) ? observe(w, limits, now) : outcome.unanswered ? refund(w) : releaseProbe(w)))
				await this.autoBan(record, outcome.status, outcome.message)
				return
			}
			case 'aborted':
				await update((w) => releaseProbe(w))
				return
		}
	}

	/** Bans the key when AUTO_BAN is on and the status is listed; callers never pass the client's own refusals. */
	private async autoBan(record: KeyRecord, status: number | undefined, message: string): Promise<boolean> {
		if (!this.options.autoBan || status === undefined || !this.options.autoBanCodes.includes(status)) return false
		await this.setStatus(record.id, 'banned', `auto-ban: HTTP ${status} from upstream: ${message}`)
		this.deps.log.warn({ key: maskKey(record.key), status, banned: true }, 'key banned')
		return true
	}

	private noteBlocked(wid: string, w: WindowRecord | null, now: number): void {
		if (w && w.remaining !== null && w.remaining <= 0 && w.resetAt !== null && w.resetAt > now) this.blocked.set(wid, { until: w.resetAt, why: 'window', reason: null })
		else this.blocked.delete(wid)
	}

	private async coolKey(id: string, until: number, reason: string): Promise<void> {
		await this.deps.storage.updateDoc<StoredKeyRecord>('keys', id, (k) => (k ? { ...k, cooldownUntil: until, reason } : undefined))
		await this.reload()
	}

	// ---- operator actions ----

	/** Adds keys; a key already in the pool (same hash) is reported as a duplicate, not added twice. */
	async addKeys(keys: readonly string[]): Promise<{ added: string[]; duplicates: string[] }> {
		const added: string[] = []
		const duplicates: string[] = []
		for (const key of keys) {
			const record = this.newRecord(key, 'admin')
			const doc = await this.deps.records.toStored(record)
			let isNew = false
			await this.deps.storage.updateDoc<StoredKeyRecord>('keys', record.id, (current) => {
				isNew = current === null
				return current ? undefined : doc
			})
			;(isNew ? added : duplicates).push(record.id)
		}
		await this.reload()
		return { added, duplicates }
	}

	/** Removes an admin-added key and its rate-limit state. Env keys belong to ASSEMBLY_API_KEYS. */
	async removeKey(id: string): Promise<'removed' | 'not_found' | 'env_key'> {
		const record = (await this.fresh()).find((k) => k.id === id) ?? (await this.deps.storage.getDoc<StoredKeyRecord>('keys', id))
		if (!record) return 'not_found'
		if (record.source === 'env') return 'env_key'
		await this.deps.storage.deleteDoc('keys', id)
		for (const w of await this.deps.storage.listDocs<WindowRecord>('limits')) {
			if (w.keyId === id) await this.deps.storage.deleteDoc('limits', w.id)
		}
		await this.reload()
		return 'removed'
	}

	/** Disable, ban or (re-)enable a key. Enabling also lifts cooldowns of the key. */
	async setStatus(id: string, status: KeyStatus, reason: string | null = null): Promise<StoredKeyRecord | null> {
		const now = this.now()
		const updated = await this.deps.storage.updateDoc<StoredKeyRecord>('keys', id, (k) =>
			k ? { ...k, status, reason: status === 'active' ? null : reason, changedAt: now, cooldownUntil: status === 'active' ? null : k.cooldownUntil } : undefined,
		)
		if (updated && status === 'active') {
			for (const w of await this.deps.storage.listDocs<WindowRecord>('limits')) {
				if (w.keyId !== id) continue
				await this.deps.storage.updateDoc<WindowRecord>('limits', w.id, (cur) =>
					cur ? { ...cur, cooldownUntil: null, deniedUntil: null, probeUntil: null, reason: null } : undefined,
				)
				this.blocked.delete(w.id)
			}
		}
		await this.reload()
		this.wakeWaiters()
		return updated
	}

	/** Quotas changed or were reset: forget what this instance learned about spent quotas. */
	forgetQuotaBlocks(): void {
		for (const [wid, block] of this.blocked) if (block.why === 'quota') this.blocked.delete(wid)
		this.wakeWaiters()
	}

	/** Every key, masked, with its per-model windows: what /admin/rate-limits shows. */
	async report(): Promise<KeyReport[]> {
		const now = this.now()
		const keys = await this.fresh()
		const windows = await this.deps.storage.listDocs<WindowRecord>('limits')
		return keys.map((k) => {
			const models: KeyReport['models'] = {}
			for (const w of windows) {
				if (w.keyId !== k.id) continue
				const rolled = w.resetAt !== null && w.resetAt <= now
				const remaining = rolled ? w.limit : w.remaining
				const status =
					w.deniedUntil !== null && w.deniedUntil > now
						? 'denied'
						: w.cooldownUntil !== null && w.cooldownUntil > now
							? 'cooling'
							: w.limit === null && !w.unlimited
								? 'unknown'
								: remaining !== null && remaining <= 0
									? 'exhausted'
									: 'active'
				models[w.model] = {
					status,
					limit: w.limit,
					remaining,
					used: rolled ? 0 : w.used,
					reset_in_seconds: !rolled && w.resetAt !== null ? Math.max(0, Math.ceil((w.resetAt - now) / 1000)) : null,
					last_used_at: iso(w.lastUsedAt),
					reason: w.reason,
				}
			}
			const cooling = k.status === 'active' && k.cooldownUntil !== null && k.cooldownUntil > now
			return {
				id: k.id,
				key: maskKey(k.key),
				source: k.source,
				status: cooling ? 'cooling' : k.status,
				reason: k.reason,
				changed_at: iso(k.changedAt),
				cooldown_until: cooling ? iso(k.cooldownUntil) : null,
				models,
			}
		})
	}
}
