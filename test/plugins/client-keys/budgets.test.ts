/**
 * Client key budgets (USD per day/week/month/total), rpm and tpm, on one instance and across two
 * instances sharing Redis or PostgreSQL; the allow-list on /v1/models and count_tokens;
 * PATCH reset_used; the admin list's spend and remaining budget.
 */
import { afterAll, afterEach, describe, expect, test } from 'bun:test'
import OpenAI from 'openai'
import { costAt, type ModelPrices, readModelPrices } from '../../../plugins/pricing/prices.ts'
import { createFakeGateway, FAKE_CATALOG, fakeAnswer, fakeUsage } from '../../fake-gateway.ts'
import { sharedBackends } from '../../shared-backends.ts'
import { type Harness, harnessSet, KEYS, startHarness, testClock } from '../../support.ts'

let created: string[] = []
const harnesses = harnessSet(() => created)
afterEach(async () => {
	await harnesses.closeAll()
	created = []
})
const { backends, backend, cleanup } = sharedBackends('budgets')
afterAll(cleanup)

const MODEL = 'gpt-5'
const prices = readModelPrices(FAKE_CATALOG.find((e) => e.id === MODEL)?.pricing) as ModelPrices
const msg = (i: number) => [{ role: 'user', content: `Question number ${i}: what is the capital of France, please?` }]

async function createClient(h: Harness, body: Record<string, unknown>) {
	const response = await h.admin('/admin/clients', { method: 'POST', json: body })
	expect(response.status).toBe(201)
	const record = (await response.json()) as { key: string; id: string } & Record<string, any>
	created.push(record.key)
	return record
}
const view = async (h: Harness, id: string) => (await (await h.admin(`/admin/clients/${id}`)).json()) as any

/** What the fake charged for each answered request, from its own records (US endpoint: us prices). */
function chargedNusd(fake: Harness['fake']): number[] {
	return fake.requests
		.filter((r) => r.path === '/v1/chat/completions' && r.status === 200)
		.map((r) => costAt(prices, fakeUsage(r.body, fakeAnswer(r.body).output), 'us').nusd)
}

async function refusal(response: Response, code: string) {
	expect(response.status).toBe(429)
	const error = (await response.json()).error
	expect(error.code).toBe(code)
	return error
}

describe('budgets on one instance', () => {
	test('sequential traffic stops within one request of the budget; 429 budget_exceeded with Retry-After to the 07:00 UTC reset', async () => {
		const c = testClock(Date.UTC(2026, 10, 26, 12, 0, 0))
		const h = await harnesses.start({ now: c.now })
		const one = costAt(prices, fakeUsage({ messages: msg(0) }, fakeAnswer({ model: MODEL, messages: msg(0) }).output), 'us').nusd
		const budget = (one * 3.5) / 1e9
		const client = await createClient(h, { name: 'sequential', budget_usd: budget, budget_period: 'day' })
		let ok = 0
		let refused: Response | null = null
		for (let i = 0; i < 10 && !refused; i++) {
			const res = await h.chat({ model: MODEL, messages: msg(i) }, client.key)
			if (res.status === 200) ok++
			else refused = res
		}
		expect(refused).not.toBeNull()
		const error = await refusal(refused!, 'budget_exceeded')
		expect(error.message).toContain('daily budget')
		// 07:00 UTC the next day is 19 hours away.
		expect(refused!.headers.get('retry-after')).toBe(String(19 * 3600))
		const charged = chargedNusd(h.fake)
		const spent = charged.reduce((a, b) => a + b, 0)
		expect(ok).toBe(charged.length)
		// Sequential: never more than one request's cost past the budget.
		expect(spent).toBeGreaterThan(budget * 1e9)
		expect(spent).toBeLessThanOrEqual(budget * 1e9 + Math.max(...charged))
		const v = await view(h, client.id)
		expect(Math.round(v.budget.spent_usd * 1e9)).toBe(spent)
		expect(v.budget).toMatchObject({ period: 'day', remaining_usd: 0, resets_at: '2026-11-27T07:00:00.000Z' })
		expect(Math.round(v.spent_today_usd * 1e9)).toBe(spent)

		// The next usage day has a fresh budget.
		c.advance(19 * 3600 * 1000)
		expect((await h.chat({ model: MODEL, messages: msg(99) }, client.key)).status).toBe(200)
	})

	test('a total budget: 429 without Retry-After; reset_used gives it back; raising the budget lets it go on', async () => {
		const h = await harnesses.start()
		const one = costAt(prices, fakeUsage({ messages: msg(1) }, fakeAnswer({ model: MODEL, messages: msg(1) }).output), 'us').nusd
		const budget = Math.round(one * 1.5) / 1e9
		const client = await createClient(h, { name: 'total', budget_usd: budget })
		expect(client).toMatchObject({ budget_usd: budget, budget_period: 'total', rpm: null, tpm: null })
		expect(client.budget).toMatchObject({ period: 'total', spent_usd: 0, remaining_usd: budget, resets_at: null })
		let n = 0
		/** Sends until the first refusal; resolves to it and the number answered before it. */
		const untilRefused = async () => {
			let ok = 0
			for (;;) {
				const res = await h.chat({ model: MODEL, messages: msg(n++) }, client.key)
				if (res.status !== 200) return { ok, refused: res }
				ok++
				if (ok > 5) throw new Error('the budget did not hold')
			}
		}
		const first = await untilRefused()
		// The second request's estimate (its prompt) still fits in what is left; its real cost does not.
		expect(first.ok).toBe(2)
		await refusal(first.refused, 'budget_exceeded')
		expect(first.refused.headers.get('retry-after')).toBeNull()
		expect((await view(h, client.id)).used_total).toBe(2)

		const reset = await h.admin(`/admin/clients/${client.id}`, { method: 'PATCH', json: { reset_used: true } })
		expect(reset.status).toBe(200)
		expect(await reset.json()).toMatchObject({ used_total: 0, used_today: 0, spent_today_usd: 0, budget: { spent_usd: 0 } })
		const again = await untilRefused()
		expect(again.ok).toBe(2)
		await refusal(again.refused, 'budget_exceeded')
		expect((await h.admin(`/admin/clients/${client.id}`, { method: 'PATCH', json: { budget_usd: 1 } })).status).toBe(200)
		await Bun.sleep(1100) // the record cache (1 s)
		expect((await h.chat({ model: MODEL, messages: msg(n++) }, client.key)).status).toBe(200)
	})

	test('streams settle before they end; a model without a price is refused for a budgeted key (403 model_unpriced)', async () => {
		const h = await harnesses.start()
		const client = await createClient(h, { name: 'stream', budget_usd: 10, budget_period: 'month' })
		const res = await h.chat({ model: MODEL, stream: true, messages: msg(1) }, client.key)
		expect(res.status).toBe(200)
		await res.text()
		// No flush, no wait: the stream ended after its cost was stored.
		const v = await view(h, client.id)
		expect(Math.round(v.budget.spent_usd * 1e9)).toBe(chargedNusd(h.fake)[0]!)
		expect(v.budget.resets_at).toMatch(/^\d{4}-\d{2}-01T07:00:00\.000Z$/)
		const unpriced = await h.chat({ model: 'qwen3-next-80b-a3b', messages: msg(2) }, client.key)
		expect(unpriced.status).toBe(403)
		expect((await unpriced.json()).error.code).toBe('model_unpriced')
		// A fallback without a price is refused the same way.
		const viaFallback = await h.chat({ model: MODEL, fallbacks: [{ model: 'qwen3-next-80b-a3b' }], messages: msg(3) }, client.key)
		expect(viaFallback.status).toBe(403)
	})

	test('a budget request refused on our side (unknown model, 404) gives its reservation back', async () => {
		const h = await harnesses.start()
		const client = await createClient(h, { name: 'refunds', budget_usd: 1 })
		expect((await h.chat({ model: MODEL, messages: msg(1) }, client.key)).status).toBe(200)
		const before = (await view(h, client.id)).budget.spent_usd
		h.fake.fault('*', { kind: 'status', status: 400, envelope: 'B', message: 'invalid request body' })
		expect((await h.chat({ model: MODEL, messages: msg(2) }, client.key)).status).toBe(400)
		expect((await view(h, client.id)).budget.spent_usd).toBe(before)
	})

	test('rpm: 429 client_rate_limited with Retry-After to the minute end; the next minute admits again', async () => {
		const c = testClock(Date.UTC(2026, 10, 26, 12, 0, 15))
		const h = await harnesses.start({ now: c.now })
		const client = await createClient(h, { name: 'rpm', rpm: 2 })
		for (let i = 0; i < 2; i++) expect((await h.chat({ model: MODEL, messages: msg(i) }, client.key)).status).toBe(200)
		const refused = await h.chat({ model: MODEL, messages: msg(3) }, client.key)
		const error = await refusal(refused, 'client_rate_limited')
		expect(error.message).toContain('2 requests per minute')
		expect(refused.headers.get('retry-after')).toBe('45')
		// A refused request spends no quota.
		expect((await view(h, client.id)).used_today).toBe(2)
		c.advance(45_000)
		expect((await h.chat({ model: MODEL, messages: msg(4) }, client.key)).status).toBe(200)
	})

	test('tpm: the estimate is reserved, the real tokens settle, and past tpm the next request waits for the minute', async () => {
		const c = testClock(Date.UTC(2026, 10, 26, 12, 0, 0))
		const h = await harnesses.start({ now: c.now })
		const tokens = fakeUsage({ messages: msg(0) }, fakeAnswer({ model: MODEL, messages: msg(0) }).output)
		const per = tokens.prompt_tokens + tokens.completion_tokens
		const client = await createClient(h, { name: 'tpm', tpm: per * 2 + 1 })
		expect((await h.chat({ model: MODEL, messages: msg(0) }, client.key)).status).toBe(200)
		expect((await h.chat({ model: MODEL, messages: msg(1) }, client.key)).status).toBe(200)
		const stored = await h.storage.readCounters('client-rate:')
		// Exactly the real tokens, estimates settled away.
		expect(Object.values(stored)[0]?.tokens).toBe(per * 2)
		await refusal(await h.chat({ model: MODEL, messages: msg(2) }, client.key), 'client_rate_limited')
		c.advance(60_000)
		expect((await h.chat({ model: MODEL, messages: msg(3) }, client.key)).status).toBe(200)
	})
})

describe('allow-list and expiry beyond chat', () => {
	test('/v1/models lists only the allowed models; count_tokens checks the allow-list and the expiry', async () => {
		const c = testClock(Date.UTC(2026, 10, 26, 12, 0, 0))
		const h = await harnesses.start({ now: c.now })
		const client = await createClient(h, { name: 'two', allowed_models: ['gpt-5', 'claude-sonnet-4-6'], expires_at: Date.UTC(2026, 10, 27) / 1000 })
		const sdk = new OpenAI({
			apiKey: client.key,
			baseURL: 'http://localhost/v1',
			fetch: (url, init) => h.call(new URL(String(url)).pathname, { ...(init as RequestInit), auth: null }),
		})
		const ids = []
		for await (const m of sdk.models.list()) ids.push(m.id)
		expect(ids.sort()).toEqual(['claude-sonnet-4-6', 'gpt-5'])
		// The API password still sees every model.
		expect(((await (await h.call('/v1/models')).json()) as any).data.length).toBe(FAKE_CATALOG.length)

		const count = (model: string) =>
			h.call('/v1/messages/count_tokens', {
				method: 'POST',
				auth: null,
				headers: { 'x-api-key': client.key },
				json: { model, messages: [{ role: 'user', content: 'hi' }] },
			})
		expect((await count('claude-sonnet-4-6')).status).toBe(200)
		const denied = await count('claude-opus-4-7')
		expect(denied.status).toBe(403)
		expect(((await denied.json()) as any).error.type).toBe('permission_error')
		c.advance(86_400_000)
		const expired = await count('claude-sonnet-4-6')
		expect(expired.status).toBe(403)
		expect(JSON.stringify(await expired.json())).toContain('expired')
	})

	test('budget fields are validated', async () => {
		const h = await harnesses.start()
		for (const body of [
			{ name: 'x', budget_usd: -1 },
			{ name: 'x', budget_usd: 0 },
			{ name: 'x', budget_usd: 5, budget_period: 'year' },
			{ name: 'x', rpm: 0 },
			{ name: 'x', tpm: 1.5 },
			{ name: 'x', budget_usd: '5' },
		]) {
			const r = await h.admin('/admin/clients', { method: 'POST', json: body })
			expect(r.status).toBe(400)
		}
	})
})

describe.each(Object.keys(backends))('two instances on one %s', (name) => {
	test('concurrent requests over both never spend past the budget when the estimate covers the answer; rpm holds exactly', async () => {
		const open = await backend(name)()
		// Real time (the backends expire groups by it); all of the test within one minute.
		if (Date.now() % 60_000 > 45_000) await Bun.sleep(60_000 - (Date.now() % 60_000) + 50)
		const fake = createFakeGateway({ keys: Object.fromEntries(KEYS.map((k) => [k, {}])), limit: 1000 })
		// Requests of both instances are in flight together.
		fake.fault('*', { kind: 'delay', ms: 30 }, { persistent: true })
		const a = await startHarness({ fake, storage: await open() })
		const b = await startHarness({ fake, storage: await open() })
		try {
			const one = costAt(prices, { prompt_tokens: 200, completion_tokens: 50 }, 'us').nusd
			const budget = (one * 5) / 1e9
			const client = await createClient(a, { name: 'shared', budget_usd: budget, budget_period: 'week' })
			// max_tokens makes the estimate at least the real cost: then not even concurrency overspends.
			const statuses = await Promise.all(
				Array.from({ length: 24 }, (_, i) => (i % 2 ? a : b).chat({ model: MODEL, max_tokens: 50, messages: msg(i) }, client.key).then((r) => r.status)),
			)
			expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([])
			const ok = statuses.filter((s) => s === 200).length
			expect(ok).toBeGreaterThan(0)
			const spent = chargedNusd(fake).reduce((x, y) => x + y, 0)
			expect(spent).toBeLessThanOrEqual(budget * 1e9)
			const v = await view(b, client.id)
			expect(Math.round(v.budget.spent_usd * 1e9)).toBe(spent)

			const limited = await createClient(a, { name: 'rpm', rpm: 7 })
			const rpmStatuses = await Promise.all(
				Array.from({ length: 16 }, (_, i) => (i % 2 ? a : b).chat({ model: MODEL, messages: msg(i) }, limited.key).then((r) => r.status)),
			)
			expect(rpmStatuses.filter((s) => s === 200).length).toBe(7)
			expect(rpmStatuses.filter((s) => s === 429).length).toBe(9)
		} finally {
			await a.close()
			await b.close()
			await fake.stop()
		}
	}, 60_000)

	test('sequential requests alternating between the instances stop within one request of the budget', async () => {
		const open = await backend(name)()
		const fake = createFakeGateway({ keys: Object.fromEntries(KEYS.map((k) => [k, {}])) })
		const a = await startHarness({ fake, storage: await open() })
		const b = await startHarness({ fake, storage: await open() })
		try {
			const one = costAt(prices, fakeUsage({ messages: msg(0) }, fakeAnswer({ model: MODEL, messages: msg(0) }).output), 'us').nusd
			const budget = (one * 4.5) / 1e9
			const client = await createClient(a, { name: 'alternating', budget_usd: budget })
			let refused = false
			for (let i = 0; i < 12 && !refused; i++) refused = (await (i % 2 ? a : b).chat({ model: MODEL, messages: msg(i) }, client.key)).status === 429
			expect(refused).toBe(true)
			const charged = chargedNusd(fake)
			const spent = charged.reduce((x, y) => x + y, 0)
			expect(spent).toBeLessThanOrEqual(budget * 1e9 + Math.max(...charged))
		} finally {
			await a.close()
			await b.close()
			await fake.stop()
		}
	}, 60_000)
})
