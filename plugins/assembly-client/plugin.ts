/** The upstream: AssemblyAI's chat completions with retries over the key pool, and its model catalog. */
import { bool, ConfigError, int, oneOf, type Parser, seconds, spec, url } from '../../core/config.ts'
import type { MaxTokensMode } from './provider-rules.ts'
import { definePlugin } from '../../core/plugin.ts'
import { AssemblyClient } from './client.ts'
import { KeyTester } from './key-test.ts'
import { DebugBodies } from './debug-bodies.ts'
import { ModelCatalog } from './model-catalog.ts'
import type { PromptCacheMode, PromptCacheTtl } from './prompt-cache.ts'
import { fanOut, pricedRecorder } from '../usage-stats/events.ts'

declare module '../../core/plugin.ts' {
	interface Services {
		assembly: AssemblyClient
		catalog: ModelCatalog
		/** One cheap upstream call with one key (the panel's Test button). */
		keyTester: KeyTester
	}
}

const MAX_TOKENS_MODES: readonly MaxTokensMode[] = ['off', 'low', 'medium', 'high']
const maxTokensMode: Parser<MaxTokensMode> = (raw, name) => {
	const value = raw.trim().toLowerCase() as MaxTokensMode
	if (MAX_TOKENS_MODES.includes(value)) return value
	throw new ConfigError(`${name}=${JSON.stringify(raw)}: must be one of off, low, medium, high`)
}

const DEFAULT_ENDPOINT = 'https://llm-gateway.assemblyai.com/v1/chat/completions'

/** The catalog URL: `/chat/completions` replaced by `/models`. */
export function deriveModelsUrl(endpoint: string): string {
	return endpoint.replace(/\/chat\/completions\/?$/, '/models')
}

export const plugin = definePlugin({
	name: 'assembly-client',
	description: 'the AssemblyAI LLM Gateway client: translation, retries over the key pool, model catalog',
	optional: false,
	needs: ['pool', 'log', 'now', 'upstreamFetch', 'settingsWatch', 'secrets'],
	uses: ['usage', 'metrics', 'pricing'],
	provides: ['assembly', 'catalog', 'keyTester'],
	settings: {
		endpoint: spec(
			'ASSEMBLY_ENDPOINT',
			url,
			DEFAULT_ENDPOINT,
			'upstream chat URL; the catalog URL replaces /chat/completions with /models',
			'assembly_endpoint',
		),
		retryEnabled: spec('RETRY_429_ENABLED', bool, true, 'retry failed attempts on another key', 'retry_429_enabled'),
		maxRetries: spec('RETRY_429_MAX_RETRIES', int(0, 100), 5, 'extra attempts per client request, shared by every phase', 'retry_429_max_retries'),
		retryInterval: spec('RETRY_429_INTERVAL', seconds(0, 600), 1, 'seconds between attempts after a 5xx or network error', 'retry_429_interval'),
		modelsCacheTtl: spec('MODELS_CACHE_TTL', seconds(0, 86_400), 600, 'seconds the upstream model catalog is cached', 'models_cache_ttl'),
		// The upstream accepts only "global" (anything else is a 400 on every request).
		modelRegion: spec<string | null>(
			'MODEL_REGION',
			oneOf(['global']),
			null,
			'default model_region sent upstream (the upstream accepts only "global")',
			'model_region',
		),
		promptCacheMode: spec<PromptCacheMode>(
			'PROMPT_CACHE_MODE',
			oneOf(['conservative', 'off']),
			'conservative',
			'conservative: Claude requests without cache_control get an ephemeral marker on their leading system messages, OpenAI-family requests without prompt_cache_key get one from a hash of their stable prefix; off: none',
			'prompt_cache_mode',
		),
		promptCacheTtl: spec<PromptCacheTtl>('PROMPT_CACHE_TTL', oneOf(['5m', '1h']), '5m', 'TTL of the automatic Claude cache marker', 'prompt_cache_ttl'),
		maxTokensMode: spec<MaxTokensMode>(
			'MAX_TOKENS_MODE',
			maxTokensMode,
			'off',
			'a request without max_tokens gets one from the model maximum: off (gateway default 1000), low (min 4096), medium (half), high (all)',
			'max_tokens_mode',
		),
		streamBootstrapRetries: spec(
			'STREAM_BOOTSTRAP_RETRIES',
			int(0, 10),
			1,
			're-sends, on another key, of a native stream that breaks before its first chunk (within the retry budget)',
			'stream_bootstrap_retries',
		),
	},
	setup: ({ services, settings, config }) => {
		const catalog = new ModelCatalog(
			{
				fetch: services.upstreamFetch,
				log: services.log,
				now: services.now,
				// Rate windows of models that left the catalog go (bounded state).
				onRefresh: (ids) =>
					void services.pool.pruneModels(ids).catch((err) => services.log.warn({ err: String(err) }, 'could not prune rate windows of vanished models')),
			},
			{ modelsUrl: deriveModelsUrl(settings.endpoint), ttlMs: settings.modelsCacheTtl * 1000 },
		)
		const pricing = services.pricing
		pricing?.useCatalog({ entries: () => catalog.current, refresh: () => catalog.list() })
		const options = {
			endpoint: settings.endpoint,
			timeoutMs: config.upstream.timeoutMs,
			retryEnabled: settings.retryEnabled,
			maxRetries: settings.maxRetries,
			retryIntervalMs: settings.retryInterval * 1000,
			modelRegion: settings.modelRegion,
			requestTimeoutMs: config.limits.requestTimeoutMs,
			promptCache: { mode: settings.promptCacheMode, ttl: settings.promptCacheTtl },
			streamBootstrapRetries: settings.streamBootstrapRetries,
			maxTokensMode: settings.maxTokensMode,
		}
		const assembly = new AssemblyClient(
			{
				fetch: services.upstreamFetch,
				pool: services.pool,
				catalog,
				log: services.log,
				// Every finished request is priced once (when pricing is loaded) before the listeners see it.
				recorder: pricedRecorder(fanOut(services.usage, services.metrics), pricing ? (model, usage, tier) => pricing.costOf(model, usage, tier) : undefined),
				now: services.now,
				bodies: new DebugBodies(services.log, services.secrets, config.log.bodyMax),
				scrub: (text: string) => services.secrets.scrub(text),
			},
			options,
		)
		// Stored settings changed (any instance): retries and the model region apply to the next request.
		services.settingsWatch.onChange(() =>
			Object.assign(options, {
				retryEnabled: settings.retryEnabled,
				maxRetries: settings.maxRetries,
				retryIntervalMs: settings.retryInterval * 1000,
				modelRegion: settings.modelRegion,
				promptCache: { mode: settings.promptCacheMode, ttl: settings.promptCacheTtl },
				streamBootstrapRetries: settings.streamBootstrapRetries,
				maxTokensMode: settings.maxTokensMode,
			}),
		)
		const keyTester = new KeyTester({
			fetch: services.upstreamFetch,
			endpoint: settings.endpoint,
			timeoutMs: config.upstream.timeoutMs,
			catalog: () => catalog.list(),
			now: services.now,
		})
		return { services: { assembly, catalog, keyTester } }
	},
})
