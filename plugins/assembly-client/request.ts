/**
 * OpenAI chat request -> AssemblyAI LLM Gateway body (docs/upstream-api.md §3).
 *
 * An allow-list: only fields the gateway documents (or that the earlier amb2api forwarded
 * without trouble) are sent, so an OpenAI-only field never trips the gateway's per-model
 * parameter rejection. No per-model parameter gating: a parameter the model does not
 * support gets the gateway's 400, which is the client's answer (§3.1).
 */

import { BadRequestError } from '../../core/errors.ts'
import type { ChatMessage, ChatRequest, ContentPart } from '../chat-core/chat-request.ts'
import { normaliseArguments } from './response.ts'

export interface GatewayBodyOptions {
	/** The upstream model id (prefixes such as a fake-stream marker already removed). */
	model: string
	/** Native upstream stream. */
	stream: boolean
	/** Whether the client asked for the usage chunk; upstream always reports usage when streaming. */
	includeUsage: boolean
	/** `MODEL_REGION`: sent when the client names no region. */
	defaultModelRegion?: string
}

/** Top-level fields copied as they are when present and not null. */
const PASS_THROUGH = [
	'temperature',
	'top_p',
	'response_format',
	'reasoning',
	'fallbacks',
	'fallback_config',
	'post_processing_steps',
	'transcript_id',
	'cache_control',
	'prompt_cache_key',
	'prompt_cache_retention',
	'stop',
	'seed',
	'parallel_tool_calls',
	'verbosity',
	'zero_data_retention',
] as const

/** Message fields the gateway (or a provider behind it) reads; everything else is dropped. */
const MESSAGE_FIELDS = ['name', 'cache_control', 'reasoning_content', 'thought_signature', 'thinking'] as const

export function toGatewayBody(req: ChatRequest, options: GatewayBodyOptions): Record<string, unknown> {
	const body: Record<string, unknown> = { model: options.model, messages: translateMessages(req.messages) }

	const maxTokens = req.max_tokens ?? req.max_completion_tokens
	if (maxTokens !== undefined && maxTokens !== null) body.max_tokens = maxTokens
	for (const key of PASS_THROUGH) {
		const value = req[key]
		if (value !== undefined && value !== null) body[key] = value
	}
	// The gateway ignores a flat reasoning_effort; its `reasoning` object carries the effort.
	if (body.reasoning === undefined && typeof req.reasoning_effort === 'string' && req.reasoning_effort !== '') {
		body.reasoning = { effort: req.reasoning_effort }
	}
	for (const key of ['frequency_penalty', 'presence_penalty'] as const) {
		const value = req[key]
		if (typeof value === 'number' && value !== 0) body[key] = value
	}

	// The gateway documents `parameters` as required; OpenAI lets clients omit it for tools without arguments.
	if (Array.isArray(req.tools) && req.tools.length > 0) {
		body.tools = req.tools.map((tool) =>
			tool.function.parameters === undefined || tool.function.parameters === null
				? { ...tool, function: { ...tool.function, parameters: { type: 'object', properties: {} } } }
				: tool,
		)
		if (req.tool_choice !== undefined && req.tool_choice !== null) body.tool_choice = req.tool_choice
	}
	// Without tools only 'none'/'auto' can get here (the schema rejects the rest); both mean "no tool", so nothing is sent.

	const region = typeof req.model_region === 'string' ? req.model_region.trim() : ''
	const fallbackRegion = options.defaultModelRegion?.trim() ?? ''
	if (region !== '') body.model_region = region
	else if (fallbackRegion !== '') body.model_region = fallbackRegion

	if (options.stream) {
		body.stream = true
		// amb2api counts tokens, so upstream always reports usage; the client's wish is applied when re-emitting.
		const clientOptions = req.stream_options ?? {}
		body.stream_options = { ...clientOptions, include_usage: true }
	}
	// Not streaming upstream: stream_options would be an error for OpenAI models, and the client's wish
	// (if it asked for a stream that is faked locally) is handled by the stream translator.
	return body
}

export function gatewayHeaders(key: string): Record<string, string> {
	// The raw key, no `Bearer`: the form AssemblyAI documents (§2).
	return { authorization: key, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }
}

interface PendingCall {
	id: string
	name: string
	answered: boolean
}

function translateMessages(messages: ChatMessage[]): Record<string, unknown>[] {
	const out: Record<string, unknown>[] = new Array(messages.length)
	const calls = new Map<string, PendingCall>()
	const order: PendingCall[] = []

	for (let i = 0; i < messages.length; i++) {
		const message = messages[i]!
		const role = message.role === 'developer' ? 'system' : message.role === 'function' ? 'tool' : message.role
		const next: Record<string, unknown> = { role }
		for (const key of MESSAGE_FIELDS) {
			const value = message[key]
			if (value !== undefined && value !== null) next[key] = value
		}

		let content = flattenContent(message.content, next)

		if (message.role === 'assistant') {
			const toolCalls = assistantToolCalls(message, i)
			if (toolCalls.length > 0) {
				next.tool_calls = toolCalls
				for (const call of toolCalls) {
					const pending = { id: call.id, name: call.function.name, answered: false }
					calls.set(call.id, pending)
					order.push(pending)
				}
			}
			// null content is how OpenAI writes "only tool calls"; elsewhere the gateway wants a string.
			if (content === null && toolCalls.length === 0) content = ''
		} else if (content === null) {
			content = ''
		}
		next.content = content

		if (message.role === 'tool') {
			const id = message.tool_call_id!
			const call = calls.get(id)
			if (call === undefined) {
				throw new BadRequestError(
					`Invalid parameter: the tool message 'messages[${i}]' answers tool call ${JSON.stringify(id)}, but no earlier assistant message has a tool call with that id.`,
					`messages[${i}].tool_call_id`,
					'invalid_value',
				)
			}
			call.answered = true
			next.tool_call_id = id
		} else if (message.role === 'function') {
			// Legacy function result: it answers the latest unanswered call of that name.
			const name = message.name!
			let call: PendingCall | undefined
			for (let j = order.length - 1; j >= 0; j--) {
				if (order[j]!.name === name && !order[j]!.answered) {
					call = order[j]
					break
				}
			}
			if (call === undefined) {
				throw new BadRequestError(
					`Invalid parameter: the function message 'messages[${i}]' answers function ${JSON.stringify(name)}, but no earlier assistant message calls it.`,
					`messages[${i}].name`,
					'invalid_value',
				)
			}
			call.answered = true
			next.tool_call_id = call.id
		}
		out[i] = next
	}
	return out
}

/**
 * Text-only part arrays become one string (the gateway documents only text parts); a
 * `cache_control` on a part moves to the message so Claude caching survives the flattening.
 * Arrays with other parts (images) are kept as they are.
 */
function flattenContent(content: ChatMessage['content'], next: Record<string, unknown>): string | ContentPart[] | null {
	if (content === undefined || content === null) return null
	if (typeof content === 'string') return content
	let text = ''
	let cacheControl: unknown
	for (let j = 0; j < content.length; j++) {
		const part = content[j]!
		if (part.type !== 'text') return content
		text += j === 0 ? part.text : `\n${part.text}`
		if (part.cache_control !== undefined && part.cache_control !== null) cacheControl = part.cache_control
	}
	if (cacheControl !== undefined && next.cache_control === undefined) next.cache_control = cacheControl
	return text
}

interface OutCall {
	id: string
	type: 'function'
	function: { name: string; arguments: string }
	[key: string]: unknown
}

function assistantToolCalls(message: ChatMessage, i: number): OutCall[] {
	const out: OutCall[] = []
	if (Array.isArray(message.tool_calls)) {
		for (let j = 0; j < message.tool_calls.length; j++) {
			const call = message.tool_calls[j]!
			const name = call.function.name
			const args = normaliseArguments(call.function.arguments ?? call.function.input)
			// Extra fields (e.g. a Gemini thought signature on the call) survive the round trip.
			const { index: _index, ...rest } = call
			const id = typeof call.id === 'string' && call.id !== '' ? call.id : stableCallId(i, j, name, args)
			const fn: Record<string, unknown> = { ...call.function, name, arguments: args }
			delete fn.input
			out.push({ ...rest, id, type: 'function', function: fn as OutCall['function'] })
		}
	} else if (message.function_call) {
		const name = message.function_call.name
		const args = normaliseArguments(message.function_call.arguments)
		out.push({ id: stableCallId(i, 0, name, args), type: 'function', function: { name, arguments: args } })
	}
	return out
}

/**
 * `call_` + 24 hex digits derived from the call itself, not random: the same history then
 * gives the same request bytes on every turn, which keeps provider prompt caches warm.
 */
function stableCallId(message: number, index: number, name: string, args: string): string {
	const input = `${message}:${index}:${name}:${args}`
	let a = 0x811c9dc5
	let b = 0x9e3779b9
	let c = 0x85ebca6b
	for (let k = 0; k < input.length; k++) {
		const ch = input.charCodeAt(k)
		a = Math.imul(a ^ ch, 0x01000193)
		b = Math.imul(b ^ ch, 0x5bd1e995)
		c = Math.imul(c ^ ch, 0xc2b2ae35)
	}
	a = Math.imul(a ^ (a >>> 16), 0x85ebca6b) ^ c
	b = Math.imul(b ^ (b >>> 13), 0xc2b2ae35) ^ a
	c = Math.imul(c ^ (c >>> 16), 0x27d4eb2f) ^ b
	return `call_${hex8(a)}${hex8(b)}${hex8(c)}`
}

function hex8(n: number): string {
	return (n >>> 0).toString(16).padStart(8, '0')
}
