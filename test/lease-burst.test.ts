/**
 * Leases across instances: a request that finds no headroom while another instance holds
 * leased, unspent slots waits for them (RATE_LIMIT_MAX_WAIT) instead of answering 429, so a
 * burst over two instances uses every slot the keys allow, and never one more.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { createFakeGateway } from './fake-gateway.ts'
import { sharedBackends } from './shared-backends.ts'
import { assertNoSecrets, KEYS, startHarness } from './support.ts'

const { backend, cleanup } = sharedBackends('leases')
afterAll(cleanup)

const RUNS = 10
const model = 'claude-sonnet-4-6'

describe('two instances on one Redis, three keys with 100 requests each', () => {
	test(`400 simultaneous requests: exactly 300 served and 100 honest 429s, ${RUNS} runs out of ${RUNS}`, async () => {
		const served: number[] = []
		for (let run = 0; run < RUNS; run++) {
			const open = await backend('redis')()
			const fake = createFakeGateway({ keys: Object.fromEntries(KEYS.map((k) => [k, {}])), limit: 100 })
			const env = { RATE_LIMIT_MAX_WAIT: '5' }
			const a = await startHarness({ fake, storage: await open(), env })
			const b = await startHarness({ fake, storage: await open(), env })
			try {
				const responses = await Promise.all(
					Array.from({ length: 400 }, (_, i) => (i % 2 ? a : b).chat({ model, messages: [{ role: 'user', content: `burst ${i}` }] })),
				)
				const statuses = responses.map((r) => r.status)
				served.push(statuses.filter((s) => s === 200).length)
				expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([])
				for (const r of responses.filter((r) => r.status === 429)) expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0)
				const chats = fake.requests.filter((r) => r.path === '/v1/chat/completions')
				expect(chats.filter((r) => r.status === 429)).toHaveLength(0)
				for (const key of KEYS) expect(fake.count(key, model).sent).toBe(100)
				assertNoSecrets(a.logs)
				assertNoSecrets(b.logs)
			} finally {
				await a.close()
				await b.close()
			}
		}
		expect(served).toEqual(Array(RUNS).fill(300))
	}, 180_000)
})
