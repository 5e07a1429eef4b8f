/**
 * Issue 10: defects 1 (concurrency limit: 503 + Retry-After, never a queue), 8 (nesting depth;
 * quota back on every own 5xx), 12 (no secret in any client-facing message) and 15 (a client
 * key's allow-list covers fallbacks[].model).
 */
import { afterEach, describe, expect, test } from 'bun:test'
import { API_PASSWORD, harnessSet, type Harness, KEYS, PANEL_PASSWORD } from '../../support.ts'

const created: string[] = []
const harnesses = harnessSet(() => created)
afterEach(() => harnesses.closeAll())

const MODEL = 'claude-sonnet-4-6'
const msg = [{ role: 'user', content: 'hi' }]

async function createClient(h: Harness, body: Record<string, unknown>) {
	const response = await h.admin('/admin/clients', { method: 'POST', json: body })
	expect(response.status).toBe(201)
	const record = (await response.json()) as { key: string; id: string }
	created.push(record.key)
	return record
}
const usedTotal = async (h: Harness, id: string) => (await (await h.admin(`/admin/clients/${id}`)).json()).used_total as number

/** `{"a":{"a":...}}` nested `depth` levels, built as text (JSON.stringify of it would overflow). */
const deep = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`

describe('nesting depth', () => {
	test('reasoning nested 100,000 levels: 400 naming reasoning, not a 500, and no quota spent', async () => {
		const h = await harnesses.start()
		const client = await createClient(h, { name: 'deep', total_limit: 10 })
		const body = `{"model":"${MODEL}","messages":[{"role":"user","content":"hi"}],"reasoning":${deep(100_000)}}`
		const response = await h.chat(body, client.key)
		expect(response.status).toBe(400)
		expect((await response.json()).error).toMatchObject({ param: 'reasoning', code: 'nesting_too_deep', type: 'invalid_request_error' })
		expect(await usedTotal(h, client.id)).toBe(0)
		expect(h.fake.requests.filter((r) => r.path === '/v1/chat/completions')).toHaveLength(0)
	})

	test('tool parameters nested too deep: 400 naming tools[0]; a realistic schema passes', async () => {
		const h = await harnesses.start()
		const tool = (parameters: string) =>
			`{"model":"${MODEL}","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","parameters":${parameters}}}]}`
		const refused = await h.chat(tool(deep(5_000)))
		expect(refused.status).toBe(400)
		expect((await refused.json()).error.param).toBe('tools[0]')
		const schema = JSON.stringify({ type: 'object', properties: { a: { type: 'object', properties: { b: { type: 'array', items: { type: 'string' } } } } } })
		expect((await h.chat(tool(schema))).status).toBe(200)
	})

	// One check in the chat core, before any dialect translates: a tool schema 50,000 levels deep
	// is a 400 on every route, never a stack overflow (500) and never sent upstream.
	const deepTool = deep(50_000)
	const dialects: [string, string, string, (response: Response) => Promise<unknown>][] = [
		[
			'/v1/messages',
			'/v1/messages',
			`{"model":"${MODEL}","max_tokens":16,"messages":[{"role":"user","content":"hi"}],"tools":[{"name":"f","input_schema":${deepTool}}]}`,
			async (r) => ((await r.json()) as { error: unknown }).error,
		],
		[
			'/v1/messages/count_tokens',
			'/v1/messages/count_tokens',
			`{"model":"${MODEL}","messages":[{"role":"user","content":"hi"}],"tools":[{"name":"f","input_schema":${deepTool}}]}`,
			async (r) => ((await r.json()) as { error: unknown }).error,
		],
		[
			'/v1/responses',
			'/v1/responses',
			`{"model":"${MODEL}","input":"hi","tools":[{"type":"function","name":"f","parameters":${deepTool}}]}`,
			async (r) => ((await r.json()) as { error: unknown }).error,
		],
		[
			'a Gemini body on /v1/chat/completions',
			'/v1/chat/completions',
			`{"model":"${MODEL}","contents":[{"role":"user","parts":[{"text":"hi"}]}],"tools":[{"functionDeclarations":[{"name":"f","parameters":${deepTool}}]}]}`,
			async (r) => ((await r.json()) as { error: unknown }).error,
		],
	]
	for (const [name, path, body, readError] of dialects) {
		test(`${name}: a tool schema nested 50,000 levels is a 400 (nested too deep), nothing sent upstream`, async () => {
			const h = await harnesses.start()
			const response = await h.call(path, { method: 'POST', json: body })
			expect(response.status).toBe(400)
			expect(JSON.stringify(await readError(response))).toMatch(/nesting_too_deep|nested deeper than 64 levels/)
			expect(h.fake.requests).toHaveLength(0)
		})
	}

	test('any 5xx of our own (even a bug) gives the client key its unit back', async () => {
		const h = await harnesses.start()
		const client = await createClient(h, { name: 'bug', total_limit: 10 })
		const assembly = h.gateway.services.assembly!
		const original = assembly.chat.bind(assembly)
		assembly.chat = () => Promise.reject(new TypeError('a bug in amb2api'))
		const response = await h.chat({ model: MODEL, messages: msg }, client.key)
		expect(response.status).toBe(500)
		expect(await usedTotal(h, client.id)).toBe(0)
		assembly.chat = original
		expect((await h.chat({ model: MODEL, messages: msg }, client.key)).status).toBe(200)
		expect(await usedTotal(h, client.id)).toBe(1)
	})
})

describe('client key allow-list covers fallbacks', () => {
	test('a fallbacks[].model outside the allow-list: 403 model_not_allowed, nothing sent upstream', async () => {
		const h = await harnesses.start()
		const client = await createClient(h, { name: 'narrow', allowed_models: [MODEL] })
		const other = 'gpt-5'
		const response = await h.chat({ model: MODEL, messages: msg, fallbacks: [{ model: other }] }, client.key)
		expect(response.status).toBe(403)
		const error = (await response.json()).error
		expect(error.code).toBe('model_not_allowed')
		expect(error.message).toContain(other)
		expect(h.fake.requests.filter((r) => r.path === '/v1/chat/completions')).toHaveLength(0)
		// Allowed fallbacks, and fallbacks that inherit the model, pass.
		expect((await h.chat({ model: MODEL, messages: msg, fallbacks: [{ model: MODEL }, { temperature: 0.5 }] }, client.key)).status).toBe(200)
		// The API password has no allow-list.
		expect((await h.chat({ model: MODEL, messages: msg, fallbacks: [{ model: other }] })).status).toBe(200)
	})

	test('a fallbacks[].model that is not a string: 400 naming it', async () => {
		const h = await harnesses.start()
		const response = await h.chat({ model: MODEL, messages: msg, fallbacks: [{ model: 42 }] })
		expect(response.status).toBe(400)
		expect((await response.json()).error.param).toBe('fallbacks[0].model')
	})
})

describe('client-facing messages are scrubbed', () => {
	test('an upstream 500 quoting the keys and the password reaches the client without them', async () => {
		const h = await harnesses.start()
		h.fake.fault(
			'*',
			{ kind: 'status', status: 500, envelope: 'D', message: `internal: keys ${KEYS.join(',')} password ${API_PASSWORD} ${PANEL_PASSWORD}` },
			{ persistent: true },
		)
		const response = await h.chat({ model: MODEL, messages: msg })
		expect(response.status).toBe(502)
		const text = await response.text()
		expect(text).toContain('internal: keys')
		for (const secret of [...KEYS, API_PASSWORD, PANEL_PASSWORD]) expect(text).not.toContain(secret)
	})

	test('a 400 echoing the key, and a 404 echoing a path, are scrubbed too', async () => {
		const h = await harnesses.start()
		h.fake.fault('*', { kind: 'status', status: 400, envelope: 'A', message: `bad request with ${KEYS[0]}` })
		const refused = await h.chat({ model: MODEL, messages: msg })
		expect(refused.status).toBe(400)
		expect(await refused.text()).not.toContain(KEYS[0]!)
		const unknown = await h.call(`/v1/nothing-${PANEL_PASSWORD}`)
		expect(unknown.status).toBe(404)
		expect(await unknown.text()).not.toContain(PANEL_PASSWORD)
	})

	test('an upstream error event inside a stream is scrubbed', async () => {
		const h = await harnesses.start()
		const leaky = `data: {"error":{"message":"provider failed for ${KEYS[0]}"}}\n\n`
		const { translateStream } = await import('../../../plugins/assembly-client/stream.ts')
		const out = translateStream(new Response(leaky).body!, {
			model: MODEL,
			created: 0,
			includeUsage: false,
			onEnd: () => {},
			scrub: (t) => h.gateway.secrets.scrub(t),
		})
		const text = await new Response(out).text()
		expect(text).toContain('provider failed')
		expect(text).not.toContain(KEYS[0]!)
	})
})

describe('concurrency limit', () => {
	test('beyond MAX_CONCURRENT_REQUESTS: an immediate 503 with Retry-After; a slot frees when a stream ends', async () => {
		const h = await harnesses.start({ env: { MAX_CONCURRENT_REQUESTS: '3', UPSTREAM_TIMEOUT: '600' } })
		h.fake.fault('*', { kind: 'stall', afterChunks: 1 }, { persistent: true })
		const streams: Response[] = []
		for (let i = 0; i < 3; i++) {
			const response = await h.chat({ model: MODEL, messages: msg, stream: true })
			expect(response.status).toBe(200)
			streams.push(response)
		}
		const refused = await h.chat({ model: MODEL, messages: msg })
		expect(refused.status).toBe(503)
		expect(refused.headers.get('retry-after')).toBe('1')
		expect((await refused.json()).error).toMatchObject({ code: 'too_many_requests_in_flight', type: 'service_unavailable' })
		expect(h.fake.requests.filter((r) => r.path === '/v1/chat/completions')).toHaveLength(3)

		// A client that leaves gives its slot back.
		await streams.shift()!.body!.cancel()
		h.fake.clearFaults()
		expect((await h.chat({ model: MODEL, messages: msg })).status).toBe(200)
		for (const s of streams) await s.body!.cancel()
	})
})
