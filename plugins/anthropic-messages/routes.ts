/**
 * The Anthropic Messages API: `POST /v1/messages` and `POST /v1/messages/count_tokens`, on the
 * same pipeline as chat completions (key pool, retries, quotas, client keys, usage). The key
 * comes as `x-api-key` (Anthropic SDKs, Claude Code) or `Authorization: Bearer`;
 * `anthropic-version` and `anthropic-beta` are accepted. Every error, including auth, is
 * rendered in Anthropic's envelope by this plugin's handlers, so the OpenAI routes keep theirs.
 */
import { Elysia } from 'elysia'
import type { OpenAPIV3 } from 'openapi-types'
import { AuthenticationError, PermissionError } from '../../core/errors.ts'
import type { Logger } from '../../core/log.ts'
import { bearerToken } from '../../core/secrets.ts'
import type { ApiAuthenticator, Principal } from '../api-auth/api-auth.ts'
import type { ChatCore } from '../chat-core/chat-core.ts'
import { SSE_HEADERS } from '../../core/sse.ts'
import { randomHex } from '../chat-core/chat-completion.ts'
import { readModelPrefixes } from '../chat-core/model-prefix.ts'
import { estimateInputTokens } from './count-tokens.ts'
import { anthropicErrorResponse } from './errors.ts'
import { toChatRequest } from './request.ts'
import { messageId, toAnthropicMessage } from './response.ts'
import { toAnthropicStream } from './stream.ts'
import { isObject } from '../../core/json.ts'

export interface AnthropicMessagesDeps {
	/** The chat core: body limits, admission, the pipeline. */
	chat: ChatCore
	auth: ApiAuthenticator
	log: Logger
	/** Interval of `ping` events in a silent stream. */
	pingMs: number
}

async function authenticate(auth: ApiAuthenticator, headers: Headers, request: Request): Promise<Principal> {
	const token = (headers.get('x-api-key')?.trim() || null) ?? bearerToken(headers.get('authorization'))
	if (!token)
		throw new AuthenticationError('Missing API key. Send "x-api-key: <API password or client key>" or "Authorization: Bearer <key>".', 'missing_api_key')
	const principal = await auth.authenticate(token, request)
	if (!principal) throw new AuthenticationError('Invalid API key. Send the API password or a client key as "x-api-key".')
	return principal
}

const messageSchema: OpenAPIV3.SchemaObject = {
	type: 'object',
	required: ['model', 'max_tokens', 'messages'],
	properties: {
		model: { type: 'string', example: 'claude-sonnet-4-6' },
		max_tokens: { type: 'integer', minimum: 1, example: 1024 },
		system: { description: 'A string, or text blocks (cache_control accepted)' },
		messages: {
			type: 'array',
			items: { type: 'object', properties: { role: { type: 'string', enum: ['user', 'assistant'] }, content: {} } },
			example: [{ role: 'user', content: 'Hello' }],
		},
		stream: { type: 'boolean' },
		temperature: { type: 'number', minimum: 0, maximum: 1 },
		top_p: { type: 'number' },
		top_k: { type: 'integer' },
		stop_sequences: { type: 'array', items: { type: 'string' } },
		tools: {
			type: 'array',
			items: { type: 'object', properties: { name: { type: 'string' }, description: { type: 'string' }, input_schema: { type: 'object' } } },
		},
		tool_choice: {
			type: 'object',
			properties: { type: { type: 'string', enum: ['auto', 'any', 'tool', 'none'] }, name: { type: 'string' }, disable_parallel_tool_use: { type: 'boolean' } },
		},
		thinking: { type: 'object', properties: { type: { type: 'string', enum: ['enabled', 'adaptive', 'disabled'] }, budget_tokens: { type: 'integer' } } },
		metadata: { type: 'object' },
	},
}

const errorResponses = {
	400: { description: 'invalid_request_error (Anthropic envelope: {"type":"error","error":{"type","message"}})' },
	401: { description: 'authentication_error: missing or wrong key' },
	403: { description: 'permission_error: the client key may not use this model' },
	404: { description: 'not_found_error' },
	429: { description: 'rate_limit_error: every key is at its limit, or the client key quota is spent; Retry-After says when' },
	500: { description: 'api_error' },
	529: { description: 'overloaded_error: no upstream key is configured or enabled' },
} as const

export const anthropicMessages = (deps: AnthropicMessagesDeps) => {
	const onBug = (err: unknown) =>
		deps.log.error({ err: err instanceof Error ? { message: err.message, stack: err.stack } : String(err) }, 'unhandled error in /v1/messages')
	return new Elysia({ name: 'anthropic-messages' })
		.post(
			'/v1/messages',
			async function createMessage({ request }) {
				try {
					const principal = await authenticate(deps.auth, request.headers, request)
					const body = await deps.chat.readBody(request)
					const chat = toChatRequest(body)
					const result = await deps.chat.call(request, principal, chat, { keepAlive: false })
					if (result.kind === 'stream') {
						const id = `msg_${randomHex(12)}`
						const inputTokens = isObject(body) ? estimateInputTokens(body) : 0
						return new Response(toAnthropicStream(result.body, { id, model: result.modes.model, inputTokens, pingMs: deps.pingMs }), { headers: SSE_HEADERS })
					}
					// The model without its mode prefixes (fake-stream/, anti-truncation/), as the client named the model itself.
					return Response.json(toAnthropicMessage(result.completion, { model: result.modes.model }))
				} catch (err) {
					return anthropicErrorResponse(err, onBug)
				}
			},
			{
				parse: 'none',
				detail: {
					summary: 'Create a message (Anthropic Messages API)',
					description:
						'Anthropic Messages, translated to chat completions and served through the same key pool, retries, quotas and usage accounting. Auth: `x-api-key` or `Authorization: Bearer` (API password or client key); `anthropic-version`/`anthropic-beta` accepted. `stream: true` answers with `message_start`, `content_block_*` (text_delta, input_json_delta, thinking_delta), `message_delta` (stop_reason, final usage), `message_stop`; `ping` while waiting; `event: error` if the upstream breaks mid-stream. Errors use the Anthropic envelope.',
					tags: ['Anthropic'],
					security: [{ apiKey: [] }, { bearer: [] }],
					requestBody: { required: true, content: { 'application/json': { schema: messageSchema } } },
					responses: { 200: { description: 'A `message` object, or an SSE stream of Anthropic events when stream is true' }, ...errorResponses },
				},
			},
		)
		.post(
			'/v1/messages/count_tokens',
			async function countTokens({ request }) {
				try {
					const principal = await authenticate(deps.auth, request.headers, request)
					const body = await deps.chat.readBody(request)
					// Same validation as a message (max_tokens is not part of a count request).
					const chat = toChatRequest(
						isObject(body) ? { ...body, max_tokens: typeof body.max_tokens === 'number' ? body.max_tokens : Number.MAX_SAFE_INTEGER, stream: false } : body,
					)
					// A client key's allow-list holds here too (the expiry was checked by authenticate).
					const allowed = (await deps.auth.allowedModels?.(principal)) ?? null
					const model = readModelPrefixes(chat.model).model
					if (allowed !== null && !allowed.includes(model)) throw new PermissionError(`This client key may not use model ${model}.`, 'model_not_allowed')
					return Response.json({ input_tokens: estimateInputTokens(body as Record<string, unknown>) })
				} catch (err) {
					return anthropicErrorResponse(err, onBug)
				}
			},
			{
				parse: 'none',
				detail: {
					summary: 'Count the input tokens of a message (estimate)',
					description:
						'A stable local estimate: ceil(characters / 4) over the system prompt, text blocks, tool inputs and results and tool definitions, plus 1,600 per image and 4 per message. Nothing is sent upstream and no quota is spent.',
					tags: ['Anthropic'],
					security: [{ apiKey: [] }, { bearer: [] }],
					requestBody: { required: true, content: { 'application/json': { schema: { ...messageSchema, required: ['model', 'messages'] } } } },
					responses: { 200: { description: '`{"input_tokens": n}`' }, ...errorResponses },
				},
			},
		)
}

export { messageId }
