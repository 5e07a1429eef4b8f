import { describe, expect, test } from 'bun:test'
import { MemoryStorage } from '../../../core/storage.ts'
import { PriceBook } from '../../../plugins/pricing/price-book.ts'
import { costAt, type ModelPrices, readModelPrices, tokensByKind } from '../../../plugins/pricing/prices.ts'
import { answeringModel, endpointTier, requestTier } from '../../../plugins/pricing/tier.ts'
import { FAKE_CATALOG } from '../../fake-gateway.ts'

const silent = { warn() {}, info() {} } as never
const catalogPrices = (id: string): ModelPrices => {
	const prices = readModelPrices(FAKE_CATALOG.find((e) => e.id === id)?.pricing)
	if (!prices) throw new Error(`${id} has no price in the fixture`)
	return prices
}

/** 10,000 prompt tokens of which 2,000 cached reads, 1,000 5-minute and 500 1-hour cache writes; 3,000 completion (1,200 reasoning). */
const usage = {
	prompt_tokens: 10_000,
	completion_tokens: 3_000,
	total_tokens: 13_000,
	prompt_tokens_details: { cached_tokens: 2_000, cache_creation: { ephemeral_5m_input_tokens: 1_000, ephemeral_1h_input_tokens: 500 } },
	completion_tokens_details: { reasoning_tokens: 1_200 },
}

describe('the cost of a request', () => {
	test('token kinds: prompt less cached reads and cache writes; reasoning is part of completion', () => {
		expect(tokensByKind(usage)).toEqual({ prompt: 6_500, cache_read: 2_000, cache_write: 1_000, cache_write_1h: 500, completion: 3_000 })
		// A bare cache_write_tokens counts as 5-minute writes.
		expect(tokensByKind({ prompt_tokens: 100, completion_tokens: 1, prompt_tokens_details: { cached_tokens: 0, cache_write_tokens: 40 } })).toEqual({
			prompt: 60,
			cache_read: 0,
			cache_write: 40,
			cache_write_1h: 0,
			completion: 1,
		})
	})

	test('exact cost on each tier, every kind of cached token (claude-sonnet-4-6 of the catalog)', () => {
		const prices = catalogPrices('claude-sonnet-4-6')
		// global: 6500*3 + 2000*0.3 + 1000*3.75 + 500*6 + 3000*15 = 71,850 USD per million
		const global = costAt(prices, usage, 'global')
		expect(global.usd).toBe(0.07185)
		expect(global.nusd).toBe(71_850_000)
		expect(global.parts.cache_read).toEqual({ tokens: 2_000, price: 0.3, usd: 0.0006 })
		expect(global.parts.cache_write_1h).toEqual({ tokens: 500, price: 6, usd: 0.003 })
		// us: 6500*3.3 + 2000*0.33 + 1000*4.125 + 500*6.6 + 3000*16.5 = 79,035
		expect(costAt(prices, usage, 'us').usd).toBe(0.079035)
		expect(costAt(prices, usage, 'eu').usd).toBe(0.079035)
	})

	test('a tier with its own table uses it; a regional tier the catalog lacks is global raised by regional_increase_percent', () => {
		const prices: ModelPrices = {
			global: { prompt: 1, completions: 2 },
			eu: { prompt: 4, completions: 8, input_cache_read: 0.5 },
			regional_increase_percent: 10,
		}
		const u = { prompt_tokens: 1_000_000, completion_tokens: 1_000_000, prompt_tokens_details: { cached_tokens: 1_000_000 } }
		// eu: nothing uncached, 1M reads at 0.5, 1M completion at 8
		expect(costAt(prices, u, 'eu').usd).toBe(8.5)
		// us (absent): global * 1.1; a kind without a price is charged at the prompt price
		expect(costAt(prices, u, 'us').usd).toBeCloseTo(1.1 + 2.2, 12)
		// gpt-5 has no eu table in the catalog: 1.25*1.1 per million prompt tokens
		expect(costAt(catalogPrices('gpt-5'), { prompt_tokens: 1_000_000, completion_tokens: 0 }, 'eu').usd).toBe(1.375)
	})

	test('prices with four decimals stay exact (gpt-5-mini us cache reads at 0.0275)', () => {
		const cost = costAt(catalogPrices('gpt-5-mini'), { prompt_tokens: 3, completion_tokens: 0, prompt_tokens_details: { cached_tokens: 3 } }, 'us')
		expect(cost.parts.cache_read.usd).toBe(0.0000000825)
		expect(cost.nusd).toBe(83) // 82.5 nano-USD, rounded once per request
	})

	test('invalid catalog pricing is unpriced, not $0', () => {
		expect(readModelPrices(null)).toBeNull()
		expect(readModelPrices({ us: { prompt: 1, completions: 1 } })).toBeNull()
		expect(readModelPrices({ global: { prompt: -1, completions: 1 } })).toBeNull()
		expect(readModelPrices({ global: { prompt: 'cheap', completions: 1 } })).toBeNull()
	})
})

describe('tier and model', () => {
	test('model_region "global" pays global; anything else pays the endpoint region', () => {
		expect(endpointTier('https://llm-gateway.assemblyai.com/v1/chat/completions')).toBe('us')
		expect(endpointTier('https://llm-gateway.eu.assemblyai.com/v1/chat/completions')).toBe('eu')
		expect(requestTier('global', 'eu')).toBe('global')
		expect(requestTier(undefined, 'eu')).toBe('eu')
		expect(requestTier(undefined, 'us')).toBe('us')
	})

	test('the answering model: a named fallback is priced, an unknown name (a provider base name) is not trusted', () => {
		expect(answeringModel('claude-opus-4-7', ['claude-sonnet-4-6'], 'claude-sonnet-4-6')).toBe('claude-sonnet-4-6')
		expect(answeringModel('qwen3.5-4b-32k-fast', [], 'qwen3.5-4b-32k')).toBe('qwen3.5-4b-32k-fast')
		expect(answeringModel('gpt-5', [], undefined)).toBe('gpt-5')
	})
})

describe('the price book', () => {
	test('catalog prices, the unpriced model, overrides stored and seen by a second instance', async () => {
		const storage = new MemoryStorage()
		const a = new PriceBook({ storage, log: silent })
		a.useCatalog({ entries: () => FAKE_CATALOG })
		expect(
			a.costOf('qwen3-next-80b-a3b', { prompt_tokens: 10, completion_tokens: 10, total_tokens: 20, prompt_tokens_details: { cached_tokens: 0 } }, 'us'),
		).toBeNull()
		expect(
			a.costOf('no-such-model', { prompt_tokens: 10, completion_tokens: 10, total_tokens: 20, prompt_tokens_details: { cached_tokens: 0 } }, 'us'),
		).toBeNull()
		await a.setOverrides({ 'qwen3-next-80b-a3b': { global: { prompt: 1, completions: 2 } } })
		const b = new PriceBook({ storage, log: silent })
		b.useCatalog({ entries: () => FAKE_CATALOG })
		await b.load()
		expect(
			b.costOf(
				'qwen3-next-80b-a3b',
				{ prompt_tokens: 1_000_000, completion_tokens: 1_000_000, total_tokens: 0, prompt_tokens_details: { cached_tokens: 0 } },
				'global',
			)?.usd,
		).toBe(3)
		const rows = await b.list()
		expect(rows.find((r) => r.model === 'qwen3-next-80b-a3b')).toMatchObject({ source: 'override', catalog: null })
		expect(rows.find((r) => r.model === 'gpt-5')).toMatchObject({ source: 'catalog', override: null })
		await a.setOverrides({ 'qwen3-next-80b-a3b': null })
		await b.load()
		expect((await b.list()).find((r) => r.model === 'qwen3-next-80b-a3b')?.source).toBe('unpriced')
	})
})
