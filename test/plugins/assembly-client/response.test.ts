import { describe, expect, test } from 'bun:test'
import { bodyErrorStatus, mapFinishReason, normaliseArguments, toChatCompletion } from '../../../plugins/assembly-client/response.ts'
import { readUsage } from '../../../plugins/chat-core/chat-completion.ts'

const ctx = { model: 'my-model', created: 1_790_000_000 }

/** §4, verified shape (AssemblyAI-hosted model). */
const VERIFIED = {
	request: { model: 'qwen3.5-4b-32k-fast', max_tokens: 60 },
	request_id: '93f7c1de-0000-4000-8000-000000000001',
	model: 'qwen3.5-4b-32k-fast',
	choices: [{ message: { role: 'assistant', content: 'The capital of France is Paris.' }, finish_reason: 'stop' }],
	usage: {
		input_tokens: 24,
		prompt_tokens: 24,
		output_tokens: 8,
		completion_tokens: 8,
		total_tokens: 32,
		prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0, cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 } },
		completion_tokens_details: { reasoning_tokens: 0 },
	},
	http_status_code: 200,
	response_time: 53194779,
	llm_status_code: 200,
}

/** §4.1, official Claude example. */
const CLAUDE = {
	request_id: '08efba83-2d2c-4cad-a93d-9c05f88b5595',
	choices: [{ message: { role: 'assistant', content: 'Variables dance bright…' }, finish_reason: 'end_turn' }],
	request: { model: 'claude-sonnet-4-5-20250929', max_tokens: 50, temperature: 0.5 },
	usage: { input_tokens: 13, output_tokens: 23, total_tokens: 36 },
	response_time: 2147975504,
	llm_status_code: 200,
}

/** §4.2, Claude answer split across choices. */
const SPLIT = {
	request_id: 'split-1',
	model: 'claude-sonnet-4-6',
	choices: [
		{ index: 0, message: { role: 'assistant', content: 'Let me look that up.' }, finish_reason: 'tool_use' },
		{
			index: 1,
			message: {
				role: 'assistant',
				content: null,
				tool_calls: [{ id: 'toolu_01A', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
			},
			finish_reason: 'tool_use',
		},
	],
	usage: { input_tokens: 310, prompt_tokens: 310, output_tokens: 42, completion_tokens: 42, total_tokens: 352 },
}

describe('toChatCompletion', () => {
	test('§4 verified body -> a complete OpenAI completion', () => {
		expect(toChatCompletion(VERIFIED, ctx)).toEqual({
			id: 'chatcmpl-93f7c1de-0000-4000-8000-000000000001',
			object: 'chat.completion',
			created: ctx.created,
			model: 'my-model',
			choices: [{ index: 0, message: { role: 'assistant', content: 'The capital of France is Paris.', refusal: null }, logprobs: null, finish_reason: 'stop' }],
			usage: {
				prompt_tokens: 24,
				completion_tokens: 8,
				total_tokens: 32,
				prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0, cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 } },
				completion_tokens_details: { reasoning_tokens: 0 },
			},
		})
	})

	test('§4.1 Claude example: end_turn -> stop, input/output token names read', () => {
		const c = toChatCompletion(CLAUDE, ctx)
		expect(c.id).toBe('chatcmpl-08efba83-2d2c-4cad-a93d-9c05f88b5595')
		expect(c.choices[0].finish_reason).toBe('stop')
		expect(c.choices[0].message.content).toBe('Variables dance bright…')
		expect(c.usage).toEqual({ prompt_tokens: 13, completion_tokens: 23, total_tokens: 36, prompt_tokens_details: { cached_tokens: 0 } })
	})

	test('§4.2 split choices merge into one choice with text and tool call, finish tool_calls', () => {
		const c = toChatCompletion(SPLIT, ctx)
		expect(c.choices).toHaveLength(1)
		expect(c.choices[0].index).toBe(0)
		expect(c.choices[0].message.content).toBe('Let me look that up.')
		expect(c.choices[0].message.tool_calls).toEqual([{ id: 'toolu_01A', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }])
		expect(c.choices[0].finish_reason).toBe('tool_calls')
		expect(c.usage?.total_tokens).toBe(352)
	})

	test('texts of several choices are joined without a separator (same as the streamed form)', () => {
		const c = toChatCompletion({ choices: [{ message: { content: 'Hello, ' } }, { message: { content: null } }, { message: { content: 'world.' } }] }, ctx)
		expect(c.choices[0].message.content).toBe('Hello, world.')
	})

	test('an upstream id wins; else a new chatcmpl id', () => {
		expect(toChatCompletion({ id: 'chatcmpl-up', request_id: 'r', choices: [] }, ctx).id).toBe('chatcmpl-up')
		const a = toChatCompletion({ choices: [] }, ctx).id
		const b = toChatCompletion({ choices: [] }, ctx).id
		expect(a).toMatch(/^chatcmpl-[0-9a-f]{24}$/)
		expect(a).not.toBe(b)
	})

	test('no text -> content null; null arrays and a missing body are empty, not errors', () => {
		const c = toChatCompletion({ choices: null, usage: null }, ctx)
		expect(c.choices[0].message).toEqual({ role: 'assistant', content: null, refusal: null })
		expect(c.choices[0].finish_reason).toBe('stop')
		expect('usage' in c).toBe(false)
		expect(
			toChatCompletion({ choices: [{ message: { content: '', tool_calls: null }, finish_reason: 'stop' }] }, ctx).choices[0].message.tool_calls,
		).toBeUndefined()
		expect(toChatCompletion(null, ctx).choices[0].message.content).toBeNull()
	})

	test('choice-level tool_calls (older docs) are read, and an exact duplicate at both levels counted once', () => {
		const call = { id: 'call_1', type: 'function' as const, function: { name: 'f', arguments: '{"a":1}' } }
		const c = toChatCompletion({ choices: [{ message: { content: null, tool_calls: [call] }, tool_calls: [call], finish_reason: 'stop' }] }, ctx)
		expect(c.choices[0].message.tool_calls).toEqual([call])
		expect(c.choices[0].finish_reason).toBe('tool_calls')
		const only = toChatCompletion({ choices: [{ message: { content: null }, tool_calls: [call] }] }, ctx)
		expect(only.choices[0].message.tool_calls).toEqual([call])
	})

	test('calls that differ only in arguments are both kept', () => {
		const c = toChatCompletion(
			{
				choices: [
					{
						message: {
							tool_calls: [
								{ id: 'x', function: { name: 'f', arguments: '{"a":1}' } },
								{ id: 'x', function: { name: 'f', arguments: '{"a":2}' } },
							],
						},
					},
				],
			},
			ctx,
		)
		expect(c.choices[0].message.tool_calls).toHaveLength(2)
	})

	test('tool calls normalised: ids generated, type function, arguments always a string', () => {
		const c = toChatCompletion(
			{
				choices: [
					{
						message: {
							tool_calls: [
								{ id: '', function: { name: 'a', arguments: { x: [1, 2] } } },
								{ function: { name: 'b', arguments: 'not json at all' } },
								{ id: 'c1', type: 'function', function: { name: 'c', input: { q: 'v' } } },
								{ id: 'd1', function: { name: 'd' } },
								{ id: 'e1', function: { name: 'e', arguments: '' } },
							],
						},
						finish_reason: 'stop',
					},
				],
			},
			ctx,
		)
		const calls = c.choices[0].message.tool_calls!
		expect(calls.map((t) => t.function.arguments)).toEqual(['{"x":[1,2]}', 'not json at all', '{"q":"v"}', '{}', '{}'])
		expect(calls.every((t) => t.type === 'function')).toBe(true)
		expect(calls[0]!.id).toMatch(/^call_[0-9a-f]{24}$/)
		expect(calls[1]!.id).toMatch(/^call_[0-9a-f]{24}$/)
		expect(calls[0]!.id).not.toBe(calls[1]!.id)
		expect(calls[2]!.id).toBe('c1')
		expect('input' in calls[2]!.function).toBe(false)
		expect(c.choices[0].finish_reason).toBe('tool_calls')
	})

	test('Anthropic-style tool_use and text blocks in content', () => {
		const c = toChatCompletion(
			{
				choices: [
					{
						message: {
							content: [
								{ type: 'text', text: 'Checking. ' },
								{ type: 'tool_use', id: 'toolu_9', name: 'search', input: { q: 'x' } },
								{ type: 'text', text: 'Done.' },
							],
						},
						finish_reason: 'tool_use',
					},
				],
			},
			ctx,
		)
		expect(c.choices[0].message.content).toBe('Checking. Done.')
		expect(c.choices[0].message.tool_calls).toEqual([{ id: 'toolu_9', type: 'function', function: { name: 'search', arguments: '{"q":"x"}' } }])
		expect(c.choices[0].finish_reason).toBe('tool_calls')
	})

	test('a flat call shape {id, name, arguments} is rebuilt in OpenAI shape', () => {
		const c = toChatCompletion({ choices: [{ message: { tool_calls: [{ id: 'a', name: 'f', arguments: { x: 1 } }] } }] }, ctx)
		expect(c.choices[0].message.tool_calls).toEqual([{ id: 'a', type: 'function', function: { name: 'f', arguments: '{"x":1}' } }])
	})

	test('extra fields of a tool call (thought signatures) survive', () => {
		const c = toChatCompletion(
			{
				choices: [
					{ message: { tool_calls: [{ id: 'a', function: { name: 'f', arguments: '{}' }, extra_content: { google: { thought_signature: 's' } }, index: 0 }] } },
				],
			},
			ctx,
		)
		expect(c.choices[0].message.tool_calls![0]).toEqual({
			id: 'a',
			type: 'function',
			function: { name: 'f', arguments: '{}' },
			extra_content: { google: { thought_signature: 's' } },
		})
	})

	test('reasoning_content joined, thought_signature kept (last), thinking kept', () => {
		const c = toChatCompletion(
			{
				choices: [
					{ message: { content: 'A', reasoning_content: 'first ', thought_signature: 'sig1' } },
					{ message: { content: 'B', reasoning_content: 'second', thought_signature: 'sig2' } },
				],
			},
			ctx,
		)
		expect(c.choices[0].message.reasoning_content).toBe('first second')
		expect(c.choices[0].message.thought_signature).toBe('sig2')
		const thinking = toChatCompletion({ choices: [{ message: { content: 'x', thinking: 'pondering' } }] }, ctx)
		expect(thinking.choices[0].message.reasoning_content).toBe('pondering')
		expect(thinking.choices[0].message.thinking).toBe('pondering')
		const vllm = toChatCompletion({ choices: [{ message: { content: 'x', reasoning: 'vllm names it reasoning' } }] }, ctx)
		expect(vllm.choices[0].message.reasoning_content).toBe('vllm names it reasoning')
	})

	test.each([
		['stop', 'stop'],
		['end_turn', 'stop'],
		['stop_sequence', 'stop'],
		['STOP', 'stop'],
		['length', 'length'],
		['max_tokens', 'length'],
		['MAX_TOKENS', 'length'],
		['content_filter', 'content_filter'],
		['SAFETY', 'content_filter'],
		['tool_use', 'stop'],
		['tool_calls', 'stop'],
		['something_new', 'stop'],
		['FINISH_REASON_UNSPECIFIED', 'stop'],
		[null, 'stop'],
	])('finish_reason %p without tool calls -> %s', (raw, expected) => {
		const c = toChatCompletion({ choices: [{ message: { content: 'x' }, finish_reason: raw }] }, ctx)
		expect(c.choices[0].finish_reason).toBe(expected as never)
	})

	test.each(['stop', 'end_turn', 'length', 'max_tokens', 'content_filter', null])('finish_reason %p with tool calls -> tool_calls', (raw) => {
		const c = toChatCompletion({ choices: [{ message: { tool_calls: [{ id: 'a', function: { name: 'f', arguments: '{}' } }] }, finish_reason: raw }] }, ctx)
		expect(c.choices[0].finish_reason).toBe('tool_calls')
	})

	test('merged choices: length or content_filter of one part is not hidden by stop of another', () => {
		expect(
			toChatCompletion(
				{
					choices: [
						{ message: { content: 'a' }, finish_reason: 'end_turn' },
						{ message: { content: 'b' }, finish_reason: 'max_tokens' },
					],
				},
				ctx,
			).choices[0].finish_reason,
		).toBe('length')
		expect(
			toChatCompletion(
				{
					choices: [
						{ message: { content: 'a' }, finish_reason: 'SAFETY' },
						{ message: { content: 'b' }, finish_reason: 'stop' },
					],
				},
				ctx,
			).choices[0].finish_reason,
		).toBe('content_filter')
	})

	test('finish_reason is always one of the four OpenAI values', () => {
		for (const raw of ['stop', 'end_turn', 'weird', 'RECITATION', 'refusal', 'pause_turn', 'function_call', '', 42]) {
			const reason = toChatCompletion({ choices: [{ message: { content: 'x' }, finish_reason: raw }] }, ctx).choices[0].finish_reason
			expect(['stop', 'length', 'tool_calls', 'content_filter']).toContain(reason)
		}
	})
})

describe('mapFinishReason', () => {
	test('none -> null, unknown -> stop', () => {
		expect(mapFinishReason(null)).toBeNull()
		expect(mapFinishReason(undefined)).toBeNull()
		expect(mapFinishReason('')).toBeNull()
		expect(mapFinishReason('OTHER')).toBe('stop')
		expect(mapFinishReason('tool_use')).toBe('tool_calls')
	})
})

describe('normaliseArguments', () => {
	test('strings kept as they are, objects serialised, empty -> {}', () => {
		expect(normaliseArguments('{"a":1}')).toBe('{"a":1}')
		expect(normaliseArguments("{'a': 1}")).toBe("{'a': 1}")
		expect(normaliseArguments({ a: 1 })).toBe('{"a":1}')
		expect(normaliseArguments([1])).toBe('[1]')
		expect(normaliseArguments(undefined)).toBe('{}')
		expect(normaliseArguments(null)).toBe('{}')
		expect(normaliseArguments('  ')).toBe('{}')
	})
})

describe('readUsage', () => {
	test('both naming schemes, prompt_tokens preferred', () => {
		expect(readUsage({ prompt_tokens: 5, input_tokens: 99, completion_tokens: 2, output_tokens: 77 })).toMatchObject({
			prompt_tokens: 5,
			completion_tokens: 2,
			total_tokens: 7,
		})
		expect(readUsage({ input_tokens: 3, output_tokens: 4 })).toMatchObject({ prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 })
	})

	test('total is the larger of the given total and the sum', () => {
		expect(readUsage({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 12 })!.total_tokens).toBe(15)
		expect(readUsage({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 20 })!.total_tokens).toBe(20)
		expect(readUsage({ total_tokens: 9 })).toMatchObject({ prompt_tokens: 0, completion_tokens: 0, total_tokens: 9 })
	})

	test('details: cached tokens always, audio and cache creation when given, completion details passed through', () => {
		const u = readUsage({
			prompt_tokens: 100,
			completion_tokens: 10,
			total_tokens: 110,
			prompt_tokens_details: { cached_tokens: 80, cache_write_tokens: 5, cache_creation: { ephemeral_5m_input_tokens: 5 } },
			completion_tokens_details: { reasoning_tokens: 3, audio_tokens: 0 },
		})
		expect(u).toEqual({
			prompt_tokens: 100,
			completion_tokens: 10,
			total_tokens: 110,
			prompt_tokens_details: { cached_tokens: 80, cache_write_tokens: 5, cache_creation: { ephemeral_5m_input_tokens: 5 } },
			completion_tokens_details: { reasoning_tokens: 3, audio_tokens: 0 },
		})
		expect(readUsage({ prompt_tokens: 1, completion_tokens: 1 })!.prompt_tokens_details).toEqual({ cached_tokens: 0 })
		expect(readUsage({ input_tokens: 1, output_tokens: 1, cache_read_input_tokens: 7 })!.prompt_tokens_details.cached_tokens).toBe(7)
	})

	test('no usage -> null', () => {
		for (const u of [null, undefined, {}, 'x', [], { prompt_tokens: 'many' }]) expect(readUsage(u)).toBeNull()
	})
})

describe('bodyErrorStatus', () => {
	test('a 200 body carrying an error code is that error', () => {
		expect(bodyErrorStatus({ code: 500, message: 'something went wrong', request_id: 'req-abc-123' })).toBe(500)
		expect(bodyErrorStatus({ metadata: { errors: ['x'] }, request_id: 'r', message: 'invalid request body', code: 400 })).toBe(400)
		expect(bodyErrorStatus({ error: { code: 429, message: 'slow down', metadata: {} } })).toBe(429)
		expect(bodyErrorStatus({ error: 'Authentication error', status: 'error' })).toBe(502)
		expect(bodyErrorStatus({ code: 1000 })).toBe(502)
	})

	test('real answers are not errors', () => {
		expect(bodyErrorStatus(VERIFIED)).toBeNull()
		expect(bodyErrorStatus(CLAUDE)).toBeNull()
		expect(bodyErrorStatus({ code: 200, choices: [] })).toBeNull()
		expect(bodyErrorStatus({ choices: [], error: null })).toBeNull()
		expect(bodyErrorStatus(null)).toBeNull()
		expect(bodyErrorStatus('text')).toBeNull()
		expect(bodyErrorStatus({ code: '500' })).toBeNull()
	})
})
