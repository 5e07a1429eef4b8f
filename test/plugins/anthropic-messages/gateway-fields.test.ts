/**
 * /v1/messages passes the gateway's own fields on as /v1/chat/completions does:
 * prompt_cache_key, prompt_cache_retention and model_region reach the upstream unchanged; a
 * wrong type is a 400 in the Anthropic envelope.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { API_PASSWORD, type Harness, startHarness } from '../../support.ts'

let h: Harness
beforeAll(async () => {
	h = await startHarness()
})
afterAll(() => h.close())

const messages = (body: Record<string, unknown>) =>
	h.call('/v1/messages', {
		method: 'POST',
		auth: null,
		headers: { 'x-api-key': API_PASSWORD, 'anthropic-version': '2023-06-01' },
		json: { max_tokens: 50, messages: [{ role: 'user', content: 'hi' }], ...body },
	})

const lastUpstreamBody = () => h.fake.requests.filter((r) => r.path === '/v1/chat/completions').at(-1)!.body

describe('gateway fields on /v1/messages', () => {
	test('prompt_cache_key, prompt_cache_retention and model_region reach the upstream', async () => {
		const res = await messages({ model: 'gpt-5', prompt_cache_key: 'conv-42', prompt_cache_retention: '24h', model_region: 'global' })
		expect(res.status).toBe(200)
		expect(lastUpstreamBody()).toMatchObject({ prompt_cache_key: 'conv-42', prompt_cache_retention: '24h', model_region: 'global' })
	})

	test('the same fields as /v1/chat/completions sends them', async () => {
		await h.chat({
			model: 'gpt-5',
			prompt_cache_key: 'conv-42',
			prompt_cache_retention: '24h',
			model_region: 'global',
			messages: [{ role: 'user', content: 'hi' }],
		})
		const viaChat = lastUpstreamBody()
		await messages({ model: 'gpt-5', prompt_cache_key: 'conv-42', prompt_cache_retention: '24h', model_region: 'global' })
		const viaMessages = lastUpstreamBody()
		for (const key of ['prompt_cache_key', 'prompt_cache_retention', 'model_region']) expect([key, viaMessages[key]]).toEqual([key, viaChat[key]])
	})

	test('a field of the wrong type is a 400 in the Anthropic envelope', async () => {
		const res = await messages({ model: 'gpt-5', prompt_cache_key: 42 })
		expect(res.status).toBe(400)
		const body = (await res.json()) as { type: string; error: { type: string; message: string } }
		expect(body.type).toBe('error')
		expect(body.error.type).toBe('invalid_request_error')
		expect(body.error.message).toContain('prompt_cache_key')
	})
})
