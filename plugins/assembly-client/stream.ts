/**
 * The streamed answer: gateway SSE -> OpenAI `chat.completion.chunk` stream (docs/upstream-api.md §5),
 * and a finished completion -> a short stream (fake streaming).
 *
 * Rules clients rely on (design.md, "OpenAI wire details"): one id on every chunk, the first
 * delta carries the role, one choice at index 0, tool-call deltas with their index and
 * id/type/name on the first delta of each call, exactly one finish_reason, an optional
 * usage-only chunk with `choices: []`, then `[DONE]`. A stream that broke upstream ends with
 * an error event and no `[DONE]` (principle 5).
 */

import { UpstreamError } from '../../core/errors.ts'
import { DONE, SseParser, encodeEvent } from '../../core/sse.ts'
import { readUpstreamError } from './upstream-errors.ts'
import { bodyErrorStatus, finalFinishReason, mapFinishReason, mergeFinishReason, newCallId } from './response.ts'
import { type ChatCompletion, type FinishReason, type Usage, randomHex, readUsage } from '../chat-core/chat-completion.ts'
import { isObject } from '../../core/json.ts'

export interface StreamEnd {
	/** True only when upstream sent `[DONE]` and the client got the whole answer. */
	clean: boolean
	finishReason: string | null
	error?: Error
}

export interface StreamContext {
	/** The name the client asked for; every chunk carries it. */
	model: string
	created: number
	/** Chunk id; `chatcmpl-<random>` when absent. */
	id?: string
	/** The client set `stream_options.include_usage`: send the usage-only chunk. */
	includeUsage: boolean
	/** Called once with the last usage upstream reported (also on a broken stream: those tokens were spent). */
	onUsage?: (usage: Usage) => void
	/** Called once before `onEnd` with the last model name the upstream's chunks carried (a fallback may answer). */
	onModel?: (model: string) => void
	/** Called exactly once: clean end, broken upstream, or the client went away. */
	onEnd: (result: StreamEnd) => void
	/** Called for every chunk read from upstream (an idle watchdog's heartbeat). */
	onChunk?: () => void
	/** Removes secrets from the error event's text (upstream text is not ours). */
	scrub?: (text: string) => string
}

const BROKEN_MESSAGE = 'Upstream stream ended before completion'

interface CallState {
	index: number
	id: string
	name: string | null
}

type Delta = Record<string, unknown>

export function translateStream(upstream: ReadableStream<Uint8Array>, ctx: StreamContext): ReadableStream<Uint8Array> {
	const reader = upstream.getReader()
	const parser = new SseParser()
	const id = ctx.id ?? `chatcmpl-${randomHex(12)}`
	const usageField = ctx.includeUsage ? { usage: null } : {}

	let finished = false
	let roleSent = false
	let reason: FinishReason | null = null
	let usage: Usage | null = null
	let answeredBy: string | null = null
	let nextCallIndex = 0
	/** Upstream `choice:index` -> our call. */
	const calls = new Map<string, CallState>()
	/** The latest call of each upstream choice, for deltas that carry no index. */
	const lastCall = new Map<number, CallState>()

	const chunk = (choices: unknown[], extra: Record<string, unknown> = usageField): Uint8Array =>
		encodeEvent(JSON.stringify({ id, object: 'chat.completion.chunk', created: ctx.created, model: ctx.model, choices, ...extra }))

	const deltaChunk = (delta: Delta): Uint8Array => {
		if (!roleSent) {
			roleSent = true
			delta = { role: 'assistant', ...delta }
		}
		return chunk([{ index: 0, delta, logprobs: null, finish_reason: null }])
	}

	const end = (result: StreamEnd): void => {
		if (finished) return
		finished = true
		if (usage !== null) ctx.onUsage?.(usage)
		if (answeredBy !== null) ctx.onModel?.(answeredBy)
		ctx.onEnd(result)
	}

	const fail = (controller: ReadableStreamDefaultController<Uint8Array>, message: string, code: string, error: Error): void => {
		if (finished) return
		const body = new UpstreamError(ctx.scrub ? ctx.scrub(message) : message, 502, code).toJSON()
		controller.enqueue(encodeEvent(JSON.stringify(body)))
		controller.close()
		end({ clean: false, finishReason: null, error })
		reader.cancel(error).catch(() => {})
	}

	const finish = (controller: ReadableStreamDefaultController<Uint8Array>): void => {
		if (finished) return
		const finishReason = finalFinishReason(reason, nextCallIndex > 0)
		const delta: Delta = roleSent ? {} : { role: 'assistant', content: '' }
		roleSent = true
		controller.enqueue(chunk([{ index: 0, delta, logprobs: null, finish_reason: finishReason }]))
		if (ctx.includeUsage && usage !== null) controller.enqueue(chunk([], { usage }))
		controller.enqueue(DONE)
		controller.close()
		end({ clean: true, finishReason })
		// Anything after [DONE] is not part of the answer; let the connection go.
		reader.cancel().catch(() => {})
	}

	const toolDelta = (choiceIndex: number, raw: Record<string, unknown>): Record<string, unknown> => {
		const key = typeof raw.index === 'number' ? `${choiceIndex}:${raw.index}` : null
		const fn = isObject(raw.function) ? raw.function : {}
		const givenId = typeof raw.id === 'string' && raw.id !== '' ? raw.id : null
		const name = typeof fn.name === 'string' && fn.name !== '' ? fn.name : null
		let state = key !== null ? calls.get(key) : lastCall.get(choiceIndex)
		const out: Record<string, unknown> = {}
		const outFn: Record<string, unknown> = {}
		// A new id, or another name, where a call is already known starts a new call (providers
		// that reuse index 0, or send no index, for parallel calls).
		if (state === undefined || (givenId !== null && givenId !== state.id) || (name !== null && state.name !== null && name !== state.name)) {
			state = { index: nextCallIndex++, id: givenId ?? newCallId(), name: null }
			if (key !== null) calls.set(key, state)
			out.index = state.index
			out.id = state.id
			out.type = 'function'
		} else {
			out.index = state.index
		}
		lastCall.set(choiceIndex, state)
		// The name goes out once: clients that concatenate name fragments must not see it twice.
		if (name !== null && state.name === null) {
			state.name = name
			outFn.name = name
		}
		if (fn.arguments !== undefined && fn.arguments !== null) {
			const args = typeof fn.arguments === 'string' ? fn.arguments : JSON.stringify(fn.arguments)
			if (args !== '' || out.id !== undefined) outFn.arguments = args
		} else if (out.id !== undefined) {
			outFn.arguments = ''
		}
		if (Object.keys(outFn).length > 0) out.function = outFn
		// Extra fields (a Gemini thought signature on the call) pass through.
		for (const key in raw) if (!(key in out) && key !== 'function' && key !== 'type' && key !== 'id' && key !== 'index') out[key] = raw[key]
		return out
	}

	/** Returns the bytes for one upstream `data:` payload, or an error to end with. */
	const handle = (data: string, out: Uint8Array[]): { error: Error; message: string; code: string } | 'done' | null => {
		if (data === '[DONE]') return 'done'
		if (data.trim() === '') return null
		let parsed: unknown
		try {
			parsed = JSON.parse(data)
		} catch {
			const error = new Error('Upstream sent a stream chunk that is not JSON')
			return { error, message: error.message, code: 'upstream_stream_broken' }
		}
		if (!isObject(parsed)) return null
		const errorStatus = bodyErrorStatus(parsed)
		if (errorStatus !== null) {
			const info = readUpstreamError(errorStatus, data)
			const error = new Error(`Upstream stream error: ${info.message}`)
			return { error, message: error.message, code: 'upstream_stream_error' }
		}
		const u = readUsage(parsed.usage)
		if (u !== null) usage = u
		if (typeof parsed.model === 'string') answeredBy = parsed.model
		const choices: unknown[] = Array.isArray(parsed.choices) ? parsed.choices : []
		let content = ''
		let reasoning = ''
		let sawRole = false
		let signature: string | null = null
		const toolCalls: Record<string, unknown>[] = []
		for (let c = 0; c < choices.length; c++) {
			const choice = choices[c]
			if (!isObject(choice)) continue
			const choiceIndex = typeof choice.index === 'number' ? choice.index : c
			reason = mergeFinishReason(reason, mapFinishReason(choice.finish_reason))
			const delta = isObject(choice.delta) ? choice.delta : null
			if (delta === null) continue
			if (typeof delta.content === 'string') content += delta.content
			const r = typeof delta.reasoning_content === 'string' ? delta.reasoning_content : typeof delta.reasoning === 'string' ? delta.reasoning : ''
			reasoning += r
			if (typeof delta.thought_signature === 'string' && delta.thought_signature !== '') signature = delta.thought_signature
			if (delta.role !== undefined) sawRole = true
			if (Array.isArray(delta.tool_calls)) {
				for (const raw of delta.tool_calls) if (isObject(raw)) toolCalls.push(toolDelta(choiceIndex, raw))
			}
		}
		const delta: Delta = {}
		if (content !== '') delta.content = content
		if (reasoning !== '') delta.reasoning_content = reasoning
		if (signature !== null) delta.thought_signature = signature
		if (toolCalls.length > 0) delta.tool_calls = toolCalls
		if (Object.keys(delta).length > 0) out.push(deltaChunk(delta))
		// The first upstream delta (usually `{role, content: ''}`) opens the stream at once: fast first byte.
		else if (!roleSent && sawRole) out.push(deltaChunk({ content: '' }))
		return null
	}

	return new ReadableStream<Uint8Array>(
		{
			async pull(controller) {
				// Read until something can be sent: pull-driven, so a slow client slows the upstream read.
				while (!finished) {
					let result: Awaited<ReturnType<typeof reader.read>>
					try {
						result = await reader.read()
					} catch (cause) {
						const error = cause instanceof Error ? cause : new Error(String(cause))
						fail(controller, BROKEN_MESSAGE, 'upstream_stream_broken', error)
						return
					}
					if (finished) return
					ctx.onChunk?.()
					const events = result.done ? parser.end() : parser.push(result.value)
					const out: Uint8Array[] = []
					let done = false
					for (const event of events) {
						const outcome = handle(event.data, out)
						if (outcome === 'done') {
							done = true
							break
						}
						if (outcome !== null) {
							for (const bytes of out) controller.enqueue(bytes)
							fail(controller, outcome.message, outcome.code, outcome.error)
							return
						}
					}
					for (const bytes of out) controller.enqueue(bytes)
					if (done) {
						finish(controller)
						return
					}
					if (result.done) {
						fail(controller, BROKEN_MESSAGE, 'upstream_stream_broken', new Error(BROKEN_MESSAGE))
						return
					}
					if (out.length > 0) return
				}
			},
			cancel(reason) {
				if (finished) return
				end({ clean: false, finishReason: null })
				return reader.cancel(reason).catch(() => {})
			},
		},
		// No buffering ahead of the client: backpressure reaches the upstream socket.
		{ highWaterMark: 0 },
	)
}

/**
 * A complete answer as a short valid stream: role, reasoning, content, one chunk per tool
 * call (index, id, type, name, whole arguments), finish, optional usage, `[DONE]`.
 */
export function completionToStream(completion: ChatCompletion, ctx: { includeUsage: boolean }): ReadableStream<Uint8Array> {
	const base = { id: completion.id, object: 'chat.completion.chunk', created: completion.created, model: completion.model }
	const usageField = ctx.includeUsage ? { usage: null } : {}
	const choice = completion.choices[0]
	const message = choice.message
	const frames: Uint8Array[] = []
	const push = (delta: Delta, finishReason: string | null = null): void => {
		frames.push(encodeEvent(JSON.stringify({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }], ...usageField })))
	}

	const first: Delta = { role: 'assistant', content: '' }
	if (message.thought_signature !== undefined) first.thought_signature = message.thought_signature
	push(first)
	if (message.reasoning_content) push({ reasoning_content: message.reasoning_content })
	if (message.content) push({ content: message.content })
	const calls = message.tool_calls ?? []
	for (let i = 0; i < calls.length; i++) {
		const call = calls[i]!
		push({ tool_calls: [{ index: i, ...call }] })
	}
	push({}, choice.finish_reason)
	if (ctx.includeUsage && completion.usage) frames.push(encodeEvent(JSON.stringify({ ...base, choices: [], usage: completion.usage })))
	frames.push(DONE)

	let next = 0
	return new ReadableStream<Uint8Array>({
		pull(controller) {
			if (next < frames.length) controller.enqueue(frames[next++]!)
			if (next >= frames.length) controller.close()
		},
	})
}
