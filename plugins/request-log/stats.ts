/**
 * The figures the overview and the performance page are drawn from, computed from request-log
 * rows. Pure: rows in, JSON-ready numbers out.
 */
import type { LogRow } from '../../core/storage.ts'
import { ERROR_CLASSES, type ErrorClass } from './row.ts'

/** The value at quantile `q` (0..1) of sorted numbers (nearest rank); null when there are none. */
export function quantile(sorted: readonly number[], q: number): number | null {
	if (!sorted.length) return null
	const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
	return sorted[rank] as number
}

function numbers(rows: readonly LogRow[], pick: (row: LogRow) => unknown): number[] {
	const out: number[] = []
	for (const row of rows) {
		const value = pick(row)
		if (typeof value === 'number' && Number.isFinite(value)) out.push(value)
	}
	return out.sort((a, b) => a - b)
}

const num = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0)
const ok = (row: LogRow): boolean => typeof row.status === 'number' && row.status < 400

/** Output tokens per second after the first token (the whole answer when there was no first token). */
export function outputRate(row: LogRow): number | null {
	const tokens = num(row.completion_tokens)
	const total = num(row.total_ms)
	const start = typeof row.ttft_ms === 'number' ? row.ttft_ms : 0
	const seconds = (total - start) / 1000
	if (!ok(row) || tokens <= 0 || seconds <= 0) return null
	return Math.round((tokens / seconds) * 10) / 10
}

export interface Overview {
	from: number
	requests: number
	succeeded: number
	/** 0..1; null without requests. */
	success_rate: number | null
	errors: Record<ErrorClass, number>
	tokens: { prompt: number; completion: number; cached: number; cache_write: number; reasoning: number }
	spend: { usd: number; priced: number; unpriced: number }
	/** Prompt tokens read from the provider's cache, 0..1; null without prompt tokens. */
	cache_read_share: number | null
	latency_ms: { p50: number | null; p95: number | null }
	ttft_ms: { p50: number | null; p95: number | null }
	/** Requests per minute over the last hour, oldest first (60 buckets ending at `now`). */
	per_minute: { start: number; requests: number; errors: number }[]
	/** True when the rows read hit the read limit (the figures cover the newest ones only). */
	truncated: boolean
}

/** Today's figures from today's rows, and the last hour's per-minute counts from the last hour's rows. */
export function overview(today: readonly LogRow[], lastHour: readonly LogRow[], from: number, now: number, truncated: boolean): Overview {
	const errors = Object.fromEntries(ERROR_CLASSES.map((c) => [c, 0])) as Record<ErrorClass, number>
	const tokens = { prompt: 0, completion: 0, cached: 0, cache_write: 0, reasoning: 0 }
	const spend = { usd: 0, priced: 0, unpriced: 0 }
	let succeeded = 0
	for (const row of today) {
		if (ok(row)) succeeded++
		else if (typeof row.error_class === 'string' && row.error_class in errors) errors[row.error_class as ErrorClass]++
		tokens.prompt += num(row.prompt_tokens)
		tokens.completion += num(row.completion_tokens)
		tokens.cached += num(row.cached_tokens)
		tokens.cache_write += num(row.cache_write_tokens)
		tokens.reasoning += num(row.reasoning_tokens)
		if (typeof row.cost_usd === 'number') {
			spend.usd += row.cost_usd
			spend.priced++
		} else if (typeof row.prompt_tokens === 'number') spend.unpriced++
	}
	spend.usd = Math.round(spend.usd * 1e6) / 1e6
	const latency = numbers(today, (row) => (ok(row) ? row.total_ms : null))
	const ttft = numbers(today, (row) => (ok(row) ? row.ttft_ms : null))
	const minute = 60_000
	const firstBucket = Math.floor(now / minute) * minute - 59 * minute
	const perMinute = Array.from({ length: 60 }, (_, i) => ({ start: firstBucket + i * minute, requests: 0, errors: 0 }))
	for (const row of lastHour) {
		const bucket = perMinute[Math.floor((row.at - firstBucket) / minute)]
		if (!bucket) continue
		bucket.requests++
		if (!ok(row)) bucket.errors++
	}
	return {
		from,
		requests: today.length,
		succeeded,
		success_rate: today.length ? Math.round((succeeded / today.length) * 10_000) / 10_000 : null,
		errors,
		tokens,
		spend,
		cache_read_share: tokens.prompt ? Math.round((tokens.cached / tokens.prompt) * 10_000) / 10_000 : null,
		latency_ms: { p50: quantile(latency, 0.5), p95: quantile(latency, 0.95) },
		ttft_ms: { p50: quantile(ttft, 0.5), p95: quantile(ttft, 0.95) },
		per_minute: perMinute,
		truncated,
	}
}

export interface Spread {
	p50: number | null
	p95: number | null
	p99: number | null
}

export interface ModelPerformance {
	model: string
	requests: number
	errors: number
	latency_ms: Spread
	ttfb_ms: Spread
	ttft_ms: Spread
	output_tokens_per_second: Spread
}

function spread(sorted: readonly number[]): Spread {
	return { p50: quantile(sorted, 0.5), p95: quantile(sorted, 0.95), p99: quantile(sorted, 0.99) }
}

/** Per model (the one that answered, else the one asked): p50/p95/p99 of latency, TTFB, TTFT and output rate of successful requests. */
export function performance(rows: readonly LogRow[]): ModelPerformance[] {
	const byModel = new Map<string, LogRow[]>()
	for (const row of rows) {
		const model = String(row.model_answered ?? row.model ?? '')
		let list = byModel.get(model)
		if (!list) byModel.set(model, (list = []))
		list.push(row)
	}
	return [...byModel.entries()]
		.map(([model, list]) => {
			const good = list.filter(ok)
			return {
				model,
				requests: list.length,
				errors: list.length - good.length,
				latency_ms: spread(numbers(good, (row) => row.total_ms)),
				ttfb_ms: spread(numbers(good, (row) => row.ttfb_ms)),
				ttft_ms: spread(numbers(good, (row) => row.ttft_ms)),
				output_tokens_per_second: spread(numbers(good, outputRate)),
			}
		})
		.sort((a, b) => b.requests - a.requests || (a.model < b.model ? -1 : 1))
}
