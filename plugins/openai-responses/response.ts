/**
 * The pipeline's OpenAI completion -> a Responses API `response` object. Pure.
 *
 * Output items in order: `reasoning` (when the model reported reasoning text), `message` with
 * one `output_text` part, then one `function_call` per tool call. A `length` finish is
 * `status: "incomplete"` with `incomplete_details.reason: "max_output_tokens"`, a content
 * filter `"content_filter"`.
 */
import type { ChatCompletion } from '../chat-core/chat-completion.ts'
import { randomHex } from '../chat-core/chat-completion.ts'
import { type ChunkUsage, readChunkUsage } from '../chat-core/chunk-events.ts'
import type { ResponsesEcho } from './request.ts'

export type OutputItem =
	| { type: 'reasoning'; id: string; summary: { type: 'summary_text'; text: string }[] }
	| { type: 'message'; id: string; status: 'completed' | 'in_progress' | 'incomplete'; role: 'assistant'; content: OutputText[] }
	| { type: 'function_call'; id: string; call_id: string; name: string; arguments: string; status: 'completed' | 'in_progress' | 'incomplete' }

export interface OutputText {
	type: 'output_text'
	text: string
	annotations: unknown[]
	logprobs: unknown[]
}

export interface ResponsesUsage {
	input_tokens: number
	input_tokens_details: { cached_tokens: number }
	output_tokens: number
	output_tokens_details: { reasoning_tokens: number }
	total_tokens: number
}

export type ResponseStatus = 'completed' | 'incomplete' | 'failed' | 'in_progress'

export const newItemId = (prefix: string): string => `${prefix}_${randomHex(16)}`

export function responsesUsage(usage: ChunkUsage | null): ResponsesUsage | null {
	if (usage === null) return null
	return {
		input_tokens: usage.prompt_tokens,
		input_tokens_details: { cached_tokens: usage.cached_tokens },
		output_tokens: usage.completion_tokens,
		output_tokens_details: { reasoning_tokens: usage.reasoning_tokens },
		total_tokens: usage.prompt_tokens + usage.completion_tokens,
	}
}

/** The OpenAI finish reason -> status and incomplete_details. */
export function statusFor(finish: string | null): { status: 'completed' | 'incomplete'; incomplete_details: { reason: string } | null } {
	if (finish === 'length') return { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } }
	if (finish === 'content_filter') return { status: 'incomplete', incomplete_details: { reason: 'content_filter' } }
	return { status: 'completed', incomplete_details: null }
}

export interface ResponseShell {
	id: string
	model: string
	createdAt: number
	echo: ResponsesEcho
}

/** A response object in any state (the stream sends it in_progress first, then final). */
export function responseObject(
	shell: ResponseShell,
	state: {
		status: ResponseStatus
		output: OutputItem[]
		usage: ResponsesUsage | null
		incomplete_details?: { reason: string } | null
		error?: { code: string; message: string } | null
	},
): Record<string, unknown> {
	const { echo } = shell
	return {
		id: shell.id,
		object: 'response',
		created_at: shell.createdAt,
		status: state.status,
		background: false,
		error: state.error ?? null,
		incomplete_details: state.incomplete_details ?? null,
		instructions: echo.instructions,
		max_output_tokens: echo.max_output_tokens,
		max_tool_calls: null,
		model: shell.model,
		output: state.output,
		parallel_tool_calls: echo.parallel_tool_calls,
		previous_response_id: null,
		reasoning: echo.reasoning,
		// Nothing is stored (see the README): a client must not expect to read this response back.
		store: false,
		temperature: echo.temperature,
		text: echo.text,
		tool_choice: echo.tool_choice,
		tools: echo.tools,
		top_p: echo.top_p,
		truncation: 'disabled',
		usage: state.usage,
		user: echo.user,
		metadata: echo.metadata,
	}
}

export function toResponse(completion: ChatCompletion, shell: ResponseShell): Record<string, unknown> {
	const choice = completion.choices[0]
	const message = choice.message
	const { status, incomplete_details } = statusFor(choice.finish_reason)
	const output: OutputItem[] = []
	if (message.reasoning_content) output.push({ type: 'reasoning', id: newItemId('rs'), summary: [{ type: 'summary_text', text: message.reasoning_content }] })
	if (message.content) {
		output.push({
			type: 'message',
			id: newItemId('msg'),
			status: status === 'completed' ? 'completed' : 'incomplete',
			role: 'assistant',
			content: [{ type: 'output_text', text: message.content, annotations: [], logprobs: [] }],
		})
	}
	for (const call of message.tool_calls ?? []) {
		output.push({
			type: 'function_call',
			id: newItemId('fc'),
			call_id: call.id,
			name: call.function.name,
			arguments: call.function.arguments,
			status: 'completed',
		})
	}
	return responseObject(shell, { status, output, usage: responsesUsage(readChunkUsage(completion.usage)), incomplete_details })
}
