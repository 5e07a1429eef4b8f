/**
 * Selection and rotation: which key serves a request. Keep the current key for
 * CALLS_PER_ROTATION calls, then move on; move earlier when the current key has no headroom for
 * the model. A key whose window is known to be blocked is skipped without a storage round trip.
 */
import { NotFoundError, RateLimitError, ServiceUnavailableError } from '../../core/errors.ts'
import type { Block, Blocks } from './blocks.ts'
import type { KeyList } from './key-list.ts'
import type { Learning } from './learning.ts'
import { rankByAffinity, Rotation } from './key-ranking.ts'
import { type AcquireOptions, type KeyChoice, type KeyGate, type KeyPoolOptions, type KeyRecord, KeysExhaustedError, type Lease } from './pool-types.ts'
import { windowId } from './rate-window.ts'
import { storageBusy, withinTime } from './storage-busy.ts'
import type { WindowStore } from './window-store.ts'

/** How often a request waiting for other instances' leases looks at the window again. */
const LEASE_RECHECK_MS = 200

export interface SelectionDeps {
	keys: KeyList
	windows: WindowStore
	blocks: Blocks
	learning: Learning
	now: () => number
	options: KeyPoolOptions
	/** The daily quota, when the daily-quota plugin registered one. */
	gate(): KeyGate | undefined
}

/** Throws the 503 a request would end with when no key can serve at all (no upstream call needed). */
export function assertServable(keys: readonly KeyRecord[]): void {
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

export class Selection {
	/** Rotation cursor (per instance: headroom itself is shared and atomic). */
	private readonly rotation: Rotation

	constructor(private readonly deps: SelectionDeps) {
		this.rotation = new Rotation(
			() => deps.options.selection ?? 'round_robin',
			() => deps.options.callsPerRotation,
		)
	}

	/**
	 * A key with headroom for `model`, reserved. Waits for a reset at most `maxWaitMs` away (and
	 * for an in-flight probe); otherwise throws 429 with Retry-After, or 503 when no key can serve.
	 */
	async acquire(model: string, options: AcquireOptions = {}): Promise<Lease> {
		const { blocks, windows } = this.deps
		const exclude = options.exclude ?? new Set<string>()
		const started = this.deps.now()
		for (;;) {
			const current = this.deps.keys.fresh()
			const keys = Array.isArray(current) ? current : await current
			assertServable(keys)
			const enabled = keys.filter((k) => k.status === 'active')
			const now = this.deps.now()
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
				blocks.set(wid, block)
				note(block)
			}
			const affinity = this.deps.options.affinity !== false && options.affinity ? options.affinity : null
			// The key the prefix prefers in the whole pool (disabled and banned keys too): any other that serves is a fallback.
			const preferred = affinity === null ? null : (rankByAffinity(affinity, keys)[0]?.id ?? null)
			const order = affinity === null ? this.rotationOrder(keys, candidates) : rankByAffinity(affinity, candidates).map((k): [number, KeyRecord] => [-1, k])
			for (const [position, record] of order) {
				if (record.cooldownUntil !== null && record.cooldownUntil > now) {
					note({ until: record.cooldownUntil, why: 'window', reason: null })
					continue
				}
				const wid = windowId(record.id, model)
				const known = blocks.get(wid)
				// Slots this instance leased are spent before anything it believes blocks the window.
				if (known !== undefined && known.until > now && !windows.hasLeased(wid, now)) {
					note(known)
					continue
				}
				const result = await windows.reserve(record.id, model, now)
				if (result.granted) {
					const gate = this.deps.gate()
					const quota = gate ? await withinTime(gate.reserve(record.id, model)).catch(storageBusy) : { granted: true as const }
					if (!quota.granted) {
						// Daily quota spent: give the window slot back and leave the key out until the reset.
						await windows.refund(record.id, model)
						remember(wid, { until: quota.until, why: 'quota', reason: quota.reason })
						continue
					}
					blocks.delete(wid)
					if (position >= 0) this.rotation.served(position)
					const choice: KeyChoice = preferred === null ? 'rotation' : record.id === preferred ? 'affinity' : 'fallback'
					return this.deps.learning.lease(record, model, result.probe, gate, choice)
				}
				if (result.why === 'probing') {
					probing = true
					note({ until: result.until, why: 'window', reason: null })
				} else if (result.why === 'leased') {
					// Other instances' leased slots come back within a lease's time: look again shortly.
					remember(wid, { until: Math.min(result.until, now + LEASE_RECHECK_MS), why: 'window', reason: null })
				} else {
					remember(wid, { until: result.until, why: result.why === 'denied' ? 'denied' : 'window', reason: null })
				}
			}

			if (!probing && until.window === Infinity) {
				// Nothing frees up by waiting a little: say which wall every key hit.
				if (until.quota < Infinity) {
					throw new RateLimitError(
						`Every upstream key reached its daily quota for model ${model} (${quotaReason}). Quotas reset at ${new Date(until.quota).toISOString()}.`,
						Math.max(1, (until.quota - this.deps.now()) / 1000),
						'daily_quota_exhausted',
						// next_reset_time: the field the original product's clients read.
						{ reset_at: new Date(until.quota).toISOString(), next_reset_time: new Date(until.quota).toISOString() },
					)
				}
				if (until.denied < Infinity) {
					throw new NotFoundError(`No configured AssemblyAI key has access to model ${model}.`, 'model_not_found')
				}
			}
			const earliest = Math.min(until.window, until.quota, until.denied)
			const waitMs = earliest - this.deps.now()
			const waited = this.deps.now() - started
			if (options.signal?.aborted) throw new KeysExhaustedError('client went away')
			if (probing || waitMs + waited <= this.deps.options.maxWaitMs) {
				// A probe answers within one request's time; a near reset is worth waiting for.
				await blocks.waitForChange(Math.max(1, Math.min(waitMs, probing ? 100 : 250)), options.signal)
				continue
			}
			throw new RateLimitError(
				`Every upstream key has reached its rate limit for model ${model}. Retry after ${new Date(earliest).toISOString()}.`,
				Math.max(1, waitMs / 1000),
				'rate_limit_exceeded',
			)
		}
	}

	/** Candidates in KEY_SELECTION order, with their positions in the whole list. */
	private rotationOrder(all: KeyRecord[], candidates: KeyRecord[]): [number, KeyRecord][] {
		// Usually every key is a candidate: no set to build then.
		const allowed = candidates.length === all.length ? null : new Set(candidates.map((k) => k.id))
		const order: [number, KeyRecord][] = []
		for (const position of this.rotation.order(all.length)) {
			const record = all[position]
			if (record !== undefined && (allowed === null || allowed.has(record.id))) order.push([position, record])
		}
		return order
	}
}
