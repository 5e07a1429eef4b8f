/** The usage counters of one group, and what the report derives from them (cost in USD). Pure. */
import type { Counters } from '../../core/storage.ts'

export const USAGE_FIELDS = [
	'requests',
	'successes',
	'failures_rate_limited',
	'failures_upstream',
	'failures_client',
	'aborted',
	'prompt_tokens',
	'completion_tokens',
	'cached_tokens',
	'cache_write_tokens',
	'cache_write_1h_tokens',
	'attempts',
	'cost_nusd',
	'unpriced_requests',
	// Transcriptions: seconds of audio, their cost where the model has a price, and the seconds without one.
	'audio_seconds',
	'audio_cost_micro_usd',
	'audio_seconds_unpriced',
	// Upstream attempts that failed (a request retried on another key counts each).
	'failed_attempts',
] as const

export type UsageField = (typeof USAGE_FIELDS)[number]
export type UsageCounts = Record<UsageField, number>

/** The key bucket of requests that no key answered. */
export const NO_KEY = '-'

export const emptyCounts = (): UsageCounts => Object.fromEntries(USAGE_FIELDS.map((f) => [f, 0])) as UsageCounts

export function addInto(target: UsageCounts, source: Partial<Counters>): UsageCounts {
	for (const field of USAGE_FIELDS) target[field] += source[field] ?? 0
	return target
}

/** USD from the nano-USD counter; null when nothing was priced and some requests were unpriced (never $0). */
export function costUsd(counts: UsageCounts): number | null {
	return counts.cost_nusd === 0 && counts.unpriced_requests > 0 ? null : counts.cost_nusd / 1e9
}

/** One export row; `key` and `client` are ids, NO_KEY when none. */
export interface UsageRow {
	day: string
	key: string
	client: string
	model: string
	counts: UsageCounts
}
