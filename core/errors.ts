/**
 * The error catalogue. Every error a client can see is one of these classes: each knows its
 * HTTP status and renders the OpenAI error JSON `{"error":{"message","type","param","code"}}`.
 * Routes throw them; the one error plugin in the kernel turns them into responses.
 */

export type OpenAIErrorType =
	| 'invalid_request_error'
	| 'authentication_error'
	| 'permission_error'
	| 'not_found_error'
	| 'rate_limit_error'
	| 'api_error'
	| 'server_error'
	| 'timeout_error'
	| 'service_unavailable'

export interface OpenAIErrorBody {
	error: { message: string; type: OpenAIErrorType; param: string | null; code: string | null } & Record<string, unknown>
}

/** What one catalogue entry sets; everything but the message has the entry's default. */
export interface ErrorInit {
	message: string
	status?: number
	code?: string | null
	param?: string | null
	/** Extra fields inside `error` (e.g. the upstream request_id). */
	extra?: Record<string, unknown>
	/** Extra response headers (Retry-After on 429). */
	headers?: Record<string, string>
}

export class GatewayError extends Error {
	readonly status: number = 500
	readonly type: OpenAIErrorType = 'api_error'
	readonly code: string | null = null
	readonly param: string | null = null
	readonly headers: Record<string, string> = {}
	readonly extra: Record<string, unknown> = {}

	constructor(message: string, defaults?: { status: number; type: OpenAIErrorType }, init: Omit<ErrorInit, 'message'> = {}) {
		super(message)
		if (defaults) {
			this.status = init.status ?? defaults.status
			this.type = defaults.type
		}
		this.code = init.code ?? null
		this.param = init.param ?? null
		Object.assign(this.headers, init.headers)
		Object.assign(this.extra, init.extra)
	}

	toJSON(): OpenAIErrorBody {
		return { error: { message: this.message, type: this.type, param: this.param, code: this.code, ...this.extra } }
	}

	/**
	 * The error answer. `requestId` (the gateway's x-request-id) is added inside `error` as
	 * `request_id`; `scrub` removes secrets from every client-facing string (the log's
	 * SecretRegistry): upstream text can quote a key, and the client must never see one.
	 */
	toResponse(requestId?: string, scrub?: (text: string) => string): Response {
		const body = this.toJSON()
		if (scrub) {
			for (const [field, value] of Object.entries(body.error)) if (typeof value === 'string') body.error[field] = scrub(value)
		}
		const headers: Record<string, string> = { 'content-type': 'application/json', ...this.headers }
		if (requestId !== undefined) {
			body.error.request_id = requestId
			headers['x-request-id'] = requestId
		}
		return new Response(JSON.stringify(body), { status: this.status, headers })
	}
}

/**
 * One catalogue entry -> one error class: its status, its OpenAI type, and how its constructor's
 * arguments (kept as callers know them) map to message, code, param and headers.
 */
function defineError<A extends unknown[]>(name: string, status: number, type: OpenAIErrorType, init: (...args: A) => ErrorInit) {
	const ErrorClass = class extends GatewayError {
		constructor(...args: A) {
			const { message, ...rest } = init(...args)
			super(message, { status, type }, rest)
		}
	}
	Object.defineProperty(ErrorClass, 'name', { value: name })
	return ErrorClass
}

const retryAfter = (seconds: number | null): Record<string, string> => (seconds === null ? {} : { 'retry-after': String(Math.max(1, Math.ceil(seconds))) })

// The catalogue: every error a client can see.

/** 400: the client's own request is wrong. `param` names the offending field. */
export const BadRequestError = defineError(
	'BadRequestError',
	400,
	'invalid_request_error',
	(message: string, param: string | null = null, code: string | null = null, extra: Record<string, unknown> = {}) => ({ message, param, code, extra }),
)
/** 413: the request body is larger than MAX_BODY_SIZE. */
export const PayloadTooLargeError = defineError('PayloadTooLargeError', 413, 'invalid_request_error', (maxBytes: number) => ({
	message: `Request body is larger than ${formatBytes(maxBytes)} (MAX_BODY_SIZE).`,
	code: 'body_too_large',
}))

function formatBytes(bytes: number): string {
	return bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0
		? `${bytes / 1024 / 1024} MB`
		: bytes >= 1024 && bytes % 1024 === 0
			? `${bytes / 1024} KB`
			: `${bytes} bytes`
}
/** 401: missing or wrong credentials. */
export const AuthenticationError = defineError(
	'AuthenticationError',
	401,
	'authentication_error',
	(message: string = 'Invalid or missing API key. Send it as "Authorization: Bearer <key>".', code: string = 'invalid_api_key') => ({ message, code }),
)
/** 403: the credentials are known but may not do this (disabled client key, model not allowed). */
export const PermissionError = defineError('PermissionError', 403, 'permission_error', (message: string, code: string) => ({ message, code }))
/** 404: no such thing (no key has access to the model, an unknown id). */
export const NotFoundError = defineError(
	'NotFoundError',
	404,
	'not_found_error',
	(message: string, code: string = 'not_found', extra: Record<string, unknown> = {}) => ({
		message,
		code,
		extra,
	}),
)
/** 429: no key has headroom (or a quota is spent). `retryAfterSeconds` becomes the Retry-After header. */
export const RateLimitError = defineError(
	'RateLimitError',
	429,
	'rate_limit_error',
	(message: string, retryAfterSeconds: number | null, code: string = 'rate_limit_exceeded', extra: Record<string, unknown> = {}) => ({
		message,
		code,
		extra,
		headers: retryAfter(retryAfterSeconds),
	}),
)
/** 502: the upstream failed (5xx, broken answer, network error) and retries did not help. */
export const UpstreamError = defineError(
	'UpstreamError',
	502,
	'api_error',
	(message: string, status: number = 502, code: string = 'upstream_error', extra: Record<string, unknown> = {}) => ({
		message,
		status,
		code,
		extra,
	}),
)
/** 504: the upstream did not answer in time. */
export const UpstreamTimeoutError = defineError('UpstreamTimeoutError', 504, 'timeout_error', (message: string) => ({ message, code: 'upstream_timeout' }))
/** 503: the gateway cannot serve at all (no upstream key configured, all keys disabled), or is at its concurrency limit. */
export const ServiceUnavailableError = defineError(
	'ServiceUnavailableError',
	503,
	'service_unavailable',
	(message: string, code: string, retryAfterSeconds: number | null = null) => ({ message, code, headers: retryAfter(retryAfterSeconds) }),
)
/** 503 with Retry-After: shared state is too contended or slow to answer in time; nothing was sent upstream. */
export const StorageBusyError = defineError('StorageBusyError', 503, 'service_unavailable', (message: string, retryAfterSeconds: number) => ({
	message,
	code: 'storage_busy',
	headers: retryAfter(retryAfterSeconds),
}))
/** 500: a bug in amb2api. The message is generic on purpose; details go to the log. */
export const InternalError = defineError('InternalError', 500, 'server_error', (message: string = 'Internal error in amb2api; see the gateway log.') => ({
	message,
	code: 'internal_error',
}))

export type BadRequestError = InstanceType<typeof BadRequestError>
export type AuthenticationError = InstanceType<typeof AuthenticationError>
export type PermissionError = InstanceType<typeof PermissionError>
export type NotFoundError = InstanceType<typeof NotFoundError>
export type RateLimitError = InstanceType<typeof RateLimitError>
export type StorageBusyError = InstanceType<typeof StorageBusyError>
export type UpstreamError = InstanceType<typeof UpstreamError>
export type UpstreamTimeoutError = InstanceType<typeof UpstreamTimeoutError>
export type ServiceUnavailableError = InstanceType<typeof ServiceUnavailableError>
export type InternalError = InstanceType<typeof InternalError>
export type PayloadTooLargeError = InstanceType<typeof PayloadTooLargeError>
