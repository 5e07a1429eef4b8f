/**
 * Guessing a password through `/metrics` or `/v1` slows down per address like a panel login
 * does: after a few failures the address gets 429 with Retry-After (Anthropic's envelope on
 * /v1/messages), and the right password from another address always works.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import { API_PASSWORD, harnessSet, PANEL_PASSWORD } from '../../support.ts'

const harnesses = harnessSet()
afterEach(() => harnesses.closeAll())

const statuses = async (calls: (() => Promise<Response>)[]) => {
	const out: number[] = []
	for (const call of calls) {
		const response = await call()
		await response.arrayBuffer()
		out.push(response.status)
	}
	return out
}

describe('failed bearer tokens are throttled per address', () => {
	test('/metrics: wrong tokens slow down that address; the panel password from another address works, and the panel login too', async () => {
		const h = await harnesses.start()
		const guesses = await statuses(Array.from({ length: 20 }, (_, i) => () => h.call('/metrics', { auth: `wrong-${i}`, peer: '10.9.0.1' })))
		expect(guesses.slice(0, 5)).toEqual([401, 401, 401, 401, 401])
		expect(guesses.slice(6)).toEqual(Array(14).fill(429))
		const throttled = await h.call('/metrics', { auth: PANEL_PASSWORD, peer: '10.9.0.1' })
		expect(throttled.status).toBe(429)
		expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0)
		expect((await h.call('/metrics', { auth: PANEL_PASSWORD, peer: '10.9.0.2' })).status).toBe(200)
		// The same throttle as the panel's: the guessing address must wait at the login too.
		const login = await h.call('/ui/login', {
			method: 'POST',
			auth: null,
			peer: '10.9.0.1',
			body: new URLSearchParams({ password: PANEL_PASSWORD }),
			headers: { 'content-type': 'application/x-www-form-urlencoded' },
		})
		expect(login.status).toBe(429)
	})

	test('/v1: wrong bearers slow down that address; the API password from another address works', async () => {
		const h = await harnesses.start()
		const guesses = await statuses(Array.from({ length: 20 }, (_, i) => () => h.call('/v1/models', { auth: `sk-guess-${i}`, peer: '10.8.0.1' })))
		expect(guesses.slice(0, 5)).toEqual([401, 401, 401, 401, 401])
		expect(guesses.slice(6)).toEqual(Array(14).fill(429))
		const chat = await h.call('/v1/chat/completions', {
			method: 'POST',
			auth: API_PASSWORD,
			peer: '10.8.0.1',
			json: { model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'hi' }] },
		})
		expect(chat.status).toBe(429)
		expect((await chat.json()).error.code).toBe('auth_throttled')
		const other = await h.call('/v1/chat/completions', {
			method: 'POST',
			auth: API_PASSWORD,
			peer: '10.8.0.2',
			json: { model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'hi' }] },
		})
		expect(other.status).toBe(200)
		// Client keys are guessed the same way, on every dialect.
		const responses = await h.call('/v1/responses', {
			method: 'POST',
			auth: 'sk-amb-guess',
			peer: '10.8.0.1',
			json: { model: 'claude-sonnet-4-6', input: 'hi' },
		})
		expect(responses.status).toBe(429)
	})

	test('/v1/messages: x-api-key guesses are throttled, answered in the Anthropic envelope', async () => {
		const h = await harnesses.start()
		const send = (key: string, peer: string) =>
			h.call('/v1/messages', {
				method: 'POST',
				auth: null,
				peer,
				headers: { 'x-api-key': key, 'anthropic-version': '2023-06-01' },
				json: { model: 'claude-sonnet-4-6', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] },
			})
		const guesses = await statuses(Array.from({ length: 10 }, (_, i) => () => send(`guess-${i}`, '10.7.0.1')))
		expect(guesses.slice(0, 5)).toEqual([401, 401, 401, 401, 401])
		const throttled = await send(API_PASSWORD, '10.7.0.1')
		expect(throttled.status).toBe(429)
		expect(await throttled.json()).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } })
		expect((await send(API_PASSWORD, '10.7.0.2')).status).toBe(200)
	})
})
