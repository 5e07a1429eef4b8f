/**
 * Anti-truncation (流式抗截断): the marker is asked for and stripped, a cut answer is continued
 * with what was produced so far, the client sees the whole text once with summed usage, and the
 * configured limit ends the attempt with an error event.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import OpenAI from 'openai'
import { CONTINUE_INSTRUCTION, MARKER_INSTRUCTION, MarkerFilter } from '../../../plugins/chat-core/anti-truncation.ts'
import { fakeUsage } from '../../fake-gateway.ts'
import { API_PASSWORD, type Harness, harnessSet } from '../../support.ts'
import { assemble, readStrict } from './strict-sse.ts'

const harnesses = harnessSet()
afterEach(() => harnesses.closeAll())

const chats = (h: Harness) => h.fake.requests.filter((r) => r.path === '/v1/chat/completions')

describe('MarkerFilter', () => {
	test('strips the marker, even split across pieces, and the whitespace before it', () => {
		const f = new MarkerFilter()
		const out = [f.push('All good.'), f.push('\n[do'), f.push('ne]'), f.push(' trailing')].join('')
		expect(out).toBe('All good.')
		expect(f.found).toBe(true)
	})

	test('text that only looked like the start of the marker comes out at the end', () => {
		const f = new MarkerFilter()
		const out = f.push('an array [d') + f.push('x] and [') + f.flush()
		expect(out).toBe('an array [dx] and [')
		expect(f.found).toBe(false)
	})

	test('upper-case marker', () => {
		const f = new MarkerFilter()
		expect(f.push('Done here. [DONE]')).toBe('Done here.')
		expect(f.found).toBe(true)
	})
})

/** Two scripted upstream answers: the first cut at max_tokens without the marker, the second finishing it. */
function cutThenFinish(h: Harness) {
	h.fake.fault('*', { kind: 'answer', text: 'Hello wor', finish: 'length' })
	h.fake.fault('*', { kind: 'answer', text: 'ld, how are you?\n[done]' })
}

function expectContinued(h: Harness) {
	const [first, second] = chats(h)
	expect(chats(h)).toHaveLength(2)
	expect(first!.model).toBe('gpt-5')
	expect(first!.body.messages[0]).toEqual({ role: 'system', content: MARKER_INSTRUCTION })
	expect(second!.body.messages.slice(-2)).toEqual([
		{ role: 'assistant', content: 'Hello wor' },
		{ role: 'user', content: CONTINUE_INSTRUCTION },
	])
	const u1 = fakeUsage(first!.body, 'Hello wor')
	const u2 = fakeUsage(second!.body, 'ld, how are you?\n[done]')
	return { prompt: u1.prompt_tokens + u2.prompt_tokens, completion: u1.completion_tokens + u2.completion_tokens }
}

const hello = { messages: [{ role: 'user', content: 'greet me' }] }

describe('anti-truncation end to end', () => {
	test.each([
		['fake stream', '假流式/流式抗截断/gpt-5'],
		['real stream', 'anti-truncation/gpt-5'],
	])('%s: a cut answer is continued; the whole text once, no marker, summed usage', async (_name, model) => {
		const h = await harnesses.start()
		cutThenFinish(h)
		const client = new OpenAI({ baseURL: `${await h.listen()}/v1`, apiKey: API_PASSWORD, maxRetries: 0 })
		const stream = await client.chat.completions.create({ model, ...hello, stream: true, stream_options: { include_usage: true } } as never)
		const chunks: Record<string, any>[] = []
		for await (const c of stream as unknown as AsyncIterable<Record<string, any>>) chunks.push(c)
		const got = assemble(chunks)
		expect(got.content).toBe('Hello world, how are you?')
		expect(got.finish).toBe('stop')
		expect(new Set(chunks.map((c) => c.id)).size).toBe(1)
		expect(chunks.filter((c) => c.choices[0]?.delta?.role === 'assistant')).toHaveLength(1)
		expect(chunks.filter((c) => c.choices[0]?.finish_reason)).toHaveLength(1)
		const sum = expectContinued(h)
		expect(got.usage.prompt_tokens).toBe(sum.prompt)
		expect(got.usage.completion_tokens).toBe(sum.completion)
		expect(got.usage.total_tokens).toBe(sum.prompt + sum.completion)
	})

	test('non-streamed: one completion with the whole text and summed usage', async () => {
		const h = await harnesses.start()
		cutThenFinish(h)
		const response = await h.chat({ model: '流式抗截断/gpt-5', ...hello })
		const body = (await response.json()) as any
		expect(body.choices[0].message.content).toBe('Hello world, how are you?')
		expect(body.choices[0].finish_reason).toBe('stop')
		const sum = expectContinued(h)
		expect(body.usage.prompt_tokens).toBe(sum.prompt)
		expect(body.usage.completion_tokens).toBe(sum.completion)
	})

	test('a stream the upstream dropped mid-answer is continued too', async () => {
		const h = await harnesses.start({ env: { ANTI_TRUNCATION_MODELS: 'gpt-5' } })
		h.fake.fault('*', { kind: 'die', afterChunks: 3 })
		h.fake.fault('*', { kind: 'answer', text: 'there my friend [done]' })
		const response = await h.chat({ model: 'gpt-5', stream: true, messages: [{ role: 'user', content: 'Hello there my friend' }] })
		const s = await readStrict(response.body!)
		expect(s.done).toBe(true)
		expect(assemble(s.chunks).content).toBe('Echo: Hello there my friend')
		expect(chats(h)[1]!.body.messages.at(-2)).toEqual({ role: 'assistant', content: 'Echo: Hello ' })
	})

	test.each([
		['real stream', 'anti-truncation/gpt-5'],
		['fake stream', 'fake-stream/anti-truncation/gpt-5'],
	])('%s: after the configured continuations it stops with an error event and no [DONE]', async (_name, model) => {
		const h = await harnesses.start({ env: { ANTI_TRUNCATION_MAX_CONTINUATIONS: '2' } })
		h.fake.fault('*', { kind: 'answer', text: 'part ', finish: 'length' }, { persistent: true })
		const response = await h.chat({ model, stream: true, ...hello })
		expect(response.status).toBe(200)
		const s = await readStrict(response.body!)
		expect(chats(h)).toHaveLength(3)
		expect(assemble(s.chunks).content).toBe('part part part ')
		expect(s.done).toBe(false)
		expect(s.error?.error?.code).toBe('anti_truncation_exhausted')
		expect(s.error?.error?.message).toContain('2 continuations')
	})

	test('non-streamed, continuations exhausted: the text so far with finish_reason length', async () => {
		const h = await harnesses.start({ env: { ANTI_TRUNCATION_MAX_CONTINUATIONS: '1' } })
		h.fake.fault('*', { kind: 'answer', text: 'part ', finish: 'length' }, { persistent: true })
		const body = (await (await h.chat({ model: 'anti-truncation/gpt-5', ...hello })).json()) as any
		expect(chats(h)).toHaveLength(2)
		expect(body.choices[0].message.content).toBe('part part ')
		expect(body.choices[0].finish_reason).toBe('length')
	})

	test('an answer with the marker at once needs no second call; a tool call needs no marker', async () => {
		const h = await harnesses.start()
		h.fake.fault('*', { kind: 'answer', text: 'Short and complete.\n[done]' })
		const s = await readStrict((await h.chat({ model: 'anti-truncation/gpt-5', stream: true, ...hello })).body!)
		expect(assemble(s.chunks).content).toBe('Short and complete.')
		const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } }]
		const t = await readStrict((await h.chat({ model: 'anti-truncation/gpt-5', stream: true, tools, messages: [{ role: 'user', content: 'weather?' }] })).body!)
		expect(assemble(t.chunks).tools.map((c) => c.name)).toEqual(['get_weather'])
		expect(assemble(t.chunks).finish).toBe('tool_calls')
		expect(t.done).toBe(true)
		expect(chats(h)).toHaveLength(2)
	})
})
