/**
 * Which price tier a request pays, and which model it is priced as. Pure.
 *
 * Tier: a request that reaches the upstream with `model_region: "global"` pays `global`; any
 * other pays the tier of the endpoint's region (`eu` for the EU host, `us` otherwise).
 * Model: the one that answered. With `fallbacks` the upstream's answer names it; a name that is
 * neither the requested model nor one of its fallbacks (a provider reporting its own base name)
 * is not trusted, and the requested model is priced.
 */
import type { PriceTier } from './prices.ts'

/** The tier of an endpoint URL: `eu` for `*.eu.*` hosts, `us` otherwise. */
export function endpointTier(endpoint: string): Exclude<PriceTier, 'global'> {
	let host = ''
	try {
		host = new URL(endpoint).hostname
	} catch {
		return 'us'
	}
	return /(^|\.)eu\./.test(host) ? 'eu' : 'us'
}

/** The tier of one request, from the `model_region` sent upstream. */
export function requestTier(modelRegion: unknown, endpoint: Exclude<PriceTier, 'global'>): PriceTier {
	return modelRegion === 'global' ? 'global' : endpoint
}

/** The model to price: the answer's, when it is the requested one or a fallback; else the requested one. */
export function answeringModel(requested: string, fallbacks: readonly string[], answered: unknown): string {
	if (typeof answered !== 'string' || answered === requested) return requested
	return fallbacks.includes(answered) ? answered : requested
}
