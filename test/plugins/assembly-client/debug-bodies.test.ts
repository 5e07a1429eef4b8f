/**
 * LOG_LEVEL=debug writes the client's request, the upstream body and the answer (a stream
 * assembled), each capped by LOG_BODY_MAX and scrubbed of secrets before it is cut.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import { StreamAssembly } from '../../../plugins/assembly-client/debug-bodies.ts'
import { TOOL_ARGUMENTS } from '../../fake-gateway.ts'
import { API_PASSWORD, harnessSet, KEYS, readSse } from '../../support.ts'

const harnesses = harnessSet()
afterEach(() => harnesses.closeAll())

type Line = { msg: string; level: string; request_id?: string; body?: string; end?: string }
const lines = (logs: string[]) => logs.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Line)
const bodyLines = (logs: string[], id: string) => lines(logs).filter((l) => l.request_id === id && typeof l.body === 'string')

describe('debug body logging', () => {
	test('a chat: client request, upstream body and answer, with the request id, no secret, capped', async () => {
		const h = await harnesses.start({ env: { LOG_LEVEL: 'debug', LOG_BODY_MAX: '300' } })
		// A prompt that carries secrets (a pasted key and the API password) and is longer than the cap,
		// with a key straddling the cut point: it must be masked before the cut, never half-written.
		const content = `${'a'.repeat(180)} ${KEYS[0]} ${API_PASSWORD} ${'z'.repeat(600)}`
		const res = await h.call('/v1/chat/completions', {
			method: 'POST',
			json: { model: 'claude-sonnet-4-6', messages: [{ role: 'user', content }] },
			headers: { 'x-request-id': 'dbg-1' },
		})
		expect(res.status).toBe(200)
		const found = bodyLines(h.logs, 'dbg-1')
		expect(found.map((l) => l.msg)).toEqual(['client request body', 'upstream request body', 'answer body'])
		for (const line of found) {
			expect(line.level).toBe('debug')
			expect((line.body as string).length).toBeLessThanOrEqual(300 + 40)
			expect(line.body).toMatch(/…\[\d+ more characters\]$/)
			expect(line.body).not.toContain(KEYS[0]!.slice(0, 14))
		}
		expect(found[0]?.body).toContain('"model":"claude-sonnet-4-6"')
		expect(found[0]?.body).toContain('aai-...0001')
		expect(found[2]?.body).toContain('"object":"chat.completion"')
		// assertNoSecrets runs over every line in afterEach.
	})

	test('a stream: the answer is logged once, assembled (text, tool calls, usage), not per chunk', async () => {
		const h = await harnesses.start({ env: { LOG_LEVEL: 'debug' } })
		const res = await h.call('/v1/chat/completions', {
			method: 'POST',
			json: {
				model: 'claude-sonnet-4-6',
				stream: true,
				stream_options: { include_usage: true },
				messages: [{ role: 'user', content: 'what is the weather in Paris?' }],
				tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }],
			},
			headers: { 'x-request-id': 'dbg-stream' },
		})
		expect(res.status).toBe(200)
		const frames = await readSse(res)
		expect(frames.at(-1)).toBe('[DONE]')
		await Bun.sleep(20)
		const found = bodyLines(h.logs, 'dbg-stream')
		expect(found.map((l) => l.msg)).toEqual(['client request body', 'upstream request body', 'answer body (stream, assembled)'])
		const answer = JSON.parse(found[2]?.body as string) as {
			content: string
			tool_calls: { name: string; arguments: string }[]
			usage: { completion_tokens: number }
			done: boolean
		}
		expect(found[2]?.end).toBe('end')
		expect(answer.done).toBe(true)
		expect(answer.content).toBe('Let me look that up.')
		expect(answer.tool_calls).toEqual([expect.objectContaining({ name: 'get_weather', arguments: TOOL_ARGUMENTS })])
		expect(answer.usage.completion_tokens).toBeGreaterThan(0)
	})

	test('at info, or with LOG_BODY_MAX=0, no body is written', async () => {
		for (const env of [{ LOG_LEVEL: 'info' }, { LOG_LEVEL: 'debug', LOG_BODY_MAX: '0' }]) {
			const h = await harnesses.start({ env })
			const res = await h.call('/v1/chat/completions', {
				method: 'POST',
				json: { model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'secret prompt text' }] },
				headers: { 'x-request-id': 'quiet' },
			})
			expect(res.status).toBe(200)
			await Bun.sleep(20)
			expect(bodyLines(h.logs, 'quiet')).toEqual([])
			expect(h.logs.some((l) => l.includes('secret prompt text'))).toBe(false)
			expect(lines(h.logs).some((l) => l.msg === 'request' && l.request_id === 'quiet')).toBe(true)
		}
	})
})

describe('StreamAssembly', () => {
	test('joins content and tool-call fragments split across byte chunks', () => {
		const a = new StreamAssembly()
		const sse =
			'data: {"choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"}}]}\n\n' +
			'data: {"choices":[{"index":0,"delta":{"content":"lo","tool_calls":[{"index":0,"id":"c1","function":{"name":"f","arguments":"{\\"a\\""}}]}}]}\n\n' +
			'data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":":1}"}}]},"finish_reason":"tool_calls"}]}\n\n' +
			'data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2}}\n\ndata: [DONE]\n\n'
		const bytes = new TextEncoder().encode(sse)
		for (let i = 0; i < bytes.length; i += 7) a.feed(bytes.subarray(i, i + 7))
		expect(a.summary()).toEqual({
			content: 'Hello',
			tool_calls: [{ id: 'c1', name: 'f', arguments: '{"a":1}' }],
			finish_reason: 'tool_calls',
			usage: { prompt_tokens: 3, completion_tokens: 2 },
			done: true,
		})
	})
})
