/**
 * Validation of a client's `POST /v1/chat/completions` body.
 *
 * Hand-written checks in one pass instead of a compiled TypeBox schema: they name the exact
 * `param` path OpenAI would name (`messages[2].role`), need no error-path translation, and
 * cost a few microseconds per request. Unknown fields are kept: what reaches the gateway is
 * decided by the request translator (assembly-request.ts), not here.
 */

import { BadRequestError } from '../../core/errors.ts'
import { isObject } from '../../core/json.ts'

export type ChatRole = 'system' | 'developer' | 'user' | 'assistant' | 'tool' | 'function'

export interface ContentPart {
	type: string
	text?: string
	[key: string]: unknown
}

/** A tool call as a client may send it back in history: lenient, normalised by the translator. */
export interface ToolCall {
	id?: string
	type?: string
	function: { name: string; arguments?: unknown; [key: string]: unknown }
	[key: string]: unknown
}

export interface ChatMessage {
	role: ChatRole
	content?: string | ContentPart[] | null
	name?: string
	tool_call_id?: string
	tool_calls?: ToolCall[]
	/** Legacy single call on assistant messages (pre-`tool_calls` API). */
	function_call?: { name: string; arguments?: unknown }
	[key: string]: unknown
}

export interface ToolDefinition {
	type: 'function'
	function: { name: string; description?: string; parameters?: Record<string, unknown>; [key: string]: unknown }
	[key: string]: unknown
}

export type ToolChoice = 'none' | 'auto' | 'required' | { type: 'function'; function: { name: string } }

export interface ChatRequest {
	model: string
	messages: ChatMessage[]
	stream?: boolean | null
	stream_options?: { include_usage?: boolean; [key: string]: unknown } | null
	max_tokens?: number | null
	max_completion_tokens?: number | null
	temperature?: number | null
	top_p?: number | null
	frequency_penalty?: number | null
	presence_penalty?: number | null
	n?: number | null
	stop?: string | string[] | null
	seed?: number | null
	tools?: ToolDefinition[] | null
	tool_choice?: ToolChoice | null
	parallel_tool_calls?: boolean | null
	response_format?: { type: 'text' | 'json_object' | 'json_schema'; [key: string]: unknown } | null
	reasoning?: Record<string, unknown> | null
	reasoning_effort?: string | null
	[key: string]: unknown
}

const ROLES: ReadonlySet<string> = new Set(['system', 'developer', 'user', 'assistant', 'tool', 'function'])
const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/
const TOOL_CHOICES: ReadonlySet<string> = new Set(['none', 'auto', 'required'])
const RESPONSE_FORMATS: ReadonlySet<string> = new Set(['text', 'json_object', 'json_schema'])

/** Parses the raw request text; the only JSON.parse on the hot path. */
export function parseJsonBody(text: string): unknown {
	try {
		return JSON.parse(text)
	} catch (error) {
		const reason = error instanceof Error ? error.message : String(error)
		throw new BadRequestError(`Request body is not valid JSON: ${reason}`, null, 'invalid_json')
	}
}

/** Validates a chat request and returns it typed (the same object, unknown fields kept). */
export function parseChatRequest(raw: unknown): ChatRequest {
	if (!isObject(raw)) throw new BadRequestError(`Request body must be a JSON object, but got ${kind(raw)} instead.`, null, 'invalid_type')
	const body = raw

	if (body.model === undefined || body.model === null) throw missing('model')
	if (typeof body.model !== 'string') throw wrongType('model', 'a string', body.model)
	if (body.model.trim() === '') throw invalid('model', 'expected a non-empty string.')

	const messages = body.messages
	if (messages === undefined || messages === null) throw missing('messages')
	if (!Array.isArray(messages)) throw wrongType('messages', 'an array', messages)
	if (messages.length === 0) throw invalid('messages', 'empty array. Expected an array with minimum length 1, but got an empty array instead.')
	for (let i = 0; i < messages.length; i++) checkMessage(messages[i], i)

	optNumber(body, 'temperature', 0, 2, false)
	optNumber(body, 'top_p', 0, 1, false)
	optNumber(body, 'frequency_penalty', -2, 2, false)
	optNumber(body, 'presence_penalty', -2, 2, false)
	optNumber(body, 'max_tokens', 1, Infinity, true)
	optNumber(body, 'max_completion_tokens', 1, Infinity, true)
	optNumber(body, 'top_k', 1, Infinity, true)
	optNumber(body, 'seed', -Infinity, Infinity, true)
	if (body.n !== undefined && body.n !== null) {
		if (typeof body.n !== 'number') throw wrongType('n', 'an integer', body.n)
		if (body.n !== 1) throw invalid('n', `amb2api returns exactly one choice, so n must be 1, but got ${body.n} instead.`, 'unsupported_value')
	}

	optType(body, 'stream', 'boolean')
	optType(body, 'parallel_tool_calls', 'boolean')
	optType(body, 'zero_data_retention', 'boolean')
	optType(body, 'reasoning_effort', 'string')
	optType(body, 'verbosity', 'string')
	optType(body, 'model_region', 'string')
	optType(body, 'transcript_id', 'string')
	optType(body, 'prompt_cache_key', 'string')
	optType(body, 'prompt_cache_retention', 'string')
	optType(body, 'user', 'string')
	optObject(body, 'stream_options')
	optObject(body, 'reasoning')
	optObject(body, 'fallback_config')
	optObject(body, 'cache_control')
	optObject(body, 'metadata')
	if (isObject(body.stream_options) && body.stream_options.include_usage !== undefined && typeof body.stream_options.include_usage !== 'boolean') {
		throw wrongType('stream_options.include_usage', 'a boolean', body.stream_options.include_usage)
	}
	checkArrayOfObjects(body, 'fallbacks')
	checkArrayOfObjects(body, 'post_processing_steps')

	const hasTools = checkTools(body.tools)
	checkToolChoice(body.tool_choice, hasTools)
	checkStop(body.stop)
	checkResponseFormat(body.response_format)
	return body as ChatRequest
}

function checkMessage(message: unknown, i: number): void {
	const at = `messages[${i}]`
	if (!isObject(message)) throw wrongType(at, 'an object', message)
	const role = message.role
	if (role === undefined || role === null) throw missing(`${at}.role`)
	if (typeof role !== 'string' || !ROLES.has(role)) {
		throw new BadRequestError(
			`Invalid value for '${at}.role': ${JSON.stringify(role)}. Supported values are: 'system', 'developer', 'user', 'assistant', 'tool' and 'function'.`,
			`${at}.role`,
			'invalid_value',
		)
	}

	const content = message.content
	if (content === undefined || content === null) {
		// OpenAI: content may be omitted only on assistant messages (tool_calls/function_call
		// answers, or a prefill left empty) and on legacy function results.
		if (role !== 'assistant' && role !== 'function') {
			if (content === undefined) throw missing(`${at}.content`)
			throw wrongType(`${at}.content`, 'a string or an array of content parts', content)
		}
	} else if (Array.isArray(content)) {
		if (content.length === 0) throw invalid(`${at}.content`, 'empty array. Expected an array with minimum length 1, but got an empty array instead.')
		for (let j = 0; j < content.length; j++) {
			const part = content[j]
			const partAt = `${at}.content[${j}]`
			if (!isObject(part)) throw wrongType(partAt, 'an object', part)
			if (typeof part.type !== 'string') throw part.type === undefined ? missing(`${partAt}.type`) : wrongType(`${partAt}.type`, 'a string', part.type)
			if (part.type === 'text' && typeof part.text !== 'string') {
				throw part.text === undefined ? missing(`${partAt}.text`) : wrongType(`${partAt}.text`, 'a string', part.text)
			}
		}
	} else if (typeof content !== 'string') {
		throw wrongType(`${at}.content`, 'a string or an array of content parts', content)
	}

	if (message.name !== undefined && message.name !== null && typeof message.name !== 'string') throw wrongType(`${at}.name`, 'a string', message.name)
	if (role === 'tool') {
		if (message.tool_call_id === undefined || message.tool_call_id === null) throw missing(`${at}.tool_call_id`)
		if (typeof message.tool_call_id !== 'string') throw wrongType(`${at}.tool_call_id`, 'a string', message.tool_call_id)
	} else if (message.tool_call_id !== undefined && message.tool_call_id !== null && typeof message.tool_call_id !== 'string') {
		throw wrongType(`${at}.tool_call_id`, 'a string', message.tool_call_id)
	}
	if (role === 'function' && typeof message.name !== 'string') {
		throw message.name === undefined || message.name === null ? missing(`${at}.name`) : wrongType(`${at}.name`, 'a string', message.name)
	}

	const calls = message.tool_calls
	if (calls !== undefined && calls !== null) {
		if (!Array.isArray(calls)) throw wrongType(`${at}.tool_calls`, 'an array', calls)
		for (let j = 0; j < calls.length; j++) {
			const call = calls[j]
			const callAt = `${at}.tool_calls[${j}]`
			if (!isObject(call)) throw wrongType(callAt, 'an object', call)
			if (call.id !== undefined && call.id !== null && typeof call.id !== 'string') throw wrongType(`${callAt}.id`, 'a string', call.id)
			checkFunctionRef(call.function, `${callAt}.function`)
		}
	}
	if (message.function_call !== undefined && message.function_call !== null) checkFunctionRef(message.function_call, `${at}.function_call`)
}

function checkFunctionRef(fn: unknown, at: string): void {
	if (fn === undefined || fn === null) throw missing(at)
	if (!isObject(fn)) throw wrongType(at, 'an object', fn)
	if (fn.name === undefined || fn.name === null) throw missing(`${at}.name`)
	if (typeof fn.name !== 'string') throw wrongType(`${at}.name`, 'a string', fn.name)
}

/** Returns whether at least one tool is defined. */
function checkTools(tools: unknown): boolean {
	if (tools === undefined || tools === null) return false
	if (!Array.isArray(tools)) throw wrongType('tools', 'an array', tools)
	for (let i = 0; i < tools.length; i++) {
		const tool = tools[i]
		const at = `tools[${i}]`
		if (!isObject(tool)) throw wrongType(at, 'an object', tool)
		if (tool.type !== 'function') {
			throw new BadRequestError(
				`Invalid value for '${at}.type': ${JSON.stringify(tool.type)}. Supported values are: 'function'.`,
				`${at}.type`,
				'invalid_value',
			)
		}
		const fn = tool.function
		if (fn === undefined || fn === null) throw missing(`${at}.function`)
		if (!isObject(fn)) throw wrongType(`${at}.function`, 'an object', fn)
		if (fn.name === undefined || fn.name === null) throw missing(`${at}.function.name`)
		if (typeof fn.name !== 'string') throw wrongType(`${at}.function.name`, 'a string', fn.name)
		if (!TOOL_NAME.test(fn.name)) {
			throw invalid(
				`${at}.function.name`,
				`string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]{1,64}$', but got ${JSON.stringify(fn.name)} instead.`,
			)
		}
		if (fn.description !== undefined && fn.description !== null && typeof fn.description !== 'string') {
			throw wrongType(`${at}.function.description`, 'a string', fn.description)
		}
		if (fn.parameters !== undefined && fn.parameters !== null && !isObject(fn.parameters)) {
			throw wrongType(`${at}.function.parameters`, 'an object', fn.parameters)
		}
	}
	return tools.length > 0
}

function checkToolChoice(choice: unknown, hasTools: boolean): void {
	if (choice === undefined || choice === null) return
	if (typeof choice === 'string') {
		if (!TOOL_CHOICES.has(choice)) {
			throw new BadRequestError(
				`Invalid value for 'tool_choice': ${JSON.stringify(choice)}. Supported values are: 'none', 'auto' and 'required'.`,
				'tool_choice',
				'invalid_value',
			)
		}
		if (choice === 'required' && !hasTools) throw invalid('tool_choice', "'tool_choice' is only allowed when 'tools' are specified.")
		return
	}
	if (!isObject(choice)) throw wrongType('tool_choice', 'a string or an object', choice)
	if (choice.type !== 'function') {
		throw new BadRequestError(
			`Invalid value for 'tool_choice.type': ${JSON.stringify(choice.type)}. Supported values are: 'function'.`,
			'tool_choice.type',
			'invalid_value',
		)
	}
	checkFunctionRef(choice.function, 'tool_choice.function')
	if (!hasTools) throw invalid('tool_choice', "'tool_choice' is only allowed when 'tools' are specified.")
}

function checkStop(stop: unknown): void {
	if (stop === undefined || stop === null || typeof stop === 'string') return
	if (!Array.isArray(stop)) throw wrongType('stop', 'a string or an array of strings', stop)
	if (stop.length > 4) throw invalid('stop', `array too long. Expected an array with maximum length 4, but got an array with length ${stop.length} instead.`)
	for (let i = 0; i < stop.length; i++) if (typeof stop[i] !== 'string') throw wrongType(`stop[${i}]`, 'a string', stop[i])
}

function checkResponseFormat(format: unknown): void {
	if (format === undefined || format === null) return
	if (!isObject(format)) throw wrongType('response_format', 'an object', format)
	if (format.type === undefined || format.type === null) throw missing('response_format.type')
	if (typeof format.type !== 'string' || !RESPONSE_FORMATS.has(format.type)) {
		throw new BadRequestError(
			`Invalid value for 'response_format.type': ${JSON.stringify(format.type)}. Supported values are: 'text', 'json_object' and 'json_schema'.`,
			'response_format.type',
			'invalid_value',
		)
	}
	if (format.type === 'json_schema') {
		const schema = format.json_schema
		if (schema === undefined || schema === null) throw missing('response_format.json_schema')
		if (!isObject(schema)) throw wrongType('response_format.json_schema', 'an object', schema)
		if (schema.name === undefined || schema.name === null) throw missing('response_format.json_schema.name')
		if (typeof schema.name !== 'string') throw wrongType('response_format.json_schema.name', 'a string', schema.name)
	}
}

function optNumber(body: Record<string, unknown>, key: string, min: number, max: number, integer: boolean): void {
	const value = body[key]
	if (value === undefined || value === null) return
	if (typeof value !== 'number' || (integer && !Number.isInteger(value))) throw wrongType(key, integer ? 'an integer' : 'a number', value)
	if (value < min) throw invalid(key, `${integer ? 'integer' : 'decimal'} below minimum value. Expected a value >= ${min}, but got ${value} instead.`)
	if (value > max) throw invalid(key, `${integer ? 'integer' : 'decimal'} above maximum value. Expected a value <= ${max}, but got ${value} instead.`)
}

function optType(body: Record<string, unknown>, key: string, type: 'string' | 'boolean'): void {
	const value = body[key]
	if (value !== undefined && value !== null && typeof value !== type) throw wrongType(key, type === 'string' ? 'a string' : 'a boolean', value)
}

function optObject(body: Record<string, unknown>, key: string): void {
	const value = body[key]
	if (value !== undefined && value !== null && !isObject(value)) throw wrongType(key, 'an object', value)
}

function checkArrayOfObjects(body: Record<string, unknown>, key: string): void {
	const value = body[key]
	if (value === undefined || value === null) return
	if (!Array.isArray(value)) throw wrongType(key, 'an array', value)
	for (let i = 0; i < value.length; i++) if (!isObject(value[i])) throw wrongType(`${key}[${i}]`, 'an object', value[i])
}

function kind(value: unknown): string {
	if (value === null) return 'null'
	if (Array.isArray(value)) return 'an array'
	if (typeof value === 'object') return 'an object'
	if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a decimal'
	return `a ${typeof value}`
}

function missing(param: string): BadRequestError {
	return new BadRequestError(`Missing required parameter: '${param}'.`, param, 'missing_required_parameter')
}

function wrongType(param: string, expected: string, value: unknown): BadRequestError {
	return new BadRequestError(`Invalid type for '${param}': expected ${expected}, but got ${kind(value)} instead.`, param, 'invalid_type')
}

function invalid(param: string, detail: string, code = 'invalid_value'): BadRequestError {
	return new BadRequestError(`Invalid '${param}': ${detail}`, param, code)
}
