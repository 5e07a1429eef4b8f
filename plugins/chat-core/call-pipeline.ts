/**
 * One admitted call of the pipeline, shared by every dialect (chat completions, Anthropic
 * Messages, OpenAI Responses): note the request in the access log, admit it against the
 * client key's quota and allow-list (by the bare model name, without mode prefixes), run it
 * through the streaming modes and the AssemblyAI client, and give the quota back when the
 * request failed on our side. A client key whose budget or tpm depends on the real cost gets its
 * answer's end only once that cost is stored.
 */
import { GatewayError } from '../../core/errors.ts'
import { requestIdOf } from '../../core/request-id.ts'
import { hookStream } from '../../core/stream-hooks.ts'
import { annotate } from '../../core/request-log.ts'
import type { ApiAuthenticator, Principal } from '../api-auth/api-auth.ts'
import type { RequestRecorder, RequestTrace } from './call-trace.ts'
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

/** What the request log says of a served call: key, attempts, and which streaming modes served it (none for a plain one). */
function resultNotes(result: PipelineResult): Record<string, unknown> {
	const notes: Record<string, unknown> = { key: result.masked, key_choice: result.keyChoice, attempts: result.attempts }
	if (result.modes.stream === 'fake') notes.fake_stream = true
	if (result.modes.antiTruncation) notes.anti_truncation = true
	return notes
}

export interface CallPipelineDeps {
	chat: ChatPipeline
	auth: ApiAuthenticator
	limit?: ConcurrencyLimit
	/** The request log, when loaded: one trace per call. */
	recorder?: RequestRecorder
}

export async function callPipeline(
	deps: CallPipelineDeps,
	request: Request,
	principal: Principal,
	chat: ChatRequest,
	options: CallOptions = {},
): Promise<PipelineResult> {
	const trace = deps.recorder?.start(request, principal, chat, typeof options.log?.format === 'string' ? options.log.format : undefined)
	if (!trace) return admitAndCall(deps, request, principal, chat, options)
	let result: PipelineResult
	try {
		result = await admitAndCall(deps, request, principal, chat, options, trace)
	} catch (err) {
		trace.failed(err)
		throw err
	}
	trace.answered({
		masked: result.masked,
		attempts: result.attempts,
		model: result.modes.model,
		...(result.kind === 'json' ? { completionModel: result.completion.model, usage: result.completion.usage ?? null } : {}),
	})
	if (result.kind === 'stream') return { ...result, body: trace.watch(result.body) }
	trace.done()
	return result
}

async function admitAndCall(
	deps: CallPipelineDeps,
	request: Request,
	principal: Principal,
	chat: ChatRequest,
	options: CallOptions,
	trace?: RequestTrace,
): Promise<PipelineResult> {
	const notes: Record<string, unknown> = { model: chat.model, stream: chat.stream === true }
	if (options.log) Object.assign(notes, options.log)
	if (principal.kind === 'client') notes.client = principal.name
	else if (principal.kind === 'panel') notes.client = 'panel'
	annotate(request, notes)
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
		trace?.admitted()
		// The reservation travels with the principal to the usage events that settle it (not enumerable:
		// whoever logs or serialises the principal does not walk into it).
		const caller =
			admission?.ticket && principal.kind === 'client'
				? Object.defineProperty({ ...principal }, 'ticket', { value: admission.ticket, enumerable: false })
				: principal
		result = await deps.chat.chat({
			request: chat,
			signal: request.signal,
			principal: caller,
			requestId: requestIdOf(request),
			keepAlive: options.keepAlive,
			trace,
			note: (fields) => annotate(request, fields),
		})
	} catch (err) {
		release?.()
		// A request that failed on our side (no key, upstream down, a bug: every 5xx of ours, or
		// the client going away) does not spend the client's quota; only the client's own 4xx does.
		if (admission && !(err instanceof GatewayError && err.status < 429)) await admission.release()
		else await admission?.close?.()
		throw err
	}
	annotate(request, resultNotes(result))
	// A budgeted answer ends only once its cost is stored: the client's next request sees it.
	const ticket = admission?.ticket?.binding ? admission.ticket : undefined
	if (ticket && result.kind === 'json') await ticket.settled()
	if (ticket && result.kind === 'stream') result = { ...result, body: hookStream(result.body, { beforeEnd: () => ticket.settled() }) }
	if (result.kind === 'stream' && release) return { ...result, body: releaseWhenDone(result.body, release, request.signal) }
	release?.()
	return result
}
