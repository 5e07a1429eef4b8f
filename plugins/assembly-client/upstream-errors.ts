/**
 * Understanding gateway failures (docs/upstream-api.md §6): read the message out of any of its
 * envelopes, classify the failure by status first (text only for the known cases), and turn
 * it into the OpenAI-shaped error the client sees.
 */

import { BadRequestError, type GatewayError, NotFoundError, RateLimitError, UpstreamError, UpstreamTimeoutError } from '../../core/errors.ts'
import { isObject, str } from '../../core/json.ts'

export interface UpstreamErrorInfo {
	message: string
	requestId: string | null
	errors: string[]
}

export type FailureClass = 'client' | 'key' | 'no-model-access' | 'rate-limit' | 'transient'

/** Long enough for any gateway message; cuts HTML error pages of proxies in front of it. */
const MAX_MESSAGE = 1000

/**
 * Envelopes: A `{"error":"text"}`, B `{"code","message","metadata":{"errors":[…]}}`,
 * C `{"error":{"message","metadata"}}`, D `{"message"}`, or plain text.
 */
export function readUpstreamError(status: number, bodyText: string): UpstreamErrorInfo {
	let parsed: unknown
	try {
		parsed = JSON.parse(bodyText)
	} catch {
		parsed = undefined
	}
	if (!isObject(parsed)) {
		const text = clean(bodyText)
		return { message: text || `HTTP ${status} with an empty body`, requestId: null, errors: [] }
	}

	const inner = isObject(parsed.error) ? parsed.error : null
	const main = typeof parsed.error === 'string' ? parsed.error : (str(inner?.message) ?? str(parsed.message) ?? str(parsed.detail) ?? str(inner?.type) ?? '')
	const errors = [...listErrors(parsed.metadata), ...listErrors(inner?.metadata)].map((e) => clean(e)).filter((e) => e !== '')
	const requestId = str(parsed.request_id) ?? str(inner?.request_id) ?? null

	const base = clean(main)
	// Metadata errors are the useful part of "invalid request body"; skip those the main text already says.
	const extra = errors.filter((e) => !base.includes(e))
	let message = base
	if (extra.length > 0) message = base ? `${base}: ${extra.join('; ')}` : extra.join('; ')
	if (message === '') message = clean(bodyText) || `HTTP ${status} with an empty body`
	return { message, requestId, errors }
}

const RATE_LIMIT_TEXT = /rate[ _-]?limit|quota exceeded|too many requests/
/** Known validation texts of §6.2: a client's input, never a rate limit even with a `remaining: 0` header. */
const VALIDATION_TEXT =
	/one of messages or prompt required|is not supported|does not support|context limit exceeded|model_region can only be set|fallback_config depth|response_format is invalid|transcript not found|transcript deleted/

/** Status first; message text only for the gateway's known cases. A client's bad input is never `key`. */
export function classifyFailure(status: number, info: { message: string; errors: string[] }, headers: Headers): FailureClass {
	if (status === 429) return 'rate-limit'
	if (status === 401 || status === 403) return 'key'
	if (status === 408 || status >= 500) return 'transient'
	if (status !== 400) return status >= 400 && status < 500 ? 'client' : 'transient'

	const text = `${info.message}\n${info.errors.join('\n')}`.toLowerCase()
	if (RATE_LIMIT_TEXT.test(text)) return 'rate-limit'
	if (text.includes('does not have access to this llm gateway model')) return 'no-model-access'
	if (text.includes('does not have access to llm gateway')) return 'key'
	if (VALIDATION_TEXT.test(text)) return 'client'
	if (headers.get('x-ratelimit-remaining')?.trim() === '0') return 'rate-limit'
	return 'client'
}

/**
 * The error the client gets when this failure is final. `retryAfterSeconds` (from the key
 * pool: the earliest moment a key frees up) becomes Retry-After on a rate limit.
 */
export function toClientError(status: number, info: UpstreamErrorInfo, cls: FailureClass, retryAfterSeconds: number | null = null): GatewayError {
	const extra: Record<string, unknown> = info.requestId ? { upstream_request_id: info.requestId } : {}
	const message = redact(info.message)
	switch (cls) {
		case 'client':
			if (status === 404) return new NotFoundError(message, 'upstream_not_found', extra)
			return new BadRequestError(
				status === 400 ? message : `Upstream rejected the request (HTTP ${status}): ${message}`,
				paramOf(info),
				'upstream_invalid_request',
				extra,
			)
		case 'rate-limit':
			return new RateLimitError(`Upstream rate limit reached (HTTP ${status}): ${message}`, retryAfterSeconds, 'rate_limit_exceeded', extra)
		case 'no-model-access':
			// OpenAI answers a model the account may not use with 404 model_not_found.
			return new NotFoundError(`No configured AssemblyAI key has access to this model: ${message}`, 'model_not_found', extra)
		case 'key':
			// Not 401: that would tell the client its own credentials are wrong. The upstream keys are amb2api's business.
			return new UpstreamError(`Upstream rejected amb2api's AssemblyAI key (HTTP ${status}): ${message}`, 502, 'upstream_auth_error', extra)
		case 'transient': {
			if (status === 408 || status === 504) {
				const timeout = new UpstreamTimeoutError(`Upstream timed out (HTTP ${status}): ${message}`)
				Object.assign(timeout.extra, extra)
				return timeout
			}
			const label = status >= 400 ? `HTTP ${status}` : 'invalid answer'
			return new UpstreamError(`Upstream error (${label}): ${message}`, 502, 'upstream_error', extra)
		}
	}
}

/** "model x does not support tools" names the parameter at fault. */
function paramOf(info: UpstreamErrorInfo): string | null {
	for (const text of [...info.errors, info.message]) {
		const match = /does not support ([a-z_]+)/.exec(text)
		if (match) return match[1]!
	}
	return null
}

/** Upstream text is not ours: a key-like token (32+ hex digits, `Bearer …`) is never echoed to a client. */
function redact(text: string): string {
	return text.replace(/\bBearer\s+\S+/gi, 'Bearer [redacted]').replace(/\b[0-9a-f]{32,}\b/gi, '[redacted]')
}

/** One line, no secrets, bounded length (redacted before cutting, so no half key survives). */
function clean(text: string): string {
	// Sliced first so a megabyte HTML page costs nothing; the cut point lies far past what is shown.
	const flat = redact(
		text
			.slice(0, 8 * MAX_MESSAGE)
			.replace(/\s+/g, ' ')
			.trim(),
	)
	return flat.length > MAX_MESSAGE ? `${flat.slice(0, MAX_MESSAGE)}…` : flat
}

function listErrors(metadata: unknown): string[] {
	if (!isObject(metadata) || !Array.isArray(metadata.errors)) return []
	return metadata.errors.map((e) => (typeof e === 'string' ? e : JSON.stringify(e)))
}
