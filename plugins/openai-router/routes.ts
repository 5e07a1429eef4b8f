/**
 * The OpenAI API: `GET /v1/models` and `POST /v1/chat/completions`, both behind the API
 * password (or a client key). The body is read raw and parsed once by our own checks
 * (openai-schema.ts), so errors name the offending `param` the way OpenAI does.
 */
import { Elysia } from 'elysia'
import { AuthenticationError, BadRequestError, GatewayError } from '../../core/errors.ts'
import { annotate } from '../../core/request-log.ts'
import { bearerToken } from '../../core/secrets.ts'
import type { ApiAuthenticator } from '../api-auth/api-auth.ts'
import { type AssemblyClient, ClientGoneError } from '../assembly-client/client.ts'
import type { ModelCatalog } from '../assembly-client/model-catalog.ts'
import { parseChatRequest, parseJsonBody } from './chat-schema.ts'

export interface OpenAIRouterDeps {
	client: AssemblyClient
	catalog: ModelCatalog
	auth: ApiAuthenticator
	/** The operator's model selection, when there is one. */
	selectedModels: () => Promise<string[] | null>
}

const SSE_HEADERS = {
	'content-type': 'text/event-stream; charset=utf-8',
	'cache-control': 'no-cache',
	connection: 'keep-alive',
	// nginx and similar proxies must not buffer a stream.
	'x-accel-buffering': 'no',
}

const MAX_BODY_BYTES = 100 * 1024 * 1024

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

export const openaiRouter = (deps: OpenAIRouterDeps) =>
	new Elysia({ name: 'openai-router' })
		.resolve(async function authenticateCaller({ headers }) {
			const token = bearerToken(headers.authorization)
			if (!token) throw new AuthenticationError('Missing API key. Send "Authorization: Bearer <API password or client key>".', 'missing_api_key')
			const principal = await deps.auth.authenticate(token)
			if (!principal) throw new AuthenticationError()
			return { principal }
		})
		.get(
			'/v1/models',
			async function listModels() {
				const ids = (await deps.selectedModels()) ?? (await deps.catalog.ids())
				return { object: 'list', data: ids.map((id) => ({ id, object: 'model', created: 0, owned_by: 'assemblyai' })) }
			},
			{
				detail: {
					summary: 'List models',
					description: "The operator's model selection, else the AssemblyAI gateway's catalog, else a built-in list. OpenAI list shape.",
					tags: ['OpenAI'],
					security: [{ bearer: [] }],
					responses: { 200: { description: 'Model list', content: { 'application/json': { schema: modelList } } } },
				},
			},
		)
		.post(
			'/v1/chat/completions',
			async function chatCompletions({ request, principal }) {
				const length = Number(request.headers.get('content-length') ?? 0)
				if (length > MAX_BODY_BYTES) throw new BadRequestError('Request body is larger than 100 MB.', null, 'body_too_large')
				const chat = parseChatRequest(parseJsonBody(await request.text()))
				annotate(request, { model: chat.model, stream: chat.stream === true, ...(principal.kind === 'client' ? { client: principal.name } : {}) })
				// Only client keys have quotas and model lists: the password user skips the await.
				const admission = deps.auth.admit && principal.kind === 'client' ? await deps.auth.admit(principal, chat.model) : null
				let result: Awaited<ReturnType<AssemblyClient['chat']>>
				try {
					result = await deps.client.chat({ request: chat, signal: request.signal, principal })
				} catch (err) {
					// A request that failed on our side (no key, upstream down) does not spend the client's quota.
					if (admission && (err instanceof ClientGoneError || (err instanceof GatewayError && err.status >= 429))) await admission.release()
					throw err
				}
				annotate(request, { key: result.masked, attempts: result.attempts })
				if (result.kind === 'stream') return new Response(result.body, { headers: SSE_HEADERS })
				return Response.json(result.completion)
			},
			{
				parse: 'none',
				detail: {
					summary: 'Create a chat completion',
					description:
						'OpenAI chat completions, served through the AssemblyAI LLM Gateway with a key from the pool. `stream: true` answers with server-sent `chat.completion.chunk` events ending in `data: [DONE]`. Gateway extras (`fallbacks`, `fallback_config`, `post_processing_steps`, `transcript_id`, `reasoning`, `cache_control`, ...) are passed through.',
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
