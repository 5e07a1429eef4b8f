/**
 * What a request recorder (the request log) learns about one client request while it runs. The
 * chat core opens a trace per admitted call and closes it when the answer (or its stream) ends;
 * the upstream client adds the keys it tried and how the upstream call ended. Every method is a
 * cheap, synchronous note: nothing is awaited or stored on the request's path.
 */
import type { Principal } from '../api-auth/api-auth.ts'
import type { ChatRequest } from './chat-request.ts'

/** Token counts as the upstream reported them (OpenAI names; cache and reasoning details when present). */
export interface TracedUsage {
	prompt_tokens: number
	completion_tokens: number
	prompt_tokens_details?: { cached_tokens?: number; cache_write_tokens?: number }
	completion_tokens_details?: Record<string, unknown>
}

/** How one upstream call ended. */
export interface UpstreamEnd {
	status: number
	failure: string | null
	usage: TracedUsage | null
	tier?: string
	answeredModel?: string
	/** What the pricing service charged for this call's usage: null = unpriced; absent = not priced (no pricing, no usage). */
	cost?: { usd: number } | null
}

/** The upstream client's part. */
export interface UpstreamTrace {
	/** An attempt goes to this key (masked); `reason` when the key pool says why it chose it. */
	keyChosen(masked: string, reason?: string): void
	/**
	 * One upstream call ended (a stream: when it ended), with its status, failure class and usage;
	 * `tier`: the price tier it paid (global, us, eu); `answeredModel`: the model that answered
	 * when the upstream named a fallback; `cost`: its price, when it was priced.
	 */
	upstreamEnded(end: UpstreamEnd): void
}

/** The chat core's part: the stages of the request, in order. */
export interface RequestTrace extends UpstreamTrace {
	/** Admission (quota, allow-list) is done; the upstream call starts. */
	admitted(): void
	/** The pipeline answered: a completion, or a stream whose bytes follow. */
	answered(result: { masked: string; attempts: number; model: string; completionModel?: string; usage?: TracedUsage | null }): void
	/** A streamed answer: its bytes pass through, first byte, first token and end are noted. */
	watch(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array>
	/** A completion was handed to the dialect. */
	done(): void
	/** The request failed with this error before its answer started. */
	failed(err: unknown): void
}

export interface RequestRecorder {
	/** Opens the trace of one client request (`format`: the dialect's body format when it has several). */
	start(request: Request, principal: Principal, chat: ChatRequest, format?: string): RequestTrace
}
