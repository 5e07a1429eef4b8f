/**
 * Several gateway instances behind a load balancer, sharing one Redis or PostgreSQL (and MongoDB
 * when MONGODB_URI names one): together they must never send more requests on a key than its
 * remaining headroom.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { createFakeGateway } from './fake-gateway.ts'
import { sharedBackends } from './shared-backends.ts'
import { assertNoSecrets, KEYS, startHarness } from './support.ts'

const { backends, backend, cleanup } = sharedBackends('multi', { mongodb: true })
afterAll(cleanup)

describe.each(Object.keys(backends))('two instances on one %s', (name) => {
	test('3 keys x limit 5, 15 concurrent requests over both: no 429 upstream, no key over 5', async () => {
		const open = await backend(name)()
		const fake = createFakeGateway({ keys: Object.fromEntries(KEYS.map((k) => [k, {}])), limit: 5 })
		// Some latency, so requests of both instances are in flight together.
		fake.fault('*', { kind: 'delay', ms: 40 }, { persistent: true })
		const env = { RATE_LIMIT_MAX_WAIT: '10', CALLS_PER_ROTATION: '1' }
		const a = await startHarness({ fake, storage: await open(), env })
		const b = await startHarness({ fake, storage: await open(), env })
		try {
			const model = 'claude-sonnet-4-6'
			const responses = await Promise.all(
				Array.from({ length: 15 }, (_, i) => (i % 2 ? a : b).chat({ model, messages: [{ role: 'user', content: `request ${i}` }] })),
			)
			expect(responses.map((r) => r.status)).toEqual(Array(15).fill(200))
			const chats = fake.requests.filter((r) => r.path === '/v1/chat/completions')
			expect(chats.filter((r) => r.status === 429)).toHaveLength(0)
			for (const key of KEYS) expect(fake.count(key, model).sent).toBeLessThanOrEqual(5)
			expect(chats).toHaveLength(15)

			// A sixteenth request, on either instance, is refused here, not upstream.
			const extra = await a.chat({ model, messages: [{ role: 'user', content: 'one more' }] })
			expect(extra.status).toBe(429)
			expect(fake.requests.filter((r) => r.path === '/v1/chat/completions')).toHaveLength(15)
			assertNoSecrets(a.logs)
			assertNoSecrets(b.logs)
		} finally {
			await a.close()
			await b.close()
			await fake.stop()
		}
	}, 60_000)

	test('64 concurrent clients on each of two instances, 3 keys x limit 200: no key over its limit, no 429 upstream, never a 5xx', async () => {
		const open = await backend(name)()
		const fake = createFakeGateway({ keys: Object.fromEntries(KEYS.map((k) => [k, {}])), limit: 200 })
		fake.fault('*', { kind: 'delay', ms: 5 }, { persistent: true })
		const env = { RATE_LIMIT_MAX_WAIT: '0' }
		const a = await startHarness({ fake, storage: await open(), env })
		const b = await startHarness({ fake, storage: await open(), env })
		try {
			const model = 'claude-sonnet-4-6'
			const statuses: number[] = []
			// 64 clients per instance, each sending requests one after another: 900 in all, more
			// than the 600 the three keys allow in this window.
			const client = async (gateway: typeof a, id: number) => {
				for (let i = 0; i < 7; i++) {
					const response = await gateway.chat({ model, messages: [{ role: 'user', content: `client ${id} request ${i}` }] })
					statuses.push(response.status)
					await response.text()
				}
			}
			await Promise.all(Array.from({ length: 128 }, (_, i) => client(i % 2 ? a : b, i)))
			const chats = fake.requests.filter((r) => r.path === '/v1/chat/completions')
			expect(chats.filter((r) => r.status === 429)).toHaveLength(0)
			for (const key of KEYS) expect(fake.count(key, model).sent).toBeLessThanOrEqual(200)
			// Leases hold back at most a few slots per instance: nearly all 600 are used.
			expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(540)
			expect(statuses.filter((s) => s !== 200 && s !== 429 && s !== 503)).toEqual([])
			expect(statuses.filter((s) => s === 200)).toHaveLength(chats.length)
		} finally {
			await a.close()
			await b.close()
			await fake.stop()
		}
	}, 120_000)
})

describe('a burst on one instance with Redis', () => {
	test('500 concurrent requests: every answer is 200 or an honest 429/503, never a 500', async () => {
		const open = await backend('redis')()
		const fake = createFakeGateway({ keys: Object.fromEntries(KEYS.map((k) => [k, {}])), limit: 1_000_000 })
		const h = await startHarness({ fake, storage: await open(), env: { DAILY_REQUEST_LIMIT: '0' } })
		try {
			const model = 'claude-sonnet-4-6'
			const responses = await Promise.all(Array.from({ length: 500 }, (_, i) => h.chat({ model, messages: [{ role: 'user', content: `burst ${i}` }] })))
			const statuses = responses.map((r) => r.status)
			expect(statuses.filter((s) => s !== 200 && s !== 429 && s !== 503)).toEqual([])
			for (const r of responses.filter((r) => r.status === 429 || r.status === 503)) expect(r.headers.get('retry-after')).not.toBeNull()
			expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(0)
		} finally {
			await h.close()
			await fake.stop()
		}
	}, 120_000)
})
