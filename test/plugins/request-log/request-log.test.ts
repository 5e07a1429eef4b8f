/**
 * The request log end to end: requests through the real gateway (the official OpenAI SDK as the
 * client, the fake upstream behind it) become one row each, with the facts the issue lists, and
 * /admin/requests reads them back with filters, paging, detail, CSV and figures.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import OpenAI from 'openai'
import type { LogRow } from '../../../core/storage.ts'
import type { RequestLog } from '../../../plugins/request-log/writer.ts'
import { costAt, type ModelPrices, readModelPrices } from '../../../plugins/pricing/prices.ts'
import { FAKE_CATALOG } from '../../fake-gateway.ts'
import { API_PASSWORD, type Harness, harnessSet, KEYS } from '../../support.ts'

const harnesses = harnessSet()
afterEach(() => harnesses.closeAll())

const MODEL = 'claude-sonnet-4-6'

function sdk(h: Harness, apiKey = API_PASSWORD): OpenAI {
	return new OpenAI({
		apiKey,
		baseURL: 'http://localhost/v1',
		maxRetries: 0,
		fetch: (input: string | URL | Request, init?: RequestInit) => h.gateway.app.handle(new Request(input, init)),
	})
}

const requestLogOf = (h: Harness) => h.gateway.services.requestLog as RequestLog

async function rows(h: Harness, query = ''): Promise<{ data: LogRow[]; next_cursor: string | null }> {
	await requestLogOf(h).flush()
	const response = await h.admin(`/admin/requests${query}`)
	expect(response.status).toBe(200)
	return response.json()
}

async function clientKey(h: Harness, name: string): Promise<string> {
	const response = await h.admin('/admin/clients', { method: 'POST', json: { name } })
	expect(response.status).toBe(201)
	return (await response.json()).key
}

/** The SDK's error (its APIPromise is not a plain promise for `rejects`). */
const failure = (pending: PromiseLike<unknown>) =>
	Promise.resolve(pending).then(
		() => null,
		(err: unknown) => err as { status: number },
	)

const pricesOf = (model: string) => readModelPrices(FAKE_CATALOG.find((e) => e.id === model)?.pricing) as ModelPrices

const masked = (key: string) => `${key.slice(0, 4)}...${key.slice(-4)}`

describe('request log', () => {
	test('a completion and a stream become one row each: ids, dialect, client by name, models, masked key, attempts, status, timings, tokens', async () => {
		const h = await harnesses.start()
		const name = 'team <b>"ops"</b>'
		const client = sdk(h, await clientKey(h, name))
		const completion = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hello there' }] })
		const stream = await client.chat.completions.create({
			model: MODEL,
			messages: [{ role: 'user', content: 'stream please' }],
			stream: true,
			stream_options: { include_usage: true },
		})
		let streamedUsage: OpenAI.CompletionUsage | undefined
		for await (const chunk of stream) if (chunk.usage) streamedUsage = chunk.usage

		const { data } = await rows(h)
		expect(data).toHaveLength(2)
		const [streamed, plain] = data as [LogRow, LogRow]
		expect(plain.at).toBeLessThanOrEqual(streamed.at)
		for (const row of data) {
			expect(row).toMatchObject({
				dialect: 'openai',
				client: name,
				model: MODEL,
				model_answered: MODEL,
				attempts: 1,
				status: 200,
				error_class: null,
			})
			expect(KEYS.map(masked)).toContain(row.key as string)
			expect(typeof row.request_id).toBe('string')
			expect(row.total_ms as number).toBeGreaterThanOrEqual(row.ttfb_ms as number)
			expect(row.ttft_ms as number).toBeGreaterThanOrEqual(row.ttfb_ms as number)
			expect(row.upstream_ms as number).toBeGreaterThanOrEqual(row.admission_ms as number)
		}
		expect(plain.stream).toBe(false)
		expect(streamed.stream).toBe(true)
		expect(plain.prompt_tokens).toBe(completion.usage!.prompt_tokens)
		expect(plain.completion_tokens).toBe(completion.usage!.completion_tokens)
		expect(streamed.prompt_tokens).toBe(streamedUsage!.prompt_tokens)
		expect(streamed.completion_tokens).toBe(streamedUsage!.completion_tokens)
		// The cost comes from the pricing plugin: the catalog's prices at the tier paid (the harness's endpoint is a US one).
		expect(plain.cost_usd).toBe(costAt(pricesOf(MODEL), completion.usage!, 'us').usd)
		expect(streamed.cost_usd).toBe(costAt(pricesOf(MODEL), streamedUsage!, 'us').usd)
		expect(plain.cost_usd as number).toBeGreaterThan(0)
		// Bodies are never stored: nothing of the prompts or answers is in a row.
		const text = JSON.stringify(data)
		expect(text).not.toContain('hello there')
		expect(text).not.toContain('stream please')
		expect(text).not.toContain(completion.choices[0]!.message.content!.slice(0, 20))
		for (const key of KEYS) expect(text).not.toContain(key)
	})

	test('cost: the tier the request paid (model_region global pays global), the operator override, and null for an unpriced model', async () => {
		const h = await harnesses.start()
		const client = sdk(h)
		const global = await client.chat.completions.create({
			model: MODEL,
			messages: [{ role: 'user', content: 'global please' }],
			model_region: 'global',
		} as never)
		const unpriced = await client.chat.completions.create({ model: 'qwen3-next-80b-a3b', messages: [{ role: 'user', content: 'no price' }] })
		const override = { prompt: 7, completions: 11 }
		expect(
			(await h.admin('/admin/prices', { method: 'PUT', json: { prices: { 'qwen3-next-80b-a3b': { global: override, us: override, eu: override } } } })).status,
		).toBe(200)
		const priced = await client.chat.completions.create({ model: 'qwen3-next-80b-a3b', messages: [{ role: 'user', content: 'a price now' }] })
		const { data } = await rows(h)
		const [afterOverride, before, globalRow] = data as [LogRow, LogRow, LogRow]
		expect(globalRow.cost_usd).toBe(costAt(pricesOf(MODEL), global.usage!, 'global').usd)
		expect(globalRow.cost_usd).not.toBe(costAt(pricesOf(MODEL), global.usage!, 'us').usd)
		expect(before.model).toBe('qwen3-next-80b-a3b')
		expect(before.prompt_tokens).toBe(unpriced.usage!.prompt_tokens)
		expect(before.cost_usd).toBeNull()
		expect(afterOverride.cost_usd).toBeCloseTo((priced.usage!.prompt_tokens * 7 + priced.usage!.completion_tokens * 11) / 1e6, 12)
	})

	test('failures: a client error, an upstream 5xx retried on another key, all keys rate-limited; the overview counts them', async () => {
		const h = await harnesses.start({ env: { RETRY_429_MAX_RETRIES: '2' } })
		const client = sdk(h)
		// A model the catalog does not have: the client's own mistake.
		expect(await failure(client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] }))).toMatchObject({ status: 404 })
		h.fake.fault('*', { kind: 'status', status: 500 }, { times: 1 })
		await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'retry me' }] })
		h.fake.fault('*', { kind: 'rate-limit', retryAfter: 30 }, { times: 3 })
		expect(await failure(client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'limited' }] }))).toMatchObject({ status: 429 })

		const { data } = await rows(h)
		const [limited, retried, missing] = data as [LogRow, LogRow, LogRow]
		expect(missing).toMatchObject({ model: 'no-such-model', status: 404, error_class: 'client', attempts: 0, key: null })
		expect(retried).toMatchObject({ status: 200, error_class: null, attempts: 2 })
		expect(limited).toMatchObject({ status: 429, error_class: 'rate-limited', attempts: 3 })
		expect(KEYS.map(masked)).toContain(limited.key as string)

		const overview = await (await h.admin('/admin/requests/overview')).json()
		expect(overview).toMatchObject({ requests: 3, succeeded: 1, errors: { client: 1, upstream: 0, 'rate-limited': 1, gateway: 0 } })
		expect(overview.success_rate).toBeCloseTo(1 / 3, 3)
		expect(overview.per_minute).toHaveLength(60)
		expect(overview.per_minute.at(-1).requests).toBe(3)
		expect(overview.per_minute.at(-1).errors).toBe(2)
	})

	test('a client that leaves a stream early is recorded as 499 client', async () => {
		const h = await harnesses.start()
		h.fake.fault('*', { kind: 'trickle', intervalMs: 30, repeat: 20 })
		const controller = new AbortController()
		const response = await h.call('/v1/chat/completions', {
			method: 'POST',
			json: { model: MODEL, messages: [{ role: 'user', content: 'long' }], stream: true },
			signal: controller.signal,
		})
		const reader = response.body!.getReader()
		await reader.read()
		await reader.cancel()
		controller.abort()
		await Bun.sleep(50)
		const { data } = await rows(h)
		expect(data).toHaveLength(1)
		expect(data[0]).toMatchObject({ status: 499, error_class: 'client', stream: true })
	})

	test('filters, paging, detail with its waterfall, CSV; bad parameters are clear 400s', async () => {
		const h = await harnesses.start()
		const a = await clientKey(h, 'alpha')
		const b = await clientKey(h, '=HYPERLINK("x")')
		for (let i = 0; i < 5; i++) await h.chat({ model: MODEL, messages: [{ role: 'user', content: `a${i}` }] }, a)
		for (let i = 0; i < 3; i++) await h.chat({ model: 'claude-opus-4-7', messages: [{ role: 'user', content: `b${i}` }] }, b)
		const tagged = await h.call('/v1/chat/completions', {
			method: 'POST',
			json: { model: MODEL, messages: [{ role: 'user', content: 'tag' }] },
			headers: { 'x-request-id': 'trace-me-123' },
		})
		expect(tagged.status).toBe(200)

		expect((await rows(h)).data).toHaveLength(9)
		expect((await rows(h, '?client=alpha')).data.map((r) => r.client)).toEqual(Array(5).fill('alpha'))
		expect((await rows(h, '?model=claude-opus-4-7')).data).toHaveLength(3)
		expect((await rows(h, '?request_id=trace-me-123')).data.map((r) => r.request_id)).toEqual(['trace-me-123'])
		expect((await rows(h, '?status=200')).data).toHaveLength(9)
		expect((await rows(h, '?status=500')).data).toHaveLength(0)
		expect((await rows(h, `?from=${Date.now() + 60_000}`)).data).toHaveLength(0)
		expect((await rows(h, `?to=${new Date(Date.now() + 60_000).toISOString()}`)).data).toHaveLength(9)

		const seen: string[] = []
		let cursor: string | null = ''
		while (cursor !== null) {
			const page = await rows(h, `?limit=4${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
			seen.push(...page.data.map((r) => r.id))
			cursor = page.next_cursor
		}
		expect(seen).toEqual((await rows(h, '?limit=100')).data.map((r) => r.id))

		const first = (await rows(h)).data[0]!
		const detail = await (await h.admin(`/admin/requests/${encodeURIComponent(first.id)}`)).json()
		expect(detail.id).toBe(first.id)
		expect(detail.waterfall.map((bar: { stage: string }) => bar.stage)).toEqual(['admission', 'upstream', 'first_byte', 'first_token', 'answer'])
		for (const bar of detail.waterfall) expect(bar.end).toBeGreaterThanOrEqual(bar.start)
		expect((await h.admin('/admin/requests/no-such-row')).status).toBe(404)

		const csv = await h.admin('/admin/requests.csv?model=claude-opus-4-7')
		expect(csv.headers.get('content-type')).toContain('text/csv')
		const lines = (await csv.text()).trim().split('\r\n')
		expect(lines[0]).toStartWith('id,at,time,request_id,dialect')
		expect(lines).toHaveLength(4)
		// A name a spreadsheet would run as a formula is written as text.
		expect(lines[1]).toContain(`"'=HYPERLINK(""x"")"`)

		for (const [query, param] of [
			['?status=abc', 'status'],
			['?limit=0', 'limit'],
			['?limit=501', 'limit'],
			['?from=yesterday', 'from'],
			['?cursor=nonsense', 'cursor'],
		] as const) {
			const response = await h.admin(`/admin/requests${query}`)
			expect(response.status).toBe(400)
			expect((await response.json()).error.param).toBe(param)
		}
		expect((await h.admin('/admin/requests/performance?window=forever')).status).toBe(400)
		expect((await h.call('/admin/requests')).status).toBe(401)
	})

	test('performance per model over a window', async () => {
		const h = await harnesses.start()
		for (let i = 0; i < 4; i++) await (await h.chat({ model: MODEL, messages: [{ role: 'user', content: `q${i}` }], stream: i % 2 === 0 })).text()
		await h.chat({ model: 'claude-opus-4-7', messages: [{ role: 'user', content: 'x' }] })
		await requestLogOf(h).flush()
		const body = await (await h.admin('/admin/requests/performance?window=15m')).json()
		expect(body.window_ms).toBe(15 * 60_000)
		expect(body.models.map((m: { model: string }) => m.model)).toEqual([MODEL, 'claude-opus-4-7'])
		const sonnet = body.models[0]
		expect(sonnet.requests).toBe(4)
		expect(sonnet.latency_ms.p50).toBeGreaterThanOrEqual(0)
		expect(sonnet.latency_ms.p99).toBeGreaterThanOrEqual(sonnet.latency_ms.p50)
		expect(sonnet.ttft_ms.p95).not.toBeNull()
	})

	test('turned off (DISABLE_PLUGINS=request-log): chat still works and nothing is recorded', async () => {
		const h = await harnesses.start({ env: { DISABLE_PLUGINS: 'request-log' } })
		expect((await h.chat({ model: MODEL, messages: [{ role: 'user', content: 'x' }] })).status).toBe(200)
		expect(h.gateway.services.requestLog).toBeUndefined()
		expect(await h.storage.queryLog({ limit: 10 })).toEqual([])
		expect((await h.admin('/admin/requests')).status).toBe(404)
	})
})
