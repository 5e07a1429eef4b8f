/**
 * /v1/messages with the official Anthropic SDK as the client, against the real gateway and the
 * fake AssemblyAI upstream: messages, streams (text, tool use), a tool round trip, each error
 * type, count_tokens and the models list in both shapes.
 */
import Anthropic from '@anthropic-ai/sdk'
import { afterEach, describe, expect, test } from 'bun:test'
import { fakeUsage } from '../../fake-gateway.ts'
import { API_PASSWORD, type Harness, harnessSet, KEYS } from '../../support.ts'
import { estimateInputTokens, IMAGE_TOKENS, MESSAGE_OVERHEAD } from '../../../plugins/anthropic-messages/count-tokens.ts'
import { checkAnthropicStream } from './grammar.ts'

const harnesses = harnessSet()
afterEach(() => harnesses.closeAll())

const MODEL = 'claude-sonnet-4-6'
const WEATHER_TOOL = {
	name: 'get_weather',
	description: 'Weather of a city',
	input_schema: { type: 'object' as const, properties: { city: { type: 'string' } } },
}

async function setup(options?: Parameters<typeof harnesses.start>[0]): Promise<{ h: Harness; client: Anthropic; base: string }> {
	const h = await harnesses.start(options)
	const base = await h.listen()
	return { h, base, client: new Anthropic({ apiKey: API_PASSWORD, baseURL: base, maxRetries: 0 }) }
}

const lastUpstreamBody = (h: Harness) => [...h.fake.requests].reverse().find((r) => r.path === '/v1/chat/completions')!.body

async function rawMessages(base: string, body: unknown, headers: Record<string, string> = { 'x-api-key': API_PASSWORD }) {
	return fetch(`${base}/v1/messages`, {
		method: 'POST',
		headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', ...headers },
		body: JSON.stringify(body),
	})
}

describe('POST /v1/messages, not streamed', () => {
	test('a text answer: blocks, stop_reason, usage from the upstream', async () => {
		const { h, client } = await setup()
		const message = await client.messages.create({ model: MODEL, max_tokens: 200, messages: [{ role: 'user', content: 'hello there' }] })
		expect(message.type).toBe('message')
		expect(message.role).toBe('assistant')
		expect(message.id).toMatch(/^msg_/)
		expect(message.model).toBe(MODEL)
		expect(message.content).toEqual([{ type: 'text', text: 'Echo: hello there' } as never])
		expect(message.stop_reason).toBe('end_turn')
		const expected = fakeUsage(lastUpstreamBody(h), 'Echo: hello there')
		expect(message.usage.input_tokens).toBe(expected.prompt_tokens)
		expect(message.usage.output_tokens).toBe(expected.completion_tokens)
		expect(message.usage.cache_read_input_tokens).toBe(0)
	})

	test('system blocks with cache_control: cache reads are reported apart from input tokens', async () => {
		const { h, client } = await setup()
		// Over Sonnet 4.6's cacheable minimum, twice: the second request reads what the first wrote.
		const ask = () =>
			client.messages.create({
				model: MODEL,
				max_tokens: 200,
				system: [
					{ type: 'text', text: `You are a terse assistant who answers in one line. ${'Keep it short. '.repeat(700)}`, cache_control: { type: 'ephemeral' } },
				],
				messages: [{ role: 'user', content: 'hi' }],
			})
		await ask()
		const message = await ask()
		const sent = lastUpstreamBody(h)
		expect(sent.messages[0].role).toBe('system')
		expect(sent.messages[0].content).toContain('terse assistant')
		const record = h.fake.requests.filter((r) => r.path === '/v1/chat/completions').at(-1)!
		const usage = fakeUsage(sent, 'Echo: hi', record.cache)
		expect(usage.prompt_tokens_details.cached_tokens).toBeGreaterThan(0)
		expect(message.usage.cache_read_input_tokens).toBe(usage.prompt_tokens_details.cached_tokens)
		expect(message.usage.input_tokens).toBe(usage.prompt_tokens - usage.prompt_tokens_details.cached_tokens)
	})

	test('max_tokens cut -> stop_reason max_tokens; stop_sequences and temperature reach the upstream, top_p gives way (provider rule)', async () => {
		const { h, client } = await setup()
		const message = await client.messages.create({
			model: MODEL,
			max_tokens: 2,
			temperature: 0.5,
			top_p: 0.9,
			top_k: 40,
			stop_sequences: ['END'],
			metadata: { user_id: 'u-1' },
			messages: [{ role: 'user', content: 'one two three four' }],
		} as Anthropic.Messages.MessageCreateParamsNonStreaming)
		expect(message.stop_reason).toBe('max_tokens')
		expect(message.content).toEqual([{ type: 'text', text: 'Echo: one' } as never])
		const sent = lastUpstreamBody(h)
		expect(sent.max_tokens).toBe(2)
		expect(sent.temperature).toBe(0.5)
		// Sonnet 4.6 refuses temperature and top_p together: temperature wins (docs/provider-rules.md).
		expect(sent.top_p).toBeUndefined()
		expect(sent.stop).toEqual(['END'])
	})

	test('tool use, then a round trip with is_error and content blocks', async () => {
		const { h, client } = await setup()
		const first = await client.messages.create({
			model: MODEL,
			max_tokens: 200,
			tools: [WEATHER_TOOL],
			messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
		})
		expect(first.stop_reason).toBe('tool_use')
		expect(first.content[0]).toEqual({ type: 'text', text: 'Let me look that up.' } as never)
		const use = first.content[1]
		if (use?.type !== 'tool_use') throw new Error('expected a tool_use block')
		expect(use.name).toBe('get_weather')
		expect(use.input).toEqual({ city: 'Paris' })
		const second = await client.messages.create({
			model: MODEL,
			max_tokens: 200,
			tools: [WEATHER_TOOL],
			messages: [
				{ role: 'user', content: 'What is the weather in Paris?' },
				{ role: 'assistant', content: first.content },
				{ role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, is_error: true, content: [{ type: 'text', text: 'service down' }] }] },
			],
		})
		expect(second.stop_reason).toBe('end_turn')
		expect(second.content).toEqual([{ type: 'text', text: 'Echo: Error: service down' } as never])
		const sent = lastUpstreamBody(h)
		expect(sent.messages[1]).toMatchObject({
			role: 'assistant',
			content: 'Let me look that up.',
			tool_calls: [{ id: use.id, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
		})
		expect(sent.messages[2]).toMatchObject({ role: 'tool', tool_call_id: use.id, content: 'Error: service down' })
	})

	test('text beside a tool_result is kept, after the tool message', async () => {
		const { h, client } = await setup()
		await client.messages.create({
			model: MODEL,
			max_tokens: 200,
			tools: [WEATHER_TOOL],
			messages: [
				{ role: 'user', content: 'weather?' },
				{ role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Oslo' } }] },
				{
					role: 'user',
					content: [
						{ type: 'tool_result', tool_use_id: 'toolu_1', content: '3 C' },
						{ type: 'text', text: 'and tomorrow?' },
					],
				},
			],
		})
		const sent = lastUpstreamBody(h).messages
		expect(sent.map((m: { role: string }) => m.role)).toEqual(['user', 'assistant', 'tool', 'user'])
		expect(sent[3].content).toBe('and tomorrow?')
	})

	test('tool_choice variants map to the chat completions ones', async () => {
		const { h, client } = await setup()
		const ask = (tool_choice: Anthropic.Messages.ToolChoice) =>
			client.messages.create({ model: MODEL, max_tokens: 50, tools: [WEATHER_TOOL], tool_choice, messages: [{ role: 'user', content: 'hi' }] })
		await ask({ type: 'any' })
		expect(lastUpstreamBody(h).tool_choice).toBe('required')
		await ask({ type: 'tool', name: 'get_weather', disable_parallel_tool_use: true })
		expect(lastUpstreamBody(h).tool_choice).toEqual({ type: 'function', function: { name: 'get_weather' } })
		expect(lastUpstreamBody(h).parallel_tool_calls).toBe(false)
		await ask({ type: 'none' })
		expect(lastUpstreamBody(h).tool_choice).toBe('none')
		await ask({ type: 'auto' })
		expect(lastUpstreamBody(h).tool_choice).toBe('auto')
		expect(lastUpstreamBody(h).tools[0]).toEqual({
			type: 'function',
			function: { name: 'get_weather', description: 'Weather of a city', parameters: WEATHER_TOOL.input_schema },
		})
	})

	test('images become image_url parts; thinking becomes the reasoning option', async () => {
		const { h, client } = await setup()
		await client.messages.create({
			model: MODEL,
			max_tokens: 4000,
			thinking: { type: 'enabled', budget_tokens: 2000 },
			messages: [
				{
					role: 'user',
					content: [
						{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
						{ type: 'text', text: 'what is it?' },
					],
				},
			],
		})
		const sent = lastUpstreamBody(h)
		expect(sent.reasoning).toEqual({ max_tokens: 2000 })
		expect(sent.messages[0].content).toEqual([
			{ type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
			{ type: 'text', text: 'what is it?' },
		])
	})

	test('Authorization: Bearer works as well as x-api-key; anthropic-beta is accepted', async () => {
		const { base } = await setup()
		const response = await rawMessages(
			base,
			{ model: MODEL, max_tokens: 20, messages: [{ role: 'user', content: 'x' }] },
			{ authorization: `Bearer ${API_PASSWORD}`, 'anthropic-beta': 'prompt-caching-2024-07-31' },
		)
		expect(response.status).toBe(200)
		expect((await response.json()).content[0].text).toBe('Echo: x')
	})
})

describe('POST /v1/messages, streamed', () => {
	test('text: the SDK assembles the same message; the raw stream follows the grammar with real usage in message_delta', async () => {
		const { h, client, base } = await setup()
		const stream = client.messages.stream({ model: MODEL, max_tokens: 200, messages: [{ role: 'user', content: 'stream me please' }] })
		let text = ''
		stream.on('text', (t) => {
			text += t
		})
		const final = await stream.finalMessage()
		expect(text).toBe('Echo: stream me please')
		expect(final.content).toEqual([{ type: 'text', text: 'Echo: stream me please' } as never])
		expect(final.stop_reason).toBe('end_turn')

		const raw = await rawMessages(base, { model: MODEL, max_tokens: 200, stream: true, messages: [{ role: 'user', content: 'stream me please' }] })
		expect(raw.headers.get('content-type')).toContain('text/event-stream')
		const checked = checkAnthropicStream(await raw.text())
		expect(checked.events.slice(0, 2)).toEqual(['message_start', 'ping'])
		expect(checked.events.slice(-2)).toEqual(['message_delta', 'message_stop'])
		expect(checked.content).toEqual([{ type: 'text', text: 'Echo: stream me please' }])
		// The usage-only chunk comes after the last content chunk; message_delta still has it.
		const expected = fakeUsage(lastUpstreamBody(h), 'Echo: stream me please')
		expect(checked.usage).toEqual({
			input_tokens: expected.prompt_tokens,
			output_tokens: expected.completion_tokens,
			cache_read_input_tokens: 0,
			cache_creation_input_tokens: 0,
		})
		expect(checked.message.usage.input_tokens).toBeGreaterThan(0)
	})

	test('tool use: text block, then a tool_use block whose input_json_delta parts make the input', async () => {
		const { base, client } = await setup()
		const final = await client.messages
			.stream({ model: MODEL, max_tokens: 200, tools: [WEATHER_TOOL], messages: [{ role: 'user', content: 'weather in Paris?' }] })
			.finalMessage()
		expect(final.stop_reason).toBe('tool_use')
		expect(final.content[1]).toMatchObject({ type: 'tool_use', name: 'get_weather', input: { city: 'Paris' } })

		const raw = await rawMessages(base, {
			model: MODEL,
			max_tokens: 200,
			stream: true,
			tools: [WEATHER_TOOL],
			messages: [{ role: 'user', content: 'weather in Paris?' }],
		})
		const checked = checkAnthropicStream(await raw.text())
		expect(checked.stopReason).toBe('tool_use')
		expect(checked.content.map((b) => b.type)).toEqual(['text', 'tool_use'])
		expect(checked.content[1]!.input).toEqual({ city: 'Paris' })
		expect(checked.events).toContain('content_block_delta')
	})

	test('an upstream stream that breaks mid-way ends with event: error and no message_stop', async () => {
		const { h, base, client } = await setup()
		h.fake.fault('*', { kind: 'die', afterChunks: 3 }, { persistent: true })
		const raw = await rawMessages(base, { model: MODEL, max_tokens: 200, stream: true, messages: [{ role: 'user', content: 'a b c d e f g h' }] })
		expect(raw.status).toBe(200)
		const checked = checkAnthropicStream(await raw.text())
		expect(checked.error?.type).toBe('api_error')
		expect(checked.events).not.toContain('message_stop')
		expect(checked.events).not.toContain('message_delta')
		await expect(
			client.messages.stream({ model: MODEL, max_tokens: 200, messages: [{ role: 'user', content: 'a b c d e f g h' }] }).finalMessage(),
		).rejects.toThrow()
	})
})

describe('errors in the Anthropic envelope', () => {
	const body = { model: MODEL, max_tokens: 20, messages: [{ role: 'user' as const, content: 'hi' }] }

	async function expectError(promise: Promise<unknown>, status: number, type: string): Promise<InstanceType<typeof Anthropic.APIError>> {
		const error = await promise.then(
			() => null,
			(e: unknown) => e,
		)
		if (!(error instanceof Anthropic.APIError)) throw new Error(`expected an APIError, got ${String(error)}`)
		expect(error.status).toBe(status)
		expect((error.error as { type: string; error: { type: string; message: string } }).type).toBe('error')
		expect((error.error as { error: { type: string } }).error.type).toBe(type)
		return error
	}

	test('400 invalid_request_error: a missing field, an orphan tool_result', async () => {
		const { client } = await setup()
		const e = await expectError(client.messages.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] } as never), 400, 'invalid_request_error')
		expect(e.message).toContain('max_tokens')
		await expectError(
			client.messages.create({
				model: MODEL,
				max_tokens: 10,
				messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_nowhere', content: 'x' }] }],
			}),
			400,
			'invalid_request_error',
		)
	})

	test('401 authentication_error: wrong key, no key', async () => {
		const { base } = await setup()
		await expectError(new Anthropic({ apiKey: 'wrong', baseURL: base, maxRetries: 0 }).messages.create(body), 401, 'authentication_error')
		const response = await fetch(`${base}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
		expect(response.status).toBe(401)
		expect(await response.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } })
	})

	test('403 permission_error: a client key that may not use the model', async () => {
		const { h, base } = await setup()
		const created = await (await h.admin('/admin/clients', { method: 'POST', json: { name: 'gpt-only', allowed_models: ['gpt-5'] } })).json()
		await expectError(new Anthropic({ apiKey: created.key, baseURL: base, maxRetries: 0 }).messages.create(body), 403, 'permission_error')
	})

	test('404 not_found_error: no key has access to the model', async () => {
		const { h, client } = await setup()
		for (const key of KEYS) h.fake.setKey(key, { noAccessModels: [MODEL] })
		await expectError(client.messages.create(body), 404, 'not_found_error')
	})

	test('429 rate_limit_error with retry-after', async () => {
		const { h, client } = await setup()
		h.fake.fault('*', { kind: 'rate-limit', retryAfter: 30 }, { persistent: true })
		const e = await expectError(client.messages.create(body), 429, 'rate_limit_error')
		expect(Number(e.headers?.get('retry-after'))).toBeGreaterThan(0)
	})

	test('5xx api_error when the upstream keeps failing', async () => {
		const { h, client } = await setup()
		h.fake.fault('*', { kind: 'status', status: 500 }, { persistent: true })
		const e = await expectError(client.messages.create(body), 502, 'api_error')
		expect(e.message).toBeTruthy()
	})

	test('529 overloaded_error when no upstream key is configured', async () => {
		const { client } = await setup({ keys: [] })
		await expectError(client.messages.create(body), 529, 'overloaded_error')
	})

	test('a body that is not JSON is an invalid_request_error', async () => {
		const { base } = await setup()
		const response = await fetch(`${base}/v1/messages`, { method: 'POST', headers: { 'x-api-key': API_PASSWORD }, body: '{nope' })
		expect(response.status).toBe(400)
		expect(await response.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } })
	})
})

describe('count_tokens and models', () => {
	test('count_tokens gives the documented estimate and sends nothing upstream', async () => {
		const { h, client } = await setup()
		const params = {
			model: MODEL,
			system: 'Be brief.',
			tools: [WEATHER_TOOL],
			messages: [
				{
					role: 'user' as const,
					content: [
						{ type: 'text' as const, text: 'What is in this picture?' },
						{ type: 'image' as const, source: { type: 'base64' as const, media_type: 'image/png' as const, data: 'AAAA' } },
					],
				},
			],
		}
		const before = h.fake.requests.length
		const counted = await client.messages.countTokens(params)
		const chars =
			'Be brief.'.length +
			'What is in this picture?'.length +
			'get_weather'.length +
			'Weather of a city'.length +
			JSON.stringify(WEATHER_TOOL.input_schema).length
		expect(counted.input_tokens).toBe(Math.ceil(chars / 4) + IMAGE_TOKENS + MESSAGE_OVERHEAD)
		expect(counted.input_tokens).toBe(estimateInputTokens(params))
		expect((await client.messages.countTokens(params)).input_tokens).toBe(counted.input_tokens)
		expect(h.fake.requests.length).toBe(before)
	})

	test('GET /v1/models: Anthropic shape with anthropic-version, OpenAI shape without', async () => {
		const { h, client } = await setup()
		const page = await client.models.list()
		const ids = page.data.map((m) => m.id)
		expect(ids).toContain(MODEL)
		expect(page.data[0]).toMatchObject({ type: 'model', display_name: expect.any(String), created_at: expect.any(String) })
		const raw = await (await h.call('/v1/models', { headers: { 'anthropic-version': '2023-06-01' } })).json()
		expect(raw.has_more).toBe(false)
		expect(raw.first_id).toBe(raw.data[0].id)
		expect(raw.last_id).toBe(raw.data[raw.data.length - 1].id)
		const openai = await (await h.call('/v1/models')).json()
		expect(openai.object).toBe('list')
		expect(openai.data[0].object).toBe('model')
	})

	test('Swagger documents the new routes with their tags and the x-api-key scheme', async () => {
		const { h } = await setup()
		const doc = await (await h.call('/swagger/json', { auth: null })).json()
		expect(doc.paths['/v1/messages'].post.tags).toEqual(['Anthropic'])
		expect(doc.paths['/v1/messages/count_tokens'].post.summary).toContain('Count')
		expect(doc.paths['/v1/responses'].post.tags).toEqual(['OpenAI'])
		expect(doc.components.securitySchemes.apiKey).toEqual({ type: 'apiKey', in: 'header', name: 'x-api-key' })
	})
})
