/**
 * Catalogue errors in Anthropic's envelope, `{"type":"error","error":{"type","message"}}`, with
 * Anthropic's types and statuses. The status and headers (Retry-After on 429) come from the
 * catalogue error; only the rendering differs from the OpenAI routes.
 */
import { GatewayError, InternalError } from '../../core/errors.ts'

export type AnthropicErrorType =
	| 'invalid_request_error'
	| 'authentication_error'
	| 'permission_error'
	| 'not_found_error'
	| 'request_too_large'
	| 'rate_limit_error'
	| 'api_error'
	| 'timeout_error'
	| 'overloaded_error'

/** An OpenAI error type (as the pipeline's stream error frames carry it) -> Anthropic's. */
export function errorTypeFor(openaiType: string): AnthropicErrorType {
	switch (openaiType) {
		case 'invalid_request_error':
		case 'authentication_error':
		case 'permission_error':
		case 'not_found_error':
		case 'rate_limit_error':
		case 'timeout_error':
			return openaiType
		case 'service_unavailable':
			return 'overloaded_error'
		default:
			return 'api_error'
	}
}

/** Anthropic's status for a catalogue status: 503 (no key can serve) is Anthropic's 529 "overloaded". */
function anthropicStatus(error: GatewayError): { status: number; type: AnthropicErrorType } {
	switch (error.status) {
		case 400:
			return { status: 400, type: 'invalid_request_error' }
		case 401:
			return { status: 401, type: 'authentication_error' }
		case 403:
			return { status: 403, type: 'permission_error' }
		case 404:
			return { status: 404, type: 'not_found_error' }
		case 413:
			return { status: 413, type: 'request_too_large' }
		case 429:
			return { status: 429, type: 'rate_limit_error' }
		case 503:
			return { status: 529, type: 'overloaded_error' }
		case 504:
			return { status: 504, type: 'timeout_error' }
		default:
			return error.status >= 400 && error.status < 500
				? { status: error.status, type: 'invalid_request_error' }
				: { status: error.status >= 500 ? error.status : 500, type: 'api_error' }
	}
}

export function anthropicErrorBody(type: AnthropicErrorType, message: string): { type: 'error'; error: { type: AnthropicErrorType; message: string } } {
	return { type: 'error', error: { type, message } }
}

/** Renders a thrown value; anything not from the catalogue is a bug, answered as a generic 500 (`onBug` logs it). */
export function anthropicErrorResponse(thrown: unknown, onBug: (err: unknown) => void): Response {
	let error: GatewayError
	if (thrown instanceof GatewayError) error = thrown
	else {
		onBug(thrown)
		error = new InternalError()
	}
	const { status, type } = anthropicStatus(error)
	return new Response(JSON.stringify(anthropicErrorBody(type, error.message)), {
		status,
		headers: { 'content-type': 'application/json', ...error.headers },
	})
}
