/**
 * The fake upstream's provider-side prompt caches, one per key (the cache belongs to the account
 * behind a key) and model. What the upstream documents (upstream-api.md §9):
 * - Claude caches explicitly: only prefixes ending at a `cache_control` marker (on a message or a
 *   content part; a top-level one marks the whole prompt) are written, with the marker's TTL
 *   (`5m` default, `1h`). A write is reported in `cache_creation.ephemeral_{5m,1h}_input_tokens`.
 * - OpenAI, Gemini and Kimi cache automatically: every prefix at a message boundary is kept, for
 *   five minutes (`prompt_cache_retention: "24h"`: a day); writes cost nothing and are not reported.
 * - A prefix shorter than the model's documented minimum is never cached (Opus 4.5–4.7 and Haiku
 *   4.5: 4,096 tokens; Sonnet 4.6: 2,048; Sonnet 4.5, Sonnet 4, Opus 4: 1,024; OpenAI: 1,024).
 * A request reads the longest prefix, cut at message boundaries (tools belong to the first), that
 * the same key sent for the same model within its TTL; a read refreshes the TTL. Other models
 * (Qwen, ...) do not cache. Tokens are the fake's own count: ceil(characters / 4).
 */

export interface CacheUse {
	/** Prompt tokens read from the cache (prompt_tokens_details.cached_tokens). */
	cached: number
	/** Prompt tokens written to the cache, by TTL (Claude only; automatic caches report none). */
	written5m: number
	written1h: number
}

export const NO_CACHE: CacheUse = { cached: 0, written5m: 0, written1h: 0 }

/** One message as the cache sees it: its text (for the prefix identity), its length, and a marker's TTL. */
export interface CacheMessage {
	/** Everything that makes two messages the same prefix (role, text, tool arguments). */
	identity: string
	chars: number
	/** `5m`/`1h` when this message carries a cache_control marker; null otherwise. */
	marker: '5m' | '1h' | null
}

type CacheKind = 'explicit' | 'automatic' | 'none'

function cacheKind(model: string): CacheKind {
	if (model.startsWith('claude')) return 'explicit'
	if (/^(gpt|o\d|kimi|gemini)/.test(model)) return 'automatic'
	return 'none'
}

/** The documented minimum cacheable prompt, in tokens (0 where none is documented). */
export function documentedMinimum(model: string): number {
	if (/^(gpt|o\d)/.test(model)) return 1024
	if (/^claude-(opus-4-[567]|haiku-4-5)/.test(model)) return 4096
	if (/^claude-sonnet-4-6/.test(model)) return 2048
	if (/^claude-(sonnet-4-5|sonnet-4-\d{8}|opus-4-\d{8})/.test(model)) return 1024
	return 0
}

const TTL_MS = { '5m': 300_000, '1h': 3_600_000, '24h': 86_400_000 } as const

/** FNV-1a over a string, continuing from `seed`: a prefix's identity without keeping its text. */
function chain(seed: string, text: string): string {
	let a = 0x811c9dc5
	let b = 0x01000193
	const input = `${seed}\u0000${text}`
	for (let i = 0; i < input.length; i++) {
		const c = input.charCodeAt(i)
		a = Math.imul(a ^ c, 0x01000193)
		b = Math.imul(b ^ c, 0x5bd1e995)
	}
	return `${(a >>> 0).toString(16)}${(b >>> 0).toString(16)}`
}

export class FakePromptCaches {
	/** key \0 model \0 prefix identity -> expiry (ms). */
	private readonly entries = new Map<string, number>()

	constructor(private readonly now: () => number) {}

	/**
	 * The cache use of one answered request, and its writes. `topLevel`: the request-level
	 * cache_control TTL (marks the whole prompt), `retention`: prompt_cache_retention.
	 */
	use(key: string, model: string, tools: string, messages: CacheMessage[], topLevel: '5m' | '1h' | null, retention: string | null): CacheUse {
		const kind = cacheKind(model)
		if (kind === 'none' || messages.length === 0) return NO_CACHE
		const now = this.now()
		const minimum = documentedMinimum(model)
		// Every message boundary: its identity, its length so far, and whether it is a breakpoint.
		const boundaries: { id: string; tokens: number; ttl: '5m' | '1h' | '24h' | null }[] = []
		// Tools lead the prefix (they change its identity) but the fake's prompt count leaves them out.
		let identity = chain(`${key}\u0000${model}`, tools)
		let chars = 0
		for (let i = 0; i < messages.length; i++) {
			const m = messages[i]!
			identity = chain(identity, m.identity)
			chars += m.chars
			const last = i === messages.length - 1
			const ttl = kind === 'automatic' ? (retention === '24h' ? '24h' : '5m') : (m.marker ?? (last ? topLevel : null))
			boundaries.push({ id: identity, tokens: Math.ceil(chars / 4), ttl })
		}
		// Claude looks a prefix up only where a request marks one; automatic caches look at every boundary.
		let lastMarked = boundaries.length - 1
		if (kind === 'explicit') {
			while (lastMarked >= 0 && boundaries[lastMarked]!.ttl === null) lastMarked--
			if (lastMarked < 0) return NO_CACHE
		}
		let cached = 0
		for (let i = lastMarked; i >= 0; i--) {
			const b = boundaries[i]!
			const expires = this.entries.get(b.id)
			if (expires !== undefined && expires > now) {
				cached = b.tokens
				// A hit keeps the entry alive for its TTL again.
				if (b.ttl !== null) this.entries.set(b.id, Math.max(expires, now + TTL_MS[b.ttl]))
				break
			}
		}
		const use: CacheUse = { cached, written5m: 0, written1h: 0 }
		let writtenUpTo = cached
		for (const b of boundaries) {
			if (b.ttl === null || b.tokens < minimum || b.tokens <= cached) continue
			const expires = this.entries.get(b.id)
			if (expires !== undefined && expires > now) continue
			this.entries.set(b.id, now + TTL_MS[b.ttl])
			if (kind === 'explicit') {
				if (b.ttl === '1h') use.written1h += b.tokens - writtenUpTo
				else use.written5m += b.tokens - writtenUpTo
				writtenUpTo = b.tokens
			}
		}
		return use
	}

	clear(): void {
		this.entries.clear()
	}
}
