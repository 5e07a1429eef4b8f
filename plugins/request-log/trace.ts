/**
 * The notes on one client request while it runs: plain field writes and clock reads, nothing
 * formatted, awaited or stored. When the request ends (its completion handed over, its stream
 * ended or cancelled, or an error thrown) the trace hands itself to the writer once; the row is
 * built later, off the request's path (row.ts).
 */
import { requestIdOf } from '../../core/request-id.ts'
import type { Principal } from '../api-auth/api-auth.ts'
import type { RequestTrace, TracedUsage, UpstreamEnd } from '../chat-core/call-trace.ts'
import type { ChatRequest } from '../chat-core/chat-request.ts'
import { hookStream } from '../../core/stream-hooks.ts'

/** How a streamed answer ended on the client's side. */
export type StreamEnd = 'done' | 'cancelled' | 'errored'

const DONE_FRAME = new TextEncoder().encode('data: [DONE]\n\n')

/** True when a chunk of the core's OpenAI stream ends with its clean end, `data: [DONE]`. */
function endsWithDone(bytes: Uint8Array): boolean {
	const offset = bytes.length - DONE_FRAME.length
	if (offset < 0) return false
	for (let i = 0; i < DONE_FRAME.length; i++) if (bytes[offset + i] !== DONE_FRAME[i]) return false
	return true
}

/** The text of a chunk that carries the answer's first token: content, reasoning or a tool call. */
const TOKEN = /"(?:content|reasoning_content)":"(?:[^"\\]|\\.)|"tool_calls":\[\{/
const decoder = new TextDecoder()

export class Trace implements RequestTrace {
	/** Wall-clock start (epoch ms): the row's time. */
	readonly at: number
	readonly requestId: string
	readonly url: string
	readonly client: string | null
	readonly model: string
	readonly stream: boolean
	/** Stage times in ms since the start (monotonic clock); undefined when not reached. */
	admittedMs?: number
	answeredMs?: number
	firstByteMs?: number
	firstTokenMs?: number
	endMs?: number
	key: string | null = null
	keyReason: string | null = null
	attempts = 0
	modelAnswered: string | null = null
	/** Usage of each upstream call (anti-truncation makes several), and what each cost in USD (null: unpriced or not priced). */
	usage: TracedUsage[] = []
	costs: (number | null)[] = []
	/** The model the upstream named as the one that answered (a fallback), when it did. */
	upstreamModel: string | null = null
	/** The last upstream call's end. */
	upstream: { status: number; failure: string | null } | null = null
	error: unknown = undefined
	streamEnd: StreamEnd | null = null
	/** The chunk stream's clean end (`data: [DONE]`) went through. */
	private sawDone = false
	private readonly t0: number
	private ended = false

	constructor(
		private readonly sink: (trace: Trace) => void,
		private readonly clock: () => number,
		now: number,
		request: Request,
		principal: Principal,
		chat: ChatRequest,
		readonly format: string | undefined,
	) {
		this.t0 = clock()
		this.at = now
		this.requestId = requestIdOf(request)
		this.url = request.url
		this.client = principal.kind === 'client' ? principal.name : principal.kind === 'panel' ? 'panel' : null
		this.model = chat.model
		this.stream = chat.stream === true
	}

	private elapsed(): number {
		return this.clock() - this.t0
	}

	keyChosen(masked: string, reason?: string): void {
		this.attempts++
		this.key = masked
		this.keyReason = reason ?? null
	}

	upstreamEnded(end: UpstreamEnd): void {
		this.upstream = { status: end.status, failure: end.failure }
		if (end.answeredModel) this.upstreamModel = end.answeredModel
		if (end.usage) {
			this.usage.push(end.usage)
			this.costs.push(end.cost?.usd ?? null)
		}
	}

	admitted(): void {
		this.admittedMs = this.elapsed()
	}

	answered(result: { masked: string; attempts: number; model: string }): void {
		this.answeredMs = this.elapsed()
		if (result.masked) this.key = result.masked
		this.attempts = Math.max(this.attempts, result.attempts)
		this.modelAnswered = result.model
	}

	done(): void {
		this.end()
	}

	failed(err: unknown): void {
		this.error = err
		this.end()
	}

	watch(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
		// Hooks on the answer's one stream wrapper (core/stream-hooks.ts), not a layer of its own.
		return hookStream(body, {
			onChunk: (bytes) => {
				if (endsWithDone(bytes)) this.sawDone = true
				if (this.firstByteMs === undefined) this.firstByteMs = this.elapsed()
				// Only the first chunks are looked at: once a token was seen, bytes just pass.
				if (this.firstTokenMs === undefined && TOKEN.test(decoder.decode(bytes))) this.firstTokenMs = this.elapsed()
			},
			onEnd: (how) => {
				// A client that got `[DONE]` may hang up before the stream's last, empty read: that is a whole answer.
				if (this.streamEnd === null)
					this.streamEnd = how === 'end' || (how === 'cancelled' && this.sawDone) ? 'done' : how === 'error' ? 'errored' : 'cancelled'
				this.end()
			},
		})
	}

	private end(): void {
		if (this.ended) return
		this.ended = true
		this.endMs = this.elapsed()
		this.sink(this)
	}
}
