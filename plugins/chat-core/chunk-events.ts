/**
 * Reads the pipeline's OpenAI chunk stream (what `AssemblyClient.chat` returns for a stream:
 * `data: <chat.completion.chunk>` frames, then `data: [DONE]`, or an error frame and no
 * `[DONE]` when the upstream broke) as typed events, for the dialects that re-encode it
 * (Anthropic Messages, OpenAI Responses). Pure: bytes in, events out.
 */
import { isObject } from '../../core/json.ts'
import { SseParser } from '../../core/sse.ts'

export interface ToolCallDelta {
	index: number
	id?: string
	name?: string
	arguments?: string
}

export interface ChunkUsage {
	prompt_tokens: number
	completion_tokens: number
	cached_tokens: number
	cache_creation_tokens: number
	reasoning_tokens: number
}

export type ChunkEvent =
	| { kind: 'delta'; content?: string; reasoning?: string; signature?: string; toolCalls?: ToolCallDelta[]; finishReason?: string }
	| { kind: 'usage'; usage: ChunkUsage }
	| { kind: 'done' }
	| { kind: 'error'; message: string; type: string; code: string | null }

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0)

/** OpenAI usage (as the pipeline emits it) -> the numbers both dialects report. */
export function readChunkUsage(raw: unknown): ChunkUsage | null {
	if (!isObject(raw)) return null
	const prompt = isObject(raw.prompt_tokens_details) ? raw.prompt_tokens_details : {}
	const completion = isObject(raw.completion_tokens_details) ? raw.completion_tokens_details : {}
	const creation = isObject(prompt.cache_creation) ? prompt.cache_creation : {}
	const created = num(prompt.cache_write_tokens) || num(creation.ephemeral_5m_input_tokens) + num(creation.ephemeral_1h_input_tokens)
	return {
		prompt_tokens: num(raw.prompt_tokens),
		completion_tokens: num(raw.completion_tokens),
		cached_tokens: num(prompt.cached_tokens),
		cache_creation_tokens: created,
		reasoning_tokens: num(completion.reasoning_tokens),
	}
}

/** One `data:` payload -> events (none for a keep-alive or an empty chunk). */
export function chunkEvents(data: string): ChunkEvent[] {
	if (data === '[DONE]') return [{ kind: 'done' }]
	let parsed: unknown
	try {
		parsed = JSON.parse(data)
	} catch {
		return [{ kind: 'error', message: 'The upstream stream sent a frame that is not JSON.', type: 'api_error', code: 'upstream_stream_broken' }]
	}
	if (!isObject(parsed)) return []
	if (isObject(parsed.error)) {
		const e = parsed.error
		return [
			{
				kind: 'error',
				message: typeof e.message === 'string' ? e.message : 'The upstream stream failed.',
				type: typeof e.type === 'string' ? e.type : 'api_error',
				code: typeof e.code === 'string' ? e.code : null,
			},
		]
	}
	const events: ChunkEvent[] = []
	const choices = Array.isArray(parsed.choices) ? parsed.choices : []
	for (const choice of choices) {
		if (!isObject(choice)) continue
		const delta = isObject(choice.delta) ? choice.delta : {}
		const event: Extract<ChunkEvent, { kind: 'delta' }> = { kind: 'delta' }
		if (typeof delta.reasoning_content === 'string' && delta.reasoning_content !== '') event.reasoning = delta.reasoning_content
		if (typeof delta.thought_signature === 'string' && delta.thought_signature !== '') event.signature = delta.thought_signature
		if (typeof delta.content === 'string' && delta.content !== '') event.content = delta.content
		if (Array.isArray(delta.tool_calls)) {
			const calls: ToolCallDelta[] = []
			for (const raw of delta.tool_calls) {
				if (!isObject(raw) || typeof raw.index !== 'number') continue
				const fn = isObject(raw.function) ? raw.function : {}
				const call: ToolCallDelta = { index: raw.index }
				if (typeof raw.id === 'string') call.id = raw.id
				if (typeof fn.name === 'string') call.name = fn.name
				if (typeof fn.arguments === 'string' && fn.arguments !== '') call.arguments = fn.arguments
				calls.push(call)
			}
			if (calls.length > 0) event.toolCalls = calls
		}
		if (typeof choice.finish_reason === 'string') event.finishReason = choice.finish_reason
		if (Object.keys(event).length > 1) events.push(event)
	}
	const usage = readChunkUsage(parsed.usage)
	if (usage !== null) events.push({ kind: 'usage', usage })
	return events
}

/**
 * Async iteration over a chunk stream. Ends with `done`, or with an `error` when the stream
 * broke (an error frame, or the bytes ended without `[DONE]`). Cancelling the iteration
 * cancels the stream (and so the upstream request).
 */
export async function* readChunkStream(body: ReadableStream<Uint8Array>): AsyncGenerator<ChunkEvent> {
	const reader = body.getReader()
	const parser = new SseParser()
	let ended = false
	try {
		while (true) {
			let result: Awaited<ReturnType<typeof reader.read>>
			try {
				result = await reader.read()
			} catch (err) {
				yield {
					kind: 'error',
					message: `The upstream stream broke: ${err instanceof Error ? err.message : String(err)}`,
					type: 'api_error',
					code: 'upstream_stream_broken',
				}
				ended = true
				return
			}
			const frames = result.done ? parser.end() : parser.push(result.value)
			for (const frame of frames) {
				for (const event of chunkEvents(frame.data)) {
					yield event
					if (event.kind === 'done' || event.kind === 'error') {
						ended = true
						return
					}
				}
			}
			if (result.done) {
				yield { kind: 'error', message: 'Upstream stream ended before completion', type: 'api_error', code: 'upstream_stream_broken' }
				ended = true
				return
			}
		}
	} finally {
		if (!ended) await reader.cancel().catch(() => {})
		else reader.releaseLock()
	}
}
