import { describe, expect, test } from 'bun:test'
import { BadRequestError, NotFoundError, RateLimitError, UpstreamError, UpstreamTimeoutError } from '../../../core/errors.ts'
import { classifyFailure, readUpstreamError, toClientError } from '../../../plugins/assembly-client/upstream-errors.ts'

const none = new Headers()

describe('readUpstreamError: the §6.1 envelopes', () => {
	test('A, auth: error is a string', () => {
		const info = readUpstreamError(401, '{"error":"Authentication error, API token missing/invalid","status":"error","request_id":"6e6f340d-aaaa"}')
		expect(info).toEqual({ message: 'Authentication error, API token missing/invalid', requestId: '6e6f340d-aaaa', errors: [] })
	})

	test('B, current: message plus metadata errors that add information', () => {
		const info = readUpstreamError(
			400,
			'{"metadata":{"errors":["model qwen3.5-4b-32k-fast does not support tools","model qwen3.5-4b-32k-fast does not support tool_choice"]},"request_id":"5b1c","message":"invalid request body","code":400}',
		)
		expect(info.message).toBe('invalid request body: model qwen3.5-4b-32k-fast does not support tools; model qwen3.5-4b-32k-fast does not support tool_choice')
		expect(info.requestId).toBe('5b1c')
		expect(info.errors).toEqual(['model qwen3.5-4b-32k-fast does not support tools', 'model qwen3.5-4b-32k-fast does not support tool_choice'])
	})

	test('B, model access', () => {
		const info = readUpstreamError(
			400,
			'{"metadata":{"errors":["Your account does not have access to this LLM Gateway model"]},"request_id":"r1","message":"invalid request body","code":400}',
		)
		expect(info.message).toBe('invalid request body: Your account does not have access to this LLM Gateway model')
	})

	test('B without metadata: transcript not found, 500', () => {
		expect(readUpstreamError(404, '{"request_id":"r2","message":"transcript not found","code":404}')).toEqual({
			message: 'transcript not found',
			requestId: 'r2',
			errors: [],
		})
		expect(readUpstreamError(500, '{"message":"something went wrong","code":500,"request_id":"req-abc-123"}')).toEqual({
			message: 'something went wrong',
			requestId: 'req-abc-123',
			errors: [],
		})
	})

	test('C, legacy: error.message and error.metadata', () => {
		expect(readUpstreamError(400, '{"error":{"code":400,"message":"model x is not supported","metadata":{}}}').message).toBe('model x is not supported')
		expect(
			readUpstreamError(400, '{"error":{"code":400,"message":"invalid request body","metadata":{"errors":["model_region can only be set to global"]}}}')
				.message,
		).toBe('invalid request body: model_region can only be set to global')
	})

	test('D, provider: message only', () => {
		const text = 'ValidationException: This model does not support assistant message prefill. The conversation must end with a user message.'
		expect(readUpstreamError(400, JSON.stringify({ message: text }))).toEqual({ message: text, requestId: null, errors: [] })
	})

	test('metadata errors already in the message are not repeated', () => {
		expect(readUpstreamError(400, '{"message":"model context limit exceeded","metadata":{"errors":["model context limit exceeded"]}}').message).toBe(
			'model context limit exceeded',
		)
	})

	test('metadata errors alone make the message', () => {
		expect(readUpstreamError(400, '{"metadata":{"errors":["one of messages or prompt required"]}}').message).toBe('one of messages or prompt required')
	})

	test('plain text, empty bodies and JSON that is not an object', () => {
		expect(readUpstreamError(504, 'upstream timeout\n')).toEqual({ message: 'upstream timeout', requestId: null, errors: [] })
		expect(readUpstreamError(502, '').message).toBe('HTTP 502 with an empty body')
		expect(readUpstreamError(500, '"oops"').message).toBe('"oops"')
		expect(readUpstreamError(500, '{}').message).toBe('{}')
	})

	test('huge HTML pages are collapsed and cut', () => {
		const html = `<html>\n<body>${'x'.repeat(100_000)}</body></html>`
		const message = readUpstreamError(502, html).message
		expect(message.length).toBeLessThanOrEqual(1001)
		expect(message.includes('\n')).toBe(false)
	})

	test('key-like tokens are never carried into the message', () => {
		const key = '0123456789abcdef0123456789abcdef'
		expect(readUpstreamError(401, `{"error":"invalid key ${key}"}`).message).not.toContain(key)
		expect(readUpstreamError(401, `bad header: Bearer ${key}`).message).not.toContain(key)
		expect(readUpstreamError(400, `{"message":"x","metadata":{"errors":["key ${key} refused"]}}`).errors.join()).not.toContain(key)
	})
})

describe('classifyFailure', () => {
	const info = (message: string, errors: string[] = []) => ({ message, errors })

	test('429 is a rate limit whatever the body', () => {
		expect(classifyFailure(429, info('invalid request body'), none)).toBe('rate-limit')
	})

	test.each(['Rate limit exceeded', 'rate_limit_exceeded', 'Quota exceeded for model', 'Too Many Requests'])('400 saying %p is a rate limit', (text) => {
		expect(classifyFailure(400, info(text), none)).toBe('rate-limit')
	})

	test('400 with x-ratelimit-remaining: 0 is a rate limit', () => {
		expect(classifyFailure(400, info('invalid request body'), new Headers({ 'X-RateLimit-Remaining': '0' }))).toBe('rate-limit')
		expect(classifyFailure(400, info('invalid request body'), new Headers({ 'x-ratelimit-remaining': '3' }))).toBe('client')
	})

	test('a known validation error stays the client error even on the request that spent the last slot', () => {
		const validation = readUpstreamError(400, '{"metadata":{"errors":["model m does not support tools"]},"message":"invalid request body","code":400}')
		expect(classifyFailure(400, validation, new Headers({ 'x-ratelimit-remaining': '0' }))).toBe('client')
	})

	test('400 no access to this model -> no-model-access (a property of the key, not a ban)', () => {
		const i = readUpstreamError(
			400,
			'{"metadata":{"errors":["Your account does not have access to this LLM Gateway model"]},"request_id":"r","message":"invalid request body","code":400}',
		)
		expect(classifyFailure(400, i, none)).toBe('no-model-access')
	})

	test('account without any gateway access (400 or 401) -> key', () => {
		const text = 'Your account does not have access to LLM Gateway. Please upgrade or contact us at support@assemblyai.com for more information.'
		expect(classifyFailure(400, readUpstreamError(400, JSON.stringify({ error: text, status: 'error' })), none)).toBe('key')
		expect(classifyFailure(401, readUpstreamError(401, JSON.stringify({ error: text, status: 'error' })), none)).toBe('key')
	})

	test('401 and 403 -> key', () => {
		expect(classifyFailure(401, info('Authentication error, API token missing/invalid'), none)).toBe('key')
		expect(classifyFailure(403, info('Forbidden – Insufficient permissions'), none)).toBe('key')
	})

	test.each([408, 500, 502, 503, 504, 599])('%i -> transient', (status) => {
		expect(classifyFailure(status, info('upstream timeout'), none)).toBe('transient')
	})

	test.each([
		'model claude-haiku-4-5 is not supported',
		'model qwen3.5-4b-32k-fast does not support tools',
		'model context limit exceeded',
		'model_region can only be set to global',
		'fallback_config depth cannot be greater than 2',
		'one of messages or prompt required',
		'ValidationException: messages.1.content.0.tool_use.input: Field required',
		'something invalid and unsupported',
	])('400 %p -> client, never key', (text) => {
		expect(classifyFailure(400, info('invalid request body', [text]), none)).toBe('client')
	})

	test.each([404, 405, 409, 413, 422])('%i -> client', (status) => {
		expect(classifyFailure(status, info('transcript not found'), none)).toBe('client')
	})
})

describe('toClientError', () => {
	test('client 400 -> BadRequestError with the gateway message, param named, upstream_request_id kept', () => {
		const info = readUpstreamError(
			400,
			'{"metadata":{"errors":["model x does not support tools"]},"request_id":"5b1c","message":"invalid request body","code":400}',
		)
		const e = toClientError(400, info, 'client')
		expect(e).toBeInstanceOf(BadRequestError)
		expect(e.status).toBe(400)
		expect(e.message).toBe('invalid request body: model x does not support tools')
		expect(e.param).toBe('tools')
		expect(e.toJSON().error.upstream_request_id).toBe('5b1c')
		expect(e.toJSON().error.type).toBe('invalid_request_error')
	})

	test('client 404 -> NotFoundError', () => {
		const e = toClientError(404, readUpstreamError(404, '{"request_id":"r","message":"transcript not found","code":404}'), 'client')
		expect(e).toBeInstanceOf(NotFoundError)
		expect(e.status).toBe(404)
		expect(e.message).toBe('transcript not found')
		expect(e.toJSON().error.upstream_request_id).toBe('r')
	})

	test('other client 4xx -> 400 that names the upstream status', () => {
		const e = toClientError(422, readUpstreamError(422, '{"message":"bad"}'), 'client')
		expect(e.status).toBe(400)
		expect(e.message).toContain('HTTP 422')
	})

	test('5xx -> UpstreamError 502 "Upstream error (HTTP 5xx): …"', () => {
		const e = toClientError(500, readUpstreamError(500, '{"message":"something went wrong","code":500,"request_id":"req-abc-123"}'), 'transient')
		expect(e).toBeInstanceOf(UpstreamError)
		expect(e.status).toBe(502)
		expect(e.message).toBe('Upstream error (HTTP 500): something went wrong')
		expect(e.toJSON().error.upstream_request_id).toBe('req-abc-123')
		expect(toClientError(503, readUpstreamError(503, 'down'), 'transient').status).toBe(502)
	})

	test('408/504 -> 504 timeout', () => {
		const e = toClientError(504, readUpstreamError(504, 'upstream timeout'), 'transient')
		expect(e).toBeInstanceOf(UpstreamTimeoutError)
		expect(e.status).toBe(504)
		expect(e.message).toContain('upstream timeout')
	})

	test('rate limit -> 429 with Retry-After when known', () => {
		const e = toClientError(429, readUpstreamError(429, '{"code":429,"message":"slow down","request_id":"r"}'), 'rate-limit', 17)
		expect(e).toBeInstanceOf(RateLimitError)
		expect(e.status).toBe(429)
		expect(e.headers['retry-after']).toBe('17')
		expect(toClientError(429, readUpstreamError(429, ''), 'rate-limit').headers['retry-after']).toBeUndefined()
	})

	test("key failure is not reported as the client's own 401", () => {
		const e = toClientError(401, readUpstreamError(401, '{"error":"Authentication error, API token missing/invalid","status":"error"}'), 'key')
		expect(e.status).toBe(502)
		expect(e.type).toBe('api_error')
	})

	test('no access to the model -> 404 model_not_found', () => {
		const info = readUpstreamError(
			400,
			'{"metadata":{"errors":["Your account does not have access to this LLM Gateway model"]},"message":"invalid request body","code":400}',
		)
		const e = toClientError(400, info, 'no-model-access')
		expect(e.status).toBe(404)
		expect(e.code).toBe('model_not_found')
	})

	test('a key in a hand-made info never reaches the client', () => {
		const key = 'abcdefabcdefabcdefabcdefabcdefab'
		const e = toClientError(500, { message: `failed for ${key}`, requestId: null, errors: [] }, 'transient')
		expect(JSON.stringify(e.toJSON())).not.toContain(key)
	})
})
