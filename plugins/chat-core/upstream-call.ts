/**
 * What the chat core asks of the upstream: one ChatRequest in, an OpenAI completion or an OpenAI
 * chunk stream out, with the key that served it (masked) and the attempts it took. The
 * AssemblyAI client implements it; the pipeline depends on this, never on the client.
 */
import type { Principal } from '../api-auth/api-auth.ts'
import type { UpstreamTrace } from './call-trace.ts'
import type { ChatCompletion } from './chat-completion.ts'
import type { ChatRequest } from './chat-request.ts'

export interface ChatCall {
	request: ChatRequest
	/** The client's abort signal: a client that goes away cancels the upstream request. */
	signal: AbortSignal
	principal?: Principal
	/** The gateway's request id (x-request-id), for the log lines of this call. */
	requestId?: string
	/** The request log's notes on this call (keys tried, how each upstream call ended). */
	trace?: UpstreamTrace
	/** Adds fields to the request's access-log line (what the upstream call changed, e.g. a clamped max_tokens). */
	note?: (fields: Record<string, unknown>) => void
}

/** `upstreamRequestId`: the upstream's `request_id` of a JSON answer (streams carry none). */
export type Answer = { kind: 'json'; completion: ChatCompletion; upstreamRequestId?: string } | { kind: 'stream'; body: ReadableStream<Uint8Array> }

/** `keyChoice`: why the key that served was chosen (affinity, rotation or fallback), for the request log. */
export type ChatResult = Answer & { masked: string; attempts: number; keyChoice?: 'affinity' | 'rotation' | 'fallback' }

/** The upstream as the pipeline uses it. */
export interface UpstreamChat {
	chat(call: ChatCall): Promise<ChatResult>
	/** The body the first upstream attempt would send for this request; nothing is sent. */
	preview?(request: ChatRequest): Promise<Record<string, unknown>>
}

/** What the pipeline needs of the model catalog: whether a model streams natively. */
export interface StreamCapabilities {
	/** The model's supported parameters, or null/undefined when unknown. */
	info(model: string): Promise<{ supportedParameters?: readonly string[] | null } | null | undefined>
}
