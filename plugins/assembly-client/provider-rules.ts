/**
 * Rules of the providers behind the gateway, applied to the gateway body just before it is sent.
 * Only rules a provider documents are here, each with its source in docs/provider-rules.md; the
 * gateway passes these fields on unchanged, so without the rule the provider's 400 reaches the
 * client for a request that every OpenAI SDK sends by default.
 *
 * Each rule returns what it changed, so the request's log line can say so.
 */

export interface ClaudeVersion {
	family: 'opus' | 'sonnet' | 'haiku'
	major: number
	minor: number
}

/** `claude-sonnet-4-5-20250929` -> sonnet 4.5; `claude-opus-5` -> opus 5.0; older naming (`claude-3-5-sonnet`) -> null. */
export function claudeVersion(model: string): ClaudeVersion | null {
	const match = /^claude-(opus|sonnet|haiku)-(\d+)(?:-(\d{1,2}))?(?:-\d{8})?$/.exec(model)
	if (!match) return null
	return { family: match[1] as ClaudeVersion['family'], major: Number(match[2]), minor: Number(match[3] ?? 0) }
}

export const isClaude = (model: string): boolean => model.startsWith('claude')

/** Opus 4.1 and later, Sonnet and Haiku 4.5 and later: `temperature` and `top_p` are exclusive. */
export function samplingExclusive(model: string): boolean {
	const v = claudeVersion(model)
	if (v === null) return false
	const since = v.family === 'opus' ? [4, 1] : [4, 5]
	return v.major > since[0]! || (v.major === since[0] && v.minor >= since[1]!)
}

/** Fields Claude does not take (OpenAI-only sampling controls). */
const CLAUDE_UNSUPPORTED = ['n', 'frequency_penalty', 'presence_penalty'] as const

/**
 * Applies every provider rule to `body` (in place) for its `model`; returns the names of the
 * fields it removed (empty when nothing changed).
 */
export function applyProviderRules(body: Record<string, unknown>): string[] {
	const model = typeof body.model === 'string' ? body.model : ''
	const dropped: string[] = []
	if (!isClaude(model)) return dropped
	// Temperature wins: it is the parameter clients set on purpose; top_p is usually an SDK default.
	if (samplingExclusive(model) && body.temperature !== undefined && body.temperature !== null && body.top_p !== undefined && body.top_p !== null) {
		delete body.top_p
		dropped.push('top_p')
	}
	for (const field of CLAUDE_UNSUPPORTED) {
		if (field in body) {
			delete body[field]
			dropped.push(field)
		}
	}
	return dropped
}

/**
 * Lowers `max_tokens` to the model's maximum output (`top_provider.max_completion_tokens` in the
 * catalog): above it the provider refuses the request, while the client only meant "as long as
 * possible". Returns the value the client asked for when it was lowered, else null.
 */
export function clampMaxTokens(body: Record<string, unknown>, maxCompletionTokens: number | null | undefined): number | null {
	const asked = body.max_tokens
	if (typeof maxCompletionTokens !== 'number' || !Number.isInteger(maxCompletionTokens) || maxCompletionTokens < 1) return null
	if (typeof asked !== 'number' || asked <= maxCompletionTokens) return null
	body.max_tokens = maxCompletionTokens
	return asked
}

export type MaxTokensMode = 'off' | 'low' | 'medium' | 'high'

/**
 * MAX_TOKENS_MODE: a request without `max_tokens` gets one from the model's maximum output
 * (low: min(4096, max), medium: half of it, high: all of it) instead of the gateway's default of
 * 1000, which cuts long answers. A client's own value is never replaced. Returns the value set, or null.
 */
export function fillMaxTokens(body: Record<string, unknown>, mode: MaxTokensMode, maxCompletionTokens: number | null | undefined): number | null {
	if (mode === 'off' || body.max_tokens !== undefined) return null
	if (typeof maxCompletionTokens !== 'number' || !Number.isInteger(maxCompletionTokens) || maxCompletionTokens < 1) return null
	const value =
		mode === 'low' ? Math.min(4096, maxCompletionTokens) : mode === 'medium' ? Math.max(1, Math.floor(maxCompletionTokens / 2)) : maxCompletionTokens
	body.max_tokens = value
	return value
}
