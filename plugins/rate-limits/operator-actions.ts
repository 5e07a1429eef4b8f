/** What an operator does to the pool: add and remove keys, enable/disable/ban, and the report. */
import { maskKey } from '../../core/secrets.ts'
import type { Blocks } from './blocks.ts'
import type { KeyCounts } from './key-counts.ts'
import type { KeyList } from './key-list.ts'
import { type KeyGate, type KeyReport, type KeyStatus, iso, type QuotaState, type ShownStatus, type StoredKeyRecord } from './pool-types.ts'
import type { WindowStore } from './window-store.ts'

export interface OperatorDeps {
	keys: KeyList
	windows: WindowStore
	blocks: Blocks
	counts: KeyCounts
	now: () => number
	/** The daily quota, when the daily-quota plugin registered one. */
	gate(): KeyGate | undefined
}

export class OperatorActions {
	constructor(private readonly deps: OperatorDeps) {}

	/** Adds keys; a key already in the pool (same hash) is reported as a duplicate, not added twice. */
	async addKeys(keys: readonly string[]): Promise<{ added: string[]; duplicates: string[] }> {
		const added: string[] = []
		const duplicates: string[] = []
		for (const key of keys) {
			const record = this.deps.keys.newRecord(key, 'admin')
			;((await this.deps.keys.insert(record)) ? added : duplicates).push(record.id)
		}
		await this.deps.keys.reload()
		return { added, duplicates }
	}

	/** Removes an admin-added key and its rate-limit state. Env keys belong to ASSEMBLY_API_KEYS. */
	async removeKey(id: string): Promise<'removed' | 'not_found' | 'env_key'> {
		const record = await this.deps.keys.find(id)
		if (!record) return 'not_found'
		if (record.source === 'env') return 'env_key'
		await this.deps.keys.remove(id)
		await this.deps.windows.removeKey(id)
		await this.deps.keys.reload()
		return 'removed'
	}

	/** Disable, ban or (re-)enable a key. Enabling also lifts cooldowns of the key. */
	async setStatus(id: string, status: KeyStatus, reason: string | null = null): Promise<StoredKeyRecord | null> {
		const now = this.deps.now()
		const updated = await this.deps.keys.update(id, (k) => ({
			...k,
			status,
			reason: status === 'active' ? null : reason,
			changedAt: now,
			cooldownUntil: status === 'active' ? null : k.cooldownUntil,
			// Enabling is the operator's word that the key is fine; a ban says more than a failing mark.
			failing: status === 'disabled' ? (k.failing ?? null) : null,
		}))
		if (updated && status === 'active') {
			for (const wid of await this.deps.windows.clearKey(id)) this.deps.blocks.delete(wid)
		}
		await this.deps.keys.reload()
		this.deps.blocks.wake()
		return updated
	}

	/** Quotas changed or were reset: forget what this instance learned about spent quotas. */
	forgetQuotaBlocks(): void {
		this.deps.blocks.forget('quota')
		this.deps.blocks.wake()
	}

	/**
	 * Removes what is stored about keys that left the pool: their rate windows and their
	 * success/failure counts. Resolves to the ids whose data went.
	 */
	async pruneDeparted(): Promise<string[]> {
		await this.deps.keys.reload()
		const keep = new Set((await this.deps.keys.fresh()).map((k) => k.id))
		const gone = new Set<string>(await this.deps.counts.prune(keep))
		for (const w of await this.deps.windows.list()) {
			if (keep.has(w.keyId)) continue
			await this.deps.windows.removeKey(w.keyId)
			gone.add(w.keyId)
		}
		return [...gone]
	}

	/** Every key, masked, with its per-model windows: what /admin/rate-limits shows. */
	async report(): Promise<KeyReport[]> {
		const now = this.deps.now()
		const keys = await this.deps.keys.fresh()
		const gate = this.deps.gate()
		const [windows, counts, quotas] = await Promise.all([
			this.deps.windows.list(),
			this.deps.counts.read(),
			gate?.states ? gate.states(keys.map((k) => k.id)).catch(() => new Map<string, QuotaState>()) : new Map<string, QuotaState>(),
		])
		return keys.map((k) => {
			const quota = quotas.get(k.id)
			const spentUntil = quota?.exhaustedUntil != null && quota.exhaustedUntil > now ? quota.exhaustedUntil : null
			const models: KeyReport['models'] = {}
			for (const w of windows) {
				if (w.keyId !== k.id) continue
				const rolled = w.resetAt !== null && w.resetAt <= now
				// This instance's leased, unused slots are headroom, not use.
				const unused = rolled ? 0 : this.deps.windows.unusedLease(w.id, w.resetAt)
				const remaining = rolled ? w.limit : w.remaining === null ? null : w.remaining + unused
				const modelSpent = quota?.models[w.model]
				const status =
					w.deniedUntil !== null && w.deniedUntil > now
						? 'denied'
						: spentUntil !== null || (modelSpent !== undefined && modelSpent > now)
							? 'quota_exhausted'
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
					used: rolled ? 0 : w.used - unused,
					reset_in_seconds: !rolled && w.resetAt !== null ? Math.max(0, Math.ceil((w.resetAt - now) / 1000)) : null,
					last_used_at: iso(w.lastUsedAt),
					reason: w.reason,
				}
			}
			const cooling = k.status === 'active' && k.cooldownUntil !== null && k.cooldownUntil > now
			const failing = k.status === 'active' && k.failing ? k.failing : null
			const status: ShownStatus =
				k.status !== 'active' ? k.status : spentUntil !== null ? 'quota_exhausted' : cooling ? 'cooling' : failing ? 'failing' : 'active'
			const spentModels = Object.entries(quota?.models ?? {}).filter(([, until]) => until > now)
			const test = k.lastTest ?? null
			return {
				id: k.id,
				key: maskKey(k.key),
				source: k.source,
				status,
				reason: status === 'quota_exhausted' ? (quota?.reason ?? k.reason) : status === 'failing' ? (failing?.reason ?? k.reason) : k.reason,
				changed_at: iso(k.changedAt),
				cooldown_until: cooling ? iso(k.cooldownUntil) : null,
				failing: failing ? { since: iso(failing.since) as string, reason: failing.reason } : null,
				quota:
					spentUntil !== null || spentModels.length
						? {
								exhausted_until: iso(spentUntil),
								models: Object.fromEntries(spentModels.map(([m, until]) => [m, iso(until) as string])),
								reason: quota?.reason ?? null,
							}
						: null,
				last_test: test ? { at: iso(test.at) as string, ok: test.ok, status: test.status, latency_ms: test.ms, model: test.model, text: test.text } : null,
				counts: counts.get(k.id) ?? { success: 0, failure: 0 },
				models,
			}
		})
	}
}
