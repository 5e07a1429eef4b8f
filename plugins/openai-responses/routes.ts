/**
 * The OpenAI Responses API, stateless: `POST /v1/responses` on the same pipeline as chat
 * completions (key pool, retries, quotas, client keys, usage). Auth and errors are OpenAI's:
 * `Authorization: Bearer`, the OpenAI error envelope from the kernel's error handler.
 */
import { Elysia } from 'elysia'
import type { OpenAPIV3 } from 'openapi-types'
import type { ApiAuthenticator } from '../api-auth/api-auth.ts'
import type { ChatCore } from '../chat-core/chat-core.ts'
import { SSE_HEADERS } from '../../core/sse.ts'
import { toChatRequest } from './request.ts'
import { newItemId, toResponse } from './response.ts'
import { toResponsesStream } from './stream.ts'
import { bearerCaller } from '../api-auth/bearer-caller.ts'

export interface OpenAIResponsesDeps {
	/** The chat core: body limits, admission, the pipeline. */
	chat: ChatCore
	auth: ApiAuthenticator
	now: () => number
}

const requestSchema: OpenAPIV3.SchemaObject = {
	type: 'object',
	required: ['model', 'input'],
	properties: {
		model: { type: 'string', example: 'gpt-5' },
		input: { description: 'A string, or items: messages (input_text / input_image parts), function_call and function_call_output', example: 'Hello' },
		instructions: { type: 'string' },
		stream: { type: 'boolean' },
		max_output_tokens: { type: 'integer', minimum: 1 },
		temperature: { type: 'number' },
		top_p: { type: 'number' },
		tools: {
			type: 'array',
			items: { type: 'object', properties: { type: { type: 'string', enum: ['function'] }, name: { type: 'string' }, parameters: { type: 'object' } } },
		},
		tool_choice: {},
		parallel_tool_calls: { type: 'boolean' },
		text: { type: 'object', properties: { format: { type: 'object' } } },
		reasoning: { type: 'object', properties: { effort: { type: 'string', enum: ['minimal', 'low', 'medium', 'high'] } } },
		metadata: { type: 'object' },
		store: { type: 'boolean', description: 'Accepted; nothing is stored (the response says store: false)' },
		previous_response_id: { type: 'string', description: 'Refused with 400: amb2api is stateless' },
	},
}

export const openaiResponses = (deps: OpenAIResponsesDeps) =>
	new Elysia({ name: 'openai-responses' })
		.resolve(async function authenticateCaller({ headers, request }) {
			return { principal: await bearerCaller(deps.auth, headers, request) }
		})
		.post(
			'/v1/responses',
			async function createResponse({ request, principal }) {
				const { chat, echo } = toChatRequest(await deps.chat.readBody(request))
				const result = await deps.chat.call(request, principal, chat)
				// The model without its mode prefixes (fake-stream/, anti-truncation/).
				const shell = { id: newItemId('resp'), model: result.modes.model, createdAt: Math.floor(deps.now() / 1000), echo }
				if (result.kind === 'stream') return new Response(toResponsesStream(result.body, shell), { headers: SSE_HEADERS })
				return Response.json(toResponse(result.completion, shell))
			},
			{
				parse: 'none',
				detail: {
					summary: 'Create a model response (OpenAI Responses API, stateless)',
					description:
						'OpenAI Responses, translated to chat completions and served through the same key pool, retries, quotas and usage accounting. `stream: true` answers with typed events (`response.created`, `response.in_progress`, `response.output_item.added`, `response.content_part.added`, `response.output_text.delta`/`.done`, `response.function_call_arguments.delta`/`.done`, `response.output_item.done`, then `response.completed`, `response.incomplete` or `response.failed`), each with its `sequence_number`. Stateless: `previous_response_id` is refused with 400 and `store` is accepted but nothing is stored. Errors use the OpenAI envelope.',
					tags: ['OpenAI'],
					security: [{ bearer: [] }],
					requestBody: { required: true, content: { 'application/json': { schema: requestSchema } } },
					responses: {
						200: { description: 'A `response` object, or an SSE stream of Responses events when stream is true' },
						400: { description: 'Invalid request, or previous_response_id (OpenAI error JSON naming the param)' },
						401: { description: 'Missing or wrong API key' },
						403: { description: 'The client key may not use this model' },
						429: { description: 'Every key is at its rate limit, or the client key quota is spent; Retry-After says when' },
						502: { description: 'The upstream failed after retries' },
						503: { description: 'No upstream key is configured or enabled' },
					},
				},
			},
		)
