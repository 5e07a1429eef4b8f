import { afterEach, describe, expect, test } from 'bun:test'
import { MemoryStorage } from '../../../core/storage.ts'
import { CLAUDE_TOOL_PREAMBLE, TOOL_ARGUMENTS } from '../../fake-gateway.ts'
import { API_PASSWORD, assertNoSecrets, type Harness, KEYS, PANEL_PASSWORD, readSse, startHarness } from '../../support.ts'

let h: Harness
afterEach(async () => {
	assertNoSecrets(h.logs)
	await h.close()
})

const hello = { model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'hello there' }] }
const weather = {
	model: 'claude-sonnet-4-6',
	messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
	tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
}

async function errorOf(response: Response) {
	const body = (await response.json()) as { error: { message: string; type: string; param: string | null; code: string | null } }
	expect(Object.keys(body.error).sort()).toEqual(expect.arrayContaining(['code', 'message', 'param', 'type']))
	return body.error
}

describe('auth on /v1', () => {
	test('missing, wrong and panel credentials are 401 in the OpenAI envelope', async () => {
		h = await startHarness()
		for (const auth of [null, 'wrong-password', PANEL_PASSWORD]) {
			const response = await h.chat(hello, auth)
			expect(response.status).toBe(401)
			const error = await errorOf(response)
			expect(error.type).toBe('authentication_error')
		}
		expect((await h.call('/v1/models', { auth: null })).status).toBe(401)
		expect(h.fake.requests.filter((r) => r.path === '/v1/chat/completions')).toHaveLength(0)
	})

	test('the API password never opens the admin side', async () => {
		h = await startHarness()
		const response = await h.call('/admin/rate-limits', { auth: API_PASSWORD })
		expect(response.status).toBe(401)
		expect((await h.admin('/admin/rate-limits')).status).toBe(200)
	})
})

describe('validation', () => {
	test.each([
		['{not json', null, 'invalid_json'],
		[{ model: 'claude-sonnet-4-6' }, 'messages', null],
		[{ model: 'claude-sonnet-4-6', messages: [] }, 'messages', null],
		[{ messages: [{ role: 'user', content: 'x' }] }, 'model', null],
		[{ ...hello, temperature: 3 }, 'temperature', null],
		[{ ...hello, top_p: 1.5 }, 'top_p', null],
		[{ ...hello, max_tokens: 0 }, 'max_tokens', null],
		[{ ...hello, max_tokens: 'many' }, 'max_tokens', null],
		[{ model: 'claude-sonnet-4-6', messages: [{ role: 'robot', content: 'x' }] }, 'messages[0].role', null],
		[{ ...hello, n: 3 }, 'n', null],
		[{ ...hello, stream: 'yes' }, 'stream', null],
	])('%j -> 400 naming %s', async (body, param, code) => {
		h = await startHarness()
		const response = await h.chat(body)
		expect(response.status).toBe(400)
		const error = await errorOf(response)
		expect(error.type).toBe('invalid_request_error')
		expect(error.param).toBe(param)
		if (code) expect(error.code).toBe(code)
		expect(h.fake.requests).toHaveLength(0)
	})
})

describe('non-streamed chat', () => {
	test('the gateway answer becomes an OpenAI chat.completion', async () => {
		h = await startHarness()
		const response = await h.chat(hello)
		expect(response.status).toBe(200)
		const body = await response.json()
		expect(body.id).toMatch(/^chatcmpl-/)
		expect(body.object).toBe('chat.completion')
		expect(typeof body.created).toBe('number')
		expect(body.model).toBe('claude-sonnet-4-6')
		expect(body.choices).toHaveLength(1)
		expect(body.choices[0]).toMatchObject({ index: 0, message: { role: 'assistant', content: 'Echo: hello there' }, finish_reason: 'stop' })
		expect(body.usage.prompt_tokens).toBeGreaterThan(0)
		expect(body.usage.total_tokens).toBe(body.usage.prompt_tokens + body.usage.completion_tokens)
		expect(body.usage.prompt_tokens_details).toHaveProperty('cached_tokens')
		// What went upstream: the raw key, no Bearer; stream not set.
		const sent = h.fake.requests[h.fake.requests.length - 1]!
		expect(sent.authScheme).toBe('raw')
		expect(KEYS).toContain(sent.key as string)
		expect(sent.body.stream).toBeUndefined()
	})

	test('a split Claude answer (text + tool call) becomes one choice with finish_reason tool_calls', async () => {
		h = await startHarness()
		const body = await (await h.chat(weather)).json()
		expect(body.choices).toHaveLength(1)
		const choice = body.choices[0]
		expect(choice.finish_reason).toBe('tool_calls')
		expect(choice.message.content).toBe(CLAUDE_TOOL_PREAMBLE)
		expect(choice.message.tool_calls).toHaveLength(1)
		expect(choice.message.tool_calls[0]).toMatchObject({ type: 'function', function: { name: 'get_weather', arguments: TOOL_ARGUMENTS } })
		expect(typeof choice.message.tool_calls[0].id).toBe('string')
	})

	test('a length stop from Claude (max_tokens) maps to length', async () => {
		h = await startHarness()
		const body = await (await h.chat({ ...hello, messages: [{ role: 'user', content: 'one two three four five six' }], max_tokens: 2 })).json()
		expect(body.choices[0].finish_reason).toBe('length')
	})

	test('gateway extras pass through, OpenAI-only fields the gateway rejects are dropped, text parts are flattened', async () => {
		h = await startHarness()
		const response = await h.chat({
			model: 'claude-sonnet-4-6',
			messages: [
				{ role: 'system', content: [{ type: 'text', text: 'Be brief.' }] },
				{
					role: 'user',
					content: [
						{ type: 'text', text: 'part one' },
						{ type: 'text', text: 'part two' },
					],
				},
			],
			fallbacks: [{ model: 'claude-opus-4-7' }],
			fallback_config: { retry: false, depth: 1 },
			post_processing_steps: [{ type: 'json-repair' }],
			user: 'someone',
			logprobs: true,
			max_completion_tokens: 50,
		})
		expect(response.status).toBe(200)
		const sent = h.fake.requests[h.fake.requests.length - 1]!.body
		expect(sent.fallbacks).toEqual([{ model: 'claude-opus-4-7' }])
		expect(sent.fallback_config).toEqual({ retry: false, depth: 1 })
		expect(sent.post_processing_steps).toEqual([{ type: 'json-repair' }])
		expect(sent.user).toBeUndefined()
		expect(sent.logprobs).toBeUndefined()
		expect(sent.max_tokens).toBe(50)
		expect(sent.messages[0].content).toBe('Be brief.')
		expect(sent.messages[1].content).toBe('part one\npart two')
	})

	test('a tool round is sent paired and answered', async () => {
		h = await startHarness()
		const response = await h.chat({
			...weather,
			messages: [
				weather.messages[0],
				{ role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: TOOL_ARGUMENTS } }] },
				{ role: 'tool', tool_call_id: 'call_1', content: '{"temp_c":18}' },
			],
		})
		expect(response.status).toBe(200)
		expect((await response.json()).choices[0].message.content).toBe('Echo: {"temp_c":18}')
		const sent = h.fake.requests[h.fake.requests.length - 1]!.body
		expect(sent.messages[1].tool_calls[0].id).toBe('call_1')
		expect(sent.messages[2]).toMatchObject({ role: 'tool', tool_call_id: 'call_1' })
	})
})

describe('streamed chat', () => {
	test('chunks are OpenAI chat.completion.chunk events ending in [DONE], with X-Accel-Buffering: no', async () => {
		h = await startHarness()
		const response = await h.chat({ ...hello, stream: true })
		expect(response.status).toBe(200)
		expect(response.headers.get('content-type')).toContain('text/event-stream')
		expect(response.headers.get('x-accel-buffering')).toBe('no')
		const frames = await readSse(response)
		expect(frames[frames.length - 1]).toBe('[DONE]')
		const chunks = frames.slice(0, -1).map((f) => JSON.parse(f))
		const ids = new Set(chunks.map((c) => c.id))
		expect(ids.size).toBe(1)
		for (const c of chunks) {
			expect(c.object).toBe('chat.completion.chunk')
			expect(c.model).toBe('claude-sonnet-4-6')
			expect(Array.isArray(c.choices)).toBe(true)
			expect(c.usage).toBeUndefined()
		}
		expect(chunks[0].choices[0].delta.role).toBe('assistant')
		expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe('Echo: hello there')
		expect(chunks.filter((c) => c.choices[0]?.finish_reason).map((c) => c.choices[0].finish_reason)).toEqual(['stop'])
		// The gateway is always asked for usage (to count tokens), even when the client did not ask.
		expect(h.fake.requests[h.fake.requests.length - 1]!.body).toMatchObject({ stream: true, stream_options: { include_usage: true } })
	})

	test('stream_options.include_usage gets one usage-only chunk with choices: []', async () => {
		h = await startHarness()
		const frames = await readSse(await h.chat({ ...hello, stream: true, stream_options: { include_usage: true } }))
		const chunks = frames.slice(0, -1).map((f) => JSON.parse(f))
		const usage = chunks.filter((c) => c.usage)
		expect(usage).toHaveLength(1)
		expect(usage[0].choices).toEqual([])
		expect(usage[0].usage.total_tokens).toBe(usage[0].usage.prompt_tokens + usage[0].usage.completion_tokens)
		expect(chunks[chunks.length - 1]).toBe(usage[0])
	})

	test('streamed tool calls carry index, id, type and name, and finish with tool_calls', async () => {
		h = await startHarness()
		const frames = await readSse(await h.chat({ ...weather, model: 'gpt-5', stream: true }))
		const chunks = frames.slice(0, -1).map((f) => JSON.parse(f))
		const deltas = chunks.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? [])
		expect(deltas[0]).toMatchObject({ index: 0, type: 'function', function: { name: 'get_weather' } })
		expect(typeof deltas[0].id).toBe('string')
		expect(deltas.map((d: { function: { arguments?: string } }) => d.function.arguments ?? '').join('')).toBe(TOOL_ARGUMENTS)
		expect(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0].finish_reason).toBe('tool_calls')
	})

	test('a model without native streaming is answered with a complete, valid stream', async () => {
		h = await startHarness()
		const frames = await readSse(await h.chat({ ...hello, model: 'gpt-oss-120b', stream: true }))
		expect(frames[frames.length - 1]).toBe('[DONE]')
		const chunks = frames.slice(0, -1).map((f) => JSON.parse(f))
		expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe('Echo: hello there')
		expect(h.fake.requests[h.fake.requests.length - 1]!.body.stream).toBeUndefined()
	})

	test('a stream that dies upstream ends with an error event and no [DONE]', async () => {
		h = await startHarness()
		h.fake.fault('*', { kind: 'die', afterChunks: 2 })
		const frames = await readSse(await h.chat({ ...hello, stream: true }))
		expect(frames).not.toContain('[DONE]')
		const last = JSON.parse(frames[frames.length - 1]!)
		expect(last.error.type).toBe('api_error')
	})

	test('an upstream stream that goes silent past UPSTREAM_TIMEOUT is cut with an error event, not left hanging', async () => {
		h = await startHarness({ listenFake: true, env: { UPSTREAM_TIMEOUT: '1' } })
		h.fake.fault('*', { kind: 'stall', afterChunks: 2 })
		const started = Date.now()
		const frames = await readSse(await h.chat({ ...hello, stream: true }))
		expect(Date.now() - started).toBeLessThan(5000)
		expect(frames).not.toContain('[DONE]')
		expect(JSON.parse(frames[frames.length - 1]!).error.code).toMatch(/^upstream_stream/)
		const upstream = h.fake.requests.find((r) => r.path === '/v1/chat/completions')
		const deadline = Date.now() + 2000
		while (!upstream?.aborted && Date.now() < deadline) await Bun.sleep(20)
		expect(upstream?.aborted).toBe(true)
	})

	test("the client's abort cancels the upstream request", async () => {
		h = await startHarness({ listenFake: true })
		h.fake.fault('*', { kind: 'stall', afterChunks: 1 })
		const url = await h.listen()
		const controller = new AbortController()
		const response = await fetch(`${url}/v1/chat/completions`, {
			method: 'POST',
			headers: { authorization: `Bearer ${API_PASSWORD}`, 'content-type': 'application/json' },
			body: JSON.stringify({ ...hello, stream: true }),
			signal: controller.signal,
		})
		const reader = response.body!.getReader()
		await reader.read()
		controller.abort()
		const deadline = Date.now() + 3000
		const upstream = () => h.fake.requests.find((r) => r.path === '/v1/chat/completions')
		while (!upstream()?.aborted && Date.now() < deadline) await Bun.sleep(20)
		expect(upstream()?.aborted).toBe(true)
	})
})

describe('client goes away', () => {
	test('a non-streamed request aborted by its client cancels the upstream request', async () => {
		h = await startHarness({ listenFake: true })
		h.fake.fault('*', { kind: 'delay', ms: 5000 })
		const url = await h.listen()
		const controller = new AbortController()
		const pending = fetch(`${url}/v1/chat/completions`, {
			method: 'POST',
			headers: { authorization: `Bearer ${API_PASSWORD}`, 'content-type': 'application/json' },
			body: JSON.stringify(hello),
			signal: controller.signal,
		}).catch((e) => e)
		const upstream = () => h.fake.requests.find((r) => r.path === '/v1/chat/completions')
		const deadline = Date.now() + 3000
		while (!upstream() && Date.now() < deadline) await Bun.sleep(10)
		controller.abort()
		await pending
		while (!upstream()?.aborted && Date.now() < deadline) await Bun.sleep(20)
		expect(upstream()?.aborted).toBe(true)
		// Nothing was retried for a client that is gone.
		await Bun.sleep(100)
		expect(h.fake.requests.filter((r) => r.path === '/v1/chat/completions')).toHaveLength(1)
	})
})

describe('upstream errors, mapped honestly', () => {
	test("the client's own bad request: 400 with the gateway's message, not retried on other keys", async () => {
		h = await startHarness()
		const response = await h.chat({ ...weather, model: 'qwen3.5-4b-32k-fast' })
		expect(response.status).toBe(400)
		const error = await errorOf(response)
		expect(error.message).toContain('does not support tools')
		expect(h.fake.requests.filter((r) => r.path === '/v1/chat/completions')).toHaveLength(1)
	})

	test('upstream 5xx on every key: 502 after the retry budget', async () => {
		h = await startHarness({ env: { RETRY_429_MAX_RETRIES: '2' } })
		h.fake.fault('*', { kind: 'status', status: 500, envelope: 'B' }, { persistent: true })
		const response = await h.chat(hello)
		expect(response.status).toBe(502)
		expect((await errorOf(response)).type).toBe('api_error')
		expect(h.fake.requests.filter((r) => r.path === '/v1/chat/completions')).toHaveLength(3)
	})

	test('a plain-text 5xx on one key is retried on another key', async () => {
		h = await startHarness()
		h.fake.fault('*', { kind: 'status', status: 503, envelope: 'plain', message: 'upstream timeout' }, { times: 1 })
		const response = await h.chat(hello)
		expect(response.status).toBe(200)
		const chats = h.fake.requests.filter((r) => r.path === '/v1/chat/completions')
		expect(chats).toHaveLength(2)
		expect(chats[0]!.key).not.toBe(chats[1]!.key)
	})

	test('a connection reset is retried; when every attempt fails the client gets 502', async () => {
		h = await startHarness({ env: { RETRY_429_MAX_RETRIES: '1' } })
		h.fake.fault('*', { kind: 'reset' }, { persistent: true })
		const response = await h.chat(hello)
		expect(response.status).toBe(502)
		expect((await errorOf(response)).code).toBe('upstream_unreachable')
	})

	test('a slow upstream past UPSTREAM_TIMEOUT: 504', async () => {
		h = await startHarness({ env: { UPSTREAM_TIMEOUT: '1', RETRY_429_ENABLED: 'false' } })
		h.fake.fault('*', { kind: 'delay', ms: 3000 }, { persistent: true })
		const response = await h.chat(hello)
		expect(response.status).toBe(504)
		expect((await errorOf(response)).type).toBe('timeout_error')
	})

	test('HTTP 200 whose body carries code >= 400 is an error, not a completion', async () => {
		h = await startHarness({ env: { RETRY_429_ENABLED: 'false' } })
		h.fake.fault('*', { kind: 'body-code', status: 500 })
		const response = await h.chat(hello)
		expect(response.status).toBe(502)
	})

	test('no key configured: 503 that says how to add one', async () => {
		h = await startHarness({ keys: [] })
		const response = await h.chat(hello)
		expect(response.status).toBe(503)
		const error = await errorOf(response)
		expect(error.code).toBe('no_keys_configured')
		expect(error.message).toContain('ASSEMBLY_API_KEYS')
	})

	test('a key without access to a model is skipped for that model only; the next key serves', async () => {
		h = await startHarness({ env: { CALLS_PER_ROTATION: '1' } })
		h.fake.setKey(KEYS[0], { noAccessModels: ['claude-sonnet-4-6'] })
		h.fake.setKey(KEYS[2], { noAccessModels: ['claude-sonnet-4-6'] })
		const chats = () => h.fake.requests.filter((r) => r.path === '/v1/chat/completions')
		for (let i = 0; i < 4; i++) expect((await h.chat(hello)).status).toBe(200)
		// Each denied key was tried once, answered the gateway's access refusal, and never again for this model.
		const refused = chats().filter((r) => r.status === 400)
		expect(refused.map((r) => r.key).sort()).toEqual([KEYS[0], KEYS[2]].sort())
		expect(
			chats()
				.filter((r) => r.status === 200)
				.every((r) => r.key === KEYS[1]),
		).toBe(true)
		// Other models still use the denied keys.
		for (let i = 0; i < 3; i++) expect((await h.chat({ ...hello, model: 'gpt-5' })).status).toBe(200)
		expect(
			new Set(
				chats()
					.filter((r) => r.model === 'gpt-5')
					.map((r) => r.key),
			).size,
		).toBe(3)
		// When no key has access, the client learns it (OpenAI's 404 model_not_found), not a 5xx.
		h.fake.setKey(KEYS[1], { noAccessModels: ['claude-sonnet-4-6'] })
		const none = await h.chat({ ...hello, model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'again' }] })
		expect(none.status).toBe(404)
		expect(await errorOf(none)).toMatchObject({ type: 'not_found_error', code: 'model_not_found' })
		// A later request is refused at once, without asking the upstream again.
		const before = chats().length
		expect((await h.chat(hello)).status).toBe(404)
		expect(chats()).toHaveLength(before)
	})
})

describe('/v1/models', () => {
	test('the upstream catalog in OpenAI list shape', async () => {
		h = await startHarness()
		const body = await (await h.call('/v1/models')).json()
		expect(body.object).toBe('list')
		expect(body.data.map((m: { id: string }) => m.id)).toContain('claude-sonnet-4-6')
		expect(body.data[0]).toEqual({ id: body.data[0].id, object: 'model', created: 0, owned_by: 'assemblyai' })
	})

	test("the operator's selection wins", async () => {
		const storage = new MemoryStorage()
		await storage.saveSettings({ available_models_selected: ['gpt-5', 'claude-opus-4-7'] })
		h = await startHarness({ storage })
		const body = await (await h.call('/v1/models')).json()
		expect(body.data.map((m: { id: string }) => m.id)).toEqual(['gpt-5', 'claude-opus-4-7'])
	})

	test('without a reachable catalog, the built-in list', async () => {
		h = await startHarness({ env: { ASSEMBLY_ENDPOINT: 'http://127.0.0.1:9/v1/chat/completions' } })
		const body = await (await h.call('/v1/models')).json()
		expect(body.data.map((m: { id: string }) => m.id)).toContain('claude-sonnet-4-6')
	})
})

describe('health and docs', () => {
	test('GET /health needs no auth and names the backend', async () => {
		h = await startHarness()
		const response = await h.call('/health', { auth: null })
		expect(response.status).toBe(200)
		expect(await response.json()).toEqual({
			status: 'ok',
			version: expect.any(String),
			storage: { backend: 'memory', ok: true },
			upstream: { ok: true, incident: null },
		})
	})

	test('/swagger serves a local Swagger UI and /swagger/json describes every public route', async () => {
		h = await startHarness()
		const page = await (await h.call('/swagger', { auth: null })).text()
		expect(page).toContain('/swagger/assets/swagger-ui-bundle.js')
		expect(page).not.toContain('unpkg.com')
		expect((await h.call('/swagger/assets/swagger-ui-bundle.js', { auth: null })).status).toBe(200)
		const spec = await (await h.call('/swagger/json', { auth: null })).json()
		for (const path of ['/health', '/v1/models', '/v1/chat/completions', '/admin/rate-limits', '/admin/keys', '/admin/storage']) {
			expect(Object.keys(spec.paths)).toContain(path)
		}
		expect(Object.keys(spec.paths).some((p) => p.startsWith('/ui'))).toBe(false)
	})
})
