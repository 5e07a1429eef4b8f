import { afterEach, describe, expect, test } from 'bun:test'
import { keyId } from '../../../core/secrets.ts'
import { MemoryStorage } from '../../../core/storage.ts'
import { costAt, type ModelPrices, readModelPrices } from '../../../plugins/pricing/prices.ts'
import { costUsd, emptyCounts, outcomeField, USAGE_FIELDS, type UsageCounts } from '../../../plugins/usage-stats/usage-stats.ts'
import { FAKE_CATALOG, fakeAnswer, fakeUsage } from '../../fake-gateway.ts'
import { assertNoSecrets, type Harness, KEYS, readSse, startHarness, testClock } from '../../support.ts'

let h: Harness
afterEach(async () => {
	assertNoSecrets(h.logs)
	await h.close()
})

const clock = testClock

const chats = () => h.fake.requests.filter((r) => r.path === '/v1/chat/completions')
const usage = async (query = '') => {
	const response = await h.admin(`/admin/usage${query}`)
	expect(response.status).toBe(200)
	return response.json()
}
/** Counts as the report shows them: with the cost in USD. */
const shown = (counts: UsageCounts) => ({ ...counts, cost_usd: costUsd(counts) })
const prices = (model: string) => readModelPrices(FAKE_CATALOG.find((e) => e.id === model)?.pricing) as ModelPrices
const msg = (content: string) => [{ role: 'user', content }]
const weatherTool = { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }

/** Expected counters per key id and model, built from what the test sent and the fake answered. */
class Tally {
	readonly keys = new Map<string, Map<string, UsageCounts>>()
	counts(id: string, model: string): UsageCounts {
		let models = this.keys.get(id)
		if (!models) this.keys.set(id, (models = new Map()))
		let counts = models.get(model)
		if (!counts) models.set(model, (counts = emptyCounts()))
		return counts
	}
	totals(): UsageCounts {
		const out = emptyCounts()
		for (const models of this.keys.values()) for (const c of models.values()) for (const f of USAGE_FIELDS) out[f] += c[f]
		return out
	}
}

describe('usage statistics', () => {
	test('mixed requests (models, streams, client errors, retried 5xx and 429, a total failure) add up exactly, tokens included', async () => {
		const c = clock()
		h = await startHarness({ now: c.now })
		const expected = new Tally()
		const id = (key: string | null) => (key === null ? '-' : keyId(key))
		/** Attempts and tokens straight from the fake's own records: what it was asked and what it sent. */
		const tallyAttempts = (from: number) => {
			for (const rec of chats().slice(from)) {
				const counts = expected.counts(id(rec.key), rec.model!)
				counts.attempts++
				// The upstream failed the attempt (a 5xx or 429 here; the client's own 400 is no failure of the key).
				if (rec.status >= 429) counts.failed_attempts++
				if (rec.status === 200) {
					const u = fakeUsage(rec.body, fakeAnswer(rec.body).output, rec.cache)
					counts.prompt_tokens += u.prompt_tokens
					counts.completion_tokens += u.completion_tokens
					counts.cached_tokens += u.prompt_tokens_details.cached_tokens
					counts.cache_write_tokens += u.prompt_tokens_details.cache_creation.ephemeral_5m_input_tokens
					counts.cache_write_1h_tokens += u.prompt_tokens_details.cache_creation.ephemeral_1h_input_tokens
					// The harness's endpoint is a US one: us prices.
					counts.cost_nusd += costAt(prices(rec.model!), u, 'us').nusd
				}
			}
		}
		const visibleUsage: { prompt_tokens: number; completion_tokens: number }[] = []
		const send = async (body: Record<string, unknown>, outcome: keyof UsageCounts, keyOf: () => string | null) => {
			const before = chats().length
			const response = await h.chat(body)
			const stream = body.stream === true
			const text = await response.text()
			if (response.status === 200 && !stream) visibleUsage.push(JSON.parse(text).usage)
			if (response.status === 200 && stream) {
				const events = await readSse(new Response(text))
				expect(events.at(-1)).toBe('[DONE]')
				const withUsage = events.filter((e) => e !== '[DONE]' && JSON.parse(e).usage)
				const asked = (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true
				// The usage chunk reaches only a client that asked for it.
				expect(withUsage).toHaveLength(asked ? 1 : 0)
				if (asked) visibleUsage.push(JSON.parse(withUsage[0]!).usage)
			}
			if (response.status === 200 && visibleUsage.length) {
				// What the client saw is what the fake sent for the attempt that answered.
				const rec = chats().at(-1)!
				const sent = fakeUsage(rec.body, fakeAnswer(rec.body).output)
				if (!stream || (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage) {
					expect(visibleUsage.at(-1)).toMatchObject({ prompt_tokens: sent.prompt_tokens, completion_tokens: sent.completion_tokens })
				}
			}
			const counts = expected.counts(id(keyOf()), body.model as string)
			counts.requests++
			counts[outcome]++
			tallyAttempts(before)
			return response.status
		}
		const lastKey = () => chats().at(-1)!.key

		expect(await send({ model: 'claude-sonnet-4-6', messages: msg('hello there, how are you') }, 'successes', lastKey)).toBe(200)
		expect(await send({ model: 'gpt-5', messages: msg('one two three four five six seven') }, 'successes', lastKey)).toBe(200)
		// A prompt over Sonnet 4.6's cacheable minimum, twice: written to the key's cache, then read (the same key by cache affinity).
		const cached = [{ role: 'system', content: 'cached long prompt '.repeat(500) }, ...msg('and a question')]
		for (let i = 0; i < 2; i++) {
			expect(await send({ model: 'claude-sonnet-4-6', messages: cached, cache_control: { type: 'ephemeral' } }, 'successes', lastKey)).toBe(200)
		}
		// Streams: with and without the client's usage chunk; gpt-oss-120b cannot stream upstream (a local stream of the JSON answer).
		expect(
			await send(
				{ model: 'claude-sonnet-4-6', messages: msg('stream me please'), stream: true, stream_options: { include_usage: true } },
				'successes',
				lastKey,
			),
		).toBe(200)
		expect(await send({ model: 'gemini-2.5-flash', messages: msg('stream me without usage'), stream: true }, 'successes', lastKey)).toBe(200)
		expect(await send({ model: 'gpt-oss-120b', messages: msg('a fake stream'), stream: true }, 'successes', lastKey)).toBe(200)
		expect(
			await send(
				{ model: 'gpt-oss-120b', messages: msg('a fake stream with usage'), stream: true, stream_options: { include_usage: true } },
				'successes',
				lastKey,
			),
		).toBe(200)
		// The client's own bad request: qwen3.5-4b-32k-fast takes no tools. Counted on the key that answered, not retried.
		expect(await send({ model: 'qwen3.5-4b-32k-fast', messages: msg('weather?'), tools: [weatherTool] }, 'failures_client', lastKey)).toBe(400)
		// A 5xx on the first key, retried on the next: one request (a success), two attempts on two keys.
		h.fake.fault('*', { kind: 'status', status: 503 })
		expect(await send({ model: 'claude-sonnet-4-6', messages: msg('after a 503') }, 'successes', lastKey)).toBe(200)
		expect(
			chats()
				.slice(-2)
				.map((r) => r.status),
		).toEqual([503, 200])
		expect(chats().at(-2)!.key).not.toBe(chats().at(-1)!.key)
		// Every attempt fails: nobody answered; the request is an upstream failure of the no-key bucket.
		h.fake.fault('*', { kind: 'status', status: 500 }, { persistent: true })
		expect(await send({ model: 'gpt-5-mini', messages: msg('doomed') }, 'failures_upstream', () => null)).toBeGreaterThanOrEqual(500)
		expect(
			chats()
				.slice(-6)
				.every((r) => r.status === 500),
		).toBe(true)
		h.fake.clearFaults()
		// A 429 on the current key, retried on another at once.
		h.fake.fault('*', { kind: 'rate-limit', retryAfter: 30 })
		expect(await send({ model: 'claude-sonnet-4-6', messages: msg('rate limited once') }, 'successes', lastKey)).toBe(200)
		expect(
			chats()
				.slice(-2)
				.map((r) => r.status),
		).toEqual([429, 200])
		expect(chats().at(-2)!.key).not.toBe(chats().at(-1)!.key)

		expect(visibleUsage).toHaveLength(8)

		const report = await usage()
		expect(report.day).toBe('2026-11-26')
		expect(report.starts_at).toBe('2026-11-26T07:00:00.000Z')
		const totals = expected.totals()
		expect(report.totals).toEqual(shown(totals))
		expect(totals.cost_nusd).toBeGreaterThan(0)
		expect(totals.requests).toBe(12)
		expect(totals.attempts).toBe(chats().length)
		expect(totals.cached_tokens).toBeGreaterThan(0)
		expect(report.totals.requests).toBe(
			report.totals.successes + report.totals.failures_rate_limited + report.totals.failures_upstream + report.totals.failures_client + report.totals.aborted,
		)
		for (const key of KEYS) {
			const row = report.keys.find((k: { id: string }) => k.id === keyId(key))
			expect(row.key).toBe(`${key.slice(0, 4)}...${key.slice(-4)}`)
			expect(row.removed).toBe(false)
			for (const [model, counts] of expected.keys.get(keyId(key)) ?? new Map()) expect(row.models[model]).toEqual(shown(counts))
			expect(Object.keys(row.models).sort()).toEqual([...(expected.keys.get(keyId(key))?.keys() ?? [])].sort())
			expect(row.totals.attempts).toBe(chats().filter((r) => r.key === key).length)
		}
		// The stream whose client did not ask for usage still counts its tokens.
		expect(report.models['gemini-2.5-flash'].prompt_tokens).toBeGreaterThan(0)
		expect(report.models['gemini-2.5-flash'].completion_tokens).toBe(5) // 'Echo: stream me without usage'
		expect(report.no_key.totals.requests).toBe(1)
		expect(report.no_key.models['gpt-5-mini']).toEqual(shown(expected.counts('-', 'gpt-5-mini')))
		// Per model: the sum over keys.
		const perModel = new Map<string, UsageCounts>()
		for (const models of expected.keys.values())
			for (const [model, counts] of models) {
				const sum = perModel.get(model) ?? emptyCounts()
				for (const f of USAGE_FIELDS) sum[f] += counts[f]
				perModel.set(model, sum)
			}
		expect(report.models).toEqual(Object.fromEntries([...perModel].map(([m, c]) => [m, shown(c)])))
		// API-password requests are nobody's client.
		expect(report.clients).toEqual([])
	})

	test('the 07:00 UTC boundary: requests before and after fall on different days; ?day= reads a past day', async () => {
		const c = clock(Date.parse('2026-11-26T06:59:59.000Z'))
		h = await startHarness({ now: c.now })
		expect((await h.chat({ model: 'claude-sonnet-4-6', messages: msg('before') })).status).toBe(200)
		c.advance(999)
		expect((await h.chat({ model: 'claude-sonnet-4-6', messages: msg('still before') })).status).toBe(200)
		c.advance(1) // 07:00:00.000
		expect((await h.chat({ model: 'gpt-5', messages: msg('after') })).status).toBe(200)

		const today = await usage()
		expect(today.day).toBe('2026-11-26')
		expect(today.totals.requests).toBe(1)
		expect(Object.keys(today.models)).toEqual(['gpt-5'])
		const yesterday = await usage('?day=2026-11-25')
		expect(yesterday.day).toBe('2026-11-25')
		expect(yesterday.ends_at).toBe('2026-11-26T07:00:00.000Z')
		expect(yesterday.totals.requests).toBe(2)
		expect(yesterday.models['claude-sonnet-4-6'].successes).toBe(2)
		expect((await usage('?day=2026-11-24')).totals.requests).toBe(0)

		for (const bad of ['26-11-2026', '2026-02-30', 'yesterday']) {
			const response = await h.admin(`/admin/usage?day=${bad}`)
			expect(response.status).toBe(400)
			expect((await response.json()).error).toMatchObject({ type: 'invalid_request_error', param: 'day' })
		}
	})

	test('reset: one key (today and past days), then all', async () => {
		const c = clock()
		h = await startHarness({ now: c.now, env: { CALLS_PER_ROTATION: '1' } })
		const ask = () => h.chat({ model: 'claude-sonnet-4-6', messages: msg('hi there') })
		for (let i = 0; i < 3; i++) expect((await ask()).status).toBe(200)
		c.advance(86_400_000)
		for (let i = 0; i < 3; i++) expect((await ask()).status).toBe(200)
		const [a, b] = [keyId(KEYS[0]), keyId(KEYS[1])]
		const row = (report: { keys: { id: string; totals: UsageCounts }[] }, id: string) => report.keys.find((k) => k.id === id)!.totals
		expect(row(await usage(), a).requests).toBe(1)
		expect(row(await usage('?day=2026-11-26'), a).requests).toBe(1)

		const reset = await h.admin('/admin/usage/reset', { method: 'POST', json: { key: a } })
		expect(reset.status).toBe(200)
		// Per day: the key's group and its export row (day x key x client x model).
		expect((await reset.json()).removed).toBe(4)
		for (const q of ['', '?day=2026-11-26']) {
			const report = await usage(q)
			expect(row(report, a)).toEqual(shown(emptyCounts()))
			expect(row(report, b).requests).toBe(1)
			expect(report.totals.requests).toBe(2)
		}
		expect((await h.admin('/admin/usage/reset', { method: 'POST', json: { key: 'no-such-key' } })).status).toBe(404)
		expect((await h.admin('/admin/usage/reset', { method: 'POST', json: { key: 42 } })).status).toBe(400)

		expect((await h.admin('/admin/usage/reset', { method: 'POST' })).status).toBe(200)
		for (const q of ['', '?day=2026-11-26']) expect((await usage(q)).totals).toEqual(shown(emptyCounts()))
		// Counting goes on after a reset.
		expect((await ask()).status).toBe(200)
		expect((await usage()).totals.requests).toBe(1)
	})

	test('a storage backend that refuses counter writes fails no request and is logged once', async () => {
		class NoCounters extends MemoryStorage {
			override async addCounters(name: string, deltas: Record<string, number>, expireAt?: number) {
				// Usage counters only: quotas (reserveCounter) keep working.
				if (name.startsWith('usage:')) throw new Error('counters are down')
				return super.addCounters(name, deltas, expireAt)
			}
		}
		h = await startHarness({ storage: new NoCounters() })
		for (let i = 0; i < 5; i++) expect((await h.chat({ model: 'claude-sonnet-4-6', messages: msg('still served') })).status).toBe(200)
		await h.gateway.close()
		const warnings = h.logs.filter((line) => line.includes('usage counters could not be written'))
		expect(warnings).toHaveLength(1)
		expect(JSON.parse(warnings[0]!).level).toBe('warning')
	})

	test('a client that goes away is counted as aborted: a request, neither a success nor a failure', async () => {
		h = await startHarness()
		h.fake.fault('*', { kind: 'delay', ms: 2000 })
		const controller = new AbortController()
		setTimeout(() => controller.abort(), 50)
		await h.call('/v1/chat/completions', { method: 'POST', json: { model: 'gpt-5', messages: msg('bye') }, signal: controller.signal }).catch(() => null)
		const report = await usage()
		expect(report.totals).toMatchObject({
			requests: 1,
			aborted: 1,
			successes: 0,
			failures_upstream: 0,
			failures_client: 0,
			failures_rate_limited: 0,
			attempts: 1,
		})
	})

	test('failure classes map to their counters', () => {
		expect(outcomeField({ ok: true, failure: null, status: 200 })).toBe('successes')
		expect(outcomeField({ ok: false, failure: 'rate-limit', status: 429 })).toBe('failures_rate_limited')
		// Our own 429 (every key at its limit or daily quota) has no upstream failure class.
		expect(outcomeField({ ok: false, failure: 'no-key', status: 429 })).toBe('failures_rate_limited')
		for (const failure of ['transient', 'key', 'no-key', 'no-model-access'] as const)
			expect(outcomeField({ ok: false, failure, status: 502 })).toBe('failures_upstream')
		expect(outcomeField({ ok: false, failure: 'client', status: 400 })).toBe('failures_client')
		expect(outcomeField({ ok: false, failure: 'aborted', status: 499 })).toBe('aborted')
	})
})
