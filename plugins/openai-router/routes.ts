/**
 * The OpenAI API: `GET /v1/models` and `POST /v1/chat/completions`, both behind the API
 * password (or a client key). The body is read raw and parsed once by our own checks
 * (openai-schema.ts), so errors name the offending `param` the way OpenAI does.
 */
import { Elysia } from 'elysia'
import { isSaneId } from '../../core/request-id.ts'
import { annotate } from '../../core/request-log.ts'
import type { ApiAuthenticator } from '../api-auth/api-auth.ts'
import type { ModelCatalog } from '../assembly-client/model-catalog.ts'
import type { ChatCore } from '../chat-core/chat-core.ts'
import { parseChatRequest } from '../chat-core/chat-request.ts'
import { SSE_HEADERS } from '../../core/sse.ts'
import { detectFormat, geminiToChat } from './gemini-format.ts'
import { bearerCaller } from '../api-auth/bearer-caller.ts'

export interface OpenAIRouterDeps {
	/** The chat core: body limits, admission, the pipeline. */
	chat: ChatCore
	catalog: ModelCatalog
	auth: ApiAuthenticator
	/** The operator's model selection, when there is one. */
	selectedModels: () => Promise<string[] | null>
}

const modelList = {
	type: 'object',
	properties: {
		object: { type: 'string', const: 'list' },
		data: {
			type: 'array',
			items: {
				type: 'object',
				properties: { id: { type: 'string' }, object: { type: 'string' }, created: { type: 'integer' }, owned_by: { type: 'string' } },
			},
		},
	},
} as const

/** The Anthropic list shape, for clients that send `anthropic-version` (Claude Code, the Anthropic SDKs). */
function anthropicModelList(ids: string[]) {
	const data = ids.map((id) => ({ type: 'model', id, display_name: id, created_at: '1970-01-01T00:00:00Z' }))
	return { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data[data.length - 1]?.id ?? null }
}

export const openaiRouter = (deps: OpenAIRouterDeps) =>
	new Elysia({ name: 'openai-router' })
		.resolve(async function authenticateCaller({ headers, request }) {
			return { principal: await bearerCaller(deps.auth, headers, request, { apiKeyHeader: true }) }
		})
		.get(
			'/v1/models',
			async function listModels({ headers, principal }) {
				const all = (await deps.selectedModels()) ?? (await deps.catalog.ids())
				// A client key limited to some models sees those.
				const allowed = (await deps.auth.allowedModels?.(principal)) ?? null
				const ids = deps.chat.listModels(allowed === null ? all : all.filter((id) => allowed.includes(id)))
				if (headers['anthropic-version'] !== undefined) return anthropicModelList(ids)
				return { object: 'list', data: ids.map((id) => ({ id, object: 'model', created: 0, owned_by: 'assemblyai' })) }
			},
			{
				detail: {
					summary: 'List models',
					description:
						'The operator\'s model selection, else the AssemblyAI gateway\'s catalog, else a built-in list. OpenAI list shape; the Anthropic list shape (`data[].type: "model"`, `display_name`, `created_at`, `has_more`, `first_id`, `last_id`) when the request carries `anthropic-version`. The key may also come as `x-api-key`.',
					tags: ['OpenAI'],
					security: [{ bearer: [] }],
					responses: { 200: { description: 'Model list', content: { 'application/json': { schema: modelList } } } },
				},
			},
		)
		.post(
			'/v1/chat/completions',
			async function chatCompletions({ request, principal }) {
				const body = await deps.chat.readBody(request)
				// An OpenAI body, or a Gemini one translated to it (unknown shapes: 400 naming both).
				const format = detectFormat(body)
				const chat = parseChatRequest(format === 'gemini' ? geminiToChat(body as Record<string, unknown>) : body)
				const result = await deps.chat.call(request, principal, chat, { log: { format } })
				if (result.kind === 'stream') return new Response(result.body, { headers: SSE_HEADERS })
				// The upstream's request_id, so a report can be matched with AssemblyAI support.
				const upstreamId = isSaneId(result.upstreamRequestId) ? result.upstreamRequestId : null
				if (upstreamId) annotate(request, { upstream_request_id: upstreamId })
				return Response.json(result.completion, upstreamId ? { headers: { 'x-upstream-request-id': upstreamId } } : undefined)
			},
			{
				parse: 'none',
				detail: {
					summary: 'Create a chat completion',
					description:
						'OpenAI chat completions, served through the AssemblyAI LLM Gateway with a key from the pool. `stream: true` answers with server-sent `chat.completion.chunk` events ending in `data: [DONE]`. Gateway extras (`fallbacks`, `fallback_config`, `post_processing_steps`, `transcript_id`, `reasoning`, `cache_control`, ...) are passed through. Model prefixes `假流式/` (`fake-stream/`) and `流式抗截断/` (`anti-truncation/`) turn on fake streaming and anti-truncation. A Gemini `generateContent` body (`contents`, `systemInstruction`, `generationConfig`, `tools[].functionDeclarations`) with `model` is accepted too and answered in OpenAI shape.',
					tags: ['OpenAI'],
					security: [{ bearer: [] }],
					requestBody: {
						required: true,
						content: {
							'application/json': {
								schema: {
									type: 'object',
									required: ['model', 'messages'],
									properties: {
										model: { type: 'string', example: 'claude-sonnet-4-6' },
										messages: {
											type: 'array',
											items: { type: 'object', properties: { role: { type: 'string' }, content: {} } },
											example: [{ role: 'user', content: 'Hello' }],
										},
										stream: { type: 'boolean' },
										max_tokens: { type: 'integer', minimum: 1 },
										temperature: { type: 'number', minimum: 0, maximum: 2 },
										top_p: { type: 'number', minimum: 0, maximum: 1 },
										tools: { type: 'array', items: { type: 'object' } },
									},
								},
							},
						},
					},
					responses: {
						200: { description: 'A chat.completion object, or an SSE stream of chat.completion.chunk objects when stream is true' },
						400: { description: 'Invalid request (OpenAI error JSON naming the param)' },
						401: { description: 'Missing or wrong API key' },
						429: { description: 'Every key is at its rate limit; Retry-After says when to retry' },
						502: { description: 'The upstream failed after retries' },
						503: { description: 'No upstream key is configured or enabled' },
						504: { description: 'The upstream did not answer in time' },
					},
				},
			},
		)
