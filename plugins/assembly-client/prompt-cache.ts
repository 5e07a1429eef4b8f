/**
 * Automatic prompt-cache markers on the gateway body, and the affinity key that keeps a stable
 * prefix on one upstream key (the provider's cache belongs to the account behind a key).
 *
 * The stable prefix is what stays the same from turn to turn: the model, the leading system
 * messages, `tools` and `response_format`. Only its hash ever leaves this file, never its text.
 * - Claude caches only where a request says so: a request without any `cache_control` gets an
 *   ephemeral marker on its last leading system message, which covers the tools and the system
 *   prompt (the provider caches tools before system).
 * - OpenAI-family models cache automatically; `prompt_cache_key` routes requests with one prefix
 *   to the same cache, so a request without one gets `amb2api:` + 32 hex digits of the hash.
 * - Where the upstream documents a minimum cacheable length, a shorter prompt gets no marker.
 */
import { createHash } from 'node:crypto'
import { isObject } from '../../core/json.ts'

export type PromptCacheMode = 'conservative' | 'off'
export type PromptCacheTtl = '5m' | '1h'

export interface PromptCacheOptions {
	/** `off`: no markers are added (a client's own are always sent as they are). */
	mode: PromptCacheMode
	/** TTL of the markers added to Claude requests. */
	ttl: PromptCacheTtl
}

export type CacheFamily = 'claude' | 'openai' | 'other'

/** What caching the provider behind a model does. Kimi takes `prompt_cache_key` like OpenAI. */
export function cacheFamily(model: string): CacheFamily {
	const id = model.toLowerCase()
	if (id.startsWith('claude')) return 'claude'
	if (id.startsWith('gpt') || id.startsWith('chatgpt') || id.startsWith('kimi') || /^o[1-9](\b|-|$)/.test(id)) return 'openai'
	return 'other'
}

/**
 * The minimum cacheable prompt in tokens where the upstream documents one; null where it does not
 * (then a marker is always added: a prompt too short for the cache runs uncached, without error).
 */
export function minCacheableTokens(model: string): number | null {
	const id = model.toLowerCase()
	if (cacheFamily(id) === 'openai') return id.startsWith('kimi') ? null : 1024
	if (/^claude-(opus-4-[567]|haiku-4-5)(\b|-|$)/.test(id)) return 4096
	if (/^claude-sonnet-4-6(\b|-|$)/.test(id)) return 2048
	if (/^claude-(sonnet-4-5|sonnet-4-\d{8}|opus-4-\d{8})(\b|-|$)/.test(id)) return 1024
	return null
}

/**
 * A token estimate from text length (about four characters a token). Used only to leave out
 * markers on prompts the provider would not cache anyway, so a rough figure is enough.
 */
export function estimateTokens(text: string): number {
	return Math.ceil(text.length / 4)
}

interface StablePrefix {
	model: string
	system: unknown[]
	tools: unknown
	response_format: unknown
}

/** The stable prefix of a gateway body, or null when it has none (no system message, tools or response format). */
export function stablePrefix(body: Record<string, unknown>): StablePrefix | null {
	const messages = Array.isArray(body.messages) ? body.messages : []
	const system: unknown[] = []
	for (const message of messages) {
		if (!isObject(message) || message.role !== 'system') break
		// The marker this file may add is not part of the prefix: the hash is the same with or without it.
		const { cache_control: _marker, ...rest } = message
		system.push(rest)
	}
	const tools = Array.isArray(body.tools) && body.tools.length > 0 ? body.tools : null
	const responseFormat = body.response_format ?? null
	if (!system.length && tools === null && responseFormat === null) return null
	return { model: String(body.model), system, tools, response_format: responseFormat }
}

/** JSON with object keys sorted, so equal prefixes hash alike whatever the client's key order. */
function canonical(value: unknown): string {
	if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
	if (isObject(value)) {
		const keys = Object.keys(value)
			.filter((k) => value[k] !== undefined)
			.sort()
		return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`
	}
	return JSON.stringify(value) ?? 'null'
}

/** 32 hex digits of the SHA-256 of the prefix as canonical JSON. */
export function prefixHash(prefix: StablePrefix): string {
	return createHash('sha256').update(canonical(prefix)).digest('hex').slice(0, 32)
}

/** Whether the client already placed a cache marker anywhere (then its choice stands). */
function hasCacheControl(body: Record<string, unknown>): boolean {
	if (body.cache_control !== undefined && body.cache_control !== null) return true
	const marked = (item: unknown) => isObject(item) && item.cache_control !== undefined && item.cache_control !== null
	for (const message of Array.isArray(body.messages) ? body.messages : []) {
		if (marked(message)) return true
		if (isObject(message) && Array.isArray(message.content) && message.content.some(marked)) return true
	}
	return Array.isArray(body.tools) && body.tools.some(marked)
}

/** What `applyPromptCache` did: the affinity key for key choice, and which marker it added. */
export interface PromptCacheResult {
	/** Requests with the same affinity key prefer the same upstream key; null: no stable prefix. */
	affinity: string | null
	marker: 'cache_control' | 'prompt_cache_key' | null
}

/**
 * Adds the automatic marker to a gateway body (in place) and returns the affinity key: the
 * client's `prompt_cache_key` when it sent one, else the stable prefix's hash.
 */
export function applyPromptCache(body: Record<string, unknown>, options: PromptCacheOptions): PromptCacheResult {
	const model = String(body.model)
	const clientKey = typeof body.prompt_cache_key === 'string' && body.prompt_cache_key !== '' ? body.prompt_cache_key : null
	const prefix = stablePrefix(body)
	const hash = prefix ? prefixHash(prefix) : null
	const affinity = clientKey !== null ? `key:${clientKey}` : hash
	if (options.mode === 'off' || hash === null || prefix === null) return { affinity, marker: null }

	const family = cacheFamily(model)
	const minimum = minCacheableTokens(model)
	if (family === 'claude') {
		if (!prefix.system.length || hasCacheControl(body)) return { affinity, marker: null }
		if (minimum !== null && estimateTokens(canonical([prefix.tools, prefix.system])) < minimum) return { affinity, marker: null }
		const messages = body.messages as Record<string, unknown>[]
		const last = messages[prefix.system.length - 1]!
		messages[prefix.system.length - 1] = { ...last, cache_control: { type: 'ephemeral', ttl: options.ttl } }
		return { affinity, marker: 'cache_control' }
	}
	if (family === 'openai' && clientKey === null) {
		// OpenAI caches the whole prompt's prefix, so the whole prompt is what must be long enough.
		if (minimum !== null && estimateTokens(canonical([body.tools, body.messages])) < minimum) return { affinity, marker: null }
		body.prompt_cache_key = `amb2api:${hash}`
		return { affinity, marker: 'prompt_cache_key' }
	}
	return { affinity, marker: null }
}
