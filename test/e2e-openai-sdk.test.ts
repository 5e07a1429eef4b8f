/**
 * End to end: the gateway on a real port, the fake AssemblyAI gateway on another, and the
 * official `openai` SDK as the client, the way users run it.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import OpenAI from 'openai'
import { TOOL_ARGUMENTS } from './fake-gateway.ts'
import { API_PASSWORD, assertNoSecrets, type Harness, KEYS, startHarness } from './support.ts'

let h: Harness
let client: OpenAI

beforeAll(async () => {
	h = await startHarness({ listenFake: true, env: { RATE_LIMIT_MAX_WAIT: '0', RETRY_429_MAX_RETRIES: '2' } })
	const url = await h.listen()
	client = new OpenAI({ baseURL: `${url}/v1`, apiKey: API_PASSWORD, maxRetries: 0 })
})

afterAll(async () => {
	assertNoSecrets(h.logs)
	await h.close()
})

describe('the official openai SDK against amb2api', () => {
	test('non-streamed chat', async () => {
		const completion = await client.chat.completions.create({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'Say hi' }] })
		expect(completion.object).toBe('chat.completion')
		expect(completion.choices[0]!.message.content).toBe('Echo: Say hi')
		expect(completion.choices[0]!.finish_reason).toBe('stop')
		expect(completion.usage?.total_tokens).toBeGreaterThan(0)
	})

	test('streamed chat, with usage', async () => {
		const stream = await client.chat.completions.create({
			model: 'qwen3.5-4b-32k-fast',
			messages: [{ role: 'user', content: 'stream me please' }],
			stream: true,
			stream_options: { include_usage: true },
		})
		let text = ''
		let finish: string | null = null
		let usage: OpenAI.CompletionUsage | null | undefined = null
		for await (const chunk of stream) {
			expect(chunk.model).toBe('qwen3.5-4b-32k-fast')
			text += chunk.choices[0]?.delta?.content ?? ''
			finish = chunk.choices[0]?.finish_reason ?? finish
			if (chunk.usage) usage = chunk.usage
		}
		expect(text).toBe('Echo: stream me please')
		expect(finish).toBe('stop')
		expect(usage?.completion_tokens).toBeGreaterThan(0)
	})

	test('a tool call, streamed and not', async () => {
		const tools: OpenAI.ChatCompletionTool[] = [
			{ type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
		]
		const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'What is the weather in Paris?' }]
		const completion = await client.chat.completions.create({ model: 'claude-sonnet-4-6', messages, tools })
		const call = completion.choices[0]!.message.tool_calls?.[0]
		expect(completion.choices[0]!.finish_reason).toBe('tool_calls')
		expect(call?.type === 'function' && call.function.name).toBe('get_weather')
		expect(call?.type === 'function' && JSON.parse(call.function.arguments)).toEqual(JSON.parse(TOOL_ARGUMENTS))

		// The SDK's stream helper assembles the deltas into a complete call.
		const runner = client.chat.completions.stream({ model: 'gpt-5', messages, tools })
		const final = await runner.finalChatCompletion()
		const streamed = final.choices[0]!.message.tool_calls?.[0]
		expect(final.choices[0]!.finish_reason).toBe('tool_calls')
		expect(streamed?.type === 'function' && streamed.function.arguments).toBe(TOOL_ARGUMENTS)

		// The tool result goes back and is answered.
		const followUp = await client.chat.completions.create({
			model: 'claude-sonnet-4-6',
			tools,
			messages: [...messages, completion.choices[0]!.message, { role: 'tool', tool_call_id: call!.id, content: '{"temp_c":18}' }],
		})
		expect(followUp.choices[0]!.message.content).toBe('Echo: {"temp_c":18}')
	})

	test('AuthenticationError for a wrong API password', async () => {
		const wrong = new OpenAI({ baseURL: client.baseURL, apiKey: 'not-the-password', maxRetries: 0 })
		const error = await wrong.chat.completions.create({ model: 'gpt-5', messages: [{ role: 'user', content: 'x' }] }).catch((e) => e)
		expect(error).toBeInstanceOf(OpenAI.AuthenticationError)
		expect(error.status).toBe(401)
	})

	test('BadRequestError names the param', async () => {
		const error = await client.chat.completions.create({ model: 'gpt-5', messages: [{ role: 'user', content: 'x' }], temperature: 7 }).catch((e) => e)
		expect(error).toBeInstanceOf(OpenAI.BadRequestError)
		expect(error.param).toBe('temperature')
		const upstream = await client.chat.completions
			.create({ model: 'qwen3.5-4b-32k-fast', messages: [{ role: 'user', content: 'x' }], response_format: { type: 'json_object' } })
			.catch((e) => e)
		expect(upstream).toBeInstanceOf(OpenAI.BadRequestError)
		expect(upstream.message).toContain('does not support response_format')
	})

	test('InternalServerError when the upstream keeps failing', async () => {
		h.fake.fault('*', { kind: 'status', status: 500, envelope: 'B' }, { persistent: true })
		try {
			const error = await client.chat.completions.create({ model: 'gpt-5', messages: [{ role: 'user', content: 'x' }] }).catch((e) => e)
			expect(error).toBeInstanceOf(OpenAI.InternalServerError)
			expect(error.status).toBe(502)
		} finally {
			h.fake.clearFaults()
		}
	})

	test('RateLimitError with Retry-After when every key is at its limit', async () => {
		for (const key of KEYS) h.fake.setKey(key, { limit: 1 })
		const model = 'gemini-2.5-flash'
		for (let i = 0; i < KEYS.length; i++) {
			await client.chat.completions.create({ model, messages: [{ role: 'user', content: `request ${i}` }] })
		}
		const error = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'one too many' }] }).catch((e) => e)
		expect(error).toBeInstanceOf(OpenAI.RateLimitError)
		expect(Number(error.headers.get('retry-after'))).toBeGreaterThan(0)
		// Proactive: the fourth request never reached the upstream.
		const rateLimited = h.fake.requests.filter((r) => r.model === model && r.status === 429)
		expect(rateLimited).toHaveLength(0)
		for (const key of KEYS) expect(h.fake.count(key, model).sent).toBe(1)
	})
})
