/**
 * The dialects share the pipeline: client-key quotas and usage accounting, retries on another
 * key, and the fake-streaming mode for models the upstream does not stream, on /v1/messages and
 * /v1/responses alike.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import { API_PASSWORD, harnessSet, KEYS } from '../../support.ts'
import { checkResponsesStream } from '../openai-responses/grammar.ts'
import { checkAnthropicStream } from './grammar.ts'

const harnesses = harnessSet()
afterEach(() => harnesses.closeAll())

const message = (key: string, body: Record<string, unknown> = {}) =>
	({
		method: 'POST',
		headers: { 'x-api-key': key, 'content-type': 'application/json' },
		body: JSON.stringify({ model: 'claude-sonnet-4-6', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }], ...body }),
	}) satisfies RequestInit

describe('one pipeline behind every dialect', () => {
	test('a client key quota counts /v1/messages and /v1/responses; usage is recorded per client', async () => {
		const h = await harnesses.start()
		const base = await h.listen()
		const created = await (await h.admin('/admin/clients', { method: 'POST', json: { name: 'dialects', daily_limit: 2 } })).json()
		expect((await fetch(`${base}/v1/messages`, message(created.key))).status).toBe(200)
		const responses = await fetch(`${base}/v1/responses`, {
			method: 'POST',
			headers: { authorization: `Bearer ${created.key}`, 'content-type': 'application/json' },
			body: JSON.stringify({ model: 'gpt-5', input: 'hi' }),
		})
		expect(responses.status).toBe(200)
		const refused = await fetch(`${base}/v1/messages`, message(created.key))
		expect(refused.status).toBe(429)
		expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0)
		expect(await refused.json()).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } })
		const report = await (await h.admin('/admin/usage')).json()
		const row = report.clients.find((c: { name: string }) => c.name === 'dialects')
		expect(row.totals).toMatchObject({ requests: 2, successes: 2 })
		expect(row.totals.prompt_tokens).toBeGreaterThan(0)
		expect(Object.keys(row.models).sort()).toEqual(['claude-sonnet-4-6', 'gpt-5'])
	})

	test('an upstream 500 on one key is retried on another, as for chat completions', async () => {
		const h = await harnesses.start()
		const base = await h.listen()
		h.fake.fault('*', { kind: 'status', status: 500 }, { times: 1 })
		const response = await fetch(`${base}/v1/messages`, message(API_PASSWORD))
		expect(response.status).toBe(200)
		expect((await response.json()).content[0].text).toBe('Echo: hi')
		const chats = h.fake.requests.filter((r) => r.path === '/v1/chat/completions')
		expect(chats.map((r) => r.status)).toEqual([500, 200])
		expect(new Set(chats.map((r) => r.key)).size).toBe(2)
		expect(KEYS).toContain(chats[1]!.key!)
	})

	test('a model the upstream does not stream is fake-streamed locally, in each dialect grammar', async () => {
		const h = await harnesses.start()
		const base = await h.listen()
		const anthropic = await fetch(
			`${base}/v1/messages`,
			message(API_PASSWORD, { model: 'gpt-oss-120b', stream: true, messages: [{ role: 'user', content: 'fake it' }] }),
		)
		const a = checkAnthropicStream(await anthropic.text())
		expect(a.content).toEqual([{ type: 'text', text: 'Echo: fake it' }])
		expect(a.usage!.output_tokens).toBeGreaterThan(0)
		const responses = await fetch(`${base}/v1/responses`, {
			method: 'POST',
			headers: { authorization: `Bearer ${API_PASSWORD}`, 'content-type': 'application/json' },
			body: JSON.stringify({ model: 'gpt-oss-120b', input: 'fake it', stream: true }),
		})
		const r = checkResponsesStream(await responses.text())
		expect(r.final.output[0].content[0].text).toBe('Echo: fake it')
		expect(r.final.usage.output_tokens).toBeGreaterThan(0)
		// Upstream got a non-streamed request both times.
		expect(h.fake.requests.filter((q) => q.path === '/v1/chat/completions').every((q) => q.body.stream !== true)).toBe(true)
	})
})
