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

export class GatewayError extends Error {
	readonly status: number = 500
	readonly type: OpenAIErrorType = 'api_error'
	readonly code: string | null = null
	readonly param: string | null = null
	/** Extra response headers (Retry-After on 429). */
	readonly headers: Record<string, string> = {}
	/** Extra fields inside `error` (e.g. the upstream request_id). */
	readonly extra: Record<string, unknown> = {}

	toJSON(): OpenAIErrorBody {
		return { error: { message: this.message, type: this.type, param: this.param, code: this.code, ...this.extra } }
	}

	/**
	 * `scrub` removes secrets from every client-facing string (the log's SecretRegistry): upstream
	 * text can quote a key, and the client must never see one.
	 */
	toResponse(scrub?: (text: string) => string): Response {
		const body = this.toJSON()
		if (scrub) {
			for (const [field, value] of Object.entries(body.error)) if (typeof value === 'string') body.error[field] = scrub(value)
		}
		return new Response(JSON.stringify(body), {
			status: this.status,
			headers: { 'content-type': 'application/json', ...this.headers },
		})
	}
}

/** 400: the client's own request is wrong. `param` names the offending field. */
export class BadRequestError extends GatewayError {
	override readonly status = 400
	override readonly type = 'invalid_request_error'
	override readonly param: string | null
	override readonly code: string | null
	constructor(message: string, param: string | null = null, code: string | null = null, extra: Record<string, unknown> = {}) {
		super(message)
		this.param = param
		this.code = code
		Object.assign(this.extra, extra)
	}
}

/** 413: the request body is larger than MAX_BODY_SIZE. */
export class PayloadTooLargeError extends GatewayError {
	override readonly status = 413
	override readonly type = 'invalid_request_error'
	override readonly code = 'body_too_large'
	constructor(maxBytes: number) {
		super(`Request body is larger than ${formatBytes(maxBytes)} (MAX_BODY_SIZE).`)
	}
}

function formatBytes(bytes: number): string {
	return bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0 ? `${bytes / 1024 / 1024} MB` : bytes >= 1024 && bytes % 1024 === 0 ? `${bytes / 1024} KB` : `${bytes} bytes`
}

/** 401: missing or wrong credentials. */
export class AuthenticationError extends GatewayError {
	override readonly status = 401
	override readonly type = 'authentication_error'
	override readonly code: string
	constructor(message = 'Invalid or missing API key. Send it as "Authorization: Bearer <key>".', code = 'invalid_api_key') {
		super(message)
		this.code = code
	}
}

/** 403: the credentials are known but may not do this (disabled client key, model not allowed). */
export class PermissionError extends GatewayError {
	override readonly status = 403
	override readonly type = 'permission_error'
	override readonly code: string
	constructor(message: string, code: string) {
		super(message)
		this.code = code
	}
}

export class NotFoundError extends GatewayError {
	override readonly status = 404
	override readonly type = 'not_found_error'
	override readonly code: string
	constructor(message: string, code = 'not_found', extra: Record<string, unknown> = {}) {
		super(message)
		this.code = code
		Object.assign(this.extra, extra)
	}
}

/** 429: no key has headroom (or a quota is spent). `retryAfterSeconds` becomes the Retry-After header. */
export class RateLimitError extends GatewayError {
	override readonly status = 429
	override readonly type = 'rate_limit_error'
	override readonly code: string
	constructor(message: string, retryAfterSeconds: number | null, code = 'rate_limit_exceeded', extra: Record<string, unknown> = {}) {
		super(message)
		this.code = code
		if (retryAfterSeconds !== null) this.headers['retry-after'] = String(Math.max(1, Math.ceil(retryAfterSeconds)))
		Object.assign(this.extra, extra)
	}
}

/** 502: the upstream failed (5xx, broken answer, network error) and retries did not help. */
export class UpstreamError extends GatewayError {
	override readonly status: number
	override readonly type = 'api_error'
	override readonly code: string
	constructor(message: string, status = 502, code = 'upstream_error', extra: Record<string, unknown> = {}) {
		super(message)
		this.status = status
		this.code = code
		Object.assign(this.extra, extra)
	}
}

/** 504: the upstream did not answer in time. */
export class UpstreamTimeoutError extends GatewayError {
	override readonly status = 504
	override readonly type = 'timeout_error'
	override readonly code = 'upstream_timeout'
}

/** 503: the gateway cannot serve at all (no upstream key configured, all keys disabled), or is at its concurrency limit. */
export class ServiceUnavailableError extends GatewayError {
	override readonly status = 503
	override readonly type = 'service_unavailable'
	override readonly code: string
	constructor(message: string, code: string, retryAfterSeconds: number | null = null) {
		super(message)
		this.code = code
		if (retryAfterSeconds !== null) this.headers['retry-after'] = String(Math.max(1, Math.ceil(retryAfterSeconds)))
	}
}

/** 500: a bug in amb2api. The message is generic on purpose; details go to the log. */
export class InternalError extends GatewayError {
	override readonly status = 500
	override readonly type = 'server_error'
	override readonly code = 'internal_error'
	constructor(message = 'Internal error in amb2api; see the gateway log.') {
		super(message)
	}
}
