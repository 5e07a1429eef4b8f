/**
 * Learning from outcomes: what each upstream answer teaches the pool about a key.
 * 429 -> cool down that key for that model; 401/403 -> ban (AUTO_BAN) or cool the key down; no
 * access to a model -> skip the key for that model; 5xx / network -> nobody's fault.
 * AUTO_BAN: with it on, an upstream status listed in AUTO_BAN_ERROR_CODES bans the key, whatever
 * its class, with two exceptions that no list can override: the client's own bad request and a
 * key's missing access to one model (skipped for that model) never ban.
 */
import type { Logger } from '../../core/log.ts'
import { maskKey } from '../../core/secrets.ts'
import type { Blocks } from './blocks.ts'
import type { KeyList } from './key-list.ts'
import { type KeyChoice, type KeyGate, type KeyPoolOptions, type KeyRecord, type KeyStatus, type Lease, type Outcome, iso } from './pool-types.ts'
import {
	coolDown,
	deny,
	hasLimitHeaders,
	observe,
	observeUnlimited,
	readLimitHeaders,
	refund,
	releaseProbe,
	type WindowRecord,
	windowId,
} from './rate-window.ts'
import type { WindowStore } from './window-store.ts'

export interface LearningDeps {
	keys: KeyList
	windows: WindowStore
	blocks: Blocks
	log: Logger
	now: () => number
	options: KeyPoolOptions
	/** The operator action that bans a key (auto-ban). */
	setStatus(id: string, status: KeyStatus, reason: string | null): Promise<unknown>
}

export class Learning {
	constructor(private readonly deps: LearningDeps) {}

	/** The handle a request holds while its attempt runs; settling it teaches the pool. */
	lease(record: KeyRecord, model: string, probe: boolean, gate: KeyGate | undefined, choice: KeyChoice): Lease {
		let settled = false
		return {
			keyId: record.id,
			choice,
			key: record.key,
			masked: maskKey(record.key),
			model,
			probe,
			settle: async (outcome) => {
				if (settled) return
				settled = true
				try {
					// Only successful requests spend the daily quota.
					if (gate && outcome.kind !== 'success') await gate.release(record.id, model)
					await this.settle(record, model, outcome, probe)
				} finally {
					this.deps.blocks.wake()
				}
			},
		}
	}

	private async settle(record: KeyRecord, model: string, outcome: Outcome, probe: boolean): Promise<void> {
		const { windows, blocks, log, options } = this.deps
		const now = this.deps.now()
		const wid = windowId(record.id, model)
		const update = (fn: (w: WindowRecord) => void) => windows.change(record.id, model, fn)
		switch (outcome.kind) {
			case 'success': {
				const limits = readLimitHeaders(outcome.headers, now)
				// Nobody waits for a success's correction, except for a probe's (others wait for its limit).
				const w = await windows.change(record.id, model, (w) => (hasLimitHeaders(limits) ? observe(w, limits, now) : observeUnlimited(w)), !probe)
				this.noteBlocked(wid, w, now)
				return
			}
			case 'rate-limit': {
				await windows.dropLease(record.id, model)
				const limits = readLimitHeaders(outcome.headers, now)
				let until = now
				await update((w) => {
					until = coolDown(w, limits, now, `rate limited upstream: ${outcome.message}`)
				})
				blocks.set(wid, { until, why: 'window', reason: null })
				log.info({ key: maskKey(record.key), model, until: iso(until) }, 'key cooling down after upstream rate limit')
				await this.autoBan(record, outcome.status, outcome.message)
				return
			}
			case 'no-model-access': {
				await windows.dropLease(record.id, model)
				const deniedMs = options.deniedMs ?? 3_600_000
				await update((w) => deny(w, now, deniedMs, outcome.message))
				blocks.set(wid, { until: now + deniedMs, why: 'denied', reason: outcome.message })
				log.warn({ key: maskKey(record.key), model }, 'key has no access to this model; skipping it for this model')
				return
			}
			case 'key': {
				await windows.dropLease(record.id, model)
				await update((w) => refund(w))
				const banned = await this.autoBan(record, outcome.status, outcome.message)
				if (!banned) {
					await this.coolKey(record.id, now + (options.authCooldownMs ?? 60_000), `HTTP ${outcome.status} from upstream: ${outcome.message}`)
					log.warn({ key: maskKey(record.key), status: outcome.status, banned }, 'key cooling down after auth failure')
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
		const { options, log } = this.deps
		if (!options.autoBan || status === undefined || !options.autoBanCodes.includes(status)) return false
		await this.deps.setStatus(record.id, 'banned', `auto-ban: HTTP ${status} from upstream: ${message}`)
		log.warn({ key: maskKey(record.key), status, banned: true }, 'key banned')
		return true
	}

	private noteBlocked(wid: string, w: WindowRecord | null, now: number): void {
		if (w && w.remaining !== null && w.remaining <= 0 && w.resetAt !== null && w.resetAt > now)
			this.deps.blocks.set(wid, { until: w.resetAt, why: 'window', reason: null })
		else this.deps.blocks.delete(wid)
	}

	private async coolKey(id: string, until: number, reason: string): Promise<void> {
		await this.deps.keys.update(id, (k) => ({ ...k, cooldownUntil: until, reason }))
		await this.deps.keys.reload()
	}
}
