import { describe, expect, test } from 'bun:test'
import { BadRequestError } from '../../../core/errors.ts'
import { gatewayHeaders, toGatewayBody } from '../../../plugins/assembly-client/request.ts'
import { parseChatRequest, type ChatRequest } from '../../../plugins/chat-core/chat-request.ts'

const opts = { model: 'claude-sonnet-4-6', stream: false, includeUsage: false }
const req = (patch: Record<string, unknown> = {}): ChatRequest => parseChatRequest({ model: 'my-alias', messages: [{ role: 'user', content: 'Hi' }], ...patch })
const messagesOf = (body: Record<string, unknown>) => body.messages as Record<string, unknown>[]

function rejection(run: () => unknown): BadRequestError {
	try {
		run()
	} catch (error) {
		expect(error).toBeInstanceOf(BadRequestError)
		return error as BadRequestError
	}
	throw new Error('expected a BadRequestError')
}

describe('toGatewayBody: top level', () => {
	test('the model is the given upstream id, not the client name', () => {
		const body = toGatewayBody(req(), opts)
		expect(body.model).toBe('claude-sonnet-4-6')
		expect(body).toEqual({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'Hi' }] })
	})

	test('documented and forwarded fields pass through unchanged', () => {
		const fields = {
			temperature: 0.3,
			top_p: 0.9,
			response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object' }, strict: true } },
			reasoning: { effort: 'high', max_tokens: 2048 },
			fallbacks: [{ model: 'gpt-5', temperature: 0.1 }],
			fallback_config: { retry: false, depth: 2 },
			post_processing_steps: [{ type: 'json-repair' }],
			transcript_id: 'abc',
			cache_control: { type: 'ephemeral', ttl: '1h' },
			prompt_cache_key: 'k',
			prompt_cache_retention: '24h',
			stop: ['END'],
			seed: 7,
			parallel_tool_calls: false,
			verbosity: 'low',
			zero_data_retention: true,
		}
		const body = toGatewayBody(req(fields), opts)
		for (const [key, value] of Object.entries(fields)) expect(body[key]).toEqual(value)
	})

	test('OpenAI-only and unknown fields are dropped', () => {
		const body = toGatewayBody(
			req({
				n: 1,
				user: 'u',
				logprobs: true,
				top_logprobs: 2,
				functions: [{ name: 'f' }],
				function_call: 'auto',
				metadata: { a: 'b' },
				store: true,
				modalities: ['text'],
				top_k: 5,
				something_new: 1,
				stream_options: { include_usage: true },
				frequency_penalty: 0,
				presence_penalty: 0,
			}),
			opts,
		)
		expect(Object.keys(body).sort()).toEqual(['messages', 'model'])
	})

	test('null optional fields are not sent', () => {
		const body = toGatewayBody(req({ temperature: null, stop: null, max_tokens: null, reasoning: null, tools: null }), opts)
		expect(Object.keys(body).sort()).toEqual(['messages', 'model'])
	})

	test('non-zero penalties are forwarded', () => {
		const body = toGatewayBody(req({ frequency_penalty: 0.5, presence_penalty: -1 }), opts)
		expect(body.frequency_penalty).toBe(0.5)
		expect(body.presence_penalty).toBe(-1)
	})

	test('max_tokens is sent as is; max_completion_tokens becomes max_tokens only when alone', () => {
		expect(toGatewayBody(req({ max_tokens: 60 }), opts).max_tokens).toBe(60)
		const alone = toGatewayBody(req({ max_completion_tokens: 500 }), opts)
		expect(alone.max_tokens).toBe(500)
		expect('max_completion_tokens' in alone).toBe(false)
		expect(toGatewayBody(req({ max_tokens: 60, max_completion_tokens: 500 }), opts).max_tokens).toBe(60)
	})

	test('reasoning_effort becomes reasoning.effort, unless reasoning is given', () => {
		const mapped = toGatewayBody(req({ reasoning_effort: 'medium' }), opts)
		expect(mapped.reasoning).toEqual({ effort: 'medium' })
		expect('reasoning_effort' in mapped).toBe(false)
		const kept = toGatewayBody(req({ reasoning_effort: 'low', reasoning: { effort: 'high' } }), opts)
		expect(kept.reasoning).toEqual({ effort: 'high' })
	})

	test('model_region: trimmed, blank removed, else the configured default', () => {
		expect(toGatewayBody(req({ model_region: ' global ' }), opts).model_region).toBe('global')
		expect('model_region' in toGatewayBody(req({ model_region: '   ' }), opts)).toBe(false)
		expect(toGatewayBody(req({ model_region: '' }), { ...opts, defaultModelRegion: 'global' }).model_region).toBe('global')
		expect(toGatewayBody(req(), { ...opts, defaultModelRegion: ' global ' }).model_region).toBe('global')
		expect('model_region' in toGatewayBody(req(), { ...opts, defaultModelRegion: ' ' })).toBe(false)
		expect(toGatewayBody(req({ model_region: 'us' }), { ...opts, defaultModelRegion: 'global' }).model_region).toBe('us')
	})

	test('streaming: stream true and include_usage always on, other stream options kept', () => {
		const body = toGatewayBody(req({ stream: true }), { ...opts, stream: true, includeUsage: false })
		expect(body.stream).toBe(true)
		expect(body.stream_options).toEqual({ include_usage: true })
		const withOptions = toGatewayBody(req({ stream: true, stream_options: { include_usage: false, include_obfuscation: false } }), {
			...opts,
			stream: true,
			includeUsage: false,
		})
		expect(withOptions.stream_options).toEqual({ include_usage: true, include_obfuscation: false })
	})

	test('not streaming upstream (even when the client asked for a stream): no stream, no stream_options', () => {
		const body = toGatewayBody(req({ stream: true, stream_options: { include_usage: true } }), { ...opts, stream: false, includeUsage: true })
		expect('stream' in body).toBe(false)
		expect('stream_options' in body).toBe(false)
	})

	test('no parameter gating: parameters a model does not list still go (the gateway 400 is the answer)', () => {
		const body = toGatewayBody(
			req({ top_p: 0.5, tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }], tool_choice: 'auto' }),
			opts,
		)
		expect(body.top_p).toBe(0.5)
		expect(body.tool_choice).toBe('auto')
		expect((body.tools as unknown[]).length).toBe(1)
	})

	test('tools: OpenAI shape kept, missing parameters filled with an empty object schema', () => {
		const tools = [
			{
				type: 'function',
				function: { name: 'get_weather', description: 'w', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: true },
			},
			{ type: 'function', function: { name: 'now' } },
		]
		const body = toGatewayBody(req({ tools, tool_choice: 'required' }), opts)
		expect(body.tools).toEqual([tools[0], { type: 'function', function: { name: 'now', parameters: { type: 'object', properties: {} } } }])
		expect(body.tool_choice).toBe('required')
	})

	test('tool_choice as a named function passes through', () => {
		const choice = { type: 'function', function: { name: 'f' } }
		const body = toGatewayBody(req({ tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: choice }), opts)
		expect(body.tool_choice).toEqual(choice)
	})

	test('empty tools: neither tools nor tool_choice is sent', () => {
		const body = toGatewayBody(req({ tools: [], tool_choice: 'auto' }), opts)
		expect('tools' in body).toBe(false)
		expect('tool_choice' in body).toBe(false)
	})

	test('the client request object is not modified', () => {
		const r = req({
			messages: [
				{ role: 'developer', content: [{ type: 'text', text: 'a', cache_control: { type: 'ephemeral' } }] },
				{ role: 'user', content: 'q' },
				{ role: 'assistant', content: null, tool_calls: [{ index: 0, function: { name: 'f', arguments: { x: 1 } } }] },
				{ role: 'assistant', content: null, function_call: { name: 'g', arguments: '{}' } },
				{ role: 'function', name: 'g', content: 'r' },
			],
			tools: [{ type: 'function', function: { name: 'f' } }],
			reasoning_effort: 'low',
			stream_options: { include_usage: false },
		})
		const snapshot = structuredClone(r)
		toGatewayBody(r, { ...opts, stream: true })
		expect(r).toEqual(snapshot)
	})
})

describe('toGatewayBody: messages', () => {
	test('text-only part arrays are flattened with newlines; arrays with images kept as they are', () => {
		const image = [
			{ type: 'text', text: 'What is this?' },
			{ type: 'image_url', image_url: { url: 'https://x/y.png' } },
		]
		const body = toGatewayBody(
			req({
				messages: [
					{
						role: 'system',
						content: [
							{ type: 'text', text: 'line 1' },
							{ type: 'text', text: 'line 2' },
						],
					},
					{ role: 'user', content: image },
				],
			}),
			opts,
		)
		expect(messagesOf(body)).toEqual([
			{ role: 'system', content: 'line 1\nline 2' },
			{ role: 'user', content: image },
		])
	})

	test('a part-level cache_control survives flattening on the message', () => {
		const body = toGatewayBody(
			req({
				messages: [
					{ role: 'system', content: [{ type: 'text', text: 'long prompt', cache_control: { type: 'ephemeral' } }] },
					{ role: 'user', content: 'q' },
				],
			}),
			opts,
		)
		expect(messagesOf(body)[0]).toEqual({ role: 'system', content: 'long prompt', cache_control: { type: 'ephemeral' } })
	})

	test('developer -> system', () => {
		const body = toGatewayBody(
			req({
				messages: [
					{ role: 'developer', content: 'rules' },
					{ role: 'user', content: 'q' },
				],
			}),
			opts,
		)
		expect(messagesOf(body)[0]).toEqual({ role: 'system', content: 'rules' })
	})

	test('null content -> empty string, except an assistant message with tool calls', () => {
		const body = toGatewayBody(
			req({
				messages: [
					{ role: 'user', content: 'q' },
					{ role: 'assistant', content: null },
					{ role: 'user', content: 'again' },
					{ role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
					{ role: 'tool', tool_call_id: 'call_1', content: 'ok' },
				],
			}),
			opts,
		)
		const m = messagesOf(body)
		expect(m[1]!.content).toBe('')
		expect(m[3]!.content).toBeNull()
	})

	test('an assistant message with an empty tool_calls array sends no tool_calls and a string content', () => {
		const body = toGatewayBody(
			req({
				messages: [
					{ role: 'user', content: 'q' },
					{ role: 'assistant', content: null, tool_calls: [] },
				],
			}),
			opts,
		)
		expect(messagesOf(body)[1]).toEqual({ role: 'assistant', content: '' })
	})

	test('the documented tool round goes out exactly as documented (§3.2)', () => {
		const round = [
			{ role: 'user', content: 'Weather in Paris?' },
			{ role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
			{ role: 'tool', tool_call_id: 'call_1', name: 'get_weather', content: '{"temp_c":18}' },
		]
		expect(messagesOf(toGatewayBody(req({ messages: round }), opts))).toEqual(round)
	})

	test('tool calls are normalised: object arguments stringified, missing id and type filled, index dropped', () => {
		const body = toGatewayBody(
			req({
				messages: [
					{ role: 'user', content: 'q' },
					{
						role: 'assistant',
						content: 'checking',
						tool_calls: [
							{ function: { name: 'a', arguments: { x: 1 } }, index: 0 },
							{ id: '', type: 'function', function: { name: 'b' } },
							{ id: 'call_keep', function: { name: 'c', arguments: 'not json' }, extra_content: { google: { thought_signature: 'sig' } } },
						],
					},
				],
			}),
			opts,
		)
		const calls = messagesOf(body)[1]!.tool_calls as Record<string, any>[]
		expect(calls).toHaveLength(3)
		expect(calls[0]!.id).toMatch(/^call_[0-9a-f]{24}$/)
		expect(calls[0]).toEqual({ id: calls[0]!.id, type: 'function', function: { name: 'a', arguments: '{"x":1}' } })
		expect(calls[1]!.id).toMatch(/^call_[0-9a-f]{24}$/)
		expect(calls[1]!.id).not.toBe(calls[0]!.id)
		expect(calls[1]!.function).toEqual({ name: 'b', arguments: '{}' })
		expect(calls[2]).toEqual({
			id: 'call_keep',
			type: 'function',
			function: { name: 'c', arguments: 'not json' },
			extra_content: { google: { thought_signature: 'sig' } },
		})
	})

	test('generated ids are stable across turns (prompt caches stay warm)', () => {
		const history = {
			messages: [
				{ role: 'user', content: 'q' },
				{ role: 'assistant', content: null, tool_calls: [{ function: { name: 'a', arguments: '{}' } }] },
			],
		}
		const first = messagesOf(toGatewayBody(req(history), opts))[1]!.tool_calls as Record<string, any>[]
		const second = messagesOf(toGatewayBody(req(structuredClone(history)), opts))[1]!.tool_calls as Record<string, any>[]
		expect(first[0]!.id).toBe(second[0]!.id)
	})

	test('message fields kept: name, tool_call_id, cache_control, reasoning_content, thought_signature, thinking; others dropped', () => {
		const body = toGatewayBody(
			req({
				messages: [
					{ role: 'user', content: 'q', name: 'alice', cache_control: { type: 'ephemeral' }, audio: { id: 'x' } },
					{ role: 'assistant', content: 'a', reasoning_content: 'because', thought_signature: 'sig', thinking: 'hmm', refusal: null, annotations: [] },
				],
			}),
			opts,
		)
		expect(messagesOf(body)).toEqual([
			{ role: 'user', content: 'q', name: 'alice', cache_control: { type: 'ephemeral' } },
			{ role: 'assistant', content: 'a', reasoning_content: 'because', thought_signature: 'sig', thinking: 'hmm' },
		])
	})

	test('a tool result without an earlier matching call is a 400 naming its tool_call_id', () => {
		const e = rejection(() =>
			toGatewayBody(
				req({
					messages: [
						{ role: 'user', content: 'q' },
						{ role: 'assistant', content: null, tool_calls: [{ id: 'call_1', function: { name: 'f', arguments: '{}' } }] },
						{ role: 'tool', tool_call_id: 'call_1', content: 'ok' },
						{ role: 'tool', tool_call_id: 'call_2', content: 'orphan' },
					],
				}),
				opts,
			),
		)
		expect(e.param).toBe('messages[3].tool_call_id')
		expect(e.message).toContain('call_2')
	})

	test('a tool result before its call is rejected too (order is never changed)', () => {
		const e = rejection(() =>
			toGatewayBody(
				req({
					messages: [
						{ role: 'user', content: 'q' },
						{ role: 'tool', tool_call_id: 'call_1', content: 'early' },
						{ role: 'assistant', content: null, tool_calls: [{ id: 'call_1', function: { name: 'f', arguments: '{}' } }] },
					],
				}),
				opts,
			),
		)
		expect(e.param).toBe('messages[1].tool_call_id')
	})

	test('order and count of messages are preserved', () => {
		const messages = [
			{ role: 'system', content: 's' },
			{ role: 'user', content: 'u1' },
			{
				role: 'assistant',
				content: null,
				tool_calls: [
					{ id: 'a', function: { name: 'f', arguments: '{}' } },
					{ id: 'b', function: { name: 'g', arguments: '{}' } },
				],
			},
			{ role: 'tool', tool_call_id: 'b', content: 'rb' },
			{ role: 'tool', tool_call_id: 'a', content: 'ra' },
			{ role: 'user', content: '' },
		]
		const out = messagesOf(toGatewayBody(req({ messages }), opts))
		expect(out.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool', 'tool', 'user'])
		expect(out.map((m) => m.tool_call_id ?? null)).toEqual([null, null, null, 'b', 'a', null])
	})

	test('legacy function_call + function role -> tool_calls + tool message paired by id', () => {
		const body = toGatewayBody(
			req({
				messages: [
					{ role: 'user', content: 'q' },
					{ role: 'assistant', content: null, function_call: { name: 'lookup', arguments: '{"q":1}' } },
					{ role: 'function', name: 'lookup', content: 'found' },
				],
			}),
			opts,
		)
		const m = messagesOf(body)
		const calls = m[1]!.tool_calls as Record<string, any>[]
		expect(calls).toHaveLength(1)
		expect(calls[0]!.function).toEqual({ name: 'lookup', arguments: '{"q":1}' })
		expect(m[1]!.content).toBeNull()
		expect('function_call' in m[1]!).toBe(false)
		expect(m[2]).toEqual({ role: 'tool', name: 'lookup', content: 'found', tool_call_id: calls[0]!.id })
	})

	test('a function message answering nothing is a 400 naming its name', () => {
		const e = rejection(() =>
			toGatewayBody(
				req({
					messages: [
						{ role: 'user', content: 'q' },
						{ role: 'function', name: 'f', content: 'x' },
					],
				}),
				opts,
			),
		)
		expect(e.param).toBe('messages[1].name')
	})
})

describe('gatewayHeaders', () => {
	test('raw key without Bearer, JSON content type', () => {
		const headers = gatewayHeaders('abc123')
		expect(headers.authorization).toBe('abc123')
		expect(headers['content-type']).toBe('application/json')
		expect(headers.accept).toContain('text/event-stream')
		expect(headers.accept).toContain('application/json')
	})
})
