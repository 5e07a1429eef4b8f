import { afterEach, describe, expect, test } from 'bun:test'
import {
	CLAUDE_TOOL_PREAMBLE,
	FAKE_CATALOG,
	MSG_BAD_KEY,
	MSG_MISSING_AUTH,
	MSG_NO_MODEL_ACCESS,
	TOOL_ARGUMENTS,
	createFakeGateway,
	fakeAnswer,
	fakeUsage,
	finishReasons,
	type FakeGateway,
	type FakeGatewayOptions,
} from './fake-gateway.ts'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const BASE = 'http://fake.local'
const SONNET = 'claude-sonnet-4-6'
const QWEN = 'qwen3.5-4b-32k-fast'

// servers started by a test, stopped whatever the outcome
const running: FakeGateway[] = []
afterEach(async () => {
	await Promise.all(running.splice(0).map((g) => g.stop()))
})

function setup(opts: FakeGatewayOptions = {}) {
	let clock = 1_000_000
	const gw = createFakeGateway({ keys: { k1: {}, k2: {} }, now: () => clock, ...opts })
	const tick = (ms: number) => {
		clock += ms
	}
	const chat = (body: unknown, init: { key?: string | null; bearer?: boolean; signal?: AbortSignal; raw?: string } = {}) => {
		const headers: Record<string, string> = { 'content-type': 'application/json' }
		const key = init.key === undefined ? 'k1' : init.key
		if (key !== null) headers.authorization = init.bearer ? `Bearer ${key}` : key
		return gw.fetch(
			new Request(`${BASE}/v1/chat/completions`, {
				method: 'POST',
				headers,
				body: init.raw ?? JSON.stringify(body),
				signal: init.signal,
			}),
		)
	}
	return { gw, chat, tick }
}

const user = (content: unknown, model = SONNET, extra: Record<string, unknown> = {}) => ({
	model,
	messages: [{ role: 'user', content }],
	...extra,
})

const weatherTool = {
	type: 'function',
	function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
}
const timeTool = { type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: {} } } }

/** Reads an SSE body to its end; `ended` tells a clean end from a broken connection. */
async function readSse(res: Response) {
	const reader = res.body!.getReader()
	const dec = new TextDecoder()
	let text = ''
	let error: unknown = null
	try {
		while (true) {
			const { done, value } = await reader.read()
			if (done) break
			text += dec.decode(value, { stream: true })
		}
	} catch (e) {
		error = e
	}
	const data = text
		.split('\n\n')
		.filter((f) => f.startsWith('data: '))
		.map((f) => f.slice(6))
	const done = data[data.length - 1] === '[DONE]'
	const chunks = data.filter((d) => d !== '[DONE]').map((d) => JSON.parse(d))
	return { text, data, chunks, done, error }
}

const contentOf = (chunks: any[]) =>
	chunks
		.flatMap((c) => c.choices ?? [])
		.map((c: any) => c.delta?.content ?? '')
		.join('')

describe('GET /v1/models', () => {
	test("needs no auth and answers the §8 shape, not OpenAI's", async () => {
		const { gw } = setup()
		const res = await gw.fetch(new Request(`${BASE}/v1/models`))
		expect(res.status).toBe(200)
		expect(res.headers.get('x-ratelimit-limit')).toBeNull()
		const body = (await res.json()) as any
		expect(Object.keys(body)).toEqual(['data'])
		expect(body.data).toEqual(FAKE_CATALOG)
		for (const e of body.data) {
			expect(e.object).toBeUndefined()
			expect(e.owned_by).toBeUndefined()
			expect(e.created).toBeUndefined()
		}
		expect(gw.requests[0]).toMatchObject({ method: 'GET', path: '/v1/models', key: null, authScheme: 'none', status: 200 })
	})

	test('accepts and ignores an Authorization header, even a bad key', async () => {
		const { gw } = setup()
		const res = await gw.fetch(new Request(`${BASE}/v1/models`, { headers: { authorization: 'Bearer nope' } }))
		expect(res.status).toBe(200)
		expect(((await res.json()) as any).data.length).toBe(FAKE_CATALOG.length)
		expect(gw.requests[0]).toMatchObject({ key: 'nope', authScheme: 'bearer' })
	})

	test('serves a custom catalog', async () => {
		const gw = createFakeGateway({ catalog: [FAKE_CATALOG[0]!] })
		const body = (await (await gw.fetch(`${BASE}/v1/models`)).json()) as any
		expect(body.data.map((e: any) => e.id)).toEqual([FAKE_CATALOG[0]!.id])
	})
})

describe('catalog fixture', () => {
	const byId = new Map(FAKE_CATALOG.map((e) => [e.id, e]))
	const params = (id: string) => byId.get(id)?.supported_parameters

	test('holds the required models with their parameters', () => {
		expect(FAKE_CATALOG.length).toBeGreaterThanOrEqual(10)
		expect(params(SONNET)!.slice().sort()).toEqual(['max_tokens', 'response_format', 'stream', 'temperature', 'tool_choice', 'tools', 'top_p'])
		expect(params('claude-opus-4-7')).not.toContain('response_format')
		expect(params('claude-opus-4-7')).toContain('stream')
		expect(byId.has('gpt-5')).toBe(true)
		expect(byId.has('gpt-5-mini')).toBe(true)
		expect(byId.has('gemini-2.5-flash')).toBe(true)
		expect(params(QWEN)!.slice().sort()).toEqual(['max_tokens', 'stream', 'temperature'])
		expect(params('gpt-oss-120b')).not.toContain('stream')
		expect(params('gpt-oss-120b')!.length).toBe(6)
	})

	test('every entry has the §8 fields; some optional arrays are null', () => {
		for (const e of FAKE_CATALOG) {
			expect(typeof e.id).toBe('string')
			expect(typeof e.name).toBe('string')
			expect(typeof e.creator).toBe('string')
			expect(e.context_length).toBeGreaterThan(0)
			// One model is unpriced (pricing: null); every other has a global price.
			if (e.pricing !== null) expect(e.pricing?.global.prompt).toBeGreaterThan(0)
			expect(e.retirement_date).toBe(0)
			expect(e.top_provider?.max_completion_tokens).toBeGreaterThan(0)
		}
		expect(FAKE_CATALOG.some((e) => e.available_regions === null)).toBe(true)
		expect(FAKE_CATALOG.filter((e) => e.pricing === null).map((e) => e.id)).toEqual(['qwen3-next-80b-a3b'])
		// Some models carry cache prices (reads, 5-minute and 1-hour writes), some only prompt and completion.
		expect(FAKE_CATALOG.some((e) => e.pricing?.global.input_cache_write_1h !== undefined)).toBe(true)
		expect(FAKE_CATALOG.some((e) => e.pricing && e.pricing.global.input_cache_read === undefined)).toBe(true)
		expect(FAKE_CATALOG.some((e) => e.providers === null)).toBe(true)
	})
})

describe('authentication', () => {
	test('a raw key is accepted and recorded as raw', async () => {
		const { gw, chat } = setup()
		const res = await chat(user('hi'))
		expect(res.status).toBe(200)
		expect(gw.requests[0]).toMatchObject({ key: 'k1', authScheme: 'raw', model: SONNET, status: 200 })
	})

	test('Bearer is accepted and recorded as bearer', async () => {
		const { gw, chat } = setup()
		const res = await chat(user('hi'), { bearer: true })
		expect(res.status).toBe(200)
		expect(gw.requests[0]).toMatchObject({ key: 'k1', authScheme: 'bearer' })
		expect(gw.requests[0]!.headers.authorization).toBe('Bearer k1')
	})

	test('a missing header gives 401 envelope A with the misleading text', async () => {
		const { gw, chat } = setup()
		const res = await chat(user('hi'), { key: null })
		expect(res.status).toBe(401)
		const body = (await res.json()) as any
		expect(body).toEqual({ error: MSG_MISSING_AUTH, status: 'error', request_id: expect.stringMatching(UUID) })
		expect(body.error).toBe('Your account does not have access to LLM Gateway. Please upgrade or contact us at support@assemblyai.com for more information.')
		expect(res.headers.get('x-ratelimit-limit')).toBeNull()
		expect(gw.requests[0]).toMatchObject({ key: null, authScheme: 'none', status: 401 })
	})

	test('an unknown key gives 401 envelope A "Authentication error"', async () => {
		const { chat } = setup()
		for (const bearer of [false, true]) {
			const res = await chat(user('hi'), { key: 'stranger', bearer })
			expect(res.status).toBe(401)
			expect(await res.json()).toEqual({
				error: 'Authentication error, API token missing/invalid',
				status: 'error',
				request_id: expect.stringMatching(UUID),
			})
		}
	})

	test('a key configured valid:false gives 401; setKey revives it', async () => {
		const { gw, chat } = setup({ keys: { dead: { valid: false } } })
		const res = await chat(user('hi'), { key: 'dead' })
		expect(res.status).toBe(401)
		expect(((await res.json()) as any).error).toBe(MSG_BAD_KEY)
		gw.setKey('dead', {})
		expect((await chat(user('hi'), { key: 'dead' })).status).toBe(200)
	})

	test('setKey adds a key', async () => {
		const { gw, chat } = setup()
		expect((await chat(user('hi'), { key: 'new' })).status).toBe(401)
		gw.setKey('new', { limit: 5 })
		const res = await chat(user('hi'), { key: 'new' })
		expect(res.status).toBe(200)
		expect(res.headers.get('x-ratelimit-limit')).toBe('5')
	})

	test('auth comes before validation', async () => {
		const { chat } = setup()
		const res = await chat(null, { key: 'stranger', raw: '{not json' })
		expect(res.status).toBe(401)
	})

	test('an account without gateway access: 400 envelope A', async () => {
		const { chat } = setup({ keys: { free: { noGatewayAccess: true } } })
		const res = await chat(user('hi'), { key: 'free' })
		expect(res.status).toBe(400)
		expect(await res.json()).toEqual({ error: MSG_MISSING_AUTH, status: 'error', request_id: expect.stringMatching(UUID) })
	})
})

describe('model access', () => {
	test('a no-access model gives 400 envelope B without rate-limit headers and is not counted', async () => {
		const { gw, chat } = setup({ keys: { k1: { noAccessModels: ['gpt-5'] } } })
		const res = await chat(user('hi', 'gpt-5'))
		expect(res.status).toBe(400)
		expect(await res.json()).toEqual({
			metadata: { errors: ['Your account does not have access to this LLM Gateway model'] },
			request_id: expect.stringMatching(UUID),
			message: 'invalid request body',
			code: 400,
		})
		expect(MSG_NO_MODEL_ACCESS).toBe('Your account does not have access to this LLM Gateway model')
		for (const h of ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'x-ratelimit-model', 'x-ratelimit-service', 'retry-after'])
			expect(res.headers.get(h)).toBeNull()
		expect(gw.count('k1', 'gpt-5')).toEqual({ sent: 0, ok: 0, rateLimited: 0 })
		// other models of the key still work
		expect((await chat(user('hi', 'gpt-5-mini'))).status).toBe(200)
	})

	test('validation runs before the access check', async () => {
		const { chat } = setup({ keys: { k1: { noAccessModels: [QWEN] } } })
		const res = await chat(user('hi', QWEN, { tools: [weatherTool] }))
		expect(((await res.json()) as any).metadata.errors).toEqual([`model ${QWEN} does not support tools`])
	})
})

describe('validation (400, envelope B)', () => {
	async function errorsOf(res: Response) {
		expect(res.status).toBe(400)
		expect(res.headers.get('x-ratelimit-limit')).toBeNull()
		const body = (await res.json()) as any
		expect(Object.keys(body)).toEqual(['metadata', 'request_id', 'message', 'code'])
		expect(body.message).toBe('invalid request body')
		expect(body.code).toBe(400)
		expect(body.request_id).toMatch(UUID)
		return body.metadata.errors as string[]
	}

	test('invalid JSON', async () => {
		const { gw, chat } = setup()
		const errors = await errorsOf(await chat(null, { raw: '{"model":' }))
		expect(errors).toEqual(['invalid JSON in request body'])
		expect(gw.requests[0]!.body).toBe('{"model":')
		expect(gw.requests[0]!.status).toBe(400)
	})

	test('neither messages nor prompt', async () => {
		const { chat } = setup()
		expect(await errorsOf(await chat({ model: SONNET }))).toEqual(['one of messages or prompt required'])
		expect(await errorsOf(await chat({ model: SONNET, messages: [] }))).toEqual(['one of messages or prompt required'])
	})

	test('unknown model (e.g. a missing date suffix)', async () => {
		const { chat } = setup()
		expect(await errorsOf(await chat(user('hi', 'claude-haiku-4-5')))).toEqual(['model claude-haiku-4-5 is not supported'])
		expect(await errorsOf(await chat({ messages: [{ role: 'user', content: 'x' }] }))).toEqual(['model is required'])
	})

	test('one error per unsupported parameter', async () => {
		const { chat } = setup()
		const errors = await errorsOf(
			await chat(
				user('hi', QWEN, {
					tools: [weatherTool],
					tool_choice: 'auto',
					response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object' } } },
					top_p: 0.5,
					temperature: 0.2,
					max_tokens: 10,
				}),
			),
		)
		expect(errors).toEqual([
			`model ${QWEN} does not support top_p`,
			`model ${QWEN} does not support tools`,
			`model ${QWEN} does not support tool_choice`,
			`model ${QWEN} does not support response_format`,
		])
	})

	test('response_format on claude-opus-4-7', async () => {
		const { chat } = setup()
		const errors = await errorsOf(
			await chat(
				user('hi', 'claude-opus-4-7', {
					response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object' } } },
				}),
			),
		)
		expect(errors).toEqual(['model claude-opus-4-7 does not support response_format'])
	})

	test('stream:false and empty tools do not count as using the parameter', async () => {
		const { chat } = setup()
		expect((await chat(user('hi', 'gpt-oss-120b', { stream: false }))).status).toBe(200)
		expect((await chat(user('hi', QWEN, { tools: [] }))).status).toBe(200)
	})

	test('stream:true on a model without stream: 400 by default', async () => {
		const { gw, chat } = setup()
		expect(await errorsOf(await chat(user('hi', 'gpt-oss-120b', { stream: true })))).toEqual(['model gpt-oss-120b does not support stream'])
		expect(gw.count('k1', 'gpt-oss-120b').sent).toBe(0)
	})

	test('stream:true on a model without stream: plain JSON with streamUnsupported "json"', async () => {
		const { chat } = setup({ streamUnsupported: 'json' })
		const res = await chat(user('hi', 'gpt-oss-120b', { stream: true }))
		expect(res.status).toBe(200)
		expect(res.headers.get('content-type')).toBe('application/json')
		expect(res.headers.get('x-ratelimit-remaining')).toBe('29')
		const body = (await res.json()) as any
		expect(body.choices[0].message.content).toBe('Echo: hi')
		expect(body.request.stream).toBe(true)
	})

	test('model_region other than global', async () => {
		const { chat } = setup()
		expect(await errorsOf(await chat(user('hi', SONNET, { model_region: 'us' })))).toEqual(['model_region can only be set to global'])
		expect(await errorsOf(await chat(user('hi', SONNET, { model_region: '' })))).toEqual(['model_region can only be set to global'])
		expect((await chat(user('hi', SONNET, { model_region: 'global' }))).status).toBe(200)
	})

	test('fallback_config depth > 2', async () => {
		const { chat } = setup()
		expect(await errorsOf(await chat(user('hi', SONNET, { fallback_config: { retry: true, depth: 3 } })))).toEqual([
			'fallback_config depth cannot be greater than 2',
		])
		expect((await chat(user('hi', SONNET, { fallback_config: { depth: 2 }, fallbacks: [{ model: 'gpt-5' }] }))).status).toBe(200)
	})

	test('a tool message without tool_call_id (current and legacy format)', async () => {
		const { chat } = setup()
		const current = await errorsOf(
			await chat({
				model: SONNET,
				messages: [
					{ role: 'user', content: 'x' },
					{ role: 'tool', content: '{}' },
				],
			}),
		)
		expect(current).toEqual(['messages[1].tool_call_id is required'])
		const legacy = await errorsOf(
			await chat({
				model: SONNET,
				messages: [
					{ role: 'user', content: 'x' },
					{ type: 'function_call_output', name: 'f', output: '{}' },
				],
			}),
		)
		expect(legacy).toEqual(['messages[1].tool_call_id is required'])
	})

	test('max_tokens at or over the context length', async () => {
		const { chat } = setup()
		expect(await errorsOf(await chat(user('hi', QWEN, { max_tokens: 32768 })))).toEqual(['model context limit exceeded'])
	})

	test('a tool without parameters', async () => {
		const { chat } = setup()
		expect(await errorsOf(await chat(user('hi', SONNET, { tools: [{ type: 'function', function: { name: 'f' } }] })))).toEqual([
			'tools[0].function.parameters is required',
		])
	})

	test('non-text parts: ignored by default, 400 with nonTextParts "400"', async () => {
		const content = [
			{ type: 'text', text: 'look' },
			{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
		]
		const lenient = setup()
		const ok = await lenient.chat(user(content))
		expect(ok.status).toBe(200)
		expect(((await ok.json()) as any).choices[0].message.content).toBe('Echo: look')
		const strict = setup({ nonTextParts: '400' })
		expect(await errorsOf(await strict.chat(user(content)))).toEqual([
			'messages[0].content[1]: content type image_url is not supported, only text is supported',
		])
	})

	test('unknown top-level fields are ignored', async () => {
		const { chat } = setup()
		expect((await chat(user('hi', 'gpt-5', { seed: 1, stop: ['x'], n: 1, presence_penalty: 0 }))).status).toBe(200)
	})

	test('validation failures never reach rate-limit accounting', async () => {
		const { gw, chat } = setup()
		await chat(user('hi', QWEN, { tools: [weatherTool] }))
		expect(gw.count('k1', QWEN)).toEqual({ sent: 0, ok: 0, rateLimited: 0 })
		expect(gw.window('k1', QWEN)).toEqual({ limit: 30, remaining: 30, resetInSeconds: 0 })
	})
})

describe('non-streamed success', () => {
	test('has no id/object/created, copies the request and reports both usage namings', async () => {
		const { chat } = setup()
		const req = {
			model: 'gpt-5',
			messages: [
				{ role: 'system', content: 'Be brief.' },
				{ role: 'user', content: 'What is the capital of France?' },
			],
			max_tokens: 60,
			temperature: 0.3,
			post_processing_steps: [{ type: 'json-repair' }],
		}
		const res = await chat(req)
		expect(res.status).toBe(200)
		expect(res.headers.get('content-type')).toBe('application/json')
		const body = (await res.json()) as any
		expect(body.id).toBeUndefined()
		expect(body.object).toBeUndefined()
		expect(body.created).toBeUndefined()
		expect(body.request).toEqual({ model: 'gpt-5', max_tokens: 60, temperature: 0.3 })
		expect(body.request_id).toMatch(UUID)
		expect(body.model).toBe('gpt-5')
		expect(body.http_status_code).toBe(200)
		expect(body.llm_status_code).toBe(200)
		expect(Number.isInteger(body.response_time)).toBe(true)
		expect(body.response_time).toBeGreaterThan(0)
		expect(body.choices).toEqual([{ index: 0, message: { role: 'assistant', content: 'Echo: What is the capital of France?' }, finish_reason: 'stop' }])
		// 'Be brief.' (9) + 'What is the capital of France?' (30) = 39 chars → 10 tokens; reply has 7 words
		expect(body.usage).toEqual({
			input_tokens: 10,
			prompt_tokens: 10,
			output_tokens: 7,
			completion_tokens: 7,
			total_tokens: 17,
			prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0, cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 } },
			completion_tokens_details: { reasoning_tokens: 0 },
		})
		expect(body.usage).toEqual(fakeUsage(req, 'Echo: What is the capital of France?'))
	})

	test('a prompt string becomes one user message and leaves the request copy', async () => {
		const { chat } = setup()
		const body = (await (await chat({ model: QWEN, prompt: 'tell me', max_tokens: 60 })).json()) as any
		expect(body.choices[0].message.content).toBe('Echo: tell me')
		expect(body.request).toEqual({ model: QWEN, max_tokens: 60 })
		expect(body.usage.prompt_tokens).toBe(Math.ceil('tell me'.length / 4))
	})

	test('text parts are joined with newlines; the last user message is echoed', async () => {
		const { chat } = setup()
		const body = (await (
			await chat({
				model: 'gpt-5',
				messages: [
					{ role: 'user', content: 'first' },
					{ role: 'assistant', content: 'ok' },
					{
						role: 'user',
						content: [
							{ type: 'text', text: 'a b' },
							{ type: 'text', text: 'c' },
						],
					},
				],
			})
		).json()) as any
		expect(body.choices[0].message.content).toBe('Echo: a b\nc')
		expect(body.usage.completion_tokens).toBe(4)
		expect(body.usage.prompt_tokens).toBe(Math.ceil((5 + 2 + 5) / 4))
	})

	test('name is prepended for non-OpenAI models only', async () => {
		const { chat } = setup()
		const msg = { role: 'user', content: 'hi', name: 'alice' }
		const claude = (await (await chat({ model: SONNET, messages: [msg] })).json()) as any
		expect(claude.choices[0].message.content).toBe('Echo: alice: hi')
		const gpt = (await (await chat({ model: 'gpt-5', messages: [msg] })).json()) as any
		expect(gpt.choices[0].message.content).toBe('Echo: hi')
	})

	test('provider-native finish reasons', async () => {
		const { chat } = setup()
		const reason = async (model: string) => ((await (await chat(user('hi', model))).json()) as any).choices[0].finish_reason
		expect(await reason(SONNET)).toBe('end_turn')
		expect(await reason('gpt-5')).toBe('stop')
		expect(await reason(QWEN)).toBe('stop')
		expect(await reason('gemini-2.5-flash')).toBe('STOP')
		expect(finishReasons('claude-opus-4-7')).toEqual({ stop: 'end_turn', tool: 'tool_use', length: 'max_tokens' })
	})

	test('max_tokens below the reply length truncates and finishes with the length reason', async () => {
		const { chat } = setup()
		const cases: [string, string][] = [
			[SONNET, 'max_tokens'],
			['gpt-5', 'length'],
			[QWEN, 'length'],
			['gemini-2.5-flash', 'MAX_TOKENS'],
		]
		for (const [model, reason] of cases) {
			const body = (await (await chat(user('one  two three four', model, { max_tokens: 3 }))).json()) as any
			expect(body.choices[0].message.content).toBe('Echo: one  two')
			expect(body.choices[0].finish_reason).toBe(reason)
			expect(body.usage.completion_tokens).toBe(3)
		}
		const exact = (await (await chat(user('one two', 'gpt-5', { max_tokens: 3 }))).json()) as any
		expect(exact.choices[0].finish_reason).toBe('stop')
	})

	test('no cache without a marker on Claude, nor below the documented minimum (Sonnet 4.6: 2,048 tokens)', async () => {
		const { chat } = setup()
		const text = 'x'.repeat(400)
		for (const extra of [{}, { cache_control: { type: 'ephemeral' } }]) {
			for (let i = 0; i < 2; i++) {
				const body = (await (await chat(user(text, SONNET, extra))).json()) as any
				expect(body.usage.prompt_tokens).toBe(100)
				expect(body.usage.prompt_tokens_details).toEqual({
					cached_tokens: 0,
					audio_tokens: 0,
					cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
				})
			}
		}
	})

	describe('per-key prompt caches', () => {
		const SYSTEM = 'y'.repeat(10_000) // 2,500 tokens: over Sonnet 4.6's 2,048
		const turn = (question: string, marker: Record<string, unknown> | null = { type: 'ephemeral' }, model = SONNET) => ({
			model,
			messages: [
				{ role: 'system', content: SYSTEM, ...(marker ? { cache_control: marker } : {}) },
				{ role: 'user', content: question },
			],
		})
		const details = async (res: Promise<Response>) => ((await (await res).json()) as any).usage.prompt_tokens_details

		test('Claude: a marked prefix is written once (5m), then read by the same key and model within the TTL', async () => {
			const { chat, tick } = setup()
			expect(await details(chat(turn('a')))).toMatchObject({
				cached_tokens: 0,
				cache_creation: { ephemeral_5m_input_tokens: 2500, ephemeral_1h_input_tokens: 0 },
			})
			expect(await details(chat(turn('b')))).toMatchObject({ cached_tokens: 2500, cache_creation: { ephemeral_5m_input_tokens: 0 } })
			// Another key: its own cache, a write again.
			expect(await details(chat(turn('c'), { key: 'k2' }))).toMatchObject({ cached_tokens: 0, cache_creation: { ephemeral_5m_input_tokens: 2500 } })
			// Another model: another cache.
			expect(await details(chat(turn('d', { type: 'ephemeral' }, 'claude-opus-4-7')))).toMatchObject({ cached_tokens: 0 })
			// A read refreshes the TTL: 4 min later still there; 5 min after the last read, gone.
			tick(240_000)
			expect(await details(chat(turn('e')))).toMatchObject({ cached_tokens: 2500 })
			tick(300_001)
			expect(await details(chat(turn('f')))).toMatchObject({ cached_tokens: 0, cache_creation: { ephemeral_5m_input_tokens: 2500 } })
		})

		test('Claude: the 1h TTL is reported as such and outlives five minutes; an unmarked request reads nothing', async () => {
			const { chat, tick } = setup()
			expect(await details(chat(turn('a', { type: 'ephemeral', ttl: '1h' })))).toMatchObject({
				cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 2500 },
			})
			tick(1_800_000)
			expect(await details(chat(turn('b', { type: 'ephemeral', ttl: '1h' })))).toMatchObject({ cached_tokens: 2500 })
			expect(await details(chat(turn('c', null)))).toMatchObject({ cached_tokens: 0 })
		})

		test('OpenAI: automatic, the longest prefix seen at a message boundary, above 1,024 tokens, no write reported', async () => {
			const { chat } = setup()
			const history = [
				{ role: 'system', content: 'z'.repeat(6000) },
				{ role: 'user', content: 'q1' },
			]
			expect(await details(chat({ model: 'gpt-5', messages: history }))).toMatchObject({ cached_tokens: 0, cache_creation: { ephemeral_5m_input_tokens: 0 } })
			const next = [...history, { role: 'assistant', content: 'a1' }, { role: 'user', content: 'q2' }]
			// system (1,500) + q1 (2 chars): ceil(6002 / 4) = 1,501 tokens were seen before.
			expect(await details(chat({ model: 'gpt-5', messages: next }))).toMatchObject({ cached_tokens: 1501 })
			// A short prompt is never cached.
			for (let i = 0; i < 2; i++)
				expect(await details(chat({ model: 'gpt-5', messages: [{ role: 'user', content: 'short' }] }))).toMatchObject({ cached_tokens: 0 })
			// A model without documented caching: none.
			for (let i = 0; i < 2; i++) expect(await details(chat({ model: QWEN, messages: history }))).toMatchObject({ cached_tokens: 0 })
		})

		test('reset() empties the caches', async () => {
			const { chat, gw } = setup()
			await chat(turn('a'))
			gw.reset()
			expect(await details(chat(turn('b')))).toMatchObject({ cached_tokens: 0 })
		})
	})

	test('nullArrays sends null for an empty tool_calls', async () => {
		const { chat } = setup({ nullArrays: true })
		const body = (await (await chat(user('hi', 'gpt-5'))).json()) as any
		expect(body.choices[0].message).toEqual({ role: 'assistant', content: 'Echo: hi', tool_calls: null })
	})
})

describe('tool calls', () => {
	test('Claude splits text and tool_calls across two choices', async () => {
		const { chat } = setup()
		const req = user('What is the weather in Paris?', SONNET, { tools: [weatherTool] })
		const body = (await (await chat(req)).json()) as any
		expect(body.choices).toEqual([
			{ index: 0, message: { role: 'assistant', content: 'Let me look that up.' }, finish_reason: 'tool_use' },
			{
				index: 1,
				message: {
					role: 'assistant',
					content: null,
					tool_calls: [{ id: expect.stringMatching(/^toolu_/), type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
				},
				finish_reason: 'tool_use',
			},
		])
		expect(JSON.parse(body.choices[1].message.tool_calls[0].function.arguments)).toEqual({ city: 'Paris' })
		expect(body.usage.completion_tokens).toBe(6)
		expect(body.usage).toEqual(fakeUsage(req, `${CLAUDE_TOOL_PREAMBLE} ${TOOL_ARGUMENTS}`))
	})

	test('OpenAI-like models answer one choice with content null and tool_calls', async () => {
		const { chat } = setup()
		const body = (await (await chat(user('weather?', 'gpt-5', { tools: [weatherTool] }))).json()) as any
		expect(body.choices).toEqual([
			{
				index: 0,
				message: {
					role: 'assistant',
					content: null,
					tool_calls: [{ id: expect.stringMatching(/^call_/), type: 'function', function: { name: 'get_weather', arguments: TOOL_ARGUMENTS } }],
				},
				finish_reason: 'tool_calls',
			},
		])
		expect(body.usage.completion_tokens).toBe(1)
	})

	test('Gemini reports STOP for a tool call', async () => {
		const { chat } = setup()
		const body = (await (await chat(user('weather', 'gemini-2.5-flash', { tools: [weatherTool] }))).json()) as any
		expect(body.choices[0].finish_reason).toBe('STOP')
		expect(body.choices[0].message.tool_calls[0].function.name).toBe('get_weather')
	})

	test('tool_choice naming a function calls it without the trigger word; "none" suppresses calls', async () => {
		const { chat } = setup()
		const named = (await (
			await chat(
				user('hello', 'gpt-5', {
					tools: [weatherTool, timeTool],
					tool_choice: { type: 'function', function: { name: 'get_time' } },
				}),
			)
		).json()) as any
		expect(named.choices[0].message.tool_calls[0].function.name).toBe('get_time')
		const none = (await (await chat(user('weather', 'gpt-5', { tools: [weatherTool], tool_choice: 'none' }))).json()) as any
		expect(none.choices[0].message.content).toBe('Echo: weather')
		const noTrigger = (await (await chat(user('hello', 'gpt-5', { tools: [weatherTool] }))).json()) as any
		expect(noTrigger.choices[0].message.content).toBe('Echo: hello')
	})

	test('choiceLevelToolCalls moves tool_calls beside message', async () => {
		const { chat } = setup({ choiceLevelToolCalls: true })
		const body = (await (await chat(user('weather', SONNET, { tools: [weatherTool] }))).json()) as any
		expect(body.choices[1].message).toEqual({ role: 'assistant', content: null })
		expect(body.choices[1].tool_calls[0].function).toEqual({ name: 'get_weather', arguments: TOOL_ARGUMENTS })
	})

	test('a tool result (current format) is echoed', async () => {
		const { chat } = setup()
		const body = (await (
			await chat({
				model: 'gpt-5',
				tools: [weatherTool],
				messages: [
					{ role: 'user', content: 'weather in Paris?' },
					{ role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: TOOL_ARGUMENTS } }] },
					{ role: 'tool', tool_call_id: 'call_1', name: 'get_weather', content: '{"temp_c":18}' },
				],
			})
		).json()) as any
		expect(body.choices[0].message.content).toBe('Echo: {"temp_c":18}')
		expect(body.choices[0].finish_reason).toBe('stop')
		// 17 + 16 (arguments) + 13 chars
		expect(body.usage.prompt_tokens).toBe(Math.ceil((17 + 16 + 13) / 4))
	})

	test('the legacy function_call / function_call_output items are accepted', async () => {
		const { chat } = setup()
		const res = await chat({
			model: SONNET,
			tools: [weatherTool],
			messages: [
				{ role: 'user', content: 'weather in Paris?' },
				{ type: 'function_call', tool_call_id: 'call_1', name: 'get_weather', arguments: TOOL_ARGUMENTS },
				{ type: 'function_call_output', tool_call_id: 'call_1', name: 'get_weather', output: '{"temp_c":18}' },
			],
		})
		expect(res.status).toBe(200)
		const body = (await res.json()) as any
		expect(body.choices[0].message.content).toBe('Echo: {"temp_c":18}')
		expect(body.choices[0].finish_reason).toBe('end_turn')
	})

	test('fakeAnswer matches what the fake sends', () => {
		expect(fakeAnswer(user('weather', SONNET, { tools: [weatherTool] }))).toEqual({
			text: 'Let me look that up.',
			toolCall: { name: 'get_weather', arguments: TOOL_ARGUMENTS },
			finishReason: 'tool_use',
			output: 'Let me look that up. {"city":"Paris"}',
		})
		expect(fakeAnswer(user('a b c', 'gpt-5', { max_tokens: 2 }))).toMatchObject({ text: 'Echo: a', finishReason: 'length' })
	})
})

describe('rate limits', () => {
	test('every 2xx carries the X-RateLimit-* headers, remaining counting down', async () => {
		const { chat } = setup()
		for (let i = 1; i <= 3; i++) {
			const res = await chat(user('hi'))
			expect(res.status).toBe(200)
			expect(res.headers.get('x-ratelimit-limit')).toBe('30')
			expect(res.headers.get('x-ratelimit-remaining')).toBe(String(30 - i))
			expect(res.headers.get('x-ratelimit-reset')).toBe('60')
			expect(res.headers.get('x-ratelimit-model')).toBe(SONNET)
			expect(res.headers.get('x-ratelimit-service')).toBe('llmgw')
			expect(res.headers.get('retry-after')).toBeNull()
		}
	})

	test('over the limit: 429 envelope B with Retry-After and Remaining 0; the window reopens after 60 s', async () => {
		const { gw, chat, tick } = setup({ limit: 2 })
		expect((await chat(user('a'))).status).toBe(200)
		tick(17_500)
		const second = await chat(user('b'))
		expect(second.headers.get('x-ratelimit-remaining')).toBe('0')
		expect(second.headers.get('x-ratelimit-reset')).toBe('43')
		const res = await chat(user('c'))
		expect(res.status).toBe(429)
		expect(await res.json()).toEqual({ request_id: expect.stringMatching(UUID), message: 'rate limit exceeded', code: 429 })
		expect(res.headers.get('retry-after')).toBe('43')
		expect(res.headers.get('x-ratelimit-limit')).toBe('2')
		expect(res.headers.get('x-ratelimit-remaining')).toBe('0')
		expect(res.headers.get('x-ratelimit-reset')).toBe('43')
		expect(res.headers.get('x-ratelimit-model')).toBe(SONNET)
		expect(res.headers.get('x-ratelimit-service')).toBe('llmgw')
		expect(gw.count('k1', SONNET)).toEqual({ sent: 3, ok: 2, rateLimited: 1 })
		expect(gw.window('k1', SONNET)).toEqual({ limit: 2, remaining: 0, resetInSeconds: 43 })
		expect(gw.requests[2]!.status).toBe(429)

		tick(42_499)
		const late = await chat(user('d'))
		expect(late.status).toBe(429)
		expect(late.headers.get('retry-after')).toBe('1')
		tick(1)
		const fresh = await chat(user('e'))
		expect(fresh.status).toBe(200)
		expect(fresh.headers.get('x-ratelimit-remaining')).toBe('1')
		expect(fresh.headers.get('x-ratelimit-reset')).toBe('60')
		expect(gw.count('k1', SONNET)).toEqual({ sent: 5, ok: 3, rateLimited: 2 })
	})

	test('windows are per key and per model; a key limit overrides the default', async () => {
		const { gw, chat } = setup({ limit: 1, keys: { k1: {}, k2: { limit: 3 } } })
		expect((await chat(user('a'))).status).toBe(200)
		expect((await chat(user('a'))).status).toBe(429)
		expect((await chat(user('a', 'gpt-5'))).status).toBe(200)
		const other = await chat(user('a'), { key: 'k2' })
		expect(other.status).toBe(200)
		expect(other.headers.get('x-ratelimit-limit')).toBe('3')
		expect(other.headers.get('x-ratelimit-remaining')).toBe('2')
		expect(gw.count('k2', SONNET)).toEqual({ sent: 1, ok: 1, rateLimited: 0 })
		expect(gw.window('k2', SONNET)).toEqual({ limit: 3, remaining: 2, resetInSeconds: 60 })
	})

	test('the default limit is 30', async () => {
		const { chat } = setup()
		for (let i = 0; i < 30; i++) expect((await chat(user('x'))).status).toBe(200)
		expect((await chat(user('x'))).status).toBe(429)
	})

	test('window() reports the live window and expires it on the injected clock', async () => {
		const { gw, chat, tick } = setup()
		expect(gw.window('k1', SONNET)).toEqual({ limit: 30, remaining: 30, resetInSeconds: 0 })
		await chat(user('x'))
		tick(10_200)
		expect(gw.window('k1', SONNET)).toEqual({ limit: 30, remaining: 29, resetInSeconds: 50 })
		tick(49_800)
		expect(gw.window('k1', SONNET)).toEqual({ limit: 30, remaining: 30, resetInSeconds: 0 })
	})
})

describe('streaming', () => {
	test('SSE frames per §5.2 with a usage-only chunk and [DONE]', async () => {
		const { chat } = setup()
		const req = user('what is up', 'gpt-5', { stream: true, stream_options: { include_usage: true } })
		const res = await chat(req)
		expect(res.status).toBe(200)
		expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
		expect(res.headers.get('x-ratelimit-remaining')).toBe('29')
		expect(res.headers.get('x-ratelimit-model')).toBe('gpt-5')
		const { chunks, done, error, text } = await readSse(res)
		expect(error).toBeNull()
		expect(done).toBe(true)
		expect(text.endsWith('data: [DONE]\n\n')).toBe(true)
		for (const c of chunks) {
			expect(c.object).toBe('chat.completion.chunk')
			expect(c.id).toBe(chunks[0].id)
			expect(c.model).toBe('gpt-5')
		}
		expect(chunks[0].choices[0]).toEqual({ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null })
		const contentChunks = chunks.filter((c) => c.choices?.[0]?.delta?.content)
		expect(contentChunks.length).toBeGreaterThanOrEqual(2)
		expect(contentOf(chunks)).toBe('Echo: what is up')
		const finish = chunks[chunks.length - 2]
		expect(finish.choices[0]).toEqual({ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' })
		const last = chunks[chunks.length - 1]
		expect(last.choices).toEqual([])
		const u = fakeUsage(req, 'Echo: what is up')
		expect(last.usage).toEqual({ prompt_tokens: u.prompt_tokens, completion_tokens: 4, total_tokens: u.prompt_tokens + 4 })
		for (const c of chunks.slice(0, -1)) expect(c.usage).toBeNull()
	})

	test('no usage chunk without include_usage', async () => {
		const { chat } = setup()
		const { chunks, done } = await readSse(await chat(user('hi', SONNET, { stream: true })))
		expect(done).toBe(true)
		expect(chunks.every((c) => c.choices.length === 1 && !('usage' in c))).toBe(true)
		expect(chunks[chunks.length - 1].choices[0].finish_reason).toBe('end_turn')
	})

	test('the hosted Qwen reports its base model id in chunks', async () => {
		const { chat } = setup()
		const { chunks } = await readSse(await chat(user('hi', QWEN, { stream: true })))
		expect(new Set(chunks.map((c) => c.model))).toEqual(new Set(['qwen3.5-4b-32k']))
	})

	test('truncation streams the length reason', async () => {
		const { chat } = setup()
		const { chunks } = await readSse(await chat(user('a b c d', SONNET, { stream: true, max_tokens: 2 })))
		expect(contentOf(chunks)).toBe('Echo: a')
		expect(chunks[chunks.length - 1].choices[0].finish_reason).toBe('max_tokens')
	})

	test('tool calls stream as deltas: id/type/name once, arguments in fragments', async () => {
		const { chat } = setup()
		const { chunks, done } = await readSse(await chat(user('weather', 'gpt-5', { stream: true, tools: [weatherTool] })))
		expect(done).toBe(true)
		const deltas = chunks.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? [])
		expect(deltas.length).toBeGreaterThanOrEqual(3)
		expect(deltas[0]).toEqual({ index: 0, id: expect.stringMatching(/^call_/), type: 'function', function: { name: 'get_weather', arguments: '' } })
		for (const d of deltas.slice(1)) {
			expect(d.id).toBeUndefined()
			expect(d.function.name).toBeUndefined()
			expect(d.index).toBe(0)
		}
		const fragments = deltas.slice(1).map((d: any) => d.function.arguments)
		expect(fragments.length).toBeGreaterThanOrEqual(2)
		expect(fragments.every((f: string) => f.length > 0)).toBe(true)
		expect(deltas.map((d: any) => d.function.arguments).join('')).toBe(TOOL_ARGUMENTS)
		expect(chunks[chunks.length - 1].choices[0].finish_reason).toBe('tool_calls')
	})

	test('Claude streams its text, the tool call and the native tool_use finish reason', async () => {
		const { chat } = setup()
		const { chunks } = await readSse(await chat(user('weather', SONNET, { stream: true, tools: [weatherTool] })))
		expect(contentOf(chunks)).toBe(CLAUDE_TOOL_PREAMBLE)
		expect(chunks.some((c) => c.choices[0]?.delta?.tool_calls?.[0]?.id?.startsWith('toolu_'))).toBe(true)
		expect(chunks[chunks.length - 1].choices[0].finish_reason).toBe('tool_use')
	})

	test('nullArrays sends choices: null in the usage chunk', async () => {
		const { chat } = setup({ nullArrays: true })
		const { chunks } = await readSse(await chat(user('hi', 'gpt-5', { stream: true, stream_options: { include_usage: true } })))
		expect(chunks[chunks.length - 1].choices).toBeNull()
	})

	test('a streamed 429 is a normal JSON error', async () => {
		const { chat } = setup({ limit: 0 })
		const res = await chat(user('hi', SONNET, { stream: true }))
		expect(res.status).toBe(429)
		expect(res.headers.get('content-type')).toBe('application/json')
		expect(res.headers.get('retry-after')).toBe('60')
	})
})

describe('faults', () => {
	test('status 500 in envelope B, consumed once, only after auth', async () => {
		const { gw, chat } = setup()
		gw.fault('k1', { kind: 'status', status: 500 })
		expect((await chat(user('hi'), { key: 'stranger' })).status).toBe(401)
		const res = await chat(user('hi'))
		expect(res.status).toBe(500)
		expect(await res.json()).toEqual({ message: 'something went wrong', code: 500, request_id: expect.stringMatching(UUID) })
		expect(res.headers.get('x-ratelimit-limit')).toBeNull()
		expect(gw.requests[1]).toMatchObject({ status: 500, fault: 'status' })
		expect((await chat(user('hi'))).status).toBe(200)
		// faulted requests never reach accounting
		expect(gw.count('k1', SONNET)).toEqual({ sent: 1, ok: 1, rateLimited: 0 })
	})

	test('invalid requests do not consume a fault', async () => {
		const { gw, chat } = setup()
		gw.fault('k1', { kind: 'status', status: 503 })
		expect((await chat(user('hi', 'nope'))).status).toBe(400)
		expect((await chat(user('hi'))).status).toBe(503)
	})

	test('plain-text 5xx', async () => {
		const { gw, chat } = setup()
		gw.fault('k1', { kind: 'status', status: 504, envelope: 'plain' })
		const res = await chat(user('hi'))
		expect(res.status).toBe(504)
		expect(res.headers.get('content-type')).toStartWith('text/plain')
		expect(await res.text()).toBe('upstream timeout')
	})

	test('legacy envelope C, provider envelope D, auth envelope A, custom message and headers', async () => {
		const { gw, chat } = setup()
		gw.fault('k1', { kind: 'status', status: 400, envelope: 'C', message: 'bad thing' })
		gw.fault('k1', { kind: 'status', status: 400, envelope: 'D' })
		gw.fault('k1', { kind: 'status', status: 403, envelope: 'A', headers: { 'x-extra': 'yes' } })
		const c = await chat(user('hi'))
		expect(c.status).toBe(400)
		expect(await c.json()).toEqual({ error: { code: 400, message: 'bad thing', metadata: {} } })
		const d = await chat(user('hi'))
		expect(d.status).toBe(400)
		const dBody = (await d.json()) as any
		expect(Object.keys(dBody)).toEqual(['message'])
		expect(dBody.message).toStartWith('ValidationException: ')
		const a = await chat(user('hi'))
		expect(a.status).toBe(403)
		expect(a.headers.get('x-extra')).toBe('yes')
		expect(await a.json()).toEqual({ error: 'Forbidden – Insufficient permissions', status: 'error', request_id: expect.stringMatching(UUID) })
	})

	test('times, persistent, "*" and clearFaults', async () => {
		const { gw, chat } = setup()
		gw.fault('k1', { kind: 'status', status: 502 }, { times: 2 })
		expect((await chat(user('x'))).status).toBe(502)
		expect((await chat(user('x'))).status).toBe(502)
		expect((await chat(user('x'))).status).toBe(200)
		gw.fault('*', { kind: 'status', status: 500 }, { persistent: true })
		expect((await chat(user('x'))).status).toBe(500)
		expect((await chat(user('x'), { key: 'k2' })).status).toBe(500)
		expect((await chat(user('x'), { key: 'k2' })).status).toBe(500)
		gw.clearFaults()
		expect((await chat(user('x'), { key: 'k2' })).status).toBe(200)
	})

	test('faults apply in insertion order across the key and "*"', async () => {
		const { gw, chat } = setup()
		gw.fault('*', { kind: 'status', status: 500 })
		gw.fault('k1', { kind: 'status', status: 503 })
		expect((await chat(user('x'))).status).toBe(500)
		expect((await chat(user('x'))).status).toBe(503)
		gw.fault('k2', { kind: 'status', status: 502 })
		expect((await chat(user('x'))).status).toBe(200)
		expect((await chat(user('x'), { key: 'k2' })).status).toBe(502)
	})

	test('rate-limit fault: 429 envelope B with Retry-After and Remaining 0', async () => {
		const { gw, chat } = setup()
		gw.fault('k1', { kind: 'rate-limit', retryAfter: 17 })
		gw.fault('k1', { kind: 'rate-limit' })
		const res = await chat(user('hi'))
		expect(res.status).toBe(429)
		expect(await res.json()).toEqual({ request_id: expect.stringMatching(UUID), message: 'rate limit exceeded', code: 429 })
		expect(res.headers.get('retry-after')).toBe('17')
		expect(res.headers.get('x-ratelimit-remaining')).toBe('0')
		expect(res.headers.get('x-ratelimit-reset')).toBe('17')
		expect(res.headers.get('x-ratelimit-limit')).toBe('30')
		expect(res.headers.get('x-ratelimit-model')).toBe(SONNET)
		const dflt = await chat(user('hi'))
		expect(dflt.headers.get('retry-after')).toBe('60')
	})

	test('rate-limit-400: a 400 with "rate limit" text and x-ratelimit-remaining 0', async () => {
		const { gw, chat } = setup()
		gw.fault('k1', { kind: 'rate-limit-400' })
		const res = await chat(user('hi'))
		expect(res.status).toBe(400)
		expect(res.headers.get('x-ratelimit-remaining')).toBe('0')
		const body = (await res.json()) as any
		expect(body.message).toContain('rate limit')
		expect(body.code).toBe(400)
	})

	test('body-code: HTTP 200 whose body carries code >= 400', async () => {
		const { gw, chat } = setup()
		gw.fault('k1', { kind: 'body-code', status: 500 })
		const res = await chat(user('hi'))
		expect(res.status).toBe(200)
		expect(await res.json()).toEqual({ request_id: expect.stringMatching(UUID), message: 'something went wrong', code: 500 })
	})

	test('delay answers normally afterwards, and is counted', async () => {
		const { gw, chat } = setup()
		gw.fault('k1', { kind: 'delay', ms: 80 })
		const t0 = performance.now()
		const res = await chat(user('hi'))
		expect(performance.now() - t0).toBeGreaterThanOrEqual(75)
		expect(res.status).toBe(200)
		expect(((await res.json()) as any).choices[0].message.content).toBe('Echo: hi')
		expect(gw.requests[0]).toMatchObject({ status: 200, fault: 'delay' })
		expect(gw.requests[0]!.aborted).toBeUndefined()
		expect(gw.count('k1', SONNET).ok).toBe(1)
	})

	test('delay honours the abort signal and records the abort (handler mode)', async () => {
		const { gw, chat } = setup()
		gw.fault('k1', { kind: 'delay', ms: 10_000 })
		const ac = new AbortController()
		const t0 = performance.now()
		const pending = chat(user('hi'), { signal: ac.signal })
		setTimeout(() => ac.abort(), 30)
		const err = await pending.then(
			() => null,
			(e: unknown) => e,
		)
		expect(performance.now() - t0).toBeLessThan(2_000)
		expect((err as Error).name).toBe('AbortError')
		expect(gw.requests[0]).toMatchObject({ aborted: true, status: 0 })
		expect(gw.count('k1', SONNET).sent).toBe(0)
	})

	test('reset in handler mode: a rejected promise with a TypeError', async () => {
		const { gw, chat } = setup()
		gw.fault('k1', { kind: 'reset' })
		const err = await chat(user('hi')).then(
			() => null,
			(e: unknown) => e,
		)
		expect(err).toBeInstanceOf(TypeError)
		expect(gw.requests[0]).toMatchObject({ status: 0, fault: 'reset' })
		expect((await chat(user('hi'))).status).toBe(200)
	})

	test('stream die (close): chunks then a clean end without [DONE]', async () => {
		const { gw, chat } = setup()
		gw.fault('k1', { kind: 'die', afterChunks: 2 })
		const res = await chat(user('one two three four', 'gpt-5', { stream: true }))
		expect(res.status).toBe(200)
		const { chunks, done, error } = await readSse(res)
		expect(error).toBeNull()
		expect(done).toBe(false)
		expect(chunks.length).toBe(2)
		expect(chunks.some((c) => c.choices[0].finish_reason)).toBe(false)
	})

	test('stream die (error): the body errors in handler mode', async () => {
		const { gw, chat } = setup()
		gw.fault('k1', { kind: 'die', afterChunks: 1, mode: 'error' })
		const { chunks, done, error } = await readSse(await chat(user('hi', 'gpt-5', { stream: true })))
		expect(chunks.length).toBe(1)
		expect(done).toBe(false)
		expect(error).toBeInstanceOf(TypeError)
	})

	test('stall: N chunks then silence until the client aborts, abort recorded (handler mode)', async () => {
		const { gw, chat } = setup()
		gw.fault('k1', { kind: 'stall', afterChunks: 2 })
		const ac = new AbortController()
		const res = await chat(user('a b c d', 'gpt-5', { stream: true }), { signal: ac.signal })
		const reader = res.body!.getReader()
		const dec = new TextDecoder()
		let got = ''
		while (got.split('\n\n').length - 1 < 2) got += dec.decode((await reader.read()).value)
		const next = reader.read()
		const raced = await Promise.race([
			next.then(
				() => 'data',
				() => 'error',
			),
			Bun.sleep(100).then(() => 'silent'),
		])
		expect(raced).toBe('silent')
		expect(gw.requests[0]!.aborted).toBeUndefined()
		ac.abort()
		const err = await next.then(
			() => null,
			(e: unknown) => e,
		)
		expect((err as Error).name).toBe('AbortError')
		expect(gw.requests[0]).toMatchObject({ aborted: true, status: 200, fault: 'stall' })
	})

	test('stall on a non-streamed request: no answer until abort', async () => {
		const { gw, chat } = setup()
		gw.fault('k1', { kind: 'stall', afterChunks: 0 })
		const ac = new AbortController()
		const pending = chat(user('hi'), { signal: ac.signal })
		const raced = await Promise.race([
			pending.then(
				() => 'answered',
				() => 'error',
			),
			Bun.sleep(80).then(() => 'silent'),
		])
		expect(raced).toBe('silent')
		ac.abort()
		expect(
			(
				(await pending.then(
					() => null,
					(e: unknown) => e,
				)) as Error
			).name,
		).toBe('AbortError')
		expect(gw.requests[0]!.aborted).toBe(true)
	})

	test('die on a non-streamed request: half a JSON body', async () => {
		const { gw, chat } = setup()
		gw.fault('k1', { kind: 'die', afterChunks: 0 })
		const res = await chat(user('hi'))
		expect(res.status).toBe(200)
		const text = await res.text()
		expect(() => JSON.parse(text)).toThrow()
		expect(text).toStartWith('{"request":')
	})
})

describe('test controls for streaming modes', () => {
	test('gap: a stream goes silent for ms after N frames, then ends normally', async () => {
		const { gw, chat } = setup()
		gw.fault('k1', { kind: 'gap', afterChunks: 2, ms: 300 })
		const t0 = performance.now()
		const res = await chat(user('one two three', 'gpt-5', { stream: true }))
		const { chunks, done } = await readSse(res)
		expect(performance.now() - t0).toBeGreaterThanOrEqual(290)
		expect(done).toBe(true)
		expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe('Echo: one two three')
		expect(gw.requests[0]!.fault).toBe('gap')
	})

	test('answer: the scripted text and finish reason, streamed or not, with usage counting it', async () => {
		const { gw, chat } = setup()
		gw.fault('k1', { kind: 'answer', text: 'cut her', finish: 'length' })
		const body = (await (await chat(user('anything', SONNET))).json()) as any
		expect(body.choices[0].message.content).toBe('cut her')
		expect(body.choices[0].finish_reason).toBe('max_tokens')
		expect(body.usage.completion_tokens).toBe(2)
		gw.fault('k1', { kind: 'answer', text: 'all done' })
		const { chunks } = await readSse(await chat(user('anything', 'gpt-5', { stream: true })))
		expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe('all done')
		expect(chunks.at(-1)!.choices[0].finish_reason).toBe('stop')
	})
})

describe('over a real socket (listen)', () => {
	async function served(opts: FakeGatewayOptions = {}) {
		const gw = createFakeGateway({ keys: { k1: {} }, ...opts })
		running.push(gw)
		const base = await gw.listen()
		const post = (body: unknown, signal?: AbortSignal) =>
			fetch(`${base}/v1/chat/completions`, {
				method: 'POST',
				headers: { authorization: 'k1', 'content-type': 'application/json', 'x-Trace-ID': 'abc' },
				body: JSON.stringify(body),
				signal,
			})
		return { gw, base, post }
	}

	test('listen resolves a 127.0.0.1 base URL serving both routes', async () => {
		const { gw, base, post } = await served()
		expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
		expect((await fetch(`${base}/v1/models`)).status).toBe(200)
		const res = await post(user('hi'))
		expect(res.status).toBe(200)
		expect(res.headers.get('x-ratelimit-service')).toBe('llmgw')
		expect(((await res.json()) as any).choices[0].message.content).toBe('Echo: hi')
		expect(gw.requests[1]!.headers['x-trace-id']).toBe('abc')
		expect((await fetch(`${base}/v1/nope`)).status).toBe(404)
	})

	test('a full stream over the socket ends with [DONE]', async () => {
		const { gw, post } = await served()
		const { done, chunks, error } = await readSse(await post(user('hi there', QWEN, { stream: true, stream_options: { include_usage: true } })))
		expect(error).toBeNull()
		expect(done).toBe(true)
		expect(contentOf(chunks)).toBe('Echo: hi there')
		await Bun.sleep(20)
		expect(gw.requests[0]).toMatchObject({ status: 200 })
		expect(gw.requests[0]!.aborted).toBeUndefined()
	})

	test('reset gives the fetch client a network error', async () => {
		const { gw, post } = await served()
		gw.fault('k1', { kind: 'reset' })
		const err = await post(user('hi')).then(
			() => null,
			(e: unknown) => e,
		)
		expect(err).toBeInstanceOf(TypeError)
		expect(gw.requests[0]).toMatchObject({ status: 0, fault: 'reset' })
		// the server stays healthy
		expect((await post(user('hi'))).status).toBe(200)
	})

	test('die (error) breaks the connection mid-stream', async () => {
		const { gw, post } = await served()
		gw.fault('k1', { kind: 'die', afterChunks: 2, mode: 'error' })
		const res = await post(user('a b c', 'gpt-5', { stream: true }))
		expect(res.status).toBe(200)
		const { chunks, done, error } = await readSse(res)
		expect(chunks.length).toBe(2)
		expect(done).toBe(false)
		expect(error).not.toBeNull()
	})

	test('die (close) ends the stream cleanly without [DONE]', async () => {
		const { gw, post } = await served()
		gw.fault('k1', { kind: 'die', afterChunks: 3 })
		const { chunks, done, error } = await readSse(await post(user('a b c', 'gpt-5', { stream: true })))
		expect(error).toBeNull()
		expect(chunks.length).toBe(3)
		expect(done).toBe(false)
	})

	test('a client abort during a stall reaches the fake', async () => {
		const { gw, post } = await served()
		gw.fault('k1', { kind: 'stall', afterChunks: 1 })
		const ac = new AbortController()
		const res = await post(user('hi', 'gpt-5', { stream: true }), ac.signal)
		const reader = res.body!.getReader()
		expect(new TextDecoder().decode((await reader.read()).value)).toStartWith('data: ')
		const next = reader.read()
		const raced = await Promise.race([
			next.then(
				(r) => (r.done ? 'ended' : 'data'),
				() => 'error',
			),
			Bun.sleep(100).then(() => 'silent'),
		])
		expect(raced).toBe('silent')
		ac.abort()
		await next.catch(() => null)
		for (let i = 0; i < 100 && !gw.requests[0]!.aborted; i++) await Bun.sleep(10)
		expect(gw.requests[0]).toMatchObject({ aborted: true, status: 200 })
	})

	test('a client abort during a delay reaches the fake', async () => {
		const { gw, post } = await served()
		gw.fault('k1', { kind: 'delay', ms: 10_000 })
		const ac = new AbortController()
		const pending = post(user('hi'), ac.signal).catch((e: unknown) => e)
		await Bun.sleep(50)
		ac.abort()
		expect(((await pending) as Error).name).toBe('AbortError')
		for (let i = 0; i < 100 && !gw.requests[0]!.aborted; i++) await Bun.sleep(10)
		expect(gw.requests[0]).toMatchObject({ aborted: true, status: 0 })
	})
})

describe('request log and reset', () => {
	test('records every request with lower-cased headers and the parsed body', async () => {
		const { gw, chat, tick } = setup()
		await gw.fetch(new Request(`${BASE}/v1/models`))
		tick(5)
		const body = user('hi', 'gpt-5', { temperature: 0.1 })
		await gw.fetch(
			new Request(`${BASE}/v1/chat/completions`, {
				method: 'POST',
				headers: { Authorization: 'Bearer k2', 'Content-Type': 'application/json', 'X-Custom': 'V' },
				body: JSON.stringify(body),
			}),
		)
		await chat(user('bad', 'nope'))
		expect(gw.requests.length).toBe(3)
		expect(gw.requests.map((r) => r.path)).toEqual(['/v1/models', '/v1/chat/completions', '/v1/chat/completions'])
		const r = gw.requests[1]!
		expect(r).toMatchObject({ at: 1_000_005, method: 'POST', key: 'k2', authScheme: 'bearer', model: 'gpt-5', status: 200, body })
		expect(r.headers).toMatchObject({ authorization: 'Bearer k2', 'content-type': 'application/json', 'x-custom': 'V' })
		expect(Object.keys(r.headers).every((h) => h === h.toLowerCase())).toBe(true)
		expect(gw.requests[2]!.status).toBe(400)
	})

	test('fetch accepts (url, init) as well as a Request', async () => {
		const { gw } = setup()
		const res = await gw.fetch(`${BASE}/v1/chat/completions`, {
			method: 'POST',
			headers: { authorization: 'k1' },
			body: JSON.stringify(user('hi')),
		})
		expect(res.status).toBe(200)
	})

	test('unknown routes and wrong methods', async () => {
		const { gw } = setup()
		expect((await gw.fetch(`${BASE}/v1/embeddings`, { method: 'POST', body: '{}' })).status).toBe(404)
		expect((await gw.fetch(`${BASE}/v1/chat/completions`)).status).toBe(405)
		expect(gw.requests.map((r) => r.status)).toEqual([404, 405])
	})

	test('reset() clears requests, counters, windows and faults but keeps keys', async () => {
		const { gw, chat } = setup({ limit: 1 })
		const log = gw.requests
		await chat(user('x'))
		await chat(user('x'))
		gw.fault('k1', { kind: 'status', status: 500 }, { persistent: true })
		gw.reset()
		expect(gw.requests.length).toBe(0)
		expect(log).toBe(gw.requests)
		expect(gw.count('k1', SONNET)).toEqual({ sent: 0, ok: 0, rateLimited: 0 })
		expect(gw.window('k1', SONNET)).toEqual({ limit: 1, remaining: 1, resetInSeconds: 0 })
		expect((await chat(user('x'))).status).toBe(200)
	})
})
