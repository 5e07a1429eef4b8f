/**
 * OpenAI Responses request -> the pipeline's ChatRequest. Pure. Stateless: `previous_response_id`
 * is refused with a clear 400 (nothing is stored, see the README), `store` is accepted and
 * answered with `store: false`. Anything that cannot be expressed in chat completions is a 400
 * naming the field.
 */
import { BadRequestError } from '../../core/errors.ts'
import { isObject } from '../../core/json.ts'
import type { ChatMessage, ChatRequest, ContentPart, ToolCall, ToolChoice, ToolDefinition } from '../chat-core/chat-request.ts'

const missing = (param: string) => new BadRequestError(`Missing required parameter: '${param}'.`, param, 'missing_required_parameter')
const wrongType = (param: string, expected: string) => new BadRequestError(`Invalid type for '${param}': expected ${expected}.`, param, 'invalid_type')
const invalid = (param: string, message: string, code = 'invalid_value') => new BadRequestError(`Invalid value for '${param}': ${message}`, param, code)

/** What the response object echoes back from the request. */
export interface ResponsesEcho {
	instructions: string | null
	max_output_tokens: number | null
	temperature: number | null
	top_p: number | null
	tools: unknown[]
	tool_choice: unknown
	parallel_tool_calls: boolean
	text: Record<string, unknown>
	reasoning: { effort: string | null; summary: string | null }
	metadata: Record<string, unknown>
	user: string | null
}

export function toChatRequest(raw: unknown): { chat: ChatRequest; echo: ResponsesEcho } {
	if (!isObject(raw)) throw new BadRequestError('Request body must be a JSON object.', null, 'invalid_type')
	const body = raw
	if (typeof body.model !== 'string' || body.model.trim() === '') throw body.model === undefined ? missing('model') : wrongType('model', 'a non-empty string')
	if (body.previous_response_id !== undefined && body.previous_response_id !== null) {
		throw invalid(
			'previous_response_id',
			'amb2api serves the Responses API statelessly and stores no responses. Send the whole conversation in `input` (earlier output items included) instead.',
			'previous_response_not_supported',
		)
	}
	if (body.conversation !== undefined && body.conversation !== null) {
		throw invalid('conversation', 'conversations are not stored by amb2api; send the whole conversation in `input`.', 'unsupported_parameter')
	}
	if (body.background === true) throw invalid('background', 'background responses need stored state, which amb2api does not keep.', 'unsupported_parameter')

	const messages: ChatMessage[] = []
	let instructions: string | null = null
	if (body.instructions !== undefined && body.instructions !== null) {
		if (typeof body.instructions !== 'string') throw wrongType('instructions', 'a string')
		instructions = body.instructions
		if (instructions !== '') messages.push({ role: 'system', content: instructions })
	}
	if (body.input === undefined || body.input === null) throw missing('input')
	if (typeof body.input === 'string') messages.push({ role: 'user', content: body.input })
	else if (Array.isArray(body.input)) translateItems(body.input, messages)
	else throw wrongType('input', 'a string or an array of input items')
	if (!messages.some((m) => m.role !== 'system')) throw invalid('input', 'at least one input item is required.')

	const chat: ChatRequest = { model: body.model, messages }
	const echo: ResponsesEcho = {
		instructions,
		max_output_tokens: null,
		temperature: null,
		top_p: null,
		tools: [],
		tool_choice: 'auto',
		parallel_tool_calls: true,
		text: { format: { type: 'text' } },
		reasoning: { effort: null, summary: null },
		metadata: {},
		user: null,
	}
	if (body.max_output_tokens !== undefined && body.max_output_tokens !== null) {
		if (typeof body.max_output_tokens !== 'number' || !Number.isInteger(body.max_output_tokens) || body.max_output_tokens < 1) {
			throw wrongType('max_output_tokens', 'an integer >= 1')
		}
		chat.max_tokens = body.max_output_tokens
		echo.max_output_tokens = body.max_output_tokens
	}
	for (const key of ['temperature', 'top_p'] as const) {
		const value = body[key]
		if (value === undefined || value === null) continue
		if (typeof value !== 'number') throw wrongType(key, 'a number')
		chat[key] = value
		echo[key] = value
	}
	if (body.stream !== undefined && body.stream !== null) {
		if (typeof body.stream !== 'boolean') throw wrongType('stream', 'a boolean')
		if (body.stream) {
			chat.stream = true
			chat.stream_options = { include_usage: true }
		}
	}
	if (body.parallel_tool_calls !== undefined && body.parallel_tool_calls !== null) {
		if (typeof body.parallel_tool_calls !== 'boolean') throw wrongType('parallel_tool_calls', 'a boolean')
		chat.parallel_tool_calls = body.parallel_tool_calls
		echo.parallel_tool_calls = body.parallel_tool_calls
	}
	if (body.metadata !== undefined && body.metadata !== null) {
		if (!isObject(body.metadata)) throw wrongType('metadata', 'an object')
		echo.metadata = body.metadata
	}
	if (typeof body.user === 'string') echo.user = body.user
	if (typeof body.prompt_cache_key === 'string') chat.prompt_cache_key = body.prompt_cache_key
	if (body.store !== undefined && body.store !== null && typeof body.store !== 'boolean') throw wrongType('store', 'a boolean')

	const tools = translateTools(body.tools)
	if (tools.length > 0) {
		chat.tools = tools
		echo.tools = body.tools as unknown[]
	}
	if (body.tool_choice !== undefined && body.tool_choice !== null) {
		const choice = translateToolChoice(body.tool_choice)
		echo.tool_choice = body.tool_choice
		if (tools.length > 0) chat.tool_choice = choice
		else if (choice !== 'auto' && choice !== 'none') throw invalid('tool_choice', "'tool_choice' is only allowed when 'tools' are specified.")
	}
	if (body.text !== undefined && body.text !== null) {
		if (!isObject(body.text)) throw wrongType('text', 'an object')
		const format = body.text.format
		if (format !== undefined && format !== null) {
			if (!isObject(format)) throw wrongType('text.format', 'an object')
			if (format.type === 'json_schema') {
				if (typeof format.name !== 'string') throw missing('text.format.name')
				if (!isObject(format.schema)) throw missing('text.format.schema')
				const jsonSchema: Record<string, unknown> = { name: format.name, schema: format.schema }
				if (typeof format.strict === 'boolean') jsonSchema.strict = format.strict
				if (typeof format.description === 'string') jsonSchema.description = format.description
				chat.response_format = { type: 'json_schema', json_schema: jsonSchema }
			} else if (format.type === 'json_object') chat.response_format = { type: 'json_object' }
			else if (format.type !== 'text') throw invalid('text.format.type', "supported values are 'text', 'json_object' and 'json_schema'.")
			echo.text = { ...body.text, format }
		}
	}
	if (body.reasoning !== undefined && body.reasoning !== null) {
		if (!isObject(body.reasoning)) throw wrongType('reasoning', 'an object')
		const effort = body.reasoning.effort
		if (effort !== undefined && effort !== null) {
			if (typeof effort !== 'string') throw wrongType('reasoning.effort', 'a string')
			// The gateway knows low/medium/high; minimal and none are the lightest it has.
			const mapped = effort === 'minimal' || effort === 'none' ? 'low' : effort === 'xhigh' ? 'high' : effort
			if (!['low', 'medium', 'high'].includes(mapped)) throw invalid('reasoning.effort', "supported values are 'minimal', 'low', 'medium' and 'high'.")
			chat.reasoning = { effort: mapped }
			echo.reasoning.effort = effort
		}
		if (typeof body.reasoning.summary === 'string') echo.reasoning.summary = body.reasoning.summary
	}
	return { chat, echo }
}

function contentParts(content: unknown, at: string, role: string): string | ContentPart[] {
	if (typeof content === 'string') return content
	if (!Array.isArray(content)) throw content === undefined ? missing(at) : wrongType(at, 'a string or an array of content parts')
	const parts: ContentPart[] = []
	for (let j = 0; j < content.length; j++) {
		const part = content[j]
		const pAt = `${at}[${j}]`
		if (!isObject(part)) throw wrongType(pAt, 'an object')
		switch (part.type) {
			case 'input_text':
			case 'output_text':
			case 'text':
				if (typeof part.text !== 'string') throw missing(`${pAt}.text`)
				parts.push({ type: 'text', text: part.text })
				break
			case 'refusal':
				if (typeof part.refusal === 'string') parts.push({ type: 'text', text: part.refusal })
				break
			case 'input_image': {
				if (role === 'assistant') throw invalid(`${pAt}.type`, 'images cannot be assistant content.')
				const url = typeof part.image_url === 'string' ? part.image_url : null
				if (url === null) throw invalid(`${pAt}.image_url`, 'an image URL or data URL is required (file_id needs the Files API, which amb2api does not have).')
				const image: Record<string, unknown> = { url }
				if (typeof part.detail === 'string') image.detail = part.detail
				parts.push({ type: 'image_url', image_url: image })
				break
			}
			default:
				throw invalid(`${pAt}.type`, `content part type ${JSON.stringify(part.type)} is not supported; use input_text or input_image.`)
		}
	}
	if (parts.every((p) => p.type === 'text')) return parts.map((p) => p.text).join('\n')
	return parts
}

function translateItems(items: unknown[], out: ChatMessage[]): void {
	const known = new Set<string>()
	for (let i = 0; i < items.length; i++) {
		const item = items[i]
		const at = `input[${i}]`
		if (!isObject(item)) throw wrongType(at, 'an object')
		const type = item.type ?? 'message'
		switch (type) {
			case 'message': {
				const role = item.role
				if (role !== 'user' && role !== 'assistant' && role !== 'system' && role !== 'developer') {
					throw invalid(`${at}.role`, "supported values are 'user', 'assistant', 'system' and 'developer'.")
				}
				out.push({ role: role === 'developer' ? 'system' : role, content: contentParts(item.content, `${at}.content`, role) })
				break
			}
			case 'function_call': {
				if (typeof item.call_id !== 'string') throw missing(`${at}.call_id`)
				if (typeof item.name !== 'string') throw missing(`${at}.name`)
				const args = typeof item.arguments === 'string' ? item.arguments : JSON.stringify(item.arguments ?? {})
				const call: ToolCall = { id: item.call_id, type: 'function', function: { name: item.name, arguments: args } }
				// Consecutive calls (and the assistant text right before them) are one assistant turn.
				const last = out[out.length - 1]
				if (last?.role === 'assistant' && (last.tool_calls !== undefined || typeof last.content === 'string')) {
					// Appended in place: a copy per call made 100,000 consecutive calls quadratic.
					if (last.tool_calls) last.tool_calls.push(call)
					else last.tool_calls = [call]
					if (last.content === '') last.content = null
				} else out.push({ role: 'assistant', content: null, tool_calls: [call] })
				known.add(item.call_id)
				break
			}
			case 'function_call_output': {
				if (typeof item.call_id !== 'string') throw missing(`${at}.call_id`)
				if (!known.has(item.call_id))
					throw invalid(`${at}.call_id`, `no function_call item with call_id ${JSON.stringify(item.call_id)} comes before this output.`)
				const output =
					typeof item.output === 'string'
						? item.output
						: Array.isArray(item.output)
							? outputText(item.output, `${at}.output`)
							: JSON.stringify(item.output ?? '')
				out.push({ role: 'tool', tool_call_id: item.call_id, content: output })
				break
			}
			case 'reasoning':
				break // reasoning items of an earlier answer: the gateway has no field that takes them back
			default:
				throw invalid(`${at}.type`, `input item type ${JSON.stringify(type)} is not supported; use message, function_call or function_call_output.`)
		}
	}
}

function outputText(parts: unknown[], at: string): string {
	const texts: string[] = []
	for (let k = 0; k < parts.length; k++) {
		const part = parts[k]
		if (isObject(part) && (part.type === 'input_text' || part.type === 'output_text') && typeof part.text === 'string') texts.push(part.text)
		else throw invalid(`${at}[${k}]`, 'only text parts can be a function output here.')
	}
	return texts.join('\n')
}

/**
 * Tools OpenAI runs on its own servers. The gateway cannot run them, so they are left out of
 * the upstream request (the model simply does not get them) instead of failing the whole
 * request: Codex CLI, for one, always offers `web_search`. The README lists them.
 */
export const HOSTED_TOOLS: ReadonlySet<string> = new Set([
	'web_search',
	'web_search_preview',
	'file_search',
	'code_interpreter',
	'image_generation',
	'computer_use_preview',
	'mcp',
])

function functionTool(tool: Record<string, unknown>, at: string): ToolDefinition {
	if (typeof tool.name !== 'string') throw missing(`${at}.name`)
	const fn: ToolDefinition['function'] = { name: tool.name }
	if (typeof tool.description === 'string') fn.description = tool.description
	if (isObject(tool.parameters)) fn.parameters = tool.parameters
	if (typeof tool.strict === 'boolean') fn.strict = tool.strict
	return { type: 'function', function: fn }
}

function translateTools(tools: unknown): ToolDefinition[] {
	if (tools === undefined || tools === null) return []
	if (!Array.isArray(tools)) throw wrongType('tools', 'an array')
	const out: ToolDefinition[] = []
	for (let i = 0; i < tools.length; i++) {
		const tool = tools[i]
		const at = `tools[${i}]`
		if (!isObject(tool)) throw wrongType(at, 'an object')
		if (tool.type === 'function') out.push(functionTool(tool, at))
		else if (tool.type === 'namespace') {
			// A group of function tools (Codex's sub-agent tools): offered one by one, by their own names.
			if (!Array.isArray(tool.tools)) throw missing(`${at}.tools`)
			tool.tools.forEach((inner, j) => {
				if (!isObject(inner) || inner.type !== 'function')
					throw invalid(`${at}.tools[${j}].type`, 'only function tools can be in a namespace.', 'unsupported_tool')
				out.push(functionTool(inner, `${at}.tools[${j}]`))
			})
		} else if (typeof tool.type === 'string' && HOSTED_TOOLS.has(tool.type)) continue
		else throw invalid(`${at}.type`, `only function tools are available through amb2api, not ${JSON.stringify(tool.type)}.`, 'unsupported_tool')
	}
	return out
}

function translateToolChoice(choice: unknown): ToolChoice {
	if (choice === 'auto' || choice === 'none' || choice === 'required') return choice
	if (isObject(choice) && choice.type === 'function' && typeof choice.name === 'string') return { type: 'function', function: { name: choice.name } }
	if (isObject(choice) && typeof choice.type === 'string' && HOSTED_TOOLS.has(choice.type)) {
		throw invalid('tool_choice', `${JSON.stringify(choice.type)} runs on OpenAI's servers and is not available through amb2api.`, 'unsupported_tool')
	}
	throw invalid('tool_choice', "supported values are 'auto', 'none', 'required' and {type: 'function', name}.")
}
