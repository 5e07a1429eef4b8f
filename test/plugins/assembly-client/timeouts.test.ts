/**
 * With a hanging upstream, UPSTREAM_TIMEOUT multiplied by the retries (6
 * attempts × 5 s = 35 s; 30 minutes at the default), and timeouts were later reported as rate
 * limits. REQUEST_TIMEOUT bounds one client request in total, and a timeout is a 504.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import { harnessSet, KEYS } from '../../support.ts'

const harnesses = harnessSet()
afterEach(() => harnesses.closeAll())

const chats = (h: Awaited<ReturnType<typeof harnesses.start>>) => h.fake.requests.filter((r) => r.path === '/v1/chat/completions').length

describe('request timeouts', () => {
	test('a hanging upstream: REQUEST_TIMEOUT ends the request with 504 after a bounded number of attempts', async () => {
		const h = await harnesses.start({ env: { UPSTREAM_TIMEOUT: '1', REQUEST_TIMEOUT: '2', RETRY_429_MAX_RETRIES: '20', RATE_LIMIT_MAX_WAIT: '0' } })
		h.fake.fault('*', { kind: 'delay', ms: 60_000 }, { persistent: true })
		const response = await h.chat({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'hi' }] })
		expect(response.status).toBe(504)
		expect((await response.json()).error).toMatchObject({ type: 'timeout_error', code: 'upstream_timeout' })
		// 2 s of total time at 1 s per attempt: two or three attempts, not 21.
		expect(chats(h)).toBeLessThanOrEqual(3)
	}, 20_000)

	test('keys that timed out are reported as a timeout, never as a rate limit', async () => {
		const h = await harnesses.start({
			keys: [KEYS[0]!],
			fakeOptions: { limit: 2 },
			env: { UPSTREAM_TIMEOUT: '1', REQUEST_TIMEOUT: '30', RETRY_429_MAX_RETRIES: '1', RATE_LIMIT_MAX_WAIT: '0' },
		})
		// The key learns its limit (2 per window), then the upstream hangs: no 429 ever comes from it.
		expect((await h.chat({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'hi' }] })).status).toBe(200)
		h.fake.fault('*', { kind: 'delay', ms: 60_000 }, { persistent: true })
		for (let i = 0; i < 3; i++) {
			const response = await h.chat({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'hi' }] })
			expect(response.status).toBe(504)
			expect((await response.json()).error.type).toBe('timeout_error')
		}
	}, 30_000)
})
