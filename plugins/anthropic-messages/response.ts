/**
 * The pipeline's OpenAI completion -> an Anthropic `message`. Pure.
 *
 * Blocks in Anthropic's order: thinking, text, tool_use (input parsed into an object).
 */
import { isObject } from '../../core/json.ts'
import type { ChatCompletion } from '../chat-core/chat-completion.ts'
import { type ChunkUsage, readChunkUsage } from '../chat-core/chunk-events.ts'

export type StopReason = 'end_turn' | 'max_tokens' | 'tool_use' | 'stop_sequence' | 'refusal'

export interface AnthropicUsage {
	input_tokens: number
	output_tokens: number
	cache_read_input_tokens: number
	cache_creation_input_tokens: number
}

export type ContentBlock =
	| { type: 'text'; text: string }
	| { type: 'thinking'; thinking: string; signature: string }
	| { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> }

export interface AnthropicMessage {
	id: string
	type: 'message'
	role: 'assistant'
	model: string
	content: ContentBlock[]
	stop_reason: StopReason
	stop_sequence: string | null
	usage: AnthropicUsage
}

/** OpenAI finish_reason (already normalised by the pipeline) -> Anthropic stop_reason. */
export function stopReason(finish: string | null | undefined): StopReason {
	switch (finish) {
		case 'length':
			return 'max_tokens'
		case 'tool_calls':
			return 'tool_use'
		case 'content_filter':
			return 'refusal'
		default:
			return 'end_turn'
	}
}

/** Anthropic counts cached and cache-written tokens apart from `input_tokens`. */
export function anthropicUsage(usage: ChunkUsage | null): AnthropicUsage {
	if (usage === null) return { input_tokens: 0, output_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 }
	return {
		input_tokens: Math.max(0, usage.prompt_tokens - usage.cached_tokens - usage.cache_creation_tokens),
		output_tokens: usage.completion_tokens,
		cache_read_input_tokens: usage.cached_tokens,
		cache_creation_input_tokens: usage.cache_creation_tokens,
	}
}

/** Tool arguments -> an input object; arguments that are not a JSON object are kept under `input`'s only key. */
export function parseToolInput(args: string): Record<string, unknown> {
	if (args.trim() === '') return {}
	try {
		const parsed: unknown = JSON.parse(args)
		return isObject(parsed) ? parsed : { value: parsed }
	} catch {
		return { raw_arguments: args }
	}
}

/** `msg_` + the completion's own id, so the access log and the client agree. */
export function messageId(completionId: string): string {
	return `msg_${completionId.replace(/^chatcmpl-/, '')}`
}

export function toAnthropicMessage(completion: ChatCompletion, ctx: { model: string }): AnthropicMessage {
	const choice = completion.choices[0]
	const message = choice.message
	const content: ContentBlock[] = []
	if (message.reasoning_content) content.push({ type: 'thinking', thinking: message.reasoning_content, signature: message.thought_signature ?? '' })
	if (message.content) content.push({ type: 'text', text: message.content })
	for (const call of message.tool_calls ?? [])
		content.push({ type: 'tool_use', id: call.id, name: call.function.name, input: parseToolInput(call.function.arguments) })
	return {
		id: messageId(completion.id),
		type: 'message',
		role: 'assistant',
		model: ctx.model,
		content,
		stop_reason: stopReason(choice.finish_reason),
		// The pipeline's OpenAI finish reason does not say which stop sequence ended the answer.
		stop_sequence: null,
		usage: anthropicUsage(readChunkUsage(completion.usage)),
	}
}
