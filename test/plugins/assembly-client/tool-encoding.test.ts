/**
 * The tool-encoding fallback: on the two Bedrock validation errors for Claude tool histories the
 * request is sent once more with the history as the gateway's legacy items; a request without a
 * tool history, or a refusal of both encodings, ends with the provider's 400 after one/two tries.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import { isToolEncodingError, toLegacyToolItems } from '../../../plugins/assembly-client/tool-encoding.ts'
import { harnessSet } from '../../support.ts'

const harnesses = harnessSet()
afterEach(() => harnesses.closeAll())

const TOOL_USE_INPUT = 'ValidationException: messages.1.content.0.tool_use.input: Field required'
const PREFILL = 'ValidationException: This model does not support assistant message prefill. The conversation must end with a user message.'

const toolHistory = {
	model: 'claude-sonnet-4-6',
	messages: [
		{ role: 'user', content: 'Weather in Paris?' },
		{
			role: 'assistant',
			content: 'Let me look.',
			tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
		},
		{ role: 'tool', tool_call_id: 'call_1', content: '{"temp_c":18}' },
	],
	tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
}

const chats = (h: { fake: { requests: { path: string; body: any }[] } }) => h.fake.requests.filter((r) => r.path === '/v1/chat/completions')

describe('the tool-encoding fallback', () => {
	for (const message of [TOOL_USE_INPUT, PREFILL]) {
		test(`"${message.slice(21, 60)}…": sent once more as legacy items, and answered`, async () => {
			const h = await harnesses.start()
			h.fake.fault('*', { kind: 'status', status: 400, envelope: 'D', message })
			const res = await h.chat(toolHistory)
			expect(res.status).toBe(200)
			const sent = chats(h)
			expect(sent).toHaveLength(2)
			expect(sent[0]!.body.messages[1].tool_calls).toHaveLength(1)
			expect(sent[1]!.body.messages).toEqual([
				{ role: 'user', content: 'Weather in Paris?' },
				{ role: 'assistant', content: 'Let me look.' },
				{ type: 'function_call', tool_call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
				{ type: 'function_call_output', tool_call_id: 'call_1', name: 'get_weather', output: '{"temp_c":18}' },
			])
			expect(h.logs.some((l) => l.includes('"level":"warning"') && l.includes('legacy item encoding'))).toBe(true)
		})
	}

	test('with retries turned off, the other encoding is still tried once', async () => {
		const h = await harnesses.start({ env: { RETRY_429_ENABLED: 'false' } })
		h.fake.fault('*', { kind: 'status', status: 400, envelope: 'D', message: TOOL_USE_INPUT })
		expect((await h.chat(toolHistory)).status).toBe(200)
		expect(chats(h)).toHaveLength(2)
	})

	test('both encodings refused: the provider 400 after exactly two tries', async () => {
		const h = await harnesses.start()
		h.fake.fault('*', { kind: 'status', status: 400, envelope: 'D', message: TOOL_USE_INPUT }, { persistent: true })
		const res = await h.chat(toolHistory)
		expect(res.status).toBe(400)
		expect(((await res.json()) as { error: { message: string } }).error.message).toContain('tool_use.input')
		expect(chats(h)).toHaveLength(2)
	})

	test('no tool history: the prefill error is the answer after one try', async () => {
		const h = await harnesses.start()
		h.fake.fault('*', { kind: 'status', status: 400, envelope: 'D', message: PREFILL })
		const res = await h.chat({
			model: 'claude-sonnet-4-6',
			messages: [
				{ role: 'user', content: 'hi' },
				{ role: 'assistant', content: 'Sure' },
			],
		})
		expect(res.status).toBe(400)
		expect(chats(h)).toHaveLength(1)
	})

	test('another 400 is never re-sent', async () => {
		const h = await harnesses.start()
		h.fake.fault('*', { kind: 'status', status: 400, envelope: 'D', message: 'ValidationException: something else' })
		expect((await h.chat(toolHistory)).status).toBe(400)
		expect(chats(h)).toHaveLength(1)
	})
})

describe('the pieces', () => {
	test('only the two Bedrock errors match', () => {
		expect(isToolEncodingError(TOOL_USE_INPUT)).toBe(true)
		expect(isToolEncodingError(PREFILL)).toBe(true)
		expect(isToolEncodingError('model context limit exceeded')).toBe(false)
	})

	test('a call without text and a result with text parts', () => {
		expect(
			toLegacyToolItems([
				{ role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }] },
				{
					role: 'tool',
					tool_call_id: 'c',
					content: [
						{ type: 'text', text: 'a' },
						{ type: 'text', text: 'b' },
					],
				},
			]),
		).toEqual([
			{ type: 'function_call', tool_call_id: 'c', name: 'f', arguments: '{}' },
			{ type: 'function_call_output', tool_call_id: 'c', name: 'f', output: 'a\nb' },
		])
	})
})
