/**
 * Daily quotas of upstream keys: per key a daily request limit (DAILY_REQUEST_LIMIT, default
 * 1000, 0 = unlimited; an operator can set another per key) and optional per-model limits.
 * A key at its limit is left out by the pool until the next 07:00 UTC reset.
 *
 * The pool calls `reserve` after a key's rate window granted a slot: one atomic
 * `reserveCounter` in the backend (check and increment in one step, so concurrent requests and
 * instances cannot overshoot), and `release` when the attempt did not succeed. Only successful
 * requests spend quota.
 *
 * Storage: limits are `quotas` documents with the key id as id; today's use is the counter group
 * `quota:<day>:<keyId>` with field `total`, and `model:<model>` for models with a limit.
 */
import { Elysia, t } from 'elysia'
import { keyedBatcher } from '../../core/batch.ts'
import { NotFoundError } from '../../core/errors.ts'
import type { Doc, Storage } from '../../core/storage.ts'
import { nextReset, usageDay } from '../../core/usage-day.ts'
import { type AdminAuth, requirePanelAuth } from '../admin-auth/admin-auth.ts'
import type { KeyGate, KeyPool, QuotaState } from '../rate-limits/key-pool.ts'

/** Per-key limits as stored; `id` is the upstream key's id. */
export interface QuotaLimitsDoc extends Doc {
	/** Requests per usage day; null = the default (DAILY_REQUEST_LIMIT). */
	daily_limit: number | null
	/** Requests per usage day for one model. */
	model_limits: Record<string, number>
	updated_at: number
}

export interface EffectiveLimits {
	/** null = unlimited. */
	daily: number | null
	source: 'key' | 'default'
	models: Record<string, number>
}

export interface DailyQuotaDeps {
	storage: Storage
	now?: () => number
}

export interface DailyQuotaOptions {
	/** Requests per key and usage day when the key has no limit of its own; 0 = unlimited. @default 1000 */
	defaultDailyLimit: number
	/** How stale the in-process copy of a key's limits may get (other instances' changes). @default 1000 */
	cacheMs?: number
}

/** Quota counters outlive their day a little, so a late release still finds them. */
const GRACE_MS = 3_600_000
const UNLIMITED = Number.MAX_SAFE_INTEGER
/** Most requests of a key's daily quota one instance reserves ahead, and how long it holds them. */
const LEASE_MAX = 32
const LEASE_MS = 1000

type Grant = { granted: true } | { granted: false; until: number; reason: string }

export const quotaCounter = (day: string, keyId: string) => `quota:${day}:${keyId}`

/** One key's quota as the operator sees it. */
export interface QuotaEntry {
	id: string
	key: string
	daily_limit: number | null
	daily_limit_source: EffectiveLimits['source']
	model_limits: Record<string, number>
	used: { total: number; models: Record<string, number> }
}

export class DailyQuota implements KeyGate {
	private readonly now: () => number
	private cache = new Map<string, { limits: EffectiveLimits; at: number }>()

	constructor(
		private readonly deps: DailyQuotaDeps,
		private readonly options: DailyQuotaOptions,
	) {
		this.now = deps.now ?? Date.now
	}

	get defaultDailyLimit(): number | null {
		return this.options.defaultDailyLimit > 0 ? this.options.defaultDailyLimit : null
	}

	private effective(doc: QuotaLimitsDoc | null): EffectiveLimits {
		if (doc?.daily_limit) return { daily: doc.daily_limit, source: 'key', models: { ...doc.model_limits } }
		return { daily: this.defaultDailyLimit, source: 'default', models: { ...(doc?.model_limits ?? {}) } }
	}

	/** A key's limits, from a short in-process cache (changes on other instances show within cacheMs). */
	async limits(keyId: string): Promise<EffectiveLimits> {
		const cached = this.cache.get(keyId)
		// Real time, not the injectable clock: this is about staleness, not about quota days.
		if (cached && Date.now() - cached.at < (this.options.cacheMs ?? 1000)) return cached.limits
		const limits = this.effective(await this.deps.storage.getDoc<QuotaLimitsDoc>('quotas', keyId))
		this.cache.set(keyId, { limits, at: Date.now() })
		return limits
	}

	/**
	 * One request of the key's daily quota (and the model's, when it has a limit). Group commit:
	 * requests for one key and model that arrive while a reservation is in flight are reserved
	 * together by the next one, in one atomic `reserveCounter` of all of them. Lease: for a model
	 * without a limit of its own, the reservation also takes a few requests of the key's total
	 * ahead (an eighth of what is left, at most LEASE_MAX), spent here without a round trip;
	 * the unused ones go back after LEASE_MS (counted as used meanwhile: never over the limit).
	 */
	reserve(keyId: string, model: string): Promise<Grant> {
		const local = this.leased.get(keyId)
		if (local && local.slots > 0 && local.day === usageDay(this.now()) && !this.hasModelLimit(keyId, model)) {
			local.slots--
			return Promise.resolve({ granted: true })
		}
		return this.reserveBatch(`${keyId}\n${model}`, { keyId, model })
	}

	private readonly reserveBatch = keyedBatcher<{ keyId: string; model: string }, Grant>((_, items) => this.reserveMany(items))
	private readonly leased = new Map<string, { day: string; slots: number; timer: ReturnType<typeof setTimeout> }>()
	/** The total counter's value each key's last reservation saw (on its day): sizes the next lease. */
	private readonly lastSeen = new Map<string, { name: string; value: number }>()
	private closed = false

	private hasModelLimit(keyId: string, model: string): boolean {
		const cached = this.cache.get(keyId)
		return cached === undefined || cached.limits.models[model] !== undefined
	}

	private async reserveMany(all: { keyId: string; model: string }[]): Promise<Grant[]> {
		const first = all[0]
		if (!first) return []
		const { keyId, model } = first
		const limits = await this.limits(keyId)
		const now = this.now()
		const until = nextReset(now)
		const day = usageDay(now)
		const name = quotaCounter(day, keyId)
		const modelLimit = limits.models[model]
		// What this instance leased serves first (it was reserved before these requests came).
		const local = this.leased.get(keyId)
		const fromLease = modelLimit === undefined && local && local.day === day ? Math.min(local.slots, all.length) : 0
		if (local) local.slots -= fromLease
		const items = all.slice(fromLease)
		if (!items.length) return all.map(() => ({ granted: true }))
		const daily = limits.daily ?? UNLIMITED
		const last = this.lastSeen.get(keyId)
		const seen = last?.name === name ? last.value : 0
		const ahead = this.closed || modelLimit !== undefined ? 0 : Math.min(LEASE_MAX, Math.floor((daily - seen - items.length) / 8))
		// Unlimited keys are counted too, so /admin/quotas shows their use.
		let granted = 0
		if (ahead > 0) {
			const batch = await this.deps.storage.reserveCounter(name, 'total', daily, items.length + ahead, until + GRACE_MS)
			this.lastSeen.set(keyId, { name, value: batch.value })
			if (batch.granted) {
				granted = items.length
				this.lease(keyId, day, ahead)
			} else granted = await this.reserveUpTo(name, 'total', daily, items.length, until + GRACE_MS)
		} else granted = await this.reserveUpTo(name, 'total', daily, items.length, until + GRACE_MS)
		let reason = `daily limit ${limits.daily} reached`
		if (modelLimit !== undefined && granted > 0) {
			const perModel = await this.reserveUpTo(name, `model:${model}`, modelLimit, granted, until + GRACE_MS)
			if (perModel < granted) {
				await this.deps.storage.addCounters(name, { total: perModel - granted }, until + GRACE_MS)
				granted = perModel
				reason = `daily limit ${modelLimit} for model ${model} reached`
			}
		}
		return all.map((_, i) => (i < fromLease + granted ? { granted: true } : { granted: false, until, reason }))
	}

	private lease(keyId: string, day: string, slots: number): void {
		const old = this.leased.get(keyId)
		if (old) clearTimeout(old.timer)
		const carried = old && old.day === day ? old.slots : 0
		const timer = setTimeout(() => void this.returnLease(keyId).catch(() => {}), LEASE_MS)
		this.leased.set(keyId, { day, slots: slots + carried, timer })
	}

	/** Gives a key's unused leased requests back to today's counter. */
	private async returnLease(keyId: string): Promise<void> {
		const local = this.leased.get(keyId)
		if (!local) return
		this.leased.delete(keyId)
		clearTimeout(local.timer)
		if (local.slots <= 0 || local.day !== usageDay(this.now())) return
		await this.deps.storage.addCounters(quotaCounter(local.day, keyId), { total: -local.slots }, nextReset(this.now()) + GRACE_MS)
	}

	/** Gives every leased, unused request back (shutdown); no new leases afterwards. */
	async close(): Promise<void> {
		this.closed = true
		await Promise.allSettled([...this.leased.keys()].map((keyId) => this.returnLease(keyId)))
	}

	/** Reserves `n`, or as many as are left when fewer are: resolves to how many it took. */
	private async reserveUpTo(name: string, field: string, limit: number, n: number, expireAt: number): Promise<number> {
		const all = await this.deps.storage.reserveCounter(name, field, limit, n, expireAt)
		if (all.granted) return n
		const left = Math.min(n, limit - all.value)
		if (left <= 0) return 0
		return (await this.deps.storage.reserveCounter(name, field, limit, left, expireAt)).granted ? left : 0
	}

	/**
	 * Gives one reservation back. It goes to the current usage day: an attempt that straddles the
	 * 07:00 reset (rare: releases follow within the upstream timeout) gives it to the new day.
	 */
	async release(keyId: string, model: string): Promise<void> {
		const limits = await this.limits(keyId)
		const now = this.now()
		const deltas: Record<string, number> = { total: -1 }
		if (limits.models[model] !== undefined) deltas[`model:${model}`] = -1
		await this.deps.storage.addCounters(quotaCounter(usageDay(now), keyId), deltas, nextReset(now) + GRACE_MS)
	}

	/** Today's use per key id: total and per model with a limit. */
	async usedToday(): Promise<Map<string, { total: number; models: Record<string, number> }>> {
		const prefix = `quota:${usageDay(this.now())}:`
		const out = new Map<string, { total: number; models: Record<string, number> }>()
		for (const [name, values] of Object.entries(await this.deps.storage.readCounters(prefix))) {
			const models: Record<string, number> = {}
			for (const [field, value] of Object.entries(values)) if (field.startsWith('model:')) models[field.slice('model:'.length)] = value
			const keyId = name.slice(prefix.length)
			// This instance's leased, unused requests are not use.
			const local = this.leased.get(keyId)
			const unused = local && name === quotaCounter(local.day, keyId) ? local.slots : 0
			out.set(keyId, { total: (values.total ?? 0) - unused, models })
		}
		return out
	}

	/**
	 * Which of these keys spent their daily quota (or a model's) today: spent until the next
	 * 07:00 UTC reset. What the key list shows, so a spent key is not shown as active.
	 */
	async states(keyIds: readonly string[]): Promise<Map<string, QuotaState>> {
		const used = await this.usedToday()
		const until = nextReset(this.now())
		const out = new Map<string, QuotaState>()
		for (const id of keyIds) {
			const limits = await this.limits(id)
			const use = used.get(id) ?? { total: 0, models: {} }
			const spent = limits.daily !== null && use.total >= limits.daily
			const models: Record<string, number> = {}
			for (const [model, limit] of Object.entries(limits.models)) if ((use.models[model] ?? 0) >= limit) models[model] = until
			const firstModel = Object.keys(models)[0]
			out.set(id, {
				exhaustedUntil: spent ? until : null,
				models,
				reason: spent
					? `daily limit ${limits.daily} reached`
					: firstModel !== undefined
						? `daily limit ${limits.models[firstModel]} for model ${firstModel} reached`
						: null,
			})
		}
		return out
	}

	/** Each key's limits with today's use beside them: what /admin/quotas and the panel show. */
	async entries(keys: readonly { id: string; key: string }[]): Promise<QuotaEntry[]> {
		const used = await this.usedToday()
		return Promise.all(
			keys.map(async (k) => {
				const limits = await this.limits(k.id)
				return {
					id: k.id,
					key: k.key,
					daily_limit: limits.daily,
					daily_limit_source: limits.source,
					model_limits: limits.models,
					used: used.get(k.id) ?? { total: 0, models: {} },
				}
			}),
		)
	}

	/** Changes a key's limits: a number sets, null removes (daily: back to the default). */
	async setLimits(keyId: string, patch: { daily_limit?: number | null; model_limits?: Record<string, number | null> }): Promise<EffectiveLimits> {
		const now = this.now()
		const doc = await this.deps.storage.updateDoc<QuotaLimitsDoc>('quotas', keyId, (current) => {
			const next: QuotaLimitsDoc = current
				? { ...current, model_limits: { ...current.model_limits } }
				: { id: keyId, daily_limit: null, model_limits: {}, updated_at: now }
			if (patch.daily_limit !== undefined) next.daily_limit = patch.daily_limit
			for (const [model, limit] of Object.entries(patch.model_limits ?? {})) {
				if (limit === null) delete next.model_limits[model]
				else next.model_limits[model] = limit
			}
			next.updated_at = now
			// Nothing left to say: the default applies.
			return next.daily_limit === null && !Object.keys(next.model_limits).length ? null : next
		})
		const limits = this.effective(doc)
		this.cache.set(keyId, { limits, at: Date.now() })
		// Requests leased under the old limits go back; the next reservation sizes a new lease.
		await this.returnLease(keyId)
		return limits
	}
}

export interface QuotaAdminDeps {
	auth: AdminAuth
	quota: DailyQuota
	pool: KeyPool
	now?: () => number
}

const tags = ['Admin']
const security = [{ bearer: [] }]
const limitValue = t.Union([t.Integer({ minimum: 1, maximum: 1_000_000_000 }), t.Null()])

export const quotaAdmin = (deps: QuotaAdminDeps) => {
	const now = deps.now ?? Date.now
	const entries = async (only?: string) => {
		const keys = (await deps.pool.report()).filter((k) => only === undefined || k.id === only)
		const next_reset = new Date(nextReset(now())).toISOString()
		return (await deps.quota.entries(keys)).map((entry) => ({ ...entry, next_reset }))
	}
	return new Elysia({ name: 'quota-admin', prefix: '/admin' })
		.onTransform(requirePanelAuth(deps.auth))
		.get(
			'/quotas',
			async function listQuotas() {
				return {
					day: usageDay(now()),
					next_reset: new Date(nextReset(now())).toISOString(),
					default_daily_limit: deps.quota.defaultDailyLimit,
					quotas: await entries(),
				}
			},
			{
				detail: {
					summary: 'Daily quotas per upstream key',
					description:
						"Per key (masked): the daily request limit (null = unlimited) and where it comes from, per-model limits, today's use (successful requests plus those in flight), and the next reset (07:00 UTC).",
					tags,
					security,
				},
			},
		)
		.put(
			'/quotas/:keyId',
			async function setQuota({ params, body }) {
				if (!(await deps.pool.report()).some((k) => k.id === params.keyId)) throw new NotFoundError(`No key with id ${params.keyId}`, 'key_not_found')
				await deps.quota.setLimits(params.keyId, body)
				// This instance's pool forgets the keys it left out for a spent quota.
				deps.pool.forgetQuotaBlocks()
				return (await entries(params.keyId))[0]
			},
			{
				body: t.Object({
					daily_limit: t.Optional(limitValue),
					model_limits: t.Optional(t.Record(t.String({ minLength: 1, maxLength: 200 }), limitValue)),
				}),
				detail: {
					summary: "Set an upstream key's daily quotas",
					description:
						'`daily_limit`: requests per usage day for this key (positive integer; null = back to DAILY_REQUEST_LIMIT). `model_limits`: per model, a positive integer sets a limit and null removes it; models not named keep theirs.',
					tags,
					security,
				},
			},
		)
}
