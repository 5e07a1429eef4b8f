import { describe, expect, test } from 'bun:test'
import { BadRequestError } from '../../../core/errors.ts'
import { parseChatRequest, parseJsonBody } from '../../../plugins/chat-core/chat-request.ts'

const base = () => ({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'Hi there' }] as unknown[] })

/** Runs the parser and returns the 400 it throws (fails the test when nothing is thrown). */
function rejection(body: unknown): BadRequestError {
	try {
		parseChatRequest(body)
	} catch (error) {
		expect(error).toBeInstanceOf(BadRequestError)
		return error as BadRequestError
	}
	throw new Error(`expected a 400 for ${JSON.stringify(body)}`)
}

function param(patch: Record<string, unknown>): string | null {
	return rejection({ ...base(), ...patch }).param
}

describe('parseJsonBody', () => {
	test('parses JSON', () => {
		expect(parseJsonBody('{"a":1}')).toEqual({ a: 1 })
	})
	test.each(['', '{', 'not json', '{"a":1,}'])('rejects %p with code invalid_json', (text) => {
		try {
			parseJsonBody(text)
			throw new Error('no error')
		} catch (error) {
			expect(error).toBeInstanceOf(BadRequestError)
			const e = error as BadRequestError
			expect(e.status).toBe(400)
			expect(e.code).toBe('invalid_json')
			expect(e.param).toBeNull()
			expect(e.message.startsWith('Request body is not valid JSON: ')).toBe(true)
		}
	})
})

describe('parseChatRequest: accepts', () => {
	test('a minimal request, returned as the same object with unknown fields kept', () => {
		const body = { ...base(), custom_field: { x: 1 }, user: 'u1' }
		const parsed = parseChatRequest(body)
		expect(parsed).toBe(body as never)
		expect(parsed.custom_field).toEqual({ x: 1 })
	})

	test('a full request with every checked field at its limits', () => {
		const body = {
			model: 'gpt-5',
			messages: [
				{ role: 'system', content: 'sys' },
				{ role: 'developer', content: [{ type: 'text', text: 'dev' }] },
				{
					role: 'user',
					content: [
						{ type: 'text', text: 'look' },
						{ type: 'image_url', image_url: { url: 'data:image/png;base64,AA' } },
					],
				},
				{
					role: 'assistant',
					content: null,
					tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
				},
				{ role: 'tool', tool_call_id: 'call_1', name: 'get_weather', content: '{"temp_c":18}' },
				{ role: 'assistant', function_call: { name: 'legacy', arguments: '{}' } },
				{ role: 'function', name: 'legacy', content: null },
			],
			temperature: 2,
			top_p: 0,
			max_tokens: 1,
			max_completion_tokens: 100000,
			frequency_penalty: -2,
			presence_penalty: 2,
			n: 1,
			stream: true,
			stream_options: { include_usage: true },
			tools: [
				{ type: 'function', function: { name: 'get_weather', description: 'd', parameters: { type: 'object' } } },
				{ type: 'function', function: { name: 'A-b_9' } },
			],
			tool_choice: { type: 'function', function: { name: 'get_weather' } },
			stop: ['a', 'b', 'c', 'd'],
			response_format: { type: 'json_schema', json_schema: { name: 'x', schema: {} } },
			seed: 42,
			parallel_tool_calls: false,
			reasoning: { effort: 'high' },
			reasoning_effort: 'low',
			fallbacks: [{ model: 'gpt-5-mini' }],
			fallback_config: { retry: false, depth: 1 },
			post_processing_steps: [{ type: 'json-repair' }],
			transcript_id: 't1',
			model_region: 'global',
			cache_control: { type: 'ephemeral' },
		}
		expect(parseChatRequest(body).model).toBe('gpt-5')
	})

	test('null for optional parameters (clients send null for "unset")', () => {
		expect(() =>
			parseChatRequest({
				...base(),
				temperature: null,
				top_p: null,
				max_tokens: null,
				n: null,
				stop: null,
				tools: null,
				tool_choice: null,
				response_format: null,
				stream: null,
				stream_options: null,
			}),
		).not.toThrow()
	})

	test.each(['none', 'auto'])('tool_choice %p without tools', (choice) => {
		expect(() => parseChatRequest({ ...base(), tool_choice: choice })).not.toThrow()
	})

	test('tool_choice required with tools', () => {
		expect(() => parseChatRequest({ ...base(), tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: 'required' })).not.toThrow()
	})

	test.each(['text', 'json_object'])('response_format %p', (type) => {
		expect(() => parseChatRequest({ ...base(), response_format: { type } })).not.toThrow()
	})

	test('stop as a string', () => {
		expect(() => parseChatRequest({ ...base(), stop: 'END' })).not.toThrow()
	})

	test('assistant message without content', () => {
		expect(() => parseChatRequest({ ...base(), messages: [{ role: 'user', content: 'q' }, { role: 'assistant' }] })).not.toThrow()
	})
})

describe('parseChatRequest: rejects, naming the param', () => {
	test.each([[null], [[]], ['x'], [3]])('a body that is not an object: %p', (body: unknown) => {
		const e = rejection(body)
		expect(e.param).toBeNull()
		expect(e.status).toBe(400)
		expect(e.type).toBe('invalid_request_error')
	})

	test.each([
		[{ model: undefined }, 'model'],
		[{ model: '' }, 'model'],
		[{ model: '  ' }, 'model'],
		[{ model: 5 }, 'model'],
		[{ messages: undefined }, 'messages'],
		[{ messages: [] }, 'messages'],
		[{ messages: 'hi' }, 'messages'],
		[{ messages: ['hi'] }, 'messages[0]'],
		[{ messages: [{ content: 'x' }] }, 'messages[0].role'],
		[
			{
				messages: [
					{ role: 'user', content: 'a' },
					{ role: 'bot', content: 'x' },
				],
			},
			'messages[1].role',
		],
		[
			{
				messages: [
					{ role: 'user', content: 'a' },
					{ role: 'user', content: 'b' },
					{ role: 'robot', content: 'c' },
				],
			},
			'messages[2].role',
		],
		[{ messages: [{ role: 'user' }] }, 'messages[0].content'],
		[{ messages: [{ role: 'user', content: null }] }, 'messages[0].content'],
		[{ messages: [{ role: 'system', content: 42 }] }, 'messages[0].content'],
		[{ messages: [{ role: 'user', content: [] }] }, 'messages[0].content'],
		[{ messages: [{ role: 'user', content: ['x'] }] }, 'messages[0].content[0]'],
		[{ messages: [{ role: 'user', content: [{ text: 'x' }] }] }, 'messages[0].content[0].type'],
		[{ messages: [{ role: 'user', content: [{ type: 'text', text: 3 }] }] }, 'messages[0].content[0].text'],
		[{ messages: [{ role: 'user', content: 'a', name: 3 }] }, 'messages[0].name'],
		[{ messages: [{ role: 'tool', content: 'r' }] }, 'messages[0].tool_call_id'],
		[{ messages: [{ role: 'tool', content: 'r', tool_call_id: 5 }] }, 'messages[0].tool_call_id'],
		[{ messages: [{ role: 'tool', content: null, tool_call_id: 'c' }] }, 'messages[0].content'],
		[{ messages: [{ role: 'function', content: 'r' }] }, 'messages[0].name'],
		[{ messages: [{ role: 'assistant', content: null, tool_calls: {} }] }, 'messages[0].tool_calls'],
		[{ messages: [{ role: 'assistant', content: null, tool_calls: [{ id: 'c' }] }] }, 'messages[0].tool_calls[0].function'],
		[{ messages: [{ role: 'assistant', content: null, tool_calls: [{ id: 'c', function: { arguments: '{}' } }] }] }, 'messages[0].tool_calls[0].function.name'],
		[{ messages: [{ role: 'assistant', content: null, tool_calls: [{ id: 7, function: { name: 'f' } }] }] }, 'messages[0].tool_calls[0].id'],
		[{ temperature: 2.01 }, 'temperature'],
		[{ temperature: -0.1 }, 'temperature'],
		[{ temperature: '1' }, 'temperature'],
		[{ top_p: 1.5 }, 'top_p'],
		[{ top_p: -1 }, 'top_p'],
		[{ max_tokens: 0 }, 'max_tokens'],
		[{ max_tokens: 1.5 }, 'max_tokens'],
		[{ max_tokens: '100' }, 'max_tokens'],
		[{ max_completion_tokens: 0 }, 'max_completion_tokens'],
		[{ max_completion_tokens: 2.5 }, 'max_completion_tokens'],
		[{ frequency_penalty: 2.5 }, 'frequency_penalty'],
		[{ frequency_penalty: -3 }, 'frequency_penalty'],
		[{ presence_penalty: -2.5 }, 'presence_penalty'],
		[{ presence_penalty: 'x' }, 'presence_penalty'],
		[{ n: 2 }, 'n'],
		[{ n: 0 }, 'n'],
		[{ n: '1' }, 'n'],
		[{ stream: 'true' }, 'stream'],
		[{ stream: 1 }, 'stream'],
		[{ stream_options: true }, 'stream_options'],
		[{ stream_options: { include_usage: 'yes' } }, 'stream_options.include_usage'],
		[{ tools: {} }, 'tools'],
		[{ tools: ['x'] }, 'tools[0]'],
		[{ tools: [{ type: 'retrieval', function: { name: 'f' } }] }, 'tools[0].type'],
		[{ tools: [{ type: 'function' }] }, 'tools[0].function'],
		[{ tools: [{ type: 'function', function: {} }] }, 'tools[0].function.name'],
		[
			{
				tools: [
					{ type: 'function', function: { name: 'f' } },
					{ type: 'function', function: { name: 'bad name' } },
				],
			},
			'tools[1].function.name',
		],
		[{ tools: [{ type: 'function', function: { name: 'x'.repeat(65) } }] }, 'tools[0].function.name'],
		[{ tools: [{ type: 'function', function: { name: '' } }] }, 'tools[0].function.name'],
		[{ tools: [{ type: 'function', function: { name: 'f', description: 1 } }] }, 'tools[0].function.description'],
		[{ tools: [{ type: 'function', function: { name: 'f', parameters: 'schema' } }] }, 'tools[0].function.parameters'],
		[{ tool_choice: 'any' }, 'tool_choice'],
		[{ tool_choice: 'required' }, 'tool_choice'],
		[{ tool_choice: 3 }, 'tool_choice'],
		[{ tool_choice: { type: 'tool', function: { name: 'f' } } }, 'tool_choice.type'],
		[{ tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: { type: 'function' } }, 'tool_choice.function'],
		[{ tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: { type: 'function', function: {} } }, 'tool_choice.function.name'],
		[{ tool_choice: { type: 'function', function: { name: 'f' } } }, 'tool_choice'],
		[{ stop: 5 }, 'stop'],
		[{ stop: ['a', 'b', 'c', 'd', 'e'] }, 'stop'],
		[{ stop: ['a', 1] }, 'stop[1]'],
		[{ response_format: 'json' }, 'response_format'],
		[{ response_format: {} }, 'response_format.type'],
		[{ response_format: { type: 'xml' } }, 'response_format.type'],
		[{ response_format: { type: 'json_schema' } }, 'response_format.json_schema'],
		[{ response_format: { type: 'json_schema', json_schema: { schema: {} } } }, 'response_format.json_schema.name'],
		[{ seed: 1.5 }, 'seed'],
		[{ parallel_tool_calls: 'yes' }, 'parallel_tool_calls'],
		[{ reasoning: 'high' }, 'reasoning'],
		[{ reasoning_effort: 3 }, 'reasoning_effort'],
		[{ fallbacks: {} }, 'fallbacks'],
		[{ fallbacks: ['gpt-5'] }, 'fallbacks[0]'],
		[{ post_processing_steps: 'json-repair' }, 'post_processing_steps'],
		[{ fallback_config: [] }, 'fallback_config'],
		[{ model_region: 1 }, 'model_region'],
		[{ transcript_id: {} }, 'transcript_id'],
		[{ cache_control: 'ephemeral' }, 'cache_control'],
		[{ top_k: 0 }, 'top_k'],
	])('%p -> %s', (patch, expected) => {
		expect(param(patch as Record<string, unknown>)).toBe(expected)
	})

	test('n other than 1 says why (no silent drop)', () => {
		const e = rejection({ ...base(), n: 3 })
		expect(e.message).toContain('n must be 1')
		expect(e.message).toContain('3')
	})

	test('messages are checked in order: the first bad one is named', () => {
		expect(param({ messages: [{ role: 'user', content: 'ok' }, { role: 'x', content: 1 }, { role: 'y' }] })).toBe('messages[1].role')
	})

	test('messages are validated before sampling parameters', () => {
		expect(param({ messages: [], temperature: 9 })).toBe('messages')
	})

	test('validation is fast enough for the hot path', () => {
		const body = {
			model: 'gpt-5',
			messages: Array.from({ length: 20 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `message ${i}` })),
			tools: Array.from({ length: 5 }, (_, i) => ({ type: 'function', function: { name: `tool_${i}`, parameters: { type: 'object' } } })),
			temperature: 0.5,
			max_tokens: 100,
		}
		const rounds = 20_000
		const started = performance.now()
		for (let i = 0; i < rounds; i++) parseChatRequest(body)
		const perCall = (performance.now() - started) / rounds
		// Generous bound for a slow CI box; locally this is a few microseconds.
		expect(perCall).toBeLessThan(0.05)
	})
})
