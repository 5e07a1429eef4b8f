/**
 * Format detection on /v1/chat/completions: an OpenAI chat body, or a Gemini `generateContent`
 * body (`contents[].parts`, `systemInstruction`, `generationConfig`, `tools[].functionDeclarations`),
 * translated to the OpenAI chat request the pipeline speaks. The answer is OpenAI-shaped either
 * way. Unknown shapes get a 400 that says what was expected. Pure: no services.
 *
 * Gemini names the model in the URL; here it goes in the body (`"model"`), and `"stream": true`
 * asks for an SSE stream of OpenAI chunks. Both camelCase and snake_case field names are read, as
 * the Gemini REST API accepts both.
 */
import { BadRequestError } from '../../core/errors.ts'
import { isObject } from '../../core/json.ts'
import type { ChatMessage, ContentPart, ToolCall, ToolDefinition } from '../chat-core/chat-request.ts'

export type BodyFormat = 'openai' | 'gemini'

type Obj = Record<string, unknown>

const EXPECTED =
	'Expected an OpenAI chat body {"model": "...", "messages": [{"role": "user", "content": "..."}]} or a Gemini body {"model": "...", "contents": [{"role": "user", "parts": [{"text": "..."}]}]}'

const field = (o: Obj, camel: string, snake: string): unknown => (o[camel] !== undefined ? o[camel] : o[snake])

/** Which format a parsed body is in; a 400 naming both expected shapes when it is neither. */
export function detectFormat(body: unknown): BodyFormat {
	// Not an object: the OpenAI checks say so precisely.
	if (!isObject(body) || 'messages' in body) return 'openai'
	const tools = Array.isArray(body.tools) ? body.tools : []
	if (
		'contents' in body ||
		field(body, 'systemInstruction', 'system_instruction') !== undefined ||
		field(body, 'generationConfig', 'generation_config') !== undefined ||
		tools.some((t) => isObject(t) && field(t, 'functionDeclarations', 'function_declarations') !== undefined)
	) {
		return 'gemini'
	}
	const keys = Object.keys(body).slice(0, 8)
	throw new BadRequestError(
		`Unrecognised request body (${keys.length ? `fields: ${keys.join(', ')}` : 'an empty object'}). ${EXPECTED}.`,
		// What an OpenAI body lacks: OpenAI clients read `param`.
		'messages',
		'unknown_body_format',
	)
}

const bad = (message: string, param: string) => new BadRequestError(message, param, 'invalid_gemini_body')

function partsOf(content: unknown, param: string): Obj[] {
	if (typeof content === 'string') return [{ text: content }]
	if (!isObject(content)) throw bad(`${param} must be an object with "parts". ${EXPECTED}.`, param)
	const parts = content.parts
	if (!Array.isArray(parts)) throw bad(`${param}.parts must be an array of parts such as {"text": "..."}.`, `${param}.parts`)
	return parts.map((p, i) => {
		if (!isObject(p)) throw bad(`${param}.parts[${i}] must be an object such as {"text": "..."}.`, `${param}.parts[${i}]`)
		return p
	})
}

const textOf = (parts: Obj[]): string =>
	parts
		.filter((p) => typeof p.text === 'string' && p.thought !== true)
		.map((p) => p.text as string)
		.join('')

/** Gemini schemas use upper-case types ("OBJECT", "STRING"); JSON Schema wants lower case. */
function jsonSchema(schema: unknown): unknown {
	if (Array.isArray(schema)) return schema.map(jsonSchema)
	if (!isObject(schema)) return schema
	const out: Obj = {}
	for (const [k, v] of Object.entries(schema)) out[k] = k === 'type' && typeof v === 'string' ? v.toLowerCase() : jsonSchema(v)
	return out
}

/** A Gemini `generateContent` body as an OpenAI chat request body (validated afterwards by parseChatRequest). */
export function geminiToChat(body: Obj): Obj {
	const messages: ChatMessage[] = []
	const system = field(body, 'systemInstruction', 'system_instruction')
	if (system !== undefined && system !== null) {
		const text = textOf(partsOf(system, 'systemInstruction'))
		if (text !== '') messages.push({ role: 'system', content: text })
	}
	const contents = body.contents
	if (!Array.isArray(contents) || contents.length === 0) throw bad(`contents must be a non-empty array. ${EXPECTED}.`, 'contents')
	/** Call ids by function name, oldest first: a functionResponse answers the oldest open call of its name. */
	// Call ids by function name, answered in order (`next`: no shift(), which is linear per call).
	const open = new Map<string, { ids: string[]; next: number }>()
	let callSeq = 0
	contents.forEach((content, i) => {
		const param = `contents[${i}]`
		const parts = partsOf(content, param)
		const role = isObject(content) ? content.role : undefined
		if (role === 'model') {
			const calls: ToolCall[] = []
			for (const p of parts) {
				const call = field(p, 'functionCall', 'function_call')
				if (!isObject(call)) continue
				if (typeof call.name !== 'string') throw bad(`${param}: functionCall.name must be a string.`, param)
				const id = typeof call.id === 'string' && call.id !== '' ? call.id : `call_gemini_${++callSeq}`
				// Appended in place: a copy per call made 100,000 calls quadratic (seconds of a blocked loop).
				const pending = open.get(call.name)
				if (pending) pending.ids.push(id)
				else open.set(call.name, { ids: [id], next: 0 })
				const tc: ToolCall = { id, type: 'function', function: { name: call.name, arguments: JSON.stringify(call.args ?? {}) } }
				const signature = field(p, 'thoughtSignature', 'thought_signature')
				if (typeof signature === 'string') tc.thought_signature = signature
				calls.push(tc)
			}
			const text = textOf(parts)
			const message: ChatMessage = { role: 'assistant', content: text === '' && calls.length > 0 ? null : text }
			if (calls.length > 0) message.tool_calls = calls
			messages.push(message)
			return
		}
		if (role !== undefined && role !== 'user' && role !== 'function' && role !== 'tool') {
			throw bad(`${param}.role must be "user" or "model", but got ${JSON.stringify(role)}.`, `${param}.role`)
		}
		const userParts: ContentPart[] = []
		for (const p of parts) {
			const response = field(p, 'functionResponse', 'function_response')
			if (isObject(response)) {
				const name = typeof response.name === 'string' ? response.name : ''
				const queue = open.get(name)
				// A response with its own id takes nothing from the queue.
				const next = () => (queue && queue.next < queue.ids.length ? queue.ids[queue.next++] : undefined)
				const id = typeof response.id === 'string' && response.id !== '' ? response.id : (next() ?? `call_gemini_${++callSeq}`)
				const payload = response.response
				messages.push({ role: 'tool', tool_call_id: id, name, content: typeof payload === 'string' ? payload : JSON.stringify(payload ?? {}) })
				continue
			}
			if (typeof p.text === 'string') userParts.push({ type: 'text', text: p.text })
			const inline = field(p, 'inlineData', 'inline_data')
			if (isObject(inline) && typeof inline.data === 'string') {
				const mime = field(inline, 'mimeType', 'mime_type')
				userParts.push({ type: 'image_url', image_url: { url: `data:${typeof mime === 'string' ? mime : 'application/octet-stream'};base64,${inline.data}` } })
			}
		}
		if (userParts.length === 0) return
		const onlyText = userParts.every((p) => p.type === 'text')
		messages.push({ role: 'user', content: onlyText ? userParts.map((p) => p.text).join('') : userParts })
	})
	if (messages.length === 0) throw bad(`contents holds no message. ${EXPECTED}.`, 'contents')

	const out: Obj = { model: body.model, messages }
	if (body.stream !== undefined) out.stream = body.stream
	if (body.stream_options !== undefined) out.stream_options = body.stream_options

	const config = field(body, 'generationConfig', 'generation_config')
	if (isObject(config)) {
		const copy = (camel: string, snake: string, to: string) => {
			const v = field(config, camel, snake)
			if (v !== undefined && v !== null) out[to] = v
		}
		copy('temperature', 'temperature', 'temperature')
		copy('topP', 'top_p', 'top_p')
		copy('topK', 'top_k', 'top_k')
		copy('maxOutputTokens', 'max_output_tokens', 'max_tokens')
		copy('stopSequences', 'stop_sequences', 'stop')
		copy('candidateCount', 'candidate_count', 'n')
		copy('seed', 'seed', 'seed')
		const schema = field(config, 'responseSchema', 'response_schema') ?? field(config, 'responseJsonSchema', 'response_json_schema')
		if (schema !== undefined) out.response_format = { type: 'json_schema', json_schema: { name: 'response', schema: jsonSchema(schema) } }
		else if (field(config, 'responseMimeType', 'response_mime_type') === 'application/json') out.response_format = { type: 'json_object' }
		const thinking = field(config, 'thinkingConfig', 'thinking_config')
		if (isObject(thinking)) {
			const budget = field(thinking, 'thinkingBudget', 'thinking_budget')
			if (typeof budget === 'number' && budget > 0) out.reasoning = { max_tokens: budget }
		}
	}

	if (Array.isArray(body.tools)) {
		const tools: ToolDefinition[] = []
		body.tools.forEach((t, i) => {
			const decls = isObject(t) ? field(t, 'functionDeclarations', 'function_declarations') : undefined
			if (!Array.isArray(decls)) return
			decls.forEach((d, j) => {
				if (!isObject(d) || typeof d.name !== 'string')
					throw bad(`tools[${i}].functionDeclarations[${j}].name must be a string.`, `tools[${i}].functionDeclarations[${j}].name`)
				const parameters = d.parameters ?? field(d, 'parametersJsonSchema', 'parameters_json_schema')
				tools.push({
					type: 'function',
					function: {
						name: d.name,
						...(typeof d.description === 'string' ? { description: d.description } : {}),
						parameters: isObject(parameters) ? (jsonSchema(parameters) as Obj) : { type: 'object', properties: {} },
					},
				})
			})
		})
		if (tools.length > 0) out.tools = tools
	}
	const toolConfig = field(body, 'toolConfig', 'tool_config')
	const calling = isObject(toolConfig) ? field(toolConfig, 'functionCallingConfig', 'function_calling_config') : undefined
	if (isObject(calling) && out.tools !== undefined) {
		const mode = typeof calling.mode === 'string' ? calling.mode.toUpperCase() : 'AUTO'
		const allowed = field(calling, 'allowedFunctionNames', 'allowed_function_names')
		if (mode === 'NONE') out.tool_choice = 'none'
		else if (mode === 'ANY') {
			out.tool_choice =
				Array.isArray(allowed) && allowed.length === 1 && typeof allowed[0] === 'string' ? { type: 'function', function: { name: allowed[0] } } : 'required'
		} else out.tool_choice = 'auto'
	}
	return out
}
