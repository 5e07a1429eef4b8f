/**
 * Edges every dialect must get alike: an oversized body is a 413 in the dialect's own envelope
 * (declared length or chunked), answers name the model without its mode prefix, and a huge model
 * name costs the answer a few hundred bytes, not megabytes.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import { API_PASSWORD, harnessSet } from '../../support.ts'

const harnesses = harnessSet()
afterEach(() => harnesses.closeAll())
const MODEL = 'claude-sonnet-4-6'

const chunked = (text: string) =>
	new ReadableStream<Uint8Array>({
		start(controller) {
			const bytes = new TextEncoder().encode(text)
			for (let i = 0; i < bytes.length; i += 64 * 1024) controller.enqueue(bytes.slice(i, i + 64 * 1024))
			controller.close()
		},
	})

describe('oversized /v1/messages bodies', () => {
	for (const how of ['with a Content-Length', 'chunked']) {
		test(`${how}: 413 in the Anthropic envelope`, async () => {
			const h = await harnesses.start({ env: { MAX_BODY_SIZE: '64kb' } })
			const text = JSON.stringify({ model: MODEL, max_tokens: 16, messages: [{ role: 'user', content: 'x'.repeat(200_000) }] })
			const response = await h.gateway.fetch(
				new Request('http://localhost/v1/messages', {
					method: 'POST',
					headers: { 'x-api-key': API_PASSWORD, 'content-type': 'application/json', ...(how === 'chunked' ? {} : { 'content-length': String(text.length) }) },
					body: how === 'chunked' ? chunked(text) : text,
					...(how === 'chunked' ? { duplex: 'half' } : {}),
				} as RequestInit),
			)
			expect(response.status).toBe(413)
			const body = (await response.json()) as { type?: string; error?: { type?: string } }
			expect(body.type).toBe('error')
			expect(body.error?.type).toBe('request_too_large')
			expect(h.fake.requests).toHaveLength(0)
		})
	}
})

describe('answers name the model without its mode prefix', () => {
	test('/v1/messages and /v1/responses with fake-stream/ and anti-truncation/', async () => {
		const h = await harnesses.start()
		for (const prefixed of [`fake-stream/${MODEL}`, `anti-truncation/${MODEL}`]) {
			const message = await h.call('/v1/messages', { method: 'POST', json: { model: prefixed, max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] } })
			expect(message.status).toBe(200)
			expect(((await message.json()) as { model: string }).model).toBe(MODEL)
			const response = await h.call('/v1/responses', { method: 'POST', json: { model: prefixed, input: 'hi' } })
			expect(response.status).toBe(200)
			expect(((await response.json()) as { model: string }).model).toBe(MODEL)
		}
	})
})

describe('a 4 MB model name', () => {
	test('is refused with an answer of a few hundred bytes on every dialect', async () => {
		const h = await harnesses.start()
		const model = 'm'.repeat(4 * 1024 * 1024)
		const answers = [
			await h.chat({ model, messages: [{ role: 'user', content: 'hi' }] }),
			await h.call('/v1/messages', { method: 'POST', json: { model, max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] } }),
			await h.call('/v1/responses', { method: 'POST', json: { model, input: 'hi' } }),
		]
		for (const answer of answers) {
			expect(answer.status).toBeGreaterThanOrEqual(400)
			expect(answer.status).toBeLessThan(500)
			expect((await answer.text()).length).toBeLessThan(2048)
		}
	})
})
