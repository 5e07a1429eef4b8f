/**
 * A finished trace as a request-log row: flat fields only, bodies never. Runs when the writer
 * flushes, off the request's path. Pure.
 */
import type { LogRow } from '../../core/storage.ts'
import type { TracedUsage } from '../chat-core/call-trace.ts'
import type { Trace } from './trace.ts'

/** Why a request failed, as the overview counts errors. */
export type ErrorClass = 'client' | 'upstream' | 'rate-limited' | 'gateway'
export const ERROR_CLASSES: readonly ErrorClass[] = ['client', 'upstream', 'rate-limited', 'gateway']

/** The columns of a row, in the order the CSV export writes them. */
export const COLUMNS = [
	'id',
	'at',
	'time',
	'request_id',
	'dialect',
	'stream',
	'client',
	'model',
	'model_answered',
	'key',
	'attempts',
	'key_reason',
	'status',
	'error_class',
	'error_code',
	'admission_ms',
	'upstream_ms',
	'ttfb_ms',
	'ttft_ms',
	'total_ms',
	'prompt_tokens',
	'completion_tokens',
	'cached_tokens',
	'cache_write_tokens',
	'reasoning_tokens',
	'cost_usd',
] as const

/** The API dialect from the request's path (and the OpenAI route's body format). */
export function dialectOf(url: string, format: string | undefined): string {
	const path = url.slice(url.indexOf('/', url.indexOf('//') + 2)).split('?')[0] ?? ''
	if (path.endsWith('/messages')) return 'anthropic'
	if (path.endsWith('/responses')) return 'responses'
	if (format === 'gemini') return 'gemini'
	return 'openai'
}

/** The class of a failure: the upstream client's own class when it gave one, else the status. */
export function errorClassOf(status: number, failure: string | null): ErrorClass | null {
	if (status < 400) return null
	switch (failure) {
		case 'client':
		case 'aborted':
			return 'client'
		case 'rate-limit':
			return 'rate-limited'
		case 'key':
		case 'no-model-access':
		case 'transient':
			return 'upstream'
		case 'no-key':
			return 'gateway'
	}
	if (status === 429) return 'rate-limited'
	if (status < 500) return 'client'
	if (status === 502 || status === 504) return 'upstream'
	return 'gateway'
}

function count(value: unknown): number {
	return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.round(value) : 0
}

/** Usage of several upstream calls as one (for the price and the token columns). */
export function sumUsage(all: readonly TracedUsage[]): TracedUsage | null {
	if (!all.length) return null
	if (all.length === 1) return all[0] as TracedUsage
	let prompt = 0
	let completion = 0
	let cached = 0
	let written = 0
	let reasoning = 0
	for (const u of all) {
		prompt += count(u.prompt_tokens)
		completion += count(u.completion_tokens)
		cached += count(u.prompt_tokens_details?.cached_tokens)
		written += count(u.prompt_tokens_details?.cache_write_tokens)
		reasoning += count(u.completion_tokens_details?.reasoning_tokens)
	}
	return {
		prompt_tokens: prompt,
		completion_tokens: completion,
		prompt_tokens_details: { cached_tokens: cached, cache_write_tokens: written },
		completion_tokens_details: { reasoning_tokens: reasoning },
	}
}

/** Status, class and code: from the error thrown, the stream's end, or the upstream's last word. */
function outcome(trace: Trace): { status: number; errorClass: ErrorClass | null; code: string | null } {
	const failure = trace.upstream?.failure ?? null
	if (trace.error !== undefined) {
		const err = trace.error as { status?: unknown; code?: unknown; type?: unknown }
		const status = typeof err.status === 'number' ? err.status : 500
		const code = typeof err.code === 'string' ? err.code : typeof err.type === 'string' ? err.type : null
		return { status, errorClass: errorClassOf(status, status === 499 ? 'aborted' : failure), code }
	}
	// A client that left mid-stream: whatever the upstream call then reported follows from that.
	if (trace.streamEnd === 'cancelled') return { status: 499, errorClass: 'client', code: 'client_closed' }
	if (trace.upstream && failure !== null && failure !== 'aborted') {
		return { status: trace.upstream.status, errorClass: errorClassOf(trace.upstream.status, failure), code: failure }
	}
	if (trace.streamEnd === 'errored' || failure === 'aborted') return { status: 502, errorClass: 'upstream', code: 'stream_broken' }
	return { status: 200, errorClass: null, code: null }
}

/**
 * The sum of what each upstream call was charged when it ended (the pricing service's cost at the
 * tier it paid, the same figure the spend counters add); null when any call was unpriced.
 */
export function costOf(costs: readonly (number | null)[]): number | null {
	if (!costs.length) return null
	let usd = 0
	for (const cost of costs) {
		if (cost === null) return null
		usd += cost
	}
	return usd
}

const ms = (value: number | undefined): number | null => (value === undefined ? null : Math.round(value))

export function toRow(trace: Trace, id: string): LogRow {
	const { status, errorClass, code } = outcome(trace)
	const usage = sumUsage(trace.usage)
	const answered = trace.upstreamModel ?? trace.modelAnswered
	const cost = costOf(trace.costs)
	// A completion's first byte and first token are when it was handed over.
	const ttfb = trace.stream && trace.streamEnd !== null ? trace.firstByteMs : trace.answeredMs !== undefined ? trace.endMs : undefined
	const ttft = trace.stream && trace.streamEnd !== null ? trace.firstTokenMs : usage && count(usage.completion_tokens) > 0 ? trace.endMs : undefined
	return {
		id,
		at: trace.at,
		request_id: trace.requestId,
		dialect: dialectOf(trace.url, trace.format),
		stream: trace.stream,
		client: trace.client,
		model: trace.model,
		model_answered: answered,
		key: trace.key,
		attempts: trace.attempts,
		key_reason: trace.keyReason,
		status,
		error_class: errorClass,
		error_code: code,
		admission_ms: ms(trace.admittedMs),
		upstream_ms: ms(trace.answeredMs),
		ttfb_ms: ms(ttfb),
		ttft_ms: ms(ttft),
		total_ms: ms(trace.endMs),
		prompt_tokens: usage ? count(usage.prompt_tokens) : null,
		completion_tokens: usage ? count(usage.completion_tokens) : null,
		cached_tokens: usage ? count(usage.prompt_tokens_details?.cached_tokens) : null,
		cache_write_tokens: usage ? count(usage.prompt_tokens_details?.cache_write_tokens) : null,
		reasoning_tokens: usage ? count(usage.completion_tokens_details?.reasoning_tokens) : null,
		cost_usd: cost,
	}
}
