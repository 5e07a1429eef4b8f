/**
 * Anthropic Messages request -> the pipeline's ChatRequest (OpenAI chat completions).
 *
 * Pure. Nothing the client sent is dropped silently: a block that cannot be expressed is a 400
 * naming the field. What is accepted and has no upstream equivalent
 * (`top_k`, `metadata`, `cache_control` ttl on blocks the gateway does not read) is documented in
 * the README.
 */
import { BadRequestError } from '../../core/errors.ts'
import { isObject } from '../../core/json.ts'
import type { ChatMessage, ChatRequest, ContentPart, ToolCall, ToolChoice, ToolDefinition } from '../chat-core/chat-request.ts'

type Json = Record<string, unknown>

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,128}$/

export function missing(param: string): BadRequestError {
	return new BadRequestError(`${param}: Field required`, param, 'missing_required_parameter')
}

export function wrongType(param: string, expected: string): BadRequestError {
	return new BadRequestError(`${param}: Input should be ${expected}`, param, 'invalid_type')
}

function invalid(param: string, message: string): BadRequestError {
	return new BadRequestError(`${param}: ${message}`, param, 'invalid_value')
}

/** Validates an Anthropic Messages body and translates it. */
export function toChatRequest(raw: unknown): ChatRequest {
	if (!isObject(raw)) throw new BadRequestError('The request body must be a JSON object.', null, 'invalid_type')
	const body = raw
	if (typeof body.model !== 'string' || body.model.trim() === '') throw body.model === undefined ? missing('model') : wrongType('model', 'a non-empty string')
	if (body.max_tokens === undefined) throw missing('max_tokens')
	if (typeof body.max_tokens !== 'number' || !Number.isInteger(body.max_tokens) || body.max_tokens < 1) throw wrongType('max_tokens', 'an integer >= 1')
	if (!Array.isArray(body.messages)) throw body.messages === undefined ? missing('messages') : wrongType('messages', 'a valid list')

	const messages: ChatMessage[] = []
	const system = systemMessage(body.system)
	if (system !== null) messages.push(system)
	const pending = new Map<string, string>() // tool_use id -> name, for the previous assistant turn
	for (let i = 0; i < body.messages.length; i++) translateMessage(body.messages[i], i, messages, pending)
	if (messages.every((m) => m.role === 'system')) throw invalid('messages', 'at least one message is required')

	const chat: ChatRequest = { model: body.model, messages, max_tokens: body.max_tokens }
	for (const key of ['temperature', 'top_p', 'top_k'] as const) {
		const value = body[key]
		if (value === undefined || value === null) continue
		if (typeof value !== 'number') throw wrongType(key, 'a number')
		chat[key] = value
	}
	if (typeof chat.temperature === 'number' && (chat.temperature < 0 || chat.temperature > 1)) throw invalid('temperature', 'Input should be between 0 and 1')
	if (body.stream !== undefined && body.stream !== null) {
		if (typeof body.stream !== 'boolean') throw wrongType('stream', 'a valid boolean')
		if (body.stream) {
			chat.stream = true
			// Usage is what message_delta reports: always ask the pipeline for it.
			chat.stream_options = { include_usage: true }
		}
	}
	if (body.stop_sequences !== undefined && body.stop_sequences !== null) {
		if (!Array.isArray(body.stop_sequences) || !body.stop_sequences.every((s) => typeof s === 'string'))
			throw wrongType('stop_sequences', 'a valid list of strings')
		if (body.stop_sequences.length > 0) chat.stop = body.stop_sequences as string[]
	}
	if (body.metadata !== undefined && body.metadata !== null) {
		if (!isObject(body.metadata)) throw wrongType('metadata', 'a valid dictionary')
		if (typeof body.metadata.user_id === 'string') chat.user = body.metadata.user_id
	}
	const tools = translateTools(body.tools)
	if (tools.length > 0) chat.tools = tools
	applyToolChoice(body.tool_choice, chat, tools.length > 0)
	const reasoning = translateThinking(body.thinking, body.max_tokens)
	if (reasoning !== null) chat.reasoning = reasoning
	if (isObject(body.cache_control)) chat.cache_control = body.cache_control
	// Gateway extras, passed on as /v1/chat/completions does (prompt caching of OpenAI-family models, the region).
	for (const key of GATEWAY_STRING_FIELDS) {
		const value = body[key]
		if (value === undefined || value === null) continue
		if (typeof value !== 'string') throw wrongType(key, 'a valid string')
		chat[key] = value
	}
	return chat
}

/** The gateway's own top-level fields an Anthropic client may add (upstream-api.md §3). */
const GATEWAY_STRING_FIELDS = ['prompt_cache_key', 'prompt_cache_retention', 'model_region'] as const

function systemMessage(system: unknown): ChatMessage | null {
	if (system === undefined || system === null) return null
	if (typeof system === 'string') return system === '' ? null : { role: 'system', content: system }
	if (!Array.isArray(system)) throw wrongType('system', 'a valid string or list of text blocks')
	const parts: ContentPart[] = []
	for (let i = 0; i < system.length; i++) {
		const block = system[i]
		if (!isObject(block) || block.type !== 'text' || typeof block.text !== 'string') throw invalid(`system[${i}]`, 'Input should be a text block')
		parts.push(textPart(block))
	}
	return parts.length === 0 ? null : { role: 'system', content: parts }
}

function textPart(block: Json): ContentPart {
	const part: ContentPart = { type: 'text', text: String(block.text) }
	if (isObject(block.cache_control)) part.cache_control = block.cache_control
	return part
}

function imagePart(block: Json, at: string): ContentPart {
	const source = block.source
	if (!isObject(source)) throw missing(`${at}.source`)
	if (source.type === 'base64') {
		if (typeof source.media_type !== 'string' || typeof source.data !== 'string') throw invalid(`${at}.source`, 'base64 source needs media_type and data')
		return { type: 'image_url', image_url: { url: `data:${source.media_type};base64,${source.data}` } }
	}
	if (source.type === 'url' && typeof source.url === 'string') return { type: 'image_url', image_url: { url: source.url } }
	throw invalid(`${at}.source.type`, `image source type ${JSON.stringify(source.type)} is not supported (use base64 or url)`)
}

/** A user or assistant content value as blocks (a string is one text block). */
function blocksOf(content: unknown, at: string): Json[] {
	if (typeof content === 'string') return [{ type: 'text', text: content }]
	if (!Array.isArray(content)) throw content === undefined ? missing(at) : wrongType(at, 'a valid string or list of content blocks')
	return content.map((block, j) => {
		if (!isObject(block) || typeof block.type !== 'string') throw invalid(`${at}[${j}]`, 'Input should be a content block with a type')
		return block
	})
}

function translateMessage(raw: unknown, i: number, out: ChatMessage[], pending: Map<string, string>): void {
	const at = `messages[${i}]`
	if (!isObject(raw)) throw wrongType(at, 'a valid dictionary')
	const blocks = blocksOf(raw.content, `${at}.content`)
	if (raw.role === 'assistant') {
		pending.clear()
		let text = ''
		let reasoning = ''
		const calls: ToolCall[] = []
		for (let j = 0; j < blocks.length; j++) {
			const block = blocks[j]!
			const bAt = `${at}.content[${j}]`
			switch (block.type) {
				case 'text':
					if (typeof block.text !== 'string') throw missing(`${bAt}.text`)
					text += block.text
					break
				case 'thinking':
					if (typeof block.thinking === 'string') reasoning += block.thinking
					break
				case 'redacted_thinking':
					break // opaque to every provider but Anthropic's own API: nothing to send
				case 'tool_use': {
					if (typeof block.id !== 'string' || block.id === '') throw missing(`${bAt}.id`)
					if (typeof block.name !== 'string') throw missing(`${bAt}.name`)
					const input = block.input === undefined ? {} : block.input
					calls.push({ id: block.id, type: 'function', function: { name: block.name, arguments: JSON.stringify(input) } })
					pending.set(block.id, block.name)
					break
				}
				default:
					throw invalid(`${bAt}.type`, `block type ${JSON.stringify(block.type)} is not supported in assistant messages`)
			}
		}
		const message: ChatMessage = { role: 'assistant', content: text === '' && calls.length > 0 ? null : text }
		if (calls.length > 0) message.tool_calls = calls
		if (reasoning !== '') message.reasoning_content = reasoning
		out.push(message)
		return
	}
	if (raw.role !== 'user') throw invalid(`${at}.role`, `Input should be 'user' or 'assistant'`)

	// Tool results first (they answer the previous assistant turn), then the rest of the turn as one user message.
	const parts: ContentPart[] = []
	const answered = new Set<string>()
	for (let j = 0; j < blocks.length; j++) {
		const block = blocks[j]!
		const bAt = `${at}.content[${j}]`
		switch (block.type) {
			case 'text':
				if (typeof block.text !== 'string') throw missing(`${bAt}.text`)
				parts.push(textPart(block))
				break
			case 'image':
				parts.push(imagePart(block, bAt))
				break
			case 'document': {
				const source = isObject(block.source) ? block.source : {}
				if (source.type === 'text' && typeof source.data === 'string') parts.push({ type: 'text', text: source.data })
				else throw invalid(`${bAt}.source`, 'only plain-text documents (source.type "text") can be sent through the gateway')
				break
			}
			case 'tool_result': {
				const id = block.tool_use_id
				if (typeof id !== 'string') throw missing(`${bAt}.tool_use_id`)
				if (!pending.has(id)) {
					throw invalid(
						`${bAt}.tool_use_id`,
						`unexpected tool_use_id ${JSON.stringify(id)}: each tool_result must answer a tool_use block of the previous assistant message`,
					)
				}
				if (answered.has(id)) throw invalid(`${bAt}.tool_use_id`, `tool_use_id ${JSON.stringify(id)} is answered twice`)
				answered.add(id)
				const { text, images } = toolResultContent(block.content, `${bAt}.content`)
				const content = block.is_error === true ? `Error: ${text}` : text
				out.push({ role: 'tool', tool_call_id: id, content })
				// The gateway's tool messages carry text only: images a tool returned follow as user content.
				parts.push(...images)
				break
			}
			default:
				throw invalid(`${bAt}.type`, `block type ${JSON.stringify(block.type)} is not supported in user messages`)
		}
	}
	// Answers already moved to tool messages must come before this turn's other content.
	if (parts.length > 0) {
		const allText = parts.every((p) => p.type === 'text' && p.cache_control === undefined)
		out.push({ role: 'user', content: allText ? parts.map((p) => p.text).join('\n') : parts })
	}
	pending.clear()
}

function toolResultContent(content: unknown, at: string): { text: string; images: ContentPart[] } {
	if (content === undefined || content === null) return { text: '', images: [] }
	if (typeof content === 'string') return { text: content, images: [] }
	if (!Array.isArray(content)) throw wrongType(at, 'a valid string or list of content blocks')
	const texts: string[] = []
	const images: ContentPart[] = []
	for (let k = 0; k < content.length; k++) {
		const block = content[k]
		if (!isObject(block)) throw wrongType(`${at}[${k}]`, 'a valid dictionary')
		if (block.type === 'text' && typeof block.text === 'string') texts.push(block.text)
		else if (block.type === 'image') images.push(imagePart(block, `${at}[${k}]`))
		else throw invalid(`${at}[${k}].type`, `block type ${JSON.stringify(block.type)} is not supported in a tool_result`)
	}
	return { text: texts.join('\n'), images }
}

function translateTools(tools: unknown): ToolDefinition[] {
	if (tools === undefined || tools === null) return []
	if (!Array.isArray(tools)) throw wrongType('tools', 'a valid list')
	return tools.map((tool, i): ToolDefinition => {
		const at = `tools[${i}]`
		if (!isObject(tool)) throw wrongType(at, 'a valid dictionary')
		if (tool.type !== undefined && tool.type !== null && tool.type !== 'custom') {
			throw invalid(
				`${at}.type`,
				`server tool ${JSON.stringify(tool.type)} is not available through this gateway; only client tools (name, description, input_schema) are`,
			)
		}
		if (typeof tool.name !== 'string') throw missing(`${at}.name`)
		if (!TOOL_NAME.test(tool.name)) throw invalid(`${at}.name`, "String should match pattern '^[a-zA-Z0-9_-]{1,128}$'")
		if (!isObject(tool.input_schema))
			throw tool.input_schema === undefined ? missing(`${at}.input_schema`) : wrongType(`${at}.input_schema`, 'a valid dictionary')
		const fn: ToolDefinition['function'] = { name: tool.name, parameters: tool.input_schema }
		if (typeof tool.description === 'string') fn.description = tool.description
		// A tool's cache_control is not sent: the gateway documents it on messages and at the top level only.
		return { type: 'function', function: fn }
	})
}

function applyToolChoice(choice: unknown, chat: ChatRequest, hasTools: boolean): void {
	if (choice === undefined || choice === null) return
	if (!isObject(choice)) throw wrongType('tool_choice', 'a valid dictionary')
	let mapped: ToolChoice
	switch (choice.type) {
		case 'auto':
			mapped = 'auto'
			break
		case 'any':
			mapped = 'required'
			break
		case 'none':
			mapped = 'none'
			break
		case 'tool':
			if (typeof choice.name !== 'string') throw missing('tool_choice.name')
			mapped = { type: 'function', function: { name: choice.name } }
			break
		default:
			throw invalid('tool_choice.type', "Input should be 'auto', 'any', 'tool' or 'none'")
	}
	if (!hasTools) {
		if (mapped === 'auto' || mapped === 'none') return
		throw invalid('tool_choice', 'tool_choice requires tools')
	}
	chat.tool_choice = mapped
	if (choice.disable_parallel_tool_use === true) chat.parallel_tool_calls = false
}

/** `thinking` -> the gateway's `reasoning` option (docs/upstream-api.md §3): a token budget, or an effort. */
function translateThinking(thinking: unknown, maxTokens: number): Record<string, unknown> | null {
	if (thinking === undefined || thinking === null) return null
	if (!isObject(thinking)) throw wrongType('thinking', 'a valid dictionary')
	if (thinking.type === 'disabled') return null
	if (thinking.type === 'adaptive') return { effort: 'medium' }
	if (thinking.type !== 'enabled') throw invalid('thinking.type', "Input should be 'enabled', 'adaptive' or 'disabled'")
	const budget = thinking.budget_tokens
	if (typeof budget !== 'number' || !Number.isInteger(budget) || budget < 1024) throw invalid('thinking.budget_tokens', 'Input should be an integer >= 1024')
	if (budget >= maxTokens) throw invalid('thinking.budget_tokens', '`max_tokens` must be greater than `thinking.budget_tokens`')
	return { max_tokens: budget }
}
