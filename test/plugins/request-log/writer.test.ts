/**
 * The writer on its own: rows batched off the request's path, retention as it goes (by age and
 * by count), a bounded queue, a storage failure that costs rows but never a request; and the pure
 * parts (error classes, dialects, CSV cells, quantiles).
 */
import { describe, expect, test } from 'bun:test'
import { createLogger } from '../../../core/log.ts'
import { MemoryStorage } from '../../../core/storage.ts'
import { DAY_MS } from '../../../core/usage-day.ts'
import type { Principal } from '../../../plugins/api-auth/api-auth.ts'
import type { ChatRequest } from '../../../plugins/chat-core/chat-request.ts'
import { csvCell } from '../../../plugins/request-log/csv.ts'
import { costOf, dialectOf, errorClassOf, sumUsage } from '../../../plugins/request-log/row.ts'
import { quantile } from '../../../plugins/request-log/stats.ts'
import { RequestLog } from '../../../plugins/request-log/writer.ts'
import { testClock } from '../../support.ts'

const quietLog = () => createLogger({ level: 'error', stdout: false, file: null }).log
const chat = { model: 'm1', messages: [{ role: 'user', content: 'secret prompt' }] } as unknown as ChatRequest
const password: Principal = { kind: 'password' }
const request = () => new Request('http://localhost/v1/chat/completions', { method: 'POST' })

function finishOne(log: RequestLog, usage = { prompt_tokens: 10, completion_tokens: 5 }) {
	const trace = log.start(request(), password, chat)
	trace.admitted()
	trace.keyChosen('abcd...wxyz')
	// What the pricing service charged for the call (the upstream client's recorder prices it).
	trace.upstreamEnded({ status: 200, failure: null, usage, tier: 'us', cost: { usd: usage.prompt_tokens * 0.001 } })
	trace.answered({ masked: 'abcd...wxyz', attempts: 1, model: 'm1' })
	trace.done()
}

describe('request-log writer', () => {
	test('nothing is written on the request path; a flush writes the batch as rows; the cost is what the call was priced at', async () => {
		const storage = new MemoryStorage()
		const calls: number[] = []
		const original = storage.appendLog.bind(storage)
		storage.appendLog = async (rows) => {
			calls.push(rows.length)
			return original(rows)
		}
		const log = new RequestLog({ storage, log: quietLog(), now: () => 1_000_000 }, { days: 7, maxRows: 1000 })
		for (let i = 0; i < 25; i++) finishOne(log)
		expect(calls).toEqual([])
		await log.flush()
		expect(calls).toEqual([25])
		const rows = await storage.queryLog({ limit: 100 })
		expect(rows).toHaveLength(25)
		expect(new Set(rows.map((r) => r.id)).size).toBe(25)
		expect(rows[0]).toMatchObject({ key: 'abcd...wxyz', attempts: 1, prompt_tokens: 10, completion_tokens: 5, cost_usd: 0.01, status: 200 })
		expect(JSON.stringify(rows)).not.toContain('secret prompt')
	})

	test('retention as it goes: REQUEST_LOG_MAX_ROWS keeps the newest, REQUEST_LOG_DAYS drops the old', async () => {
		const c = testClock()
		const storage = new MemoryStorage()
		const settings = { days: 2, maxRows: 100 }
		const log = new RequestLog({ storage, log: quietLog(), now: c.now }, settings, { pruneEveryMs: 0 })
		for (let round = 0; round < 5; round++) {
			for (let i = 0; i < 40; i++) finishOne(log)
			await log.flush()
			expect((await storage.queryLog({ limit: 1000 })).length).toBeLessThanOrEqual(100)
		}
		expect(await storage.queryLog({ limit: 1000 })).toHaveLength(100)
		c.advance(3 * DAY_MS)
		finishOne(log)
		await log.flush()
		const left = await storage.queryLog({ limit: 1000 })
		expect(left).toHaveLength(1)
		expect(left[0]!.at).toBe(c.now())
		// A changed setting applies at the next prune.
		settings.days = 1
		c.advance(DAY_MS / 2)
		finishOne(log)
		await log.flush()
		expect(await storage.queryLog({ limit: 1000 })).toHaveLength(2)
		c.advance(DAY_MS + 1)
		expect(await log.prune()).toBe(2)
	})

	test('the queue is bounded, and a storage failure drops that batch, counted, without throwing', async () => {
		const storage = new MemoryStorage()
		storage.appendLog = async () => {
			throw new Error('storage down')
		}
		const log = new RequestLog({ storage, log: quietLog(), now: Date.now }, { days: 7, maxRows: 1000 }, { maxQueued: 10 })
		for (let i = 0; i < 15; i++) finishOne(log)
		expect(log.dropped).toBe(5)
		await log.flush()
		expect(log.dropped).toBe(15)
		expect(log.written).toBe(0)
	})

	test('close writes what is queued', async () => {
		const storage = new MemoryStorage()
		const log = new RequestLog({ storage, log: quietLog(), now: Date.now }, { days: 7, maxRows: 1000 })
		log.run()
		finishOne(log)
		await log.close()
		expect(await storage.queryLog({ limit: 10 })).toHaveLength(1)
	})
})

describe('request-log rows', () => {
	test('error classes: the upstream client class first, else the status', () => {
		expect(errorClassOf(200, null)).toBeNull()
		expect(errorClassOf(400, 'client')).toBe('client')
		expect(errorClassOf(499, 'aborted')).toBe('client')
		expect(errorClassOf(429, 'rate-limit')).toBe('rate-limited')
		expect(errorClassOf(502, 'transient')).toBe('upstream')
		expect(errorClassOf(401, 'key')).toBe('upstream')
		expect(errorClassOf(503, 'no-key')).toBe('gateway')
		expect(errorClassOf(429, null)).toBe('rate-limited')
		expect(errorClassOf(404, null)).toBe('client')
		expect(errorClassOf(504, null)).toBe('upstream')
		expect(errorClassOf(503, null)).toBe('gateway')
		expect(errorClassOf(500, null)).toBe('gateway')
	})

	test('dialects from the path (and the body format of the OpenAI route)', () => {
		expect(dialectOf('http://h/v1/chat/completions', undefined)).toBe('openai')
		expect(dialectOf('http://h/v1/chat/completions?x=/v1/messages', 'gemini')).toBe('gemini')
		expect(dialectOf('http://h/v1/messages', undefined)).toBe('anthropic')
		expect(dialectOf('https://h:8/v1/responses', undefined)).toBe('responses')
	})

	test('usage of several upstream calls adds up by kind', () => {
		expect(sumUsage([])).toBeNull()
		expect(
			sumUsage([
				{ prompt_tokens: 10, completion_tokens: 2, prompt_tokens_details: { cached_tokens: 4 } },
				{ prompt_tokens: 12, completion_tokens: 3, prompt_tokens_details: { cache_write_tokens: 5 }, completion_tokens_details: { reasoning_tokens: 1 } },
			]),
		).toEqual({
			prompt_tokens: 22,
			completion_tokens: 5,
			prompt_tokens_details: { cached_tokens: 4, cache_write_tokens: 5 },
			completion_tokens_details: { reasoning_tokens: 1 },
		})
	})

	test('cost of several upstream calls: the sum of what each was priced at; unknown when one was unpriced', () => {
		expect(costOf([])).toBeNull()
		expect(costOf([0.25, 0.5])).toBe(0.75)
		expect(costOf([0.25, null])).toBeNull()
	})

	test('CSV cells: quoted when needed, formulas defused', () => {
		expect(csvCell(null)).toBe('')
		expect(csvCell(12)).toBe('12')
		expect(csvCell(-3)).toBe('-3')
		expect(csvCell('a,b')).toBe('"a,b"')
		expect(csvCell('say "hi"')).toBe('"say ""hi"""')
		expect(csvCell('=1+1')).toBe("'=1+1")
		expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)")
		expect(csvCell('line\nbreak')).toBe('"line\nbreak"')
	})

	test('quantiles by nearest rank', () => {
		expect(quantile([], 0.5)).toBeNull()
		expect(quantile([7], 0.99)).toBe(7)
		const hundred = Array.from({ length: 100 }, (_, i) => i + 1)
		expect(quantile(hundred, 0.5)).toBe(50)
		expect(quantile(hundred, 0.95)).toBe(95)
		expect(quantile(hundred, 0.99)).toBe(99)
	})
})
