/**
 * The cost of every request, end to end through the real gateway and the fake upstream: each
 * dialect mode is priced from the usage the upstream reported, in the request's tier, as the
 * model that answered; spend shows in /admin/usage, the CSV export and /metrics.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import OpenAI from 'openai'
import { costAt, type ModelPrices, readModelPrices } from '../../../plugins/pricing/prices.ts'
import { createFakeGateway, FAKE_CATALOG } from '../../fake-gateway.ts'
import { API_PASSWORD, harnessSet, type Harness, KEYS, PANEL_PASSWORD, readSse, testClock } from '../../support.ts'

const harnesses = harnessSet()
afterEach(() => harnesses.closeAll())

const prices = (id: string): ModelPrices => readModelPrices(FAKE_CATALOG.find((e) => e.id === id)?.pricing) as ModelPrices
const hello = { messages: [{ role: 'user', content: 'Hello there, what is the capital of France?' }] }

async function usageOf(h: Harness): Promise<any> {
	const r = await h.admin('/admin/usage')
	expect(r.status).toBe(200)
	return r.json()
}

/** The exact nano-USD of the counted tokens of one model at a tier (the counters hold the token kinds). */
function expectedNusd(counts: any, model: string, tier: 'global' | 'us' | 'eu'): number {
	return costAt(
		prices(model),
		{
			prompt_tokens: counts.prompt_tokens,
			completion_tokens: counts.completion_tokens,
			prompt_tokens_details: {
				cached_tokens: counts.cached_tokens,
				cache_creation: { ephemeral_5m_input_tokens: counts.cache_write_tokens, ephemeral_1h_input_tokens: counts.cache_write_1h_tokens },
			},
		},
		tier,
	).nusd
}

describe('cost of each request', () => {
	test('non-streamed: the US endpoint pays us, model_region global pays global; cached reads at their price', async () => {
		const h = await harnesses.start()
		expect((await h.chat({ model: 'claude-sonnet-4-6', ...hello })).status).toBe(200)
		let u = await usageOf(h)
		const us = u.models['claude-sonnet-4-6']
		expect(us.prompt_tokens).toBeGreaterThan(0)
		expect(us.cost_nusd).toBe(expectedNusd(us, 'claude-sonnet-4-6', 'us'))
		expect(us.cost_usd).toBe(us.cost_nusd / 1e9)
		expect(u.totals.cost_usd).toBe(us.cost_usd)

		// A prompt above Sonnet 4.6's cacheable minimum, marked for caching: the first call writes the
		// key's cache, the same prompt again reads it.
		const cached = {
			model: 'claude-sonnet-4-6',
			model_region: 'global',
			cache_control: { type: 'ephemeral' },
			messages: [{ role: 'user', content: 'cache me '.repeat(1200) }],
		}
		expect((await h.chat(cached)).status).toBe(200)
		u = await usageOf(h)
		expect(u.models['claude-sonnet-4-6'].cache_write_tokens).toBeGreaterThan(0)
		await h.admin('/admin/usage/reset', { method: 'POST' })
		expect((await h.chat(cached)).status).toBe(200)
		u = await usageOf(h)
		const global = u.models['claude-sonnet-4-6']
		expect(global.cached_tokens).toBeGreaterThan(0)
		expect(global.cost_nusd).toBe(expectedNusd(global, 'claude-sonnet-4-6', 'global'))
		expect(global.cost_nusd).not.toBe(expectedNusd(global, 'claude-sonnet-4-6', 'us'))
	})

	test('the EU endpoint pays eu prices', async () => {
		const fake = createFakeGateway({ keys: Object.fromEntries(KEYS.map((k) => [k, {}])) })
		const h = await harnesses.start({
			fake,
			env: { ASSEMBLY_ENDPOINT: 'https://llm-gateway.eu.assemblyai.com/v1/chat/completions' },
		})
		expect((await h.chat({ model: 'gemini-2.5-pro', ...hello })).status).toBe(200)
		const m = (await usageOf(h)).models['gemini-2.5-pro']
		expect(m.cost_nusd).toBe(expectedNusd(m, 'gemini-2.5-pro', 'eu'))
		await fake.stop()
	})

	test('streamed without include_usage: usage is asked upstream, dropped for the client, and priced', async () => {
		const h = await harnesses.start()
		const client = new OpenAI({
			apiKey: API_PASSWORD,
			baseURL: 'http://localhost/v1',
			fetch: (url, init) => h.call(new URL(String(url)).pathname, init as RequestInit),
		})
		const stream = await client.chat.completions.create({ model: 'gpt-5', stream: true, messages: hello.messages as any })
		const chunks: any[] = []
		for await (const chunk of stream) chunks.push(chunk)
		expect(chunks.length).toBeGreaterThan(1)
		expect(chunks.every((c) => c.usage === undefined || c.usage === null)).toBe(true)
		const upstream = h.fake.requests.at(-1)!
		expect(upstream.body.stream_options).toEqual({ include_usage: true })
		const m = (await usageOf(h)).models['gpt-5']
		expect(m.completion_tokens).toBeGreaterThan(0)
		expect(m.cost_nusd).toBe(expectedNusd(m, 'gpt-5', 'us'))
	})

	test('fake streaming is priced', async () => {
		const h = await harnesses.start()
		const res = await h.chat({ model: 'fake-stream/claude-haiku-4-5-20251001', stream: true, ...hello })
		expect(res.status).toBe(200)
		expect((await readSse(res)).at(-1)).toBe('[DONE]')
		const m = (await usageOf(h)).models['claude-haiku-4-5-20251001']
		expect(m.prompt_tokens).toBeGreaterThan(0)
		expect(m.cost_nusd).toBe(expectedNusd(m, 'claude-haiku-4-5-20251001', 'us'))
	})

	test.each([
		['non-streamed', false],
		['streamed', true],
	])('anti-truncation (%s): the continuations are summed', async (_name, stream) => {
		const h = await harnesses.start()
		h.fake.fault('*', { kind: 'answer', text: 'Hello wor', finish: 'length' })
		h.fake.fault('*', { kind: 'answer', text: 'ld, how are you?\n[done]' })
		const res = await h.chat({ model: 'anti-truncation/gpt-5', stream, ...hello })
		expect(res.status).toBe(200)
		await res.text()
		const chats = h.fake.requests.filter((r) => r.path.endsWith('/chat/completions'))
		expect(chats.length).toBe(2)
		const m = (await usageOf(h)).models['gpt-5']
		// Two upstream answers, both counted and priced: the second prompt carries the first answer.
		expect(m.requests).toBe(2)
		expect(m.completion_tokens).toBe(2 + 5)
		expect(m.cost_nusd).toBe(expectedNusd(m, 'gpt-5', 'us'))
	})

	test('fallbacks: the model the upstream names in its answer is priced and counted', async () => {
		const fake = createFakeGateway({ keys: Object.fromEntries(KEYS.map((k) => [k, {}])) })
		// The gateway answered with the fallback: its answer names the model that served it.
		const answering = {
			...fake,
			fetch: async (input: Request | string | URL, init?: RequestInit) => {
				const res = await fake.fetch(input, init)
				if (!String(input instanceof Request ? input.url : input).endsWith('/chat/completions') || res.status !== 200) return res
				const text = (await res.text()).replaceAll('"model":"claude-opus-4-7"', '"model":"claude-sonnet-4-6"')
				return new Response(text, { status: res.status, headers: res.headers })
			},
		}
		const h = await harnesses.start({ fake: answering as typeof fake })
		const fallbacks = [{ model: 'claude-sonnet-4-6' }]
		expect((await h.chat({ model: 'claude-opus-4-7', fallbacks, ...hello })).status).toBe(200)
		const res = await h.chat({ model: 'claude-opus-4-7', fallbacks, stream: true, ...hello })
		await res.text()
		const u = await usageOf(h)
		// The requested model keeps its upstream attempts; the requests and their cost are the fallback's.
		expect(u.models['claude-opus-4-7']?.requests ?? 0).toBe(0)
		const m = u.models['claude-sonnet-4-6']
		expect(m.requests).toBe(2)
		expect(m.cost_nusd).toBe(expectedNusd(m, 'claude-sonnet-4-6', 'us'))
		await fake.stop()
	})

	test('an unpriced model: tokens counted, cost unknown (null), never $0; an override prices it from then on', async () => {
		const h = await harnesses.start()
		expect((await h.chat({ model: 'qwen3-next-80b-a3b', ...hello })).status).toBe(200)
		let m = (await usageOf(h)).models['qwen3-next-80b-a3b']
		expect(m.prompt_tokens).toBeGreaterThan(0)
		expect(m.unpriced_requests).toBe(1)
		expect(m.cost_usd).toBeNull()
		const list = (await (await h.admin('/admin/prices')).json()) as any
		expect(list.models.find((r: any) => r.model === 'qwen3-next-80b-a3b')).toMatchObject({ source: 'unpriced', prices: null })
		const put = await h.admin('/admin/prices', {
			method: 'PUT',
			json: { prices: { 'qwen3-next-80b-a3b': { global: { prompt: 1, completions: 2 }, us: { prompt: 1.5, completions: 3 } } } },
		})
		expect(put.status).toBe(200)
		expect((await put.json()).models[0]).toMatchObject({ model: 'qwen3-next-80b-a3b', source: 'override' })
		expect((await h.chat({ model: 'qwen3-next-80b-a3b', ...hello })).status).toBe(200)
		m = (await usageOf(h)).models['qwen3-next-80b-a3b']
		expect(m.unpriced_requests).toBe(1)
		expect(m.requests).toBe(2)
		expect(m.cost_usd).toBeGreaterThan(0)
		const metrics = await (await h.call('/metrics', { auth: PANEL_PASSWORD })).text()
		expect(metrics).toMatch(/amb2api_unpriced_requests_total\{model="qwen3-next-80b-a3b"\} 1\b/)
		expect(metrics).toMatch(/amb2api_spend_usd_total\{model="qwen3-next-80b-a3b"\} [0-9.e-]+/)
	})
})

describe('/admin/prices', () => {
	test('lists catalog prices with their source; overrides are validated; null restores the catalog', async () => {
		const h = await harnesses.start()
		expect((await h.call('/admin/prices')).status).toBe(401)
		const list = (await (await h.admin('/admin/prices')).json()) as any
		expect(list.models.find((r: any) => r.model === 'claude-sonnet-4-6')).toMatchObject({ source: 'catalog', prices: prices('claude-sonnet-4-6') })
		for (const bad of [
			{ prices: { 'gpt-5': { global: { prompt: -1, completions: 1 } } } },
			{ prices: { 'gpt-5': { global: { prompt: 1 } } } },
			{ prices: { 'gpt-5': { us: { prompt: 1, completions: 1 } } } },
			{ prices: { 'gpt-5': { global: { prompt: 1, completions: 1, surprise: 3 } } } },
			{ prices: { 'bad model id': { global: { prompt: 1, completions: 1 } } } },
			{ prices: 'cheap' },
		]) {
			const r = await h.admin('/admin/prices', { method: 'PUT', json: bad })
			expect(r.status).toBe(400)
			expect((await r.json()).error).toBeDefined()
		}
		const override = { global: { prompt: 0.5, completions: 1, input_cache_read: 0.05 } }
		expect((await h.admin('/admin/prices', { method: 'PUT', json: { prices: { 'gpt-5': override } } })).status).toBe(200)
		const row = ((await (await h.admin('/admin/prices')).json()) as any).models.find((r: any) => r.model === 'gpt-5')
		expect(row).toMatchObject({ source: 'override', prices: override, override, catalog: prices('gpt-5') })
		expect(await h.storage.getDoc('prices', 'gpt-5')).toMatchObject(override)
		expect((await h.admin('/admin/prices', { method: 'PUT', json: { prices: { 'gpt-5': null } } })).status).toBe(200)
		expect(((await (await h.admin('/admin/prices')).json()) as any).models.find((r: any) => r.model === 'gpt-5').source).toBe('catalog')
	})
})

describe('spend export and metrics', () => {
	test('CSV: one row per day x key x client x model, tokens by kind and cost; bad ranges are 400', async () => {
		const h = await harnesses.start()
		const created = (await (await h.admin('/admin/clients', { method: 'POST', json: { name: 'team, "alpha"' } })).json()) as any
		expect((await h.chat({ model: 'gpt-5', ...hello })).status).toBe(200)
		expect((await h.chat({ model: 'gpt-5', ...hello }, created.key)).status).toBe(200)
		expect((await h.chat({ model: 'qwen3-next-80b-a3b', ...hello }, created.key)).status).toBe(200)
		const res = await h.admin('/admin/usage/export')
		expect(res.status).toBe(200)
		expect(res.headers.get('content-type')).toContain('text/csv')
		const lines = (await res.text()).trimEnd().split('\r\n')
		expect(lines[0]).toBe(
			'day,key_id,key,client_id,client,model,requests,successes,failures,prompt_tokens,uncached_prompt_tokens,cache_read_tokens,cache_write_5m_tokens,cache_write_1h_tokens,completion_tokens,cost_usd,unpriced_requests,audio_seconds,audio_cost_usd',
		)
		expect(lines.length).toBe(4)
		const rows = lines.slice(1)
		const withClient = rows.filter((l) => l.includes('"team, ""alpha"""'))
		expect(withClient.length).toBe(2)
		const unpriced = rows.find((l) => l.includes('qwen3-next-80b-a3b'))!.split(',')
		expect(unpriced.at(-4)).toBe('') // cost unknown, not 0
		expect(unpriced.at(-3)).toBe('1')
		expect(unpriced.slice(-2)).toEqual(['0', '0']) // no audio
		const usage = await usageOf(h)
		const gpt = rows.filter((l) => l.includes(',gpt-5,')).map((l) => Number(l.split(',').at(-4)))
		expect(gpt.reduce((a, b) => a + b, 0)).toBeCloseTo(usage.models['gpt-5'].cost_usd, 12)
		expect(rows.every((l) => !l.includes(KEYS[0]) && !l.includes(created.key))).toBe(true)
		for (const q of ['?from=2026-13-01', '?from=2026-02-02&to=2026-02-01', '?from=2020-01-01&to=2026-01-01', '?to=yesterday']) {
			expect((await h.admin(`/admin/usage/export${q}`)).status).toBe(400)
		}
		expect((await h.admin('/admin/usage/export?from=2020-01-01&to=2020-01-03')).status).toBe(200)
	})

	test('/admin/usage/spend: a date range with totals per model, key and client, and a per-day trend', async () => {
		const c = testClock(Date.UTC(2026, 10, 26, 12, 0, 0))
		const h = await harnesses.start({ now: c.now })
		const client = (await (await h.admin('/admin/clients', { method: 'POST', json: { name: 'trend' } })).json()) as any
		expect((await h.chat({ model: 'gpt-5', ...hello })).status).toBe(200)
		c.advance(86_400_000)
		expect((await h.chat({ model: 'gpt-5', ...hello }, client.key)).status).toBe(200)
		expect((await h.chat({ model: 'qwen3-next-80b-a3b', ...hello }, client.key)).status).toBe(200)
		const day1 = (await (await h.admin('/admin/usage?day=2026-11-26')).json()) as any
		const day2 = (await (await h.admin('/admin/usage?day=2026-11-27')).json()) as any
		const spend = (await (await h.admin('/admin/usage/spend?from=2026-11-25&to=2026-11-27')).json()) as any
		expect(spend.days.map((d: any) => [d.day, d.requests])).toEqual([
			['2026-11-25', 0],
			['2026-11-26', 1],
			['2026-11-27', 2],
		])
		expect(spend.days[1].cost_usd).toBe(day1.totals.cost_usd)
		expect(spend.days[2]).toMatchObject({ cost_usd: day2.totals.cost_usd, unpriced_requests: 1 })
		expect(spend.totals.cost_nusd).toBe(day1.totals.cost_nusd + day2.totals.cost_nusd)
		expect(spend.models['qwen3-next-80b-a3b'].cost_usd).toBeNull()
		expect(spend.clients).toEqual([expect.objectContaining({ id: client.id, name: 'trend' })])
		expect(spend.clients[0].totals.requests).toBe(2)
		expect(spend.keys.every((k: any) => k.key === null || k.key.includes('...'))).toBe(true)
		expect((await h.admin('/admin/usage/spend?from=2026-11-28&to=2026-11-27')).status).toBe(400)
	})

	test('/metrics: amb2api_spend_usd_total by model', async () => {
		const h = await harnesses.start()
		expect((await h.chat({ model: 'gpt-5', ...hello })).status).toBe(200)
		const usd = (await usageOf(h)).models['gpt-5'].cost_usd
		const text = await (await h.call('/metrics', { auth: PANEL_PASSWORD })).text()
		const line = text.split('\n').find((l) => l.startsWith('amb2api_spend_usd_total{model="gpt-5"}'))
		expect(Number(line?.split(' ')[1])).toBeCloseTo(usd, 12)
	})
})
