/**
 * Gateway JSON answer -> OpenAI `chat.completion` (docs/upstream-api.md §4).
 *
 * The gateway has no `id`/`object`/`created`, passes provider-native `finish_reason`s through,
 * may split one Claude answer across several choices, sends `null` for empty arrays and has
 * two usage naming schemes. OpenAI clients get one well-formed choice whatever came in.
 * The helpers for tool calls and finish reasons are shared with the request and stream
 * translators, so the three agree on every rule.
 */

import { isObject, str } from '../../core/json.ts'
import { type ChatCompletion, type CompletionMessage, type CompletionToolCall, type FinishReason, randomHex, readUsage } from '../chat-core/chat-completion.ts'

const FINISH: Readonly<Record<string, FinishReason>> = {
	stop: 'stop',
	end_turn: 'stop',
	stop_sequence: 'stop',
	pause_turn: 'stop',
	length: 'length',
	max_tokens: 'length',
	model_context_window_exceeded: 'length',
	tool_calls: 'tool_calls',
	tool_use: 'tool_calls',
	function_call: 'tool_calls',
	content_filter: 'content_filter',
	refusal: 'content_filter',
	safety: 'content_filter',
	recitation: 'content_filter',
	blocklist: 'content_filter',
	prohibited_content: 'content_filter',
	spii: 'content_filter',
	image_safety: 'content_filter',
}

/** Which of several choices' reasons wins when they are merged: the most telling one. */
const RANK: Readonly<Record<FinishReason, number>> = { stop: 0, tool_calls: 1, length: 2, content_filter: 3 }

/** Maps one provider-native reason (Claude, Gemini upper case, OpenAI) to OpenAI's; unknown -> `stop`, none -> null. */
export function mapFinishReason(raw: unknown): FinishReason | null {
	if (typeof raw !== 'string' || raw === '') return null
	return FINISH[raw.toLowerCase()] ?? 'stop'
}

/** Merges two mapped reasons (either may be null), keeping the more telling one. */
export function mergeFinishReason(a: FinishReason | null, b: FinishReason | null): FinishReason | null {
	if (a === null) return b
	if (b === null) return a
	return RANK[b] > RANK[a] ? b : a
}

/** The reason the client sees: `tool_calls` exactly when calls exist, never without them. */
export function finalFinishReason(merged: FinishReason | null, hasToolCalls: boolean): FinishReason {
	if (hasToolCalls) return 'tool_calls'
	if (merged === null || merged === 'tool_calls') return 'stop'
	return merged
}

/** `call_` + 24 random hex digits, the shape OpenAI ids have. */
export function newCallId(): string {
	return `call_${randomHex(12)}`
}

/**
 * Tool-call arguments as the JSON string clients parse. Strings are kept as they are (even
 * when not JSON: repairing them would guess), objects are serialised, nothing becomes `{}`.
 * Generic on purpose: never per tool name.
 */
export function normaliseArguments(args: unknown): string {
	if (typeof args === 'string') return args.trim() === '' ? '{}' : args
	if (args === undefined || args === null) return '{}'
	return JSON.stringify(args)
}

/**
 * The status of an error carried in a body the gateway sent with HTTP 200 (`{"code":500,…}`,
 * `{"error":{…}}`), or null for a real answer. Lets the client treat it as the failure it is.
 */
export function bodyErrorStatus(body: unknown): number | null {
	if (!isObject(body)) return null
	const code = errorCode(body.code) ?? (isObject(body.error) ? errorCode(body.error.code) : null)
	if (code !== null) return code
	// An error envelope without a usable code and without an answer is still an error.
	if (body.error !== undefined && body.error !== null && !Array.isArray(body.choices)) return 502
	return null
}

function errorCode(value: unknown): number | null {
	if (typeof value !== 'number' || !Number.isInteger(value) || value < 400) return null
	return value <= 599 ? value : 502
}

/** Collects tool calls, deduplicating exact repeats (the same call at message and choice level). */
class ToolCallCollector {
	readonly calls: CompletionToolCall[] = []
	private readonly seen = new Set<string>()

	add(raw: unknown): void {
		if (!isObject(raw)) return
		const fn = isObject(raw.function) ? raw.function : null
		// Anthropic-style block `{type:'tool_use', id, name, input}` or OpenAI-style `{id, function:{name, arguments|input}}`.
		const name = str(fn?.name) ?? str(raw.name) ?? ''
		const args = normaliseArguments(fn ? (fn.arguments ?? fn.input) : (raw.arguments ?? raw.input))
		const givenId = str(raw.id) ?? ''
		const key = `${givenId}\u0000${name}\u0000${args}`
		if (this.seen.has(key)) return
		this.seen.add(key)
		const id = givenId || newCallId()
		// OpenAI-shaped calls keep their extra fields (a Gemini thought signature); other shapes are rebuilt.
		let call: CompletionToolCall
		if (fn) {
			call = { ...raw, id, type: 'function', function: { name, arguments: args } }
			delete call.index
		} else {
			call = { id, type: 'function', function: { name, arguments: args } }
		}
		this.calls.push(call)
	}
}

/**
 * Builds the OpenAI completion. Texts of merged choices are joined with '' (no separator):
 * that is what a client gets when the same answer is streamed (deltas concatenate), so the
 * streamed and non-streamed forms of one answer are identical.
 */
export function toChatCompletion(upstream: unknown, ctx: { model: string; created: number }): ChatCompletion {
	const body = isObject(upstream) ? upstream : {}
	const choices: unknown[] = Array.isArray(body.choices) ? body.choices : []
	const texts: string[] = []
	const reasoning: string[] = []
	const thinking: string[] = []
	let refusal: string | null = null
	let signature: string | undefined
	let thinkingRaw: unknown
	let reason: FinishReason | null = null
	const tools = new ToolCallCollector()

	for (const choice of choices) {
		if (!isObject(choice)) continue
		reason = mergeFinishReason(reason, mapFinishReason(choice.finish_reason ?? choice.stop_reason))
		const message = isObject(choice.message) ? choice.message : isObject(choice.delta) ? choice.delta : {}
		const content = message.content
		if (typeof content === 'string') {
			if (content !== '') texts.push(content)
		} else if (Array.isArray(content)) {
			for (const block of content) {
				if (typeof block === 'string') texts.push(block)
				else if (!isObject(block)) continue
				else if (block.type === 'text' && typeof block.text === 'string') texts.push(block.text)
				else if (block.type === 'tool_use') tools.add(block)
				else if (block.type === 'thinking' && typeof block.thinking === 'string') thinking.push(block.thinking)
			}
		}
		if (Array.isArray(message.tool_calls)) for (const call of message.tool_calls) tools.add(call)
		if (Array.isArray(choice.tool_calls)) for (const call of choice.tool_calls) tools.add(call)
		const r = str(message.reasoning_content) ?? str(message.reasoning)
		if (r) reasoning.push(r)
		if (typeof message.thinking === 'string') {
			if (message.thinking !== '') thinking.push(message.thinking)
		}
		if (message.thinking !== undefined && message.thinking !== null) thinkingRaw = message.thinking
		const sig = str(message.thought_signature)
		if (sig) signature = sig
		const ref = str(message.refusal)
		if (ref) refusal = refusal === null ? ref : refusal + ref
	}

	const message: CompletionMessage = { role: 'assistant', content: texts.length > 0 ? texts.join('') : null, refusal }
	if (tools.calls.length > 0) message.tool_calls = tools.calls
	// `thinking` (Claude, documented) shows as reasoning_content when no explicit reasoning came.
	const reasoningText = reasoning.length > 0 ? reasoning.join('') : thinking.join('')
	if (reasoningText !== '') message.reasoning_content = reasoningText
	if (signature !== undefined) message.thought_signature = signature
	if (thinkingRaw !== undefined) message.thinking = thinkingRaw

	const completion: ChatCompletion = {
		id: completionId(body),
		object: 'chat.completion',
		created: ctx.created,
		model: ctx.model,
		choices: [{ index: 0, message, logprobs: null, finish_reason: finalFinishReason(reason, tools.calls.length > 0) }],
	}
	const usage = readUsage(body.usage)
	if (usage !== null) completion.usage = usage
	return completion
}

function completionId(body: Record<string, unknown>): string {
	const id = str(body.id)
	if (id) return id
	const requestId = str(body.request_id)
	return `chatcmpl-${requestId ?? randomHex(12)}`
}
