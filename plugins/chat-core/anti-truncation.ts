/**
 * Anti-truncation (流式抗截断): the model is asked to end its answer with a marker; the marker is
 * stripped from what the client sees; an answer that ends without it (cut at `max_tokens`, or a
 * stream the upstream dropped) is continued with a follow-up request that carries what was
 * produced so far, up to `maxContinuations` times. The client sees one answer: one stream with one
 * id, one role, one finish reason, usage summed over every call, one `[DONE]`; or, when the
 * continuations run out, the text produced and an error event that says so.
 *
 * Works on the internal ChatRequest and on OpenAI chunk streams, so every dialect gets it.
 */
import { GatewayError } from '../../core/errors.ts'
import { isObject } from '../../core/json.ts'
import { DONE, SseParser } from '../../core/sse.ts'
import { type ChatCompletion, type FinishReason, type Usage, randomHex, readUsage } from './chat-completion.ts'
import type { ChatMessage, ChatRequest } from './chat-request.ts'
import { type ChunkFrame, type Delta, addUsage, deltaChunk, errorEvent, usageChunk } from './chunks.ts'

export const MARKER = '[done]'

export const MARKER_INSTRUCTION = `When your answer is complete, end it with the line ${MARKER} and nothing after it. Never write ${MARKER} anywhere else.`

export const CONTINUE_INSTRUCTION = `Your previous answer was cut off. Continue exactly where it stopped, without repeating anything and without any preamble. End with the line ${MARKER} when the answer is complete.`

/** The answer is still incomplete after every continuation. */
export class TruncatedAnswerError extends GatewayError {
	override readonly status = 502
	override readonly type = 'api_error'
	override readonly code = 'anti_truncation_exhausted'
}

export function exhaustedError(maxContinuations: number): TruncatedAnswerError {
	return new TruncatedAnswerError(
		`The answer was still incomplete after ${maxContinuations} continuation${maxContinuations === 1 ? '' : 's'} (no end marker); the text so far was sent.`,
	)
}

/** The request with the marker instruction: appended to the first system message, or a new one in front. */
export function withMarkerInstruction(request: ChatRequest): ChatRequest {
	const messages = [...request.messages]
	const i = messages.findIndex((m) => m.role === 'system' || m.role === 'developer')
	const first = messages[i]
	if (first !== undefined && typeof first.content === 'string') {
		messages[i] = { ...first, content: `${first.content}\n\n${MARKER_INSTRUCTION}` }
	} else if (first !== undefined && Array.isArray(first.content)) {
		messages[i] = { ...first, content: [...first.content, { type: 'text', text: MARKER_INSTRUCTION }] }
	} else {
		messages.unshift({ role: 'system', content: MARKER_INSTRUCTION })
	}
	return { ...request, messages }
}

/** The follow-up request: what was produced so far as the assistant's turn, then the instruction to go on. */
export function continuationRequest(marked: ChatRequest, produced: string): ChatRequest {
	const messages: ChatMessage[] = [...marked.messages, { role: 'assistant', content: produced }, { role: 'user', content: CONTINUE_INSTRUCTION }]
	return { ...marked, messages }
}

/**
 * Strips the marker from streamed text. Text that could be the start of the marker (and the
 * whitespace before it) is held back until the next piece shows what it is; everything from the
 * marker on is dropped. Case-insensitive: models write `[DONE]` too.
 */
export class MarkerFilter {
	private held = ''
	found = false

	/** Returns the text that is safe to send now. */
	push(text: string): string {
		if (this.found) return ''
		const all = this.held + text
		const at = all.toLowerCase().indexOf(MARKER)
		if (at !== -1) {
			this.found = true
			this.held = ''
			return all.slice(0, at).replace(/\s+$/, '')
		}
		const keep = holdLength(all)
		this.held = all.slice(all.length - keep)
		return all.slice(0, all.length - keep)
	}

	/** The end of one call: what was held back is real text after all. */
	flush(): string {
		const out = this.held
		this.held = ''
		return out
	}
}

/** Length of the tail that may still become the marker: a prefix of it, with the whitespace before it. */
function holdLength(text: string): number {
	const lower = text.toLowerCase()
	let partial = 0
	for (let n = Math.min(MARKER.length - 1, lower.length); n > 0; n--) {
		if (lower.endsWith(MARKER.slice(0, n))) {
			partial = n
			break
		}
	}
	let start = text.length - partial
	while (start > 0 && /\s/.test(text[start - 1]!)) start--
	return text.length - start
}

/** One upstream call of the loop: the answer as an OpenAI completion or as an OpenAI chunk stream. */
export type CallResult = { kind: 'json'; completion: ChatCompletion } | { kind: 'stream'; body: ReadableStream<Uint8Array> }

export interface AntiTruncationOptions {
	maxContinuations: number
	/** One upstream call (the pipeline's: retries over the key pool included). */
	call: (request: ChatRequest) => Promise<CallResult>
}

/**
 * Non-streamed: calls until the marker (or a tool call) ends the answer. When the continuations
 * run out the answer comes back with `incomplete` set (finish_reason `length`).
 */
export async function completeWithoutTruncation(
	request: ChatRequest,
	options: AntiTruncationOptions,
): Promise<{ completion: ChatCompletion; incomplete?: TruncatedAnswerError }> {
	const marked = withMarkerInstruction({ ...request, stream: false })
	let produced = ''
	let reasoning = ''
	let usage: Usage | null = null
	let next = marked
	for (let round = 0; ; round++) {
		const result = await options.call(next)
		if (result.kind !== 'json') throw new Error('anti-truncation: a non-streamed call answered with a stream')
		const { completion } = result
		usage = addUsage(usage, completion.usage ?? null)
		const choice = completion.choices[0]
		const message = choice.message
		if (message.reasoning_content) reasoning += message.reasoning_content
		const filter = new MarkerFilter()
		const text = filter.push(message.content ?? '')
		const done = filter.found || (message.tool_calls?.length ?? 0) > 0 || choice.finish_reason === 'content_filter'
		produced += done ? text : text + filter.flush()
		const finish: FinishReason = filter.found ? (choice.finish_reason === 'length' ? 'stop' : choice.finish_reason) : choice.finish_reason
		const whole = (finishReason: FinishReason): ChatCompletion => ({
			...completion,
			choices: [{ ...choice, message: { ...message, content: produced, ...(reasoning ? { reasoning_content: reasoning } : {}) }, finish_reason: finishReason }],
			...(usage ? { usage } : {}),
		})
		if (done) return { completion: whole(finish) }
		if (round >= options.maxContinuations) return { completion: whole('length'), incomplete: exhaustedError(options.maxContinuations) }
		next = continuationRequest(marked, produced)
	}
}

export interface AntiTruncationStreamOptions extends AntiTruncationOptions {
	includeUsage: boolean
	model: string
	created: number
}

/**
 * Streamed: the first call is made before this resolves (its failure is a real HTTP status);
 * after that, every call's chunks are merged into one stream.
 */
export async function streamWithoutTruncation(request: ChatRequest, options: AntiTruncationStreamOptions): Promise<ReadableStream<Uint8Array>> {
	const marked = withMarkerInstruction({ ...request, stream: true, stream_options: { ...(request.stream_options ?? {}), include_usage: true } })
	const first = await options.call(marked)
	const frame: ChunkFrame = { id: `chatcmpl-${randomHex(12)}`, created: options.created, model: options.model, includeUsage: options.includeUsage }
	let current: ReadableStreamDefaultReader<Uint8Array> | null = null
	let cancelled = false

	const run = async (controller: ReadableStreamDefaultController<Uint8Array>) => {
		let roleSent = false
		let produced = ''
		let usage: Usage | null = null
		let result: CallResult = first
		const send = (delta: Delta, finish: string | null = null) => {
			controller.enqueue(deltaChunk(frame, roleSent ? delta : { role: 'assistant', ...delta }, finish))
			roleSent = true
		}
		for (let round = 0; ; round++) {
			const filter = new MarkerFilter()
			const body = result.kind === 'stream' ? result.body : completionBody(result.completion)
			const reader = body.getReader()
			current = reader
			const parser = new SseParser()
			let callUsage: Usage | null = null
			let finish: FinishReason | null = null
			let sawTools = false
			let clean = false
			let broken: unknown = null
			read: for (;;) {
				const { done, value } = await reader.read()
				if (cancelled) return
				for (const event of done ? parser.end() : parser.push(value)) {
					if (event.data === '[DONE]') {
						clean = true
						break read
					}
					let chunk: unknown
					try {
						chunk = JSON.parse(event.data)
					} catch {
						continue
					}
					if (!isObject(chunk)) continue
					if (isObject(chunk.error)) {
						broken = chunk
						break read
					}
					const u = readUsage(chunk.usage)
					if (u !== null) callUsage = u
					const choice = Array.isArray(chunk.choices) ? chunk.choices[0] : undefined
					if (!isObject(choice)) continue
					if (typeof choice.finish_reason === 'string') finish = choice.finish_reason as FinishReason
					const delta = isObject(choice.delta) ? choice.delta : {}
					const out: Delta = {}
					for (const [key, v] of Object.entries(delta)) {
						if (key === 'role') continue
						if (key === 'content') {
							const text = typeof v === 'string' ? filter.push(v) : ''
							if (text !== '') out.content = text
							produced += text
						} else {
							if (key === 'tool_calls') sawTools = true
							out[key] = v
						}
					}
					if (Object.keys(out).length > 0 || !roleSent) send(Object.keys(out).length > 0 ? out : { content: '' })
				}
				if (done) break
			}
			reader.releaseLock()
			current = null
			usage = addUsage(usage, callUsage)
			if (broken !== null && !filter.found) {
				// Upstream broke the stream: a continuation may still save the answer.
				if (round >= options.maxContinuations) {
					controller.enqueue(errorEvent(exhaustedError(options.maxContinuations)))
					controller.close()
					return
				}
			}
			const complete = clean && (filter.found || sawTools || finish === 'content_filter')
			if (complete) {
				const reason = sawTools ? 'tool_calls' : finish === 'content_filter' ? 'content_filter' : 'stop'
				send({}, reason)
				if (options.includeUsage && usage !== null) controller.enqueue(usageChunk(frame, usage))
				controller.enqueue(DONE)
				controller.close()
				return
			}
			const rest = filter.flush()
			if (rest !== '') {
				send({ content: rest })
				produced += rest
			}
			if (round >= options.maxContinuations) {
				controller.enqueue(errorEvent(exhaustedError(options.maxContinuations)))
				controller.close()
				return
			}
			try {
				result = await options.call(continuationRequest(marked, produced))
			} catch (err) {
				if (cancelled) return
				controller.enqueue(errorEvent(err))
				controller.close()
				return
			}
			if (cancelled) return
		}
	}

	return new ReadableStream<Uint8Array>({
		start(controller) {
			run(controller).catch((err: unknown) => {
				if (cancelled) return
				try {
					controller.enqueue(errorEvent(err))
					controller.close()
				} catch {}
			})
		},
		cancel(reason) {
			cancelled = true
			const reader = current
			if (reader) return reader.cancel(reason).catch(() => {})
			if (first.kind === 'stream' && !first.body.locked) return first.body.cancel(reason).catch(() => {})
		},
	})
}

/** A completion as a chunk stream, for the loop that reads chunk streams only. */
function completionBody(completion: ChatCompletion): ReadableStream<Uint8Array> {
	const frame: ChunkFrame = { id: completion.id, created: completion.created, model: completion.model, includeUsage: true }
	const message = completion.choices[0].message
	const frames: Uint8Array[] = []
	const delta: Delta = { role: 'assistant', content: message.content ?? '' }
	if (message.reasoning_content) delta.reasoning_content = message.reasoning_content
	frames.push(deltaChunk(frame, delta))
	const calls = message.tool_calls ?? []
	for (let i = 0; i < calls.length; i++) frames.push(deltaChunk(frame, { tool_calls: [{ index: i, ...calls[i] }] }))
	frames.push(deltaChunk(frame, {}, completion.choices[0].finish_reason))
	if (completion.usage) frames.push(usageChunk(frame, completion.usage))
	frames.push(DONE)
	return new ReadableStream({
		start(controller) {
			for (const f of frames) controller.enqueue(f)
			controller.close()
		},
	})
}
