/**
 * The OpenAI chat completion as the chat core speaks it: the completion, its usage and finish
 * reasons. The upstream client produces these and every dialect reads them. Pure.
 */
import { isObject } from '../../core/json.ts'

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter'

/** A tool call as amb2api sends it to clients: always an id, `type: 'function'`, string arguments. */
export interface CompletionToolCall {
	id: string
	type: 'function'
	function: { name: string; arguments: string }
	[key: string]: unknown
}

export interface Usage {
	prompt_tokens: number
	completion_tokens: number
	total_tokens: number
	prompt_tokens_details: {
		cached_tokens: number
		audio_tokens?: number
		cache_creation?: Record<string, unknown>
		cache_write_tokens?: number
	}
	completion_tokens_details?: Record<string, unknown>
}

export interface CompletionMessage {
	role: 'assistant'
	content: string | null
	refusal: string | null
	tool_calls?: CompletionToolCall[]
	reasoning_content?: string
	thought_signature?: string
	thinking?: unknown
}

export interface ChatCompletion {
	id: string
	object: 'chat.completion'
	created: number
	model: string
	choices: [{ index: 0; message: CompletionMessage; logprobs: null; finish_reason: FinishReason }]
	usage?: Usage
}

export function randomHex(bytes: number): string {
	const buffer = crypto.getRandomValues(new Uint8Array(bytes))
	let out = ''
	for (let i = 0; i < buffer.length; i++) out += (buffer[i]! < 16 ? '0' : '') + buffer[i]!.toString(16)
	return out
}

/** Reads gateway usage in either naming scheme; null when it carries no token count. */
export function readUsage(usage: unknown): Usage | null {
	if (!isObject(usage)) return null
	const prompt = num(usage.prompt_tokens) ?? num(usage.input_tokens)
	const completion = num(usage.completion_tokens) ?? num(usage.output_tokens)
	const total = num(usage.total_tokens)
	if (prompt === null && completion === null && total === null) return null
	const p = prompt ?? 0
	const c = completion ?? 0
	const details = isObject(usage.prompt_tokens_details) ? usage.prompt_tokens_details : {}
	const promptDetails: Usage['prompt_tokens_details'] = {
		cached_tokens: num(details.cached_tokens) ?? num(usage.cache_read_input_tokens) ?? 0,
	}
	const audio = num(details.audio_tokens)
	if (audio !== null) promptDetails.audio_tokens = audio
	const creation = isObject(details.cache_creation) ? details.cache_creation : isObject(usage.cache_creation) ? usage.cache_creation : null
	if (creation !== null) promptDetails.cache_creation = creation
	const written = num(details.cache_write_tokens) ?? num(usage.cache_creation_input_tokens)
	if (written !== null) promptDetails.cache_write_tokens = written
	const out: Usage = {
		prompt_tokens: p,
		completion_tokens: c,
		total_tokens: Math.max(total ?? 0, p + c),
		prompt_tokens_details: promptDetails,
	}
	if (isObject(usage.completion_tokens_details)) out.completion_tokens_details = usage.completion_tokens_details
	return out
}

function num(value: unknown): number | null {
	return typeof value === 'number' && Number.isFinite(value) ? value : null
}
