/**
 * The price list: each model's prices from the upstream catalog, or the operator's override.
 * Overrides are stored documents (kind `prices`, id = model), so every instance sees them; this
 * instance re-reads them at most every `refreshMs` (in the background: `costOf` never waits).
 * Catalog prices are read from the catalog's cached copy, rebuilt only when a new copy arrives.
 */
import type { Logger } from '../../core/log.ts'
import type { Storage } from '../../core/storage.ts'
import type { Usage } from '../chat-core/chat-completion.ts'
import { type Cost, costAt, type ModelPrices, type PriceTier, readModelPrices, type UsageCounts } from './prices.ts'

/** The catalog as pricing reads it: the entries of its current copy (null before the first fetch). */
export interface PriceCatalog {
	entries(): readonly { id: string; pricing?: unknown }[] | null
	/** Fetches the catalog when it is stale or was never fetched (the price list waits for it). */
	refresh?(): Promise<unknown>
}

export interface PriceOverride extends ModelPrices {
	id: string
	/** Epoch seconds. */
	updated_at: number
	[field: string]: unknown
}

export type PriceSource = 'catalog' | 'override' | 'unpriced'

export interface PriceRow {
	model: string
	source: PriceSource
	/** What is charged (override first, then catalog); null = unpriced. */
	prices: ModelPrices | null
	catalog: ModelPrices | null
	override: ModelPrices | null
	/** The model is in the current catalog (an override may name one that left it). */
	in_catalog: boolean
}

export interface PriceBookDeps {
	storage: Storage
	log: Logger
	now?: () => number
}

export class PriceBook {
	private catalog: PriceCatalog | null = null
	private catalogSeen: readonly unknown[] | null = null
	private catalogPrices = new Map<string, ModelPrices | null>()
	private overrides = new Map<string, ModelPrices>()
	private loadedAt = -Infinity
	private loading: Promise<void> | null = null
	private readonly now: () => number

	constructor(
		private readonly deps: PriceBookDeps,
		private readonly options: { refreshMs?: number } = {},
	) {
		this.now = deps.now ?? Date.now
	}

	/** The upstream catalog whose `pricing` this list reads (set by the upstream client's plugin). */
	useCatalog(catalog: PriceCatalog): void {
		this.catalog = catalog
		this.catalogSeen = null
	}

	/** Loads the stored overrides (awaited at start; later refreshed in the background). */
	async load(): Promise<void> {
		this.loading ??= (async () => {
			try {
				const docs = await this.deps.storage.listDocs<PriceOverride>('prices')
				const next = new Map<string, ModelPrices>()
				for (const doc of docs) {
					const prices = readModelPrices(doc)
					if (prices) next.set(doc.id, prices)
				}
				this.overrides = next
				this.loadedAt = Date.now()
			} catch (err) {
				// Keep the last copy; try again after the next interval.
				this.loadedAt = Date.now()
				this.deps.log.warn({ err: String(err) }, 'price overrides could not be read; keeping the last copy')
			} finally {
				this.loading = null
			}
		})()
		return this.loading
	}

	private freshen(): void {
		if (Date.now() - this.loadedAt > (this.options.refreshMs ?? 5000)) void this.load()
	}

	private catalogMap(): Map<string, ModelPrices | null> {
		const entries = this.catalog?.entries() ?? null
		if (entries !== this.catalogSeen) {
			this.catalogSeen = entries
			this.catalogPrices = new Map((entries ?? []).map((e) => [e.id, readModelPrices(e.pricing)]))
		}
		return this.catalogPrices
	}

	/** Resolves once the catalog has been fetched at least once (at once when it has). */
	async ready(): Promise<void> {
		if (this.catalog && this.catalog.entries() === null) await this.catalog.refresh?.()
	}

	/** The prices charged for a model (override first, then catalog), or null when unpriced. */
	pricesOf(model: string): ModelPrices | null {
		this.freshen()
		return this.overrides.get(model) ?? this.catalogMap().get(model) ?? null
	}

	/** The cost of one request's usage in `tier`, or null when the model is unpriced. */
	costOf(model: string, usage: Usage | UsageCounts, tier: PriceTier): Cost | null {
		const prices = this.pricesOf(model)
		return prices ? costAt(prices, usage, tier) : null
	}

	/** Every model of the catalog and every override, with what is charged and where it comes from. */
	async list(): Promise<PriceRow[]> {
		await Promise.all([this.catalog?.refresh?.(), this.load()])
		const catalog = this.catalogMap()
		const models = [...new Set([...catalog.keys(), ...this.overrides.keys()])].sort()
		return models.map((model) => {
			const fromCatalog = catalog.get(model) ?? null
			const override = this.overrides.get(model) ?? null
			return {
				model,
				source: override ? 'override' : fromCatalog ? 'catalog' : 'unpriced',
				prices: override ?? fromCatalog,
				catalog: fromCatalog,
				override,
				in_catalog: catalog.has(model),
			}
		})
	}

	/**
	 * Sets (prices) or removes (null) overrides, each one durable before this resolves. Every
	 * value must already be validated (`readModelPrices`).
	 */
	async setOverrides(changes: Record<string, ModelPrices | null>): Promise<void> {
		const at = Math.floor(this.now() / 1000)
		for (const [model, prices] of Object.entries(changes)) {
			if (prices === null) {
				await this.deps.storage.deleteDoc('prices', model)
				this.overrides.delete(model)
			} else {
				const doc: PriceOverride = { ...prices, id: model, updated_at: at }
				await this.deps.storage.putDoc('prices', doc)
				this.overrides.set(model, prices)
			}
		}
		this.deps.log.info({ models: Object.keys(changes) }, 'price overrides changed')
	}
}
