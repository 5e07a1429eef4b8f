/**
 * Tests one upstream key with one cheap call (a one-token completion on the cheapest model of
 * the catalog, or the model the operator chose) and says what came back: status, time, the
 * rate-limit headers, or the upstream's error message. Used by the key tests, re-validation and
 * the incident re-probe; the key never leaves this function except in the request.
 */
import type { CatalogEntry } from './model-catalog.ts'
import { gatewayHeaders } from './request.ts'
import { readUpstreamError } from './upstream-errors.ts'

export interface KeyTestResult {
	ok: boolean
	status: number | null
	ms: number
	/** The model the test called. */
	model: string
	/** One line for the operator (never the key). */
	text: string
}

export interface KeyTesterDeps {
	fetch: typeof fetch
	endpoint: string
	timeoutMs: number
	/** The catalog (prices and parameters), null when none could be fetched. */
	catalog: () => Promise<CatalogEntry[] | null>
	now?: () => number
}

/** Used only when no catalog could be fetched: a small model every plan has. */
const FALLBACK_MODEL = 'claude-haiku-4-5-20251001'

/** A model's price for a one-token test: prompt plus completion, USD per million tokens (global tier); null when unpriced. */
export function testPrice(entry: CatalogEntry): number | null {
	const pricing = entry.pricing
	if (!pricing || typeof pricing !== 'object') return null
	const global = (pricing as { global?: { prompt?: unknown; completions?: unknown } }).global
	if (!global || typeof global.prompt !== 'number' || typeof global.completions !== 'number') return null
	return global.prompt + global.completions
}

/** The cheapest priced model of the catalog (ties: the first listed); unpriced models only when nothing has a price. */
export function cheapestModel(entries: readonly CatalogEntry[]): string | null {
	let best: { id: string; price: number } | null = null
	for (const entry of entries) {
		const price = testPrice(entry)
		if (price !== null && (best === null || price < best.price)) best = { id: entry.id, price }
	}
	return best?.id ?? entries[0]?.id ?? null
}

export class KeyTester {
	constructor(private readonly deps: KeyTesterDeps) {}

	/** The cheapest model in the catalog. */
	async pickModel(): Promise<string> {
		const entries = await this.deps.catalog()
		return (entries && cheapestModel(entries)) ?? FALLBACK_MODEL
	}

	/** Whether the catalog lists `model` (true while no catalog is known: the upstream will say). */
	async knows(model: string): Promise<boolean> {
		const entries = await this.deps.catalog()
		return entries === null || entries.some((e) => e.id === model)
	}

	async test(key: string, masked: string, chosen?: string): Promise<KeyTestResult> {
		const now = this.deps.now ?? Date.now
		const model = chosen ?? (await this.pickModel())
		const entry = (await this.deps.catalog())?.find((e) => e.id === model)
		const params = entry?.supported_parameters
		// The gateway refuses parameters a model does not list: max_tokens only where it is allowed.
		const limitTokens = !Array.isArray(params) || params.includes('max_tokens')
		const started = now()
		try {
			const response = await this.deps.fetch(this.deps.endpoint, {
				method: 'POST',
				headers: gatewayHeaders(key),
				body: JSON.stringify({ model, messages: [{ role: 'user', content: 'ping' }], ...(limitTokens ? { max_tokens: 1 } : {}) }),
				signal: AbortSignal.timeout(Math.min(this.deps.timeoutMs, 30_000)),
			})
			const ms = now() - started
			const text = await response.text()
			const limit = response.headers.get('x-ratelimit-limit')
			const remaining = response.headers.get('x-ratelimit-remaining')
			const window = limit !== null ? `; limit ${limit}, remaining ${remaining ?? '?'}` : ''
			if (response.ok) return { ok: true, status: response.status, ms, model, text: `${masked}: HTTP ${response.status} from ${model} in ${ms} ms${window}` }
			const info = readUpstreamError(response.status, text)
			return {
				ok: false,
				status: response.status,
				ms,
				model,
				text: `${masked}: HTTP ${response.status} from ${model} in ${ms} ms: ${info.message.split(key).join(masked).slice(0, 300)}${window}`,
			}
		} catch (err) {
			const message = err instanceof Error ? err.message : String(err)
			return {
				ok: false,
				status: null,
				ms: now() - started,
				model,
				text: `${masked}: no answer from the upstream (${message.split(key).join(masked).slice(0, 200)})`,
			}
		}
	}
}
