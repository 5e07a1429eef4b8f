/**
 * /v1/responses with the official openai SDK (`client.responses.create`, streamed and not)
 * against the real gateway and the fake upstream: text, a function-call round trip,
 * json_schema output, incomplete answers, broken streams and errors.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import OpenAI from 'openai'
import { fakeUsage } from '../../fake-gateway.ts'
import { API_PASSWORD, type Harness, harnessSet } from '../../support.ts'
import { checkResponsesStream } from './grammar.ts'

const harnesses = harnessSet()
afterEach(() => harnesses.closeAll())

const MODEL = 'gpt-5'
const WEATHER = {
	type: 'function' as const,
	name: 'get_weather',
	description: 'Weather of a city',
	parameters: { type: 'object', properties: { city: { type: 'string' } } },
	strict: false,
}

async function setup(options?: Parameters<typeof harnesses.start>[0]): Promise<{ h: Harness; client: OpenAI; base: string }> {
	const h = await harnesses.start(options)
	const base = await h.listen()
	return { h, base, client: new OpenAI({ apiKey: API_PASSWORD, baseURL: `${base}/v1`, maxRetries: 0 }) }
}

const lastUpstreamBody = (h: Harness) => [...h.fake.requests].reverse().find((r) => r.path === '/v1/chat/completions')!.body

const rawResponses = (base: string, body: unknown) =>
	fetch(`${base}/v1/responses`, {
		method: 'POST',
		headers: { authorization: `Bearer ${API_PASSWORD}`, 'content-type': 'application/json' },
		body: JSON.stringify(body),
	})

describe('POST /v1/responses, not streamed', () => {
	test('a string input: one message item, output_text, usage, echoed parameters', async () => {
		const { h, client } = await setup()
		const response = await client.responses.create({
			model: MODEL,
			input: 'hello there',
			instructions: 'Be brief.',
			temperature: 0.3,
			metadata: { run: '7' },
			store: true,
		})
		expect(response.object).toBe('response')
		expect(response.id).toMatch(/^resp_/)
		expect(response.status).toBe('completed')
		expect(response.output_text).toBe('Echo: hello there')
		expect(response.output).toHaveLength(1)
		expect(response.output[0]).toMatchObject({
			type: 'message',
			role: 'assistant',
			status: 'completed',
			content: [{ type: 'output_text', text: 'Echo: hello there' }],
		})
		expect(response.instructions).toBe('Be brief.')
		expect(response.temperature).toBe(0.3)
		expect(response.metadata).toEqual({ run: '7' })
		expect((response as unknown as { store: boolean }).store).toBe(false)
		const sent = lastUpstreamBody(h)
		expect(sent.messages).toEqual([
			{ role: 'system', content: 'Be brief.' },
			{ role: 'user', content: 'hello there' },
		])
		const usage = fakeUsage(sent, 'Echo: hello there')
		expect(response.usage).toMatchObject({
			input_tokens: usage.prompt_tokens,
			output_tokens: usage.completion_tokens,
			total_tokens: usage.total_tokens,
			output_tokens_details: { reasoning_tokens: 0 },
		})
	})

	test('a function-call round trip with function_call and function_call_output items', async () => {
		const { h, client } = await setup()
		const first = await client.responses.create({
			model: MODEL,
			input: [{ role: 'user', content: [{ type: 'input_text', text: 'weather in Paris?' }] }],
			tools: [WEATHER],
		})
		const call = first.output.find((item) => item.type === 'function_call')
		if (call?.type !== 'function_call') throw new Error('expected a function_call item')
		expect(call.name).toBe('get_weather')
		expect(JSON.parse(call.arguments)).toEqual({ city: 'Paris' })
		expect(call.call_id).toBeTruthy()
		const second = await client.responses.create({
			model: MODEL,
			tools: [WEATHER],
			input: [
				{ role: 'user', content: 'weather in Paris?' },
				{ type: 'function_call', call_id: call.call_id, name: call.name, arguments: call.arguments },
				{ type: 'function_call_output', call_id: call.call_id, output: '{"temp_c":18}' },
			],
		})
		expect(second.output_text).toBe('Echo: {"temp_c":18}')
		const sent = lastUpstreamBody(h)
		expect(sent.messages[1]).toMatchObject({
			role: 'assistant',
			tool_calls: [{ id: call.call_id, type: 'function', function: { name: 'get_weather', arguments: call.arguments } }],
		})
		expect(sent.messages[2]).toEqual({ role: 'tool', tool_call_id: call.call_id, content: '{"temp_c":18}' })
		expect(sent.tools[0]).toMatchObject({ type: 'function', function: { name: 'get_weather', parameters: WEATHER.parameters } })
	})

	test('text.format json_schema, reasoning.effort, tool_choice and max_output_tokens reach the upstream', async () => {
		const { h, client } = await setup()
		const schema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'], additionalProperties: false }
		const response = await client.responses.create({
			model: MODEL,
			input: 'answer in JSON',
			text: { format: { type: 'json_schema', name: 'answer', schema, strict: true } },
			reasoning: { effort: 'low' },
			tools: [WEATHER],
			tool_choice: { type: 'function', name: 'get_weather' },
			parallel_tool_calls: false,
			max_output_tokens: 500,
		})
		const sent = lastUpstreamBody(h)
		expect(sent.response_format).toEqual({ type: 'json_schema', json_schema: { name: 'answer', schema, strict: true } })
		expect(sent.reasoning).toEqual({ effort: 'low' })
		expect(sent.tool_choice).toEqual({ type: 'function', function: { name: 'get_weather' } })
		expect(sent.parallel_tool_calls).toBe(false)
		expect(sent.max_tokens).toBe(500)
		expect(response.text?.format).toMatchObject({ type: 'json_schema', name: 'answer' })
	})

	test('hosted tools (web_search) are left out; namespace tools are offered one by one', async () => {
		const { h, client } = await setup()
		await client.responses.create({
			model: MODEL,
			input: 'hi',
			tools: [{ type: 'web_search' }, { type: 'namespace', name: 'agents', description: 'd', tools: [{ ...WEATHER, name: 'spawn_agent' }] }, WEATHER] as never,
		})
		expect(lastUpstreamBody(h).tools.map((t: { function: { name: string } }) => t.function.name)).toEqual(['spawn_agent', 'get_weather'])
	})

	test('a length cut is status incomplete with reason max_output_tokens', async () => {
		const { client } = await setup()
		const response = await client.responses.create({ model: MODEL, input: 'one two three four', max_output_tokens: 2 })
		expect(response.status).toBe('incomplete')
		expect(response.incomplete_details).toEqual({ reason: 'max_output_tokens' })
		expect(response.output_text).toBe('Echo: one')
	})
})

describe('POST /v1/responses, streamed', () => {
	test('text: the SDK stream and the raw grammar agree with the non-streamed answer', async () => {
		const { base, client } = await setup()
		const stream = await client.responses.create({ model: MODEL, input: 'stream me please', stream: true })
		const seen: string[] = []
		let text = ''
		for await (const event of stream) {
			seen.push(event.type)
			if (event.type === 'response.output_text.delta') text += event.delta
		}
		expect(text).toBe('Echo: stream me please')
		expect(seen.at(-1)).toBe('response.completed')

		const checked = checkResponsesStream(await (await rawResponses(base, { model: MODEL, input: 'stream me please', stream: true })).text())
		expect(checked.types.slice(0, 4)).toEqual(['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added'])
		expect(checked.final.status).toBe('completed')
		expect(checked.final.output[0].content[0].text).toBe('Echo: stream me please')
		// Usage arrives after the last content chunk; the completed response has it.
		expect(checked.final.usage.output_tokens).toBe(4)
		expect(checked.final.usage.input_tokens).toBeGreaterThan(0)
	})

	test('function call: arguments deltas, .done equal to their concatenation, SDK final response', async () => {
		const { base, client } = await setup()
		const stream = client.responses.stream({ model: MODEL, input: 'weather in Paris?', tools: [WEATHER] })
		const final = await stream.finalResponse()
		const call = final.output.find((o) => o.type === 'function_call')
		expect(call).toMatchObject({ type: 'function_call', name: 'get_weather', arguments: '{"city":"Paris"}', status: 'completed' })
		const checked = checkResponsesStream(await (await rawResponses(base, { model: MODEL, input: 'weather in Paris?', tools: [WEATHER], stream: true })).text())
		expect(checked.types).toContain('response.function_call_arguments.delta')
		expect(checked.types).toContain('response.function_call_arguments.done')
		expect(checked.items.map((i) => i.type)).toEqual(['function_call'])
	})

	test('a length cut ends with response.incomplete', async () => {
		const { base } = await setup()
		const checked = checkResponsesStream(
			await (await rawResponses(base, { model: MODEL, input: 'one two three four', max_output_tokens: 2, stream: true })).text(),
		)
		expect(checked.types.at(-1)).toBe('response.incomplete')
		expect(checked.final.incomplete_details).toEqual({ reason: 'max_output_tokens' })
	})

	test('an upstream stream that breaks ends with response.failed, never response.completed', async () => {
		const { h, base } = await setup()
		h.fake.fault('*', { kind: 'die', afterChunks: 3 }, { persistent: true })
		const checked = checkResponsesStream(await (await rawResponses(base, { model: MODEL, input: 'a b c d e f g h', stream: true })).text())
		expect(checked.types.at(-1)).toBe('response.failed')
		expect(checked.types).not.toContain('response.completed')
		expect(checked.final.error.message).toBeTruthy()
	})
})

describe('errors in the OpenAI envelope', () => {
	async function expectError(promise: Promise<unknown>, status: number): Promise<InstanceType<typeof OpenAI.APIError>> {
		const error = await promise.then(
			() => null,
			(e: unknown) => e,
		)
		if (!(error instanceof OpenAI.APIError)) throw new Error(`expected an APIError, got ${String(error)}`)
		expect(error.status).toBe(status)
		return error
	}

	test('previous_response_id is refused with a clear 400', async () => {
		const { client } = await setup()
		const e = await expectError(client.responses.create({ model: MODEL, input: 'hi', previous_response_id: 'resp_123' }), 400)
		expect(e.code).toBe('previous_response_not_supported')
		expect(e.param).toBe('previous_response_id')
		expect(e.message).toContain('stateless')
	})

	test('non-function tools, a missing input and an orphan function_call_output are 400s naming the param', async () => {
		const { client } = await setup()
		expect((await expectError(client.responses.create({ model: MODEL, input: 'hi', tools: [{ type: 'custom', name: 'apply_patch' }] }), 400)).param).toBe(
			'tools[0].type',
		)
		expect(
			(await expectError(client.responses.create({ model: MODEL, input: 'hi', tools: [WEATHER], tool_choice: { type: 'web_search' } } as never), 400)).param,
		).toBe('tool_choice')
		expect((await expectError(client.responses.create({ model: MODEL } as never), 400)).param).toBe('input')
		expect(
			(await expectError(client.responses.create({ model: MODEL, input: [{ type: 'function_call_output', call_id: 'nope', output: 'x' }] }), 400)).param,
		).toBe('input[0].call_id')
	})

	test('401 without a valid key; 429 with retry-after when every key is limited', async () => {
		const { h, base, client } = await setup()
		await expectError(new OpenAI({ apiKey: 'wrong', baseURL: `${base}/v1`, maxRetries: 0 }).responses.create({ model: MODEL, input: 'hi' }), 401)
		h.fake.fault('*', { kind: 'rate-limit', retryAfter: 30 }, { persistent: true })
		const e = await expectError(client.responses.create({ model: MODEL, input: 'hi' }), 429)
		expect(Number(e.headers?.get('retry-after'))).toBeGreaterThan(0)
		expect((e.error as { type?: string }).type).toBe('rate_limit_error')
	})
})
