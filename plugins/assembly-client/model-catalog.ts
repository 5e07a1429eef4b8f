/**
 * The upstream model catalog (`GET <endpoint>/models`, no authentication): which models exist,
 * which parameters each supports (native streaming is used only where `stream` is listed).
 * Cached with a TTL and refreshed in the background; the last good copy is kept when a refresh
 * fails, because the catalog is volatile (entries come and go within minutes).
 */
import type { Logger } from '../../core/log.ts'

/** What the client needs to know of a model (stream support). */
export interface ModelInfo {
	id: string
	supportedParameters: string[] | null
	contextLength?: number
	maxCompletionTokens?: number
}

export interface CatalogEntry {
	id: string
	name?: string
	supported_parameters?: string[] | null
	context_length?: number
	top_provider?: { max_completion_tokens?: number; context_length?: number } | null
	[field: string]: unknown
}

/**
 * Current gateway model ids (docs/upstream-api.md §9, documented ones), served only when the
 * catalog cannot be fetched and the operator selected nothing.
 */
export const BUILTIN_MODELS: readonly string[] = [
	'claude-opus-4-7',
	'claude-opus-4-6',
	'claude-sonnet-4-6',
	'claude-opus-4-5-20251101',
	'claude-sonnet-4-5-20250929',
	'claude-haiku-4-5-20251001',
	'claude-sonnet-5',
	'gpt-5.6-luna',
	'gpt-5.6-terra',
	'gpt-5.5',
	'gpt-5.2',
	'gpt-5.1',
	'gpt-5',
	'gpt-5-mini',
	'gpt-5-nano',
	'gpt-4.1',
	'gpt-oss-120b',
	'gpt-oss-20b',
	'gemini-3.6-flash',
	'gemini-3.5-flash',
	'gemini-3.5-flash-lite',
	'gemini-2.5-pro',
	'gemini-2.5-flash',
	'gemini-2.5-flash-lite',
	'qwen3-next-80b-a3b',
	'qwen3-32B',
]

export interface ModelCatalogOptions {
	modelsUrl: string
	ttlMs: number
	/** How long the first fetch may hold a request up. @default 5000 */
	firstFetchTimeoutMs?: number
}

export interface ModelCatalogDeps {
	fetch: typeof fetch
	log: Logger
	now?: () => number
	/** Called with the ids after every successful fetch (state of vanished models can go). */
	onRefresh?: (ids: ReadonlySet<string>) => void
}

const toInfo = (entry: CatalogEntry): ModelInfo => ({
	id: entry.id,
	supportedParameters: Array.isArray(entry.supported_parameters) ? entry.supported_parameters : null,
	contextLength: entry.context_length ?? entry.top_provider?.context_length,
	maxCompletionTokens: entry.top_provider?.max_completion_tokens,
})

const BUILTIN = new Set(BUILTIN_MODELS)

/** The gateway answers `{"data":[…]}`; older shapes were `{"models":[…]}` or a bare array. */
export function readCatalog(body: unknown): CatalogEntry[] | null {
	const list = Array.isArray(body)
		? body
		: body && typeof body === 'object'
			? ((body as { data?: unknown }).data ?? (body as { models?: unknown }).models)
			: null
	if (!Array.isArray(list)) return null
	return list.filter((e): e is CatalogEntry => !!e && typeof e === 'object' && typeof (e as CatalogEntry).id === 'string')
}

export class ModelCatalog {
	private entries: CatalogEntry[] | null = null
	/** Built once per fetch: `info()` on the hot path allocates nothing. */
	private byId = new Map<string, Readonly<ModelInfo>>()
	private fetchedAt = -Infinity
	private inflight: Promise<void> | null = null
	private readonly now: () => number

	constructor(
		private readonly deps: ModelCatalogDeps,
		private readonly options: ModelCatalogOptions,
	) {
		this.now = deps.now ?? Date.now
	}

	private refresh(): Promise<void> {
		this.inflight ??= (async () => {
			try {
				const response = await this.deps.fetch(this.options.modelsUrl, {
					headers: { accept: 'application/json' },
					signal: AbortSignal.timeout(15_000),
				})
				if (!response.ok) throw new Error(`HTTP ${response.status}`)
				const entries = readCatalog(await response.json())
				if (!entries) throw new Error('unexpected catalog shape')
				this.entries = entries
				this.byId = new Map(entries.map((e) => [e.id, Object.freeze(toInfo(e))]))
				this.fetchedAt = this.now()
				this.deps.onRefresh?.(new Set(this.byId.keys()))
			} catch (err) {
				// Try again in a minute rather than on every request.
				this.fetchedAt = this.now() - this.options.ttlMs + 60_000
				this.deps.log.warn({ err: String(err), url: this.options.modelsUrl }, 'model catalog fetch failed; keeping the last one')
			} finally {
				this.inflight = null
			}
		})()
		return this.inflight
	}

	/** The catalog, fetched on first use; stale copies are served while a refresh runs. */
	async list(): Promise<CatalogEntry[] | null> {
		const stale = this.now() - this.fetchedAt > this.options.ttlMs
		if (stale) {
			const refreshing = this.refresh()
			if (this.entries === null) {
				const timeout = this.options.firstFetchTimeoutMs ?? 5000
				await Promise.race([refreshing, new Promise((r) => setTimeout(r, timeout))])
			}
		}
		return this.entries
	}

	/** The entries of the current copy, as they are (no fetch): null before the first fetch. */
	get current(): readonly CatalogEntry[] | null {
		return this.entries
	}

	/** What the catalog says about one model, or null when the model or the catalog is unknown. */
	async info(model: string): Promise<Readonly<ModelInfo> | null> {
		// Hot path (every chat request): no extra await while the cached catalog is fresh.
		if (this.now() - this.fetchedAt > this.options.ttlMs) await this.list()
		return this.byId.get(model) ?? null
	}

	/**
	 * Whether a model may be served: it is in the catalog, or, while no catalog could be fetched
	 * yet, in the built-in list. A refused model writes nothing (no window, no usage entry).
	 */
	async serves(model: string): Promise<boolean> {
		if (this.now() - this.fetchedAt > this.options.ttlMs) await this.list()
		return this.entries === null ? BUILTIN.has(model) : this.byId.has(model)
	}

	/** Model ids to serve: the catalog's, else the built-in list. */
	async ids(): Promise<string[]> {
		const entries = await this.list()
		return entries ? entries.map((e) => e.id) : [...BUILTIN_MODELS]
	}
}
