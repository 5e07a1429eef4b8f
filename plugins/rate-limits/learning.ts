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
import type { IncidentGuard } from './incident-guard.ts'
import type { KeyCounts } from './key-counts.ts'
import type { KeyList } from './key-list.ts'
import {
	type Incident,
	type KeyChoice,
	type KeyGate,
	type KeyPoolOptions,
	type KeyRecord,
	type KeyStatus,
	type Lease,
	type Outcome,
	iso,
} from './pool-types.ts'
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
	/** The mass-failure guard: nothing is banned on an incident's evidence. */
	guard: IncidentGuard
	/** Per-key success and failure counts. */
	counts: KeyCounts
	/** The operator action that bans a key (auto-ban). */
	setStatus(id: string, status: KeyStatus, reason: string | null): Promise<unknown>
}

/** How long a key cools down for a failure that is part of an incident: short, the key is not at fault. */
export const INCIDENT_COOLDOWN_MS = 5000

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
		if (outcome.kind === 'success') this.deps.counts.add(record.id, true)
		else if (outcome.kind !== 'aborted' && outcome.kind !== 'client') this.deps.counts.add(record.id, false)
		switch (outcome.kind) {
			case 'success': {
				const ended = this.deps.guard.success()
				if (ended) await this.incidentOver(ended)
				// A key marked failing that answers is fine again (record: as acquired, at most refreshMs old).
				if (record.failing) await this.liftFailing(record.id)
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
				const reason = `HTTP ${outcome.status} from upstream: ${outcome.message}`
				const auth = outcome.status === 401 || outcome.status === 403
				if (auth && (await this.noteFailure('auth', record.id, reason))) {
					// Part of an incident: a short cooldown, no ban, no failing mark.
					await this.coolKey(record.id, now + INCIDENT_COOLDOWN_MS, `upstream incident: ${reason}`)
					return
				}
				const banned = await this.autoBan(record, outcome.status, outcome.message)
				if (!banned) {
					await this.coolKey(record.id, now + (options.authCooldownMs ?? 60_000), reason, auth ? { since: now, reason } : undefined)
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
				if (outcome.unanswered) await this.noteFailure('network', record.id, outcome.message)
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
		// Leased slots still out (this instance's or another's) may come back: not blocked for the window's rest.
		const leasesOut = w !== null && (w.leased ?? 0) > 0 && (w.leasedUntil ?? 0) > now
		if (w && !leasesOut && w.remaining !== null && w.remaining <= 0 && w.resetAt !== null && w.resetAt > now)
			this.deps.blocks.set(wid, { until: w.resetAt, why: 'window', reason: null })
		else this.deps.blocks.delete(wid)
	}

	private async coolKey(id: string, until: number, reason: string, failing?: { since: number; reason: string }): Promise<void> {
		await this.deps.keys.update(id, (k) => ({ ...k, cooldownUntil: until, reason, ...(failing ? { failing: k.failing ?? failing } : {}) }))
		await this.deps.keys.reload()
	}

	private async liftFailing(id: string): Promise<void> {
		await this.deps.keys.update(id, (k) => (k.failing ? { ...k, failing: null } : k))
		await this.deps.keys.reload()
	}

	/**
	 * Tells the guard about a failure; resolves true when it is part of an incident (started now
	 * or under way). An incident that starts now undoes the auto-bans of its own window: those
	 * keys were banned on the same evidence.
	 */
	private async noteFailure(cause: 'auth' | 'network', keyId: string, message: string): Promise<boolean> {
		const { guard, keys, log } = this.deps
		const active = (await keys.fresh()).filter((k) => k.status === 'active').map((k) => k.id)
		const started = guard.failure(cause, keyId, active, message)
		if (started) {
			log.error(
				{ cause, since: iso(started.since), keys: started.keys, message },
				cause === 'auth'
					? 'upstream incident: nearly every key refused with 401/403 at once; banning none of them, re-probing'
					: 'network incident: nearly every key got no answer at once; re-probing',
			)
			if (cause === 'auth') await this.undoBans(started)
		}
		return guard.covers(cause)
	}

	/** Keys auto-banned for 401/403 since the incident began go back into the pool (cooling briefly). */
	private async undoBans(incident: Incident): Promise<void> {
		const { keys, log, now } = this.deps
		const until = now() + INCIDENT_COOLDOWN_MS
		const failed = new Set(this.deps.guard.failedKeys('auth'))
		for (const k of await keys.fresh()) {
			if (k.status !== 'banned' || !failed.has(k.id) || (k.changedAt ?? 0) < incident.since || !/^auto-ban: HTTP 40[13]\b/.test(k.reason ?? '')) continue
			await keys.update(k.id, (cur) =>
				cur.status === 'banned' ? { ...cur, status: 'active', reason: `upstream incident: ${cur.reason}`, changedAt: now(), cooldownUntil: until } : cur,
			)
			log.warn({ key: maskKey(k.key) }, 'auto-ban undone: the key failed as part of an upstream incident')
		}
		await keys.reload()
	}

	/** The upstream answers again: keys cooled down for the incident serve at once. */
	private async incidentOver(incident: Incident): Promise<void> {
		const { keys, log, now } = this.deps
		log.warn({ cause: incident.cause, since: iso(incident.since), lasted_ms: now() - incident.since }, 'incident over: the upstream answers again')
		for (const k of await keys.fresh()) {
			if (k.cooldownUntil === null || !(k.reason ?? '').startsWith('upstream incident: ')) continue
			await keys.update(k.id, (cur) => ({ ...cur, cooldownUntil: null, reason: null }))
		}
		await keys.reload()
		this.deps.blocks.wake()
	}

	/** A key test (or re-probe) answered: what the pool learns from it, as from a request. */
	async learnFromTest(record: KeyRecord, result: { ok: boolean; status: number | null; text: string }): Promise<void> {
		const { options, log, now } = this.deps
		if (result.ok) {
			const ended = this.deps.guard.success()
			if (ended) await this.incidentOver(ended)
			await this.deps.keys.update(record.id, (k) => ({
				...k,
				failing: null,
				...(k.status === 'active' && k.cooldownUntil !== null && !/^HTTP 429\b/.test(k.reason ?? '') ? { cooldownUntil: null, reason: null } : {}),
			}))
			await this.deps.keys.reload()
			this.deps.blocks.wake()
			return
		}
		if (result.status === 401 || result.status === 403) {
			if (await this.noteFailure('auth', record.id, result.text)) return
			if (options.autoBan && options.autoBanCodes.includes(result.status)) {
				await this.deps.setStatus(record.id, 'banned', `auto-ban: HTTP ${result.status} from a key test: ${result.text}`)
				log.warn({ key: maskKey(record.key), status: result.status, banned: true }, 'key banned after a key test')
				return
			}
			const t = now()
			await this.deps.keys.update(record.id, (k) => ({ ...k, failing: k.failing ?? { since: t, reason: `HTTP ${result.status} from a key test` } }))
			await this.deps.keys.reload()
		} else if (result.status === null) await this.noteFailure('network', record.id, result.text)
	}
}
