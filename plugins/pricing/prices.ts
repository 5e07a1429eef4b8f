/**
 * Model prices and the cost of one request. Prices are USD per million tokens, as the upstream
 * catalog's `pricing` gives them (`global` always, `us`/`eu` optional, plus
 * `regional_increase_percent`). Pure: no storage, no clock.
 *
 * Token kinds of a request, from the usage the upstream reported:
 * - prompt: prompt tokens less the cached reads and the cache writes (OpenAI-shaped usage counts
 *   both inside `prompt_tokens`);
 * - cache_read: `prompt_tokens_details.cached_tokens`;
 * - cache_write (5 min) and cache_write_1h: `cache_creation.ephemeral_5m_input_tokens` and
 *   `ephemeral_1h_input_tokens` (a bare `cache_write_tokens` counts as 5-minute writes);
 * - completion: completion tokens, reasoning included.
 * A kind without its own price is charged at the prompt price (no discount is assumed).
 */
import { isObject } from '../../core/json.ts'
import type { Usage } from '../chat-core/chat-completion.ts'

export type PriceTier = 'global' | 'us' | 'eu'
export const PRICE_TIERS: readonly PriceTier[] = ['global', 'us', 'eu']

/** One tier's prices, USD per million tokens. */
export interface TierPrices {
	prompt: number
	completions: number
	input_cache_read?: number
	input_cache_write?: number
	input_cache_write_1h?: number
}

/** A model's prices: `global` always, regional tiers when known. */
export interface ModelPrices {
	global: TierPrices
	us?: TierPrices
	eu?: TierPrices
	regional_increase_percent?: number
}

/** The usage fields a cost is computed from (`Usage` of the chat core, or a recorder event's). */
export type UsageCounts = Pick<Usage, 'prompt_tokens' | 'completion_tokens'> & { prompt_tokens_details?: Partial<Usage['prompt_tokens_details']> }

export type TokenKind = 'prompt' | 'cache_read' | 'cache_write' | 'cache_write_1h' | 'completion'
export const TOKEN_KINDS: readonly TokenKind[] = ['prompt', 'cache_read', 'cache_write', 'cache_write_1h', 'completion']

export interface CostPart {
	tokens: number
	/** USD per million tokens applied. */
	price: number
	usd: number
}

export interface Cost {
	usd: number
	/** The same cost in nano-USD (1e-9), the integer the counters add up. */
	nusd: number
	tier: PriceTier
	parts: Record<TokenKind, CostPart>
}

export const MAX_PRICE = 100_000
const PRICE_FIELDS = ['prompt', 'completions', 'input_cache_read', 'input_cache_write', 'input_cache_write_1h'] as const

const isPrice = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= MAX_PRICE

/** A tier as the catalog or an operator gives it; null when it is not a valid tier. */
export function readTier(value: unknown): TierPrices | null {
	if (!isObject(value) || !isPrice(value.prompt) || !isPrice(value.completions)) return null
	const tier: TierPrices = { prompt: value.prompt, completions: value.completions }
	for (const field of PRICE_FIELDS) {
		const price = value[field]
		if (price !== undefined && price !== null && isPrice(price)) tier[field] = price
	}
	return tier
}

/**
 * An operator's prices: like the catalog's, but strict, so a misspelt field is refused rather
 * than silently dropped. Resolves to the prices, or to what is wrong with them.
 */
export function readOverride(value: unknown): ModelPrices | string {
	if (!isObject(value)) return 'must be an object with a global tier'
	for (const key of Object.keys(value)) {
		if (key === 'regional_increase_percent') {
			if (!isPrice(value[key])) return 'regional_increase_percent must be a number from 0'
			continue
		}
		if (!(PRICE_TIERS as readonly string[]).includes(key)) return `unknown field ${JSON.stringify(key.slice(0, 40))}`
		const tier = value[key]
		if (!isObject(tier)) return `${key} must be an object`
		for (const field of Object.keys(tier)) {
			if (!(PRICE_FIELDS as readonly string[]).includes(field)) return `${key}: unknown field ${JSON.stringify(field.slice(0, 40))}`
			if (!isPrice(tier[field])) return `${key}.${field} must be a number from 0 to ${MAX_PRICE} (USD per million tokens)`
		}
		if (tier.prompt === undefined || tier.completions === undefined) return `${key} needs prompt and completions`
	}
	return readModelPrices(value) ?? 'global (prompt and completions) is required'
}

/** A catalog entry's `pricing`, or null when it carries no usable `global` tier (unpriced). */
export function readModelPrices(pricing: unknown): ModelPrices | null {
	if (!isObject(pricing)) return null
	const global = readTier(pricing.global)
	if (!global) return null
	const prices: ModelPrices = { global }
	const us = readTier(pricing.us)
	const eu = readTier(pricing.eu)
	if (us) prices.us = us
	if (eu) prices.eu = eu
	if (isPrice(pricing.regional_increase_percent)) prices.regional_increase_percent = pricing.regional_increase_percent
	return prices
}

/**
 * The prices a tier pays: the tier's own, else (a regional tier the catalog does not list) the
 * global prices raised by `regional_increase_percent`.
 */
export function tierPrices(prices: ModelPrices, tier: PriceTier): TierPrices {
	if (tier === 'global') return prices.global
	const own = prices[tier]
	if (own) return own
	const raise = 1 + (prices.regional_increase_percent ?? 0) / 100
	const out: TierPrices = { prompt: prices.global.prompt * raise, completions: prices.global.completions * raise }
	for (const field of PRICE_FIELDS) {
		const price = prices.global[field]
		if (price !== undefined) out[field] = price * raise
	}
	return out
}

const count = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.round(v) : 0)

/** Tokens of a request by kind (see the header). */
export function tokensByKind(usage: UsageCounts): Record<TokenKind, number> {
	const details = usage.prompt_tokens_details
	const creation = details?.cache_creation
	const write5m = count(isObject(creation) ? creation.ephemeral_5m_input_tokens : undefined)
	const write1h = count(isObject(creation) ? creation.ephemeral_1h_input_tokens : undefined)
	const writes = write5m + write1h > 0 ? { w5: write5m, w1: write1h } : { w5: count(details?.cache_write_tokens), w1: 0 }
	const read = count(details?.cached_tokens)
	const prompt = count(usage.prompt_tokens)
	return {
		prompt: Math.max(0, prompt - read - writes.w5 - writes.w1),
		cache_read: read,
		cache_write: writes.w5,
		cache_write_1h: writes.w1,
		completion: count(usage.completion_tokens),
	}
}

/** Pico-USD (1e-12) per token at `perMillion` USD per million tokens: exact for prices with up to 6 decimals. */
const picoPerToken = (perMillion: number): number => Math.round(perMillion * 1e6)

/** The cost of one request's usage at the given prices. */
export function costAt(prices: ModelPrices, usage: UsageCounts, tier: PriceTier): Cost {
	const p = tierPrices(prices, tier)
	const tokens = tokensByKind(usage)
	const priceOf: Record<TokenKind, number> = {
		prompt: p.prompt,
		cache_read: p.input_cache_read ?? p.prompt,
		cache_write: p.input_cache_write ?? p.prompt,
		cache_write_1h: p.input_cache_write_1h ?? p.input_cache_write ?? p.prompt,
		completion: p.completions,
	}
	let pico = 0
	const parts = {} as Record<TokenKind, CostPart>
	for (const kind of TOKEN_KINDS) {
		const partPico = tokens[kind] * picoPerToken(priceOf[kind])
		pico += partPico
		parts[kind] = { tokens: tokens[kind], price: priceOf[kind], usd: partPico / 1e12 }
	}
	return { usd: pico / 1e12, nusd: Math.round(pico / 1000), tier, parts }
}
