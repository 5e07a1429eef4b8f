/**
 * OpenAI `chat.completion.chunk` framing shared by the fake stream and anti-truncation: one id,
 * one created time and one model name on every chunk, `usage: null` on ordinary chunks when the
 * client asked for the usage chunk. Pure.
 */
import { GatewayError, UpstreamError } from '../../core/errors.ts'
import { encodeEvent } from '../../core/sse.ts'
import type { Usage } from './chat-completion.ts'

export type Delta = Record<string, unknown>

export interface ChunkFrame {
	id: string
	created: number
	model: string
	includeUsage: boolean
}

export function deltaChunk(frame: ChunkFrame, delta: Delta, finishReason: string | null = null): Uint8Array {
	return encodeEvent(
		JSON.stringify({
			id: frame.id,
			object: 'chat.completion.chunk',
			created: frame.created,
			model: frame.model,
			choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
			...(frame.includeUsage ? { usage: null } : {}),
		}),
	)
}

export function usageChunk(frame: ChunkFrame, usage: Usage): Uint8Array {
	return encodeEvent(JSON.stringify({ id: frame.id, object: 'chat.completion.chunk', created: frame.created, model: frame.model, choices: [], usage }))
}

/** The OpenAI error event that ends a broken stream (no `[DONE]` follows it). */
export function errorEvent(err: unknown): Uint8Array {
	const error = err instanceof GatewayError ? err : new UpstreamError(`The upstream request failed: ${err instanceof Error ? err.message : String(err)}`)
	return encodeEvent(JSON.stringify(error.toJSON()))
}

/** Usage of several upstream calls, summed (anti-truncation continues an answer in several calls). */
export function addUsage(a: Usage | null, b: Usage | null): Usage | null {
	if (a === null) return b
	if (b === null) return a
	const sum: Usage = {
		prompt_tokens: a.prompt_tokens + b.prompt_tokens,
		completion_tokens: a.completion_tokens + b.completion_tokens,
		total_tokens: a.total_tokens + b.total_tokens,
		prompt_tokens_details: { cached_tokens: (a.prompt_tokens_details?.cached_tokens ?? 0) + (b.prompt_tokens_details?.cached_tokens ?? 0) },
	}
	const reasoning = (u: Usage) => {
		const r = u.completion_tokens_details?.reasoning_tokens
		return typeof r === 'number' ? r : 0
	}
	if (a.completion_tokens_details || b.completion_tokens_details) sum.completion_tokens_details = { reasoning_tokens: reasoning(a) + reasoning(b) }
	return sum
}
