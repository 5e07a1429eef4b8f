/**
 * Fake streaming (假流式): a non-streamed upstream answer served to the client as an OpenAI
 * chunk stream, with heartbeats while the upstream works.
 *
 * - The first byte waits for the answer or one heartbeat interval, whichever comes first: an
 *   answer that fails fast still reaches the client as a real HTTP status (the returned promise
 *   rejects with its error).
 * - Then a heartbeat every interval: an SSE comment, or an empty-content chunk for clients that
 *   need data events.
 * - The answer goes out the moment it arrives (a timer, never a sleep-then-check loop): role,
 *   reasoning, content (optionally paced in slices every 50 ms), tool calls with their indexes,
 *   the finish reason, the usage chunk when asked for, `[DONE]`.
 * - An answer that fails after the first byte ends the stream with an error event and no `[DONE]`.
 *
 * Pure apart from timers: works on a promised ChatCompletion, whatever dialect the client speaks.
 */
import { DONE, encodeComment } from '../../core/sse.ts'
import type { GatewayError } from '../../core/errors.ts'
import { type ChatCompletion, randomHex } from './chat-completion.ts'
import { type ChunkFrame, type Delta, deltaChunk, errorEvent, usageChunk } from './chunks.ts'

export type HeartbeatStyle = 'comment' | 'chunk'

export interface FakeStreamOptions {
	heartbeatMs: number
	heartbeat: HeartbeatStyle
	/** Content pacing in characters per second; 0 sends the content in one chunk. */
	charsPerSecond: number
	includeUsage: boolean
	/** The model name every chunk carries. */
	model: string
	created: number
	/** Aborts the heartbeats and pacing (the client left). */
	signal?: AbortSignal
}

/** What the upstream side resolves to: the answer, and an error to end with when it is incomplete. */
export interface FakeAnswer {
	completion: ChatCompletion
	/** Set when the answer is not whole (anti-truncation gave up): sent as an error event instead of `[DONE]`. */
	incomplete?: GatewayError
}

export const PACING_TICK_MS = 50
const HEARTBEAT_COMMENT = encodeComment('heartbeat')

/** One frame to send; `slice` marks a paced content slice (pacing waits after those only). */
export interface Frame {
	bytes: Uint8Array
	slice?: boolean
}

/** The answer's frames: content sliced for pacing, then the end (finish, usage, DONE or the error event). */
export function answerFrames(answer: FakeAnswer, frame: ChunkFrame, options: { sliceChars: number; roleSent: boolean }): Frame[] {
	const { completion } = answer
	const choice = completion.choices[0]
	const message = choice.message
	const frames: Frame[] = []
	let roleSent = options.roleSent
	const push = (delta: Delta, finish: string | null = null, slice = false) => {
		frames.push({ bytes: deltaChunk(frame, roleSent ? delta : { role: 'assistant', ...delta }, finish), slice })
		roleSent = true
	}
	const first: Delta = { content: '' }
	if (message.thought_signature !== undefined) first.thought_signature = message.thought_signature
	if (!roleSent || message.thought_signature !== undefined) push(first)
	if (message.reasoning_content) push({ reasoning_content: message.reasoning_content })
	const content = message.content ?? ''
	if (content !== '') {
		const size = options.sliceChars > 0 ? options.sliceChars : content.length
		// Slices by code point, so no surrogate pair is cut in two.
		const chars = [...content]
		for (let i = 0; i < chars.length; i += size) push({ content: chars.slice(i, i + size).join('') }, null, options.sliceChars > 0)
	}
	const calls = message.tool_calls ?? []
	for (let i = 0; i < calls.length; i++) push({ tool_calls: [{ index: i, ...calls[i] }] })
	if (answer.incomplete) {
		frames.push({ bytes: errorEvent(answer.incomplete) })
		return frames
	}
	push({}, choice.finish_reason)
	if (frame.includeUsage && completion.usage) frames.push({ bytes: usageChunk(frame, completion.usage) })
	frames.push({ bytes: DONE })
	return frames
}

/**
 * Resolves to the client's stream once the answer is in or one heartbeat interval has passed;
 * rejects with the upstream's error when that error came first.
 */
export async function fakeStream(answer: Promise<FakeAnswer>, options: FakeStreamOptions): Promise<ReadableStream<Uint8Array>> {
	const frame: ChunkFrame = { id: `chatcmpl-${randomHex(12)}`, created: options.created, model: options.model, includeUsage: options.includeUsage }
	const sliceChars = options.charsPerSecond > 0 ? Math.max(1, Math.round((options.charsPerSecond * PACING_TICK_MS) / 1000)) : 0
	type Settled = { ok: true; value: FakeAnswer } | { ok: false; error: unknown }
	const settled: Promise<Settled> = answer.then(
		(value) => ({ ok: true, value }),
		(error: unknown) => ({ ok: false, error }),
	)
	let firstTimer: ReturnType<typeof setTimeout> | undefined
	const early = await Promise.race([settled, new Promise<null>((resolve) => (firstTimer = setTimeout(() => resolve(null), options.heartbeatMs)))])
	clearTimeout(firstTimer)
	if (early !== null && !early.ok) throw early.error

	let closed = false
	let heartbeat: ReturnType<typeof setInterval> | undefined
	let pacing: ReturnType<typeof setTimeout> | undefined
	const stop = () => {
		closed = true
		clearInterval(heartbeat)
		clearTimeout(pacing)
		options.signal?.removeEventListener('abort', stop)
	}
	options.signal?.addEventListener('abort', stop, { once: true })

	return new ReadableStream<Uint8Array>({
		start(controller) {
			let roleSent = false
			const beat = () => {
				if (closed) return
				if (options.heartbeat === 'chunk') {
					controller.enqueue(deltaChunk(frame, roleSent ? { content: '' } : { role: 'assistant', content: '' }))
					roleSent = true
				} else controller.enqueue(HEARTBEAT_COMMENT)
			}
			const deliver = (result: Settled) => {
				if (closed) return
				clearInterval(heartbeat)
				const frames = result.ok ? answerFrames(result.value, frame, { sliceChars, roleSent }) : [{ bytes: errorEvent(result.error) }]
				let next = 0
				const send = () => {
					pacing = undefined
					if (closed) return
					// Unpaced: everything at once. Paced: one content slice per tick, the rest as soon as content is out.
					while (next < frames.length) {
						const current = frames[next++]!
						controller.enqueue(current.bytes)
						if (current.slice && next < frames.length) {
							pacing = setTimeout(send, PACING_TICK_MS)
							return
						}
					}
					stop()
					controller.close()
				}
				send()
			}
			if (early !== null) {
				deliver(early)
				return
			}
			// One interval has already passed: the first heartbeat goes out now, then one per interval.
			beat()
			heartbeat = setInterval(beat, options.heartbeatMs)
			void settled.then(deliver)
		},
		cancel() {
			stop()
		},
	})
}
