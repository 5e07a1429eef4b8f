/**
 * Fake streaming (假流式) end to end: the real gateway, the fake upstream, the official `openai`
 * SDK and a strict SSE reader. Timings are measured on the wall clock with margins for a loaded
 * machine; each test prints what it measured.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import OpenAI from 'openai'
import { API_PASSWORD, type Harness, harnessSet } from '../../support.ts'
import { fakeUsage } from '../../fake-gateway.ts'
import { assemble, readStrict } from './strict-sse.ts'

const harnesses = harnessSet()
afterEach(() => harnesses.closeAll())

const weatherTool = { type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }

/** The chat requests the fake upstream received (the catalog fetch left out). */
const chats = (h: Harness) => h.fake.requests.filter((r) => r.path === '/v1/chat/completions')

async function sdk(h: Harness): Promise<OpenAI> {
	return new OpenAI({ baseURL: `${await h.listen()}/v1`, apiKey: API_PASSWORD, maxRetries: 0 })
}

/** A streamed request read strictly, timed from the moment it was sent. */
async function streamOf(h: Harness, body: Record<string, unknown>) {
	const t0 = performance.now()
	const response = await h.chat({ stream: true, ...body })
	const headersAt = performance.now() - t0
	expect(response.headers.get('content-type')).toContain('text/event-stream')
	const stream = await readStrict(response.body!, t0)
	return { status: response.status, headersAt, ...stream }
}

async function sdkStream(client: OpenAI, body: Record<string, unknown>) {
	const stream = await client.chat.completions.create({ stream: true, stream_options: { include_usage: true }, ...body } as never)
	const chunks: Record<string, any>[] = []
	for await (const chunk of stream as unknown as AsyncIterable<Record<string, any>>) chunks.push(chunk)
	return chunks
}

describe('fake and real streams of the same answer', () => {
	test.each([
		['a text answer', { model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'Tell me about the sea and the sky' }] }],
		['a tool call', { model: 'gpt-5', messages: [{ role: 'user', content: 'What is the weather in Paris?' }], tools: [weatherTool] }],
		['Claude text with a tool call', { model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'weather please' }], tools: [weatherTool] }],
	])('%s: same deltas, same tool calls, same usage', async (_name, body) => {
		const h = await harnesses.start()
		const client = await sdk(h)
		const real = assemble(await sdkStream(client, body))
		const fake = assemble(await sdkStream(client, { ...body, model: `假流式/${body.model}` }))
		expect(chats(h).map((r) => [r.model, r.body.stream === true])).toEqual([
			[body.model, true],
			[body.model, false],
		])
		expect(fake.content).toBe(real.content)
		expect(fake.tools).toEqual(real.tools)
		expect(fake.finish).toBe(real.finish)
		expect(fake.usage.prompt_tokens).toBe(real.usage.prompt_tokens)
		expect(fake.usage.completion_tokens).toBe(real.usage.completion_tokens)
		expect(fake.usage.total_tokens).toBe(real.usage.total_tokens)
		expect(real.usage.completion_tokens).toBeGreaterThan(0)
	})
})

describe('fake stream timing', () => {
	test('an answer that arrives after 0.2 s ends within 0.3 s, with no heartbeat', async () => {
		const h = await harnesses.start()
		h.fake.fault('*', { kind: 'delay', ms: 200 })
		const s = await streamOf(h, { model: 'fake-stream/gpt-5', messages: [{ role: 'user', content: 'quick' }] })
		console.log(`[timing] 0.2 s answer: headers ${s.headersAt.toFixed(0)} ms, end ${s.endedAt.toFixed(0)} ms`)
		expect(s.comments).toHaveLength(0)
		expect(s.done).toBe(true)
		expect(assemble(s.chunks).content).toBe('Echo: quick')
		expect(s.endedAt).toBeGreaterThanOrEqual(195)
		// 0.3 s is the target; the bound allows for a machine shared by several test runs.
		expect(s.endedAt).toBeLessThan(900)
	})

	test('a 7 s answer: heartbeats every 3 s, the end right after the answer', async () => {
		const h = await harnesses.start()
		h.fake.fault('*', { kind: 'delay', ms: 7000 })
		const s = await streamOf(h, { model: '假流式/gpt-5', messages: [{ role: 'user', content: 'slow' }] })
		const beats = s.comments.map((c) => Math.round(c.at))
		console.log(`[timing] 7 s answer: headers ${s.headersAt.toFixed(0)} ms, heartbeats at ${beats.join(', ')} ms, end ${s.endedAt.toFixed(0)} ms`)
		expect(s.comments.length).toBeGreaterThanOrEqual(2)
		expect(s.comments.every((c) => c.text === 'heartbeat')).toBe(true)
		// The first byte waits one interval (so a fast failure could still have been a real status).
		expect(s.firstByteAt!).toBeGreaterThanOrEqual(2900)
		expect(s.comments[1]!.at - s.comments[0]!.at).toBeGreaterThan(2500)
		expect(s.done).toBe(true)
		expect(assemble(s.chunks).content).toBe('Echo: slow')
		// No rounding up to the next 3 s tick (which would be 9 s).
		expect(s.endedAt).toBeGreaterThanOrEqual(6950)
		expect(s.endedAt).toBeLessThan(7900)
		// Heartbeats come before every data event.
		const firstEvent = s.frames.findIndex((f) => f.kind === 'event')
		expect(s.frames.slice(firstEvent).some((f) => f.kind === 'comment')).toBe(false)
	}, 20_000)

	test('heartbeats as empty-content chunks when set; the SDK assembles the same answer', async () => {
		const h = await harnesses.start({ env: { FAKE_STREAM_HEARTBEAT_SECONDS: '0.2', FAKE_STREAM_HEARTBEAT_STYLE: 'chunk' } })
		h.fake.fault('*', { kind: 'delay', ms: 900 })
		const s = await streamOf(h, { model: 'fake-stream/gpt-5', messages: [{ role: 'user', content: 'beat' }] })
		expect(s.comments).toHaveLength(0)
		const empties = s.chunks.filter((c) => c.choices[0]?.delta?.content === '' && c.choices[0].finish_reason === null)
		expect(empties.length).toBeGreaterThanOrEqual(3)
		// Every chunk, heartbeats included, is a well-formed chat.completion.chunk with one id.
		expect(new Set(s.chunks.map((c) => c.id)).size).toBe(1)
		expect(s.chunks.every((c) => c.object === 'chat.completion.chunk' && c.model === 'gpt-5')).toBe(true)
		expect(s.chunks[0]!.choices[0].delta.role).toBe('assistant')
		expect(assemble(s.chunks).content).toBe('Echo: beat')
		const client = await sdk(h)
		h.fake.fault('*', { kind: 'delay', ms: 500 })
		const viaSdk = assemble(await sdkStream(client, { model: 'fake-stream/gpt-5', messages: [{ role: 'user', content: 'beat' }] }))
		expect(viaSdk.content).toBe('Echo: beat')
	})

	test('pacing sends the content in slices at the configured speed', async () => {
		const h = await harnesses.start({ env: { FAKE_STREAM_SPEED: '100' } })
		const text = 'one two three four five six seven eight nine ten'
		const s = await streamOf(h, { model: 'fake-stream/gpt-5', messages: [{ role: 'user', content: text }] })
		const slices = s.chunks.map((c) => c.choices[0]?.delta?.content).filter((c): c is string => typeof c === 'string' && c !== '')
		const answer = `Echo: ${text}`
		// 100 characters per second = 5 characters every 50 ms.
		expect(slices.join('')).toBe(answer)
		expect(slices.slice(0, -1).every((c) => [...c].length === 5)).toBe(true)
		const expectedMs = (Math.ceil(answer.length / 5) - 1) * 50
		console.log(`[timing] paced ${answer.length} chars at 100/s: ${s.endedAt.toFixed(0)} ms (ideal ${expectedMs} ms)`)
		expect(s.endedAt).toBeGreaterThanOrEqual(expectedMs - 20)
		expect(s.done).toBe(true)
	})
})

describe('fake stream failures', () => {
	test('429 on every key before the first heartbeat: HTTP 429 with Retry-After', async () => {
		const h = await harnesses.start()
		h.fake.fault('*', { kind: 'rate-limit', retryAfter: 17 }, { persistent: true })
		const client = await sdk(h)
		const error = await client.chat.completions.create({ model: '假流式/gpt-5', messages: [{ role: 'user', content: 'x' }], stream: true }).then(
			() => null,
			(e: unknown) => e,
		)
		expect(error).toBeInstanceOf(OpenAI.RateLimitError)
		const e = error as InstanceType<typeof OpenAI.RateLimitError>
		expect(e.status).toBe(429)
		expect(Number(e.headers?.get('retry-after'))).toBeGreaterThan(0)
	})

	test('an upstream that fails after the first heartbeat: an error event and no [DONE]', async () => {
		const h = await harnesses.start({ env: { FAKE_STREAM_HEARTBEAT_SECONDS: '0.2', UPSTREAM_TIMEOUT: '1', RETRY_429_MAX_RETRIES: '0' } })
		h.fake.fault('*', { kind: 'stall', afterChunks: 0 })
		const s = await streamOf(h, { model: 'fake-stream/gpt-5', messages: [{ role: 'user', content: 'x' }] })
		expect(s.status).toBe(200)
		expect(s.comments.length).toBeGreaterThanOrEqual(2)
		expect(s.done).toBe(false)
		expect(s.error?.error?.type).toBeString()
		expect(s.error?.error?.code).toBe('upstream_timeout')
	})
})

describe('when fake streaming applies', () => {
	test('FAKE_STREAM_MODELS fakes the chosen models only; other models stream natively', async () => {
		const h = await harnesses.start({ env: { FAKE_STREAM_MODELS: 'gpt-5-mini' } })
		await streamOf(h, { model: 'gpt-5-mini', messages: [{ role: 'user', content: 'a' }] })
		await streamOf(h, { model: 'gpt-5', messages: [{ role: 'user', content: 'b' }] })
		expect(chats(h).map((r) => [r.model, r.body.stream === true])).toEqual([
			['gpt-5-mini', false],
			['gpt-5', true],
		])
	})

	test('FAKE_STREAM_ENABLED fakes every streamed request; non-streamed requests are untouched', async () => {
		const h = await harnesses.start({ env: { FAKE_STREAM_ENABLED: 'true' } })
		const s = await streamOf(h, { model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'a' }] })
		const plain = await h.chat({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'b' }] })
		expect(plain.headers.get('content-type')).toContain('application/json')
		expect(s.done).toBe(true)
		expect(chats(h).every((r) => r.body.stream !== true)).toBe(true)
	})

	test('a model the upstream cannot stream gets heartbeats while it works', async () => {
		const h = await harnesses.start({ env: { FAKE_STREAM_HEARTBEAT_SECONDS: '0.2' } })
		h.fake.fault('*', { kind: 'delay', ms: 700 })
		const s = await streamOf(h, { model: 'gpt-oss-120b', messages: [{ role: 'user', content: 'oss' }] })
		expect(s.comments.length).toBeGreaterThanOrEqual(2)
		expect(assemble(s.chunks).content).toBe('Echo: oss')
		expect(chats(h)[0]!.body.stream).toBeUndefined()
	})

	test('usage only when asked for; the request log says it was fake-streamed', async () => {
		const h = await harnesses.start()
		const s = await streamOf(h, { model: 'fake-stream/gpt-5', messages: [{ role: 'user', content: 'u' }] })
		expect(s.chunks.some((c) => 'usage' in c)).toBe(false)
		const withUsage = await streamOf(h, { model: 'fake-stream/gpt-5', messages: [{ role: 'user', content: 'u' }], stream_options: { include_usage: true } })
		const last = withUsage.chunks.at(-1)!
		expect(last.choices).toEqual([])
		expect(last.usage.completion_tokens).toBe(fakeUsage(chats(h)[1]!.body, 'Echo: u').completion_tokens)
		// The request line is written after the response has gone out.
		await Bun.sleep(30)
		const line = h.logs
			.filter((l) => l.includes('"msg":"request"'))
			.map((l) => JSON.parse(l))
			.find((l) => l.fake_stream === true)
		expect(line?.model).toBe('fake-stream/gpt-5')
	})

	test('/v1/models lists the 假流式/ variants only when the operator enables them', async () => {
		const off = await harnesses.start()
		const plain = (await (await off.call('/v1/models')).json()) as { data: { id: string }[] }
		expect(plain.data.some((m) => m.id.startsWith('假流式/'))).toBe(false)
		const on = await harnesses.start({ env: { FAKE_STREAM_LIST_MODELS: 'true', ANTI_TRUNCATION_LIST_MODELS: 'true' } })
		const ids = ((await (await on.call('/v1/models')).json()) as { data: { id: string }[] }).data.map((m) => m.id)
		expect(ids).toContain('gpt-5')
		expect(ids).toContain('假流式/gpt-5')
		expect(ids).toContain('流式抗截断/gpt-5')
		expect(ids.filter((id) => id.startsWith('假流式/'))).toHaveLength(plain.data.length)
	})
})
