/**
 * One admitted call of the pipeline, shared by every dialect (chat completions, Anthropic
 * Messages, OpenAI Responses): note the request in the access log, admit it against the
 * client key's quota and allow-list (by the bare model name, without mode prefixes), run it
 * through the streaming modes and the AssemblyAI client, and give the quota back when the
 * request failed on our side.
 */
import { GatewayError } from '../../core/errors.ts'
import { requestIdOf } from '../../core/request-id.ts'
import { annotate } from '../../core/request-log.ts'
import type { ApiAuthenticator, Principal } from '../api-auth/api-auth.ts'
import { readModelPrefixes } from './model-prefix.ts'
import type { ChatPipeline } from './pipeline.ts'
import type { ChatRequest } from './chat-request.ts'
import { type ConcurrencyLimit, releaseWhenDone } from './concurrency-limit.ts'
import { fallbackModels } from './reachable-models.ts'

export type PipelineResult = Awaited<ReturnType<ChatPipeline['chat']>>

export interface CallOptions {
	/** `false` for a dialect that re-encodes the stream and keeps it alive itself. */
	keepAlive?: boolean
	/** Extra fields for the request's access-log line. */
	log?: Record<string, unknown>
}

/** The request log says which streaming modes served a request (nothing for a plain one). */
function modeNotes(modes: PipelineResult['modes']): Record<string, unknown> {
	const notes: Record<string, unknown> = {}
	if (modes.stream === 'fake') notes.fake_stream = true
	if (modes.antiTruncation) notes.anti_truncation = true
	return notes
}

export async function callPipeline(
	deps: { chat: ChatPipeline; auth: ApiAuthenticator; limit?: ConcurrencyLimit },
	request: Request,
	principal: Principal,
	chat: ChatRequest,
	options: CallOptions = {},
): Promise<PipelineResult> {
	annotate(request, { model: chat.model, stream: chat.stream === true, ...options.log, ...(principal.kind === 'client' ? { client: principal.name } : {}) })
	// Every model the request can reach (a malformed fallbacks[].model is a 400 for everyone).
	const fallbacks = fallbackModels(chat)
	// Beyond MAX_CONCURRENT_REQUESTS: an honest 503 with Retry-After now, never a silent queue.
	const release = deps.limit?.acquire()
	let admission: Awaited<ReturnType<NonNullable<ApiAuthenticator['admit']>>> = null
	let result: PipelineResult
	try {
		// Every model the request can reach (fallbacks too) is checked against a client key's allow-list.
		// Only client keys have quotas and model lists: the password user skips the await.
		admission = deps.auth.admit && principal.kind === 'client' ? await deps.auth.admit(principal, readModelPrefixes(chat.model).model, fallbacks, chat) : null
		// The reservation travels with the principal to the usage events that settle it (not enumerable:
		// whoever logs or serialises the principal does not walk into it).
		const caller =
			admission?.ticket && principal.kind === 'client'
				? Object.defineProperty({ ...principal }, 'ticket', { value: admission.ticket, enumerable: false })
				: principal
		result = await deps.chat.chat({ request: chat, signal: request.signal, principal: caller, requestId: requestIdOf(request), keepAlive: options.keepAlive })
	} catch (err) {
		release?.()
		// A request that failed on our side (no key, upstream down, a bug: every 5xx of ours, or
		// the client going away) does not spend the client's quota; only the client's own 4xx does.
		if (admission && !(err instanceof GatewayError && err.status < 429)) await admission.release()
		else await admission?.close?.()
		throw err
	}
	annotate(request, { key: result.masked, attempts: result.attempts, ...modeNotes(result.modes) })
	// A budgeted answer ends only once its cost is stored: the client's next request sees it.
	const ticket = admission?.ticket?.binding ? admission.ticket : undefined
	if (ticket && result.kind === 'json') await ticket.settled()
	if (ticket && result.kind === 'stream') result = { ...result, body: endsAfter(result.body, () => ticket.settled()) }
	if (result.kind === 'stream' && release) return { ...result, body: releaseWhenDone(result.body, release, request.signal) }
	release?.()
	return result
}

/** The same stream, whose end waits for `last` (cancelling it still cancels the source). */
function endsAfter(body: ReadableStream<Uint8Array>, last: () => Promise<void>): ReadableStream<Uint8Array> {
	return body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({ flush: () => last().catch(() => {}) }))
}
