/**
 * A local stand-in for the AssemblyAI LLM Gateway (see docs/upstream-api.md), so tests
 * never touch the network. A plain web-standard handler (Request → Response); `listen()` puts it
 * behind Bun.serve when a test needs a real socket (connection resets, client aborts).
 *
 * Order of checks on POST /v1/chat/completions, and why:
 *   1. auth (401, envelope A): the auth layer runs before any handler upstream
 *   2. JSON + validation (400, envelope B): runs before fallbacks and model access upstream
 *   3. model access (400, envelope B, no rate-limit headers: the verified answer carries none)
 *   4. injected faults: a fault is a property of the key, like access; invalid requests do not
 *      consume it, so a test's queued fault hits the first request that would reach the provider
 *   5. rate-limit accounting: only requests that passed 1–3 and were not answered by a fault
 *      count against the (key, model) window; upstream sends X-RateLimit-* only on 2xx and 429
 */
import catalogFixture from './fixtures/catalog.json'
import { type CacheUse, FakePromptCaches, NO_CACHE } from './fake-prompt-cache.ts'

export interface CatalogPricingTier {
	prompt: number
	completions: number
	input_cache_read?: number
	input_cache_write?: number
	input_cache_write_1h?: number
}
export interface CatalogProvider {
	id: string
	name: string
}
/** One entry of GET /v1/models (§8). Go sends nil slices as null, hence the `| null`. */
export interface CatalogEntry {
	id: string
	name: string
	description?: string
	creator: string
	context_length: number
	supported_parameters: string[] | null
	default_parameters?: Record<string, unknown> | null
	top_provider?: { is_moderated?: boolean; context_length?: number; max_completion_tokens?: number } | null
	pricing?: {
		global: CatalogPricingTier
		us?: CatalogPricingTier
		eu?: CatalogPricingTier
		regional_increase_percent?: number
	} | null
	retirement_date?: number
	available_regions?: string[] | null
	providers?: CatalogProvider[] | null
	default_provider?: CatalogProvider | null
}

export interface FakeKeyConfig {
	/** false → 401 "Authentication error, API token missing/invalid" (envelope A). Default true for configured keys. */
	valid?: boolean
	/** Models this key may not use → 400 envelope B "Your account does not have access to this LLM Gateway model", no rate-limit headers. */
	noAccessModels?: string[]
	/** Requests per 60 s window per model for this key (overrides the gateway-wide default). */
	limit?: number
	/** Valid key of an account without any gateway access → 400 envelope A (§6.2, one report). */
	noGatewayAccess?: boolean
}
export interface FakeGatewayOptions {
	/** keys not listed → 401 bad key (envelope A) */
	keys?: Record<string, FakeKeyConfig>
	/** default requests per key+model per 60 s window; default 30 */
	limit?: number
	/** injectable clock in ms (windows, `at`, chunk `created`); default Date.now. Delays and stalls use real time. */
	now?: () => number
	/** default: test/fixtures/catalog.json */
	catalog?: CatalogEntry[]
	/** stream:true on a model without "stream": 400 `model <id> does not support stream` (default) or a plain JSON 200 */
	streamUnsupported?: '400' | 'json'
	/** put tool_calls beside message (older docs); default false */
	choiceLevelToolCalls?: boolean
	/** send null for empty arrays (message.tool_calls, choices of the usage chunk); default false */
	nullArrays?: boolean
	/** non-text content parts: ignored (default) or 400 */
	nonTextParts?: '400' | 'ignore'
}
export type Fault =
	| { kind: 'status'; status: number; envelope?: 'A' | 'B' | 'C' | 'D' | 'plain'; message?: string; headers?: Record<string, string> }
	| { kind: 'rate-limit'; retryAfter?: number }
	| { kind: 'rate-limit-400' }
	| { kind: 'delay'; ms: number }
	| { kind: 'reset' }
	| { kind: 'stall'; afterChunks: number }
	/** `mode` 'close' (default) ends the body cleanly; 'error' breaks the connection mid-body. */
	| { kind: 'die'; afterChunks: number; mode?: 'close' | 'error' }
	| { kind: 'body-code'; status: number }
	/** A stream that goes silent for `ms` after `afterChunks` frames, then goes on (keep-alive tests). */
	| { kind: 'gap'; afterChunks: number; ms: number }
	/** This answer instead of the deterministic one (anti-truncation tests): the text, and the provider's finish reason kind. */
	| { kind: 'answer'; text: string; finish?: 'stop' | 'length' }
	/** a long stream: each frame `intervalMs` after the previous one, `repeat` copies of the content deltas (default 1) */
	| { kind: 'trickle'; intervalMs: number; repeat?: number }
export interface RecordedRequest {
	at: number
	method: string
	path: string
	headers: Record<string, string>
	body: any
	key: string | null
	authScheme: 'raw' | 'bearer' | 'none'
	model: string | null
	/** what the fake answered; 0 = no HTTP answer (reset, or the client left first) */
	status: number
	/** the client's abort (or disconnect) reached the fake before the answer was complete */
	aborted?: boolean
	/** kind of the injected fault that shaped this answer */
	fault?: Fault['kind']
	/** what the key's prompt cache gave and took for this answer (answered chat requests only) */
	cache?: CacheUse
}
export interface FakeGateway {
	/** Web-standard handler, usable as a `fetch` replacement: takes a Request, or (url, init). */
	fetch(input: Request | string | URL, init?: RequestInit): Promise<Response>
	/** Starts Bun.serve on 127.0.0.1, port 0; resolves 'http://127.0.0.1:PORT' (routes under /v1/...). */
	listen(): Promise<string>
	stop(): Promise<void>
	/** every request, in order (chat, models, unknown routes); reset() empties this same array */
	readonly requests: RecordedRequest[]
	/**
	 * Queue a fault for a key ('*' = any key), applied to chat requests that pass auth, validation and
	 * access. The first queued entry matching the key or '*' applies, in insertion order; it is used
	 * `times` times (default 1), or forever with `persistent`.
	 */
	fault(key: string, fault: Fault, opts?: { times?: number; persistent?: boolean }): void
	clearFaults(): void
	/**
	 * An incident on every key at once until called with null: 'auth' answers every chat request
	 * as for an invalid key (401, envelope A, as when the gateway's key check fails), 'network'
	 * drops the connection before any answer. Queued faults wait until it is over.
	 */
	outage(kind: 'auth' | 'network' | null): void
	setKey(key: string, config: FakeKeyConfig): void
	/** Requests that reached rate-limit accounting (sent = ok + rateLimited); faulted answers never do. */
	count(key: string, model: string): { sent: number; ok: number; rateLimited: number }
	/** The fake's own headroom; with no live window: full limit and resetInSeconds 0. */
	window(key: string, model: string): { limit: number; remaining: number; resetInSeconds: number }
	/** clear requests, counters, windows, faults, prompt caches (configured keys stay) */
	reset(): void
}

export const FAKE_CATALOG: CatalogEntry[] = catalogFixture as unknown as CatalogEntry[]
export const WINDOW_MS = 60_000
export const DEFAULT_LIMIT = 30
/** §3: a request without max_tokens gets at most 1000 output tokens. */
export const DEFAULT_MAX_TOKENS = 1000
export const MSG_MISSING_AUTH = 'Your account does not have access to LLM Gateway. Please upgrade or contact us at support@assemblyai.com for more information.'
export const MSG_BAD_KEY = 'Authentication error, API token missing/invalid'
export const MSG_NO_MODEL_ACCESS = 'Your account does not have access to this LLM Gateway model'
export const MSG_RATE_LIMITED = 'rate limit exceeded'
export const CLAUDE_TOOL_PREAMBLE = 'Let me look that up.'
export const TOOL_ARGUMENTS = '{"city":"Paris"}'
/** The parameters the gateway gates per model (§3.1). */
export const GATED_PARAMS = ['max_tokens', 'temperature', 'top_p', 'tools', 'tool_choice', 'response_format', 'stream'] as const

// ---------- deterministic answers (exported so tests compute expected values the same way) ----------

export interface FakeUsage {
	input_tokens: number
	prompt_tokens: number
	output_tokens: number
	completion_tokens: number
	total_tokens: number
	prompt_tokens_details: {
		cached_tokens: number
		audio_tokens: number
		cache_creation: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number }
	}
	completion_tokens_details: { reasoning_tokens: number }
}

interface NormMessage {
	role: string
	text: string
	toolArgs: string[]
	/** The TTL of this message's cache_control marker (on the message or one of its parts); null: none. */
	cache: '5m' | '1h' | null
}

/** A cache_control's TTL: `1h` when it says so, else the default `5m`; null when there is no marker. */
const markerTtl = (marker: unknown): '5m' | '1h' | null => (isObj(marker) ? (marker.ttl === '1h' ? '1h' : '5m') : null)

const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v)
const argString = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v ?? {}))

/** OpenAI models get `name` as-is; the gateway prepends it to the content for every other provider (§3.2). */
export const isOpenAIModel = (model: string): boolean => /^(gpt-|o\d)/.test(model)

/** Text of a content value: a string, or the `text` of text parts joined with '\n' (other parts ignored). */
export function contentText(content: unknown): string {
	if (typeof content === 'string') return content
	if (!Array.isArray(content)) return ''
	return content
		.filter((p) => isObj(p) && p.type === 'text')
		.map((p) => (typeof p.text === 'string' ? p.text : ''))
		.join('\n')
}

/** The conversation as the fake sees it: `prompt` becomes one user message; legacy items become assistant/tool turns. */
function normalise(body: Record<string, any>): NormMessage[] {
	const model = typeof body.model === 'string' ? body.model : ''
	const raw: unknown[] =
		Array.isArray(body.messages) && body.messages.length > 0 ? body.messages : typeof body.prompt === 'string' ? [{ role: 'user', content: body.prompt }] : []
	return raw.filter(isObj).map((m): NormMessage => {
		const part = Array.isArray(m.content) ? m.content.find((p: unknown) => isObj(p) && isObj(p.cache_control)) : undefined
		const cache = markerTtl(m.cache_control) ?? markerTtl(part?.cache_control)
		if (m.type === 'function_call') return { role: 'assistant', text: '', toolArgs: [argString(m.arguments)], cache }
		if (m.type === 'function_call_output') return { role: 'tool', text: argString(m.output), toolArgs: [], cache }
		const role = String(m.role ?? '')
		let text = contentText(m.content)
		if (role !== 'tool' && typeof m.name === 'string' && m.name && !isOpenAIModel(model)) text = `${m.name}: ${text}`
		const toolArgs = Array.isArray(m.tool_calls) ? m.tool_calls.filter(isObj).map((c: Record<string, any>) => argString(c.function?.arguments)) : []
		return { role, text, toolArgs, cache }
	})
}

const words = (s: string): number => (s.match(/\S+/g) ?? []).length

/**
 * Usage the fake reports, in both naming schemes (§4):
 * - prompt_tokens = ceil(characters / 4) over every message's text (content string or text parts
 *   joined with '\n', `name: ` prefix for non-OpenAI models) plus every tool-call `arguments` string
 *   replayed in the conversation (`prompt` counts as one user message);
 * - completion_tokens = whitespace-separated words of `output`, which is the reply text, then each
 *   tool call's arguments, joined with ' ' (a Claude tool call: 'Let me look that up. {"city":"Paris"}' = 6);
 * - cached_tokens and cache_creation: what the key's prompt cache gave and took (fake-prompt-cache.ts),
 *   none when `cache` is not given. Everything else is 0.
 */
export function fakeUsage(request: object, output: string, cache: CacheUse = NO_CACHE): FakeUsage {
	const body = request as Record<string, any>
	const msgs = normalise(body)
	const chars = msgs.reduce((n, m) => n + m.text.length + m.toolArgs.reduce((a, s) => a + s.length, 0), 0)
	const prompt = Math.ceil(chars / 4)
	const completion = words(output)
	return {
		input_tokens: prompt,
		prompt_tokens: prompt,
		output_tokens: completion,
		completion_tokens: completion,
		total_tokens: prompt + completion,
		prompt_tokens_details: {
			cached_tokens: cache.cached,
			audio_tokens: 0,
			cache_creation: { ephemeral_5m_input_tokens: cache.written5m, ephemeral_1h_input_tokens: cache.written1h },
		},
		completion_tokens_details: { reasoning_tokens: 0 },
	}
}

/** Provider-native finish reasons (§4.1). Gemini reports STOP for function calls too. */
export function finishReasons(model: string): { stop: string; tool: string; length: string } {
	if (model.startsWith('claude-')) return { stop: 'end_turn', tool: 'tool_use', length: 'max_tokens' }
	if (model.startsWith('gemini-')) return { stop: 'STOP', tool: 'STOP', length: 'MAX_TOKENS' }
	return { stop: 'stop', tool: 'tool_calls', length: 'length' }
}

/** The model id inside stream chunks: the hosted Qwen reports its base name (§5.2). */
export const streamChunkModel = (model: string): string => model.replace(/-fast$/, '')

export interface FakeAnswer {
	/** reply text, possibly truncated; null when the answer is only a tool call (non-Claude) */
	text: string | null
	toolCall: { name: string; arguments: string } | null
	finishReason: string
	/** what completion_tokens counts (see fakeUsage) */
	output: string
}

/**
 * The deterministic answer:
 * - last message a tool result → 'Echo: <tool content>';
 * - `tools` given, tool_choice not 'none', and tool_choice names a function, is 'required', or the last
 *   user message contains the word "weather" → a call of the named (else first) tool with {"city":"Paris"};
 *   Claude adds the text 'Let me look that up.';
 * - otherwise 'Echo: <text of the last user message>', cut to max_tokens (default 1000) words, then
 *   finishing with the model's length reason.
 */
export function fakeAnswer(request: object): FakeAnswer {
	const body = request as Record<string, any>
	const model = typeof body.model === 'string' ? body.model : ''
	const reasons = finishReasons(model)
	const msgs = normalise(body)
	const last = msgs[msgs.length - 1]
	const lastUser = [...msgs].reverse().find((m) => m.role === 'user')
	const tools: Record<string, any>[] = Array.isArray(body.tools) ? body.tools.filter(isObj) : []
	const choice = body.tool_choice
	const named = isObj(choice) && isObj(choice.function) && typeof choice.function.name === 'string' ? choice.function.name : null
	const wantsTool =
		tools.length > 0 && choice !== 'none' && last?.role !== 'tool' && (named !== null || choice === 'required' || /\bweather\b/i.test(lastUser?.text ?? ''))
	if (wantsTool) {
		const name = named ?? String(tools[0]?.function?.name ?? 'tool')
		const text = model.startsWith('claude-') ? CLAUDE_TOOL_PREAMBLE : null
		return {
			text,
			toolCall: { name, arguments: TOOL_ARGUMENTS },
			finishReason: reasons.tool,
			output: [text, TOOL_ARGUMENTS].filter((s) => s !== null).join(' '),
		}
	}
	const full = `Echo: ${last?.role === 'tool' ? last.text : (lastUser?.text ?? '')}`
	const max = typeof body.max_tokens === 'number' ? body.max_tokens : DEFAULT_MAX_TOKENS
	const spans = [...full.matchAll(/\S+/g)]
	if (spans.length > max && max >= 1) {
		const end = spans[max - 1]!
		const text = full.slice(0, end.index! + end[0].length)
		return { text, toolCall: null, finishReason: reasons.length, output: text }
	}
	return { text: full, toolCall: null, finishReason: reasons.stop, output: full }
}

// ---------- HTTP helpers ----------

const JSON_HEADERS = { 'content-type': 'application/json' }

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Response =>
	new Response(JSON.stringify(body), { status, headers: { ...JSON_HEADERS, ...headers } })

const envelopeA = (status: number, error: string): Response => json(status, { error, status: 'error', request_id: crypto.randomUUID() })

/** Envelope B for validation; key order as the live gateway sends it. */
const validation400 = (errors: string[], headers: Record<string, string> = {}, message = 'invalid request body'): Response =>
	json(400, { metadata: { errors }, request_id: crypto.randomUUID(), message, code: 400 }, headers)

const DEFAULT_FAULT_MESSAGES: Record<number, string> = {
	400: 'invalid request body',
	401: MSG_BAD_KEY,
	402: 'payment required',
	403: 'Forbidden – Insufficient permissions',
	404: 'transcript not found',
	429: MSG_RATE_LIMITED,
	500: 'something went wrong',
	502: 'bad gateway',
	503: 'service unavailable',
	504: 'upstream timeout',
}
/**
 * Anthropic's own refusal (passed through by the gateway in envelope D) when Opus 4.1+ or
 * Sonnet/Haiku 4.5+ get both sampling parameters.
 */
export const MSG_SAMPLING_EXCLUSIVE = 'ValidationException: `temperature` and `top_p` cannot both be specified for this model. Please use only one.'

/** Claude models on which temperature and top_p exclude each other: Opus 4.1 and later, Sonnet and Haiku 4.5 and later. */
export function samplingExclusiveModel(model: string): boolean {
	const m = /^claude-(opus|sonnet|haiku)-(\d+)(?:-(\d{1,2}))?(?:-\d{8})?$/.exec(model)
	if (!m) return false
	const [major, minor] = [Number(m[2]), Number(m[3] ?? 0)]
	const [sinceMajor, sinceMinor] = m[1] === 'opus' ? [4, 1] : [4, 5]
	return major > sinceMajor || (major === sinceMajor && minor >= sinceMinor)
}

const DEFAULT_D_MESSAGE = 'ValidationException: This model does not support assistant message prefill. The conversation must end with a user message.'

const connectionReset = (): TypeError => Object.assign(new TypeError('fetch failed: connection reset by the fake gateway'), { code: 'ECONNRESET' })

const abortError = (signal: AbortSignal): unknown => signal.reason ?? new DOMException('The operation was aborted.', 'AbortError')

/** Sleeps ms; resolves true when the signal aborted first. */
function sleepAbortable(ms: number, signal: AbortSignal): Promise<boolean> {
	if (signal.aborted) return Promise.resolve(true)
	return new Promise((resolve) => {
		const onAbort = () => {
			clearTimeout(timer)
			resolve(true)
		}
		const timer = setTimeout(() => {
			signal.removeEventListener('abort', onAbort)
			resolve(false)
		}, ms)
		signal.addEventListener('abort', onAbort, { once: true })
	})
}

/** Waits until the signal aborts (a stall). */
const untilAborted = (signal: AbortSignal): Promise<void> =>
	signal.aborted ? Promise.resolve() : new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))

interface BodyPlan {
	/** pieces written one per pull, each after a short pause so a later cut happens with bytes on the wire */
	pieces: string[]
	end: 'close' | 'error' | 'stall'
	/** silence of `ms` before piece `after` */
	gap?: { after: number; ms: number }
	/** pause before each piece; default 1 ms */
	intervalMs?: number
}

// ---------- the fake ----------

export function createFakeGateway(options: FakeGatewayOptions = {}): FakeGateway {
	const now = options.now ?? Date.now
	const catalog = options.catalog ?? FAKE_CATALOG
	const byId = new Map(catalog.map((e) => [e.id, e]))
	const keys = new Map(Object.entries(options.keys ?? {}).map(([k, v]) => [k, { ...v }]))
	const requests: RecordedRequest[] = []
	const windows = new Map<string, { start: number; used: number }>()
	const counters = new Map<string, { sent: number; ok: number; rateLimited: number }>()
	let faults: { key: string; fault: Fault; left: number; persistent: boolean }[] = []
	let toolCallSeq = 0
	let outage: 'auth' | 'network' | null = null
	const caches = new FakePromptCaches(now)
	let server: ReturnType<typeof Bun.serve> | null = null

	const slot = (key: string, model: string) => `${key}\u0000${model}`
	const limitOf = (key: string) => keys.get(key)?.limit ?? options.limit ?? DEFAULT_LIMIT

	/** The live window, or undefined once 60 s have passed since its first counted request. */
	function liveWindow(key: string, model: string) {
		const w = windows.get(slot(key, model))
		if (w && now() >= w.start + WINDOW_MS) {
			windows.delete(slot(key, model))
			return undefined
		}
		return w
	}
	const resetSeconds = (w: { start: number }) => Math.max(1, Math.ceil((w.start + WINDOW_MS - now()) / 1000))

	const rateHeaders = (limit: number, remaining: number, reset: number, model: string): Record<string, string> => ({
		'x-ratelimit-limit': String(limit),
		'x-ratelimit-remaining': String(remaining),
		'x-ratelimit-reset': String(reset),
		'x-ratelimit-model': model,
		'x-ratelimit-service': 'llmgw',
	})

	function counter(key: string, model: string) {
		let c = counters.get(slot(key, model))
		if (!c) counters.set(slot(key, model), (c = { sent: 0, ok: 0, rateLimited: 0 }))
		return c
	}

	/** First queued fault for this key or '*', in insertion order. */
	function takeFault(key: string): Fault | null {
		const i = faults.findIndex((f) => f.key === key || f.key === '*')
		if (i < 0) return null
		const entry = faults[i]!
		if (!entry.persistent && --entry.left <= 0) faults.splice(i, 1)
		return entry.fault
	}

	function validate(body: Record<string, any>, entry: CatalogEntry | undefined): string[] {
		const errors: string[] = []
		const hasMessages = Array.isArray(body.messages) && body.messages.length > 0
		const hasPrompt = typeof body.prompt === 'string' && body.prompt.length > 0
		if (body.messages != null && !Array.isArray(body.messages)) errors.push('messages must be an array')
		else if (!hasMessages && !hasPrompt) errors.push('one of messages or prompt required')
		const model = body.model
		if (typeof model !== 'string' || model === '') errors.push('model is required')
		else if (!entry) errors.push(`model ${model} is not supported`)
		else {
			const supported = entry.supported_parameters ?? []
			for (const p of GATED_PARAMS) {
				const v = body[p]
				// stream:false is the default, and an empty tools list sends nothing: neither "uses" the parameter
				const used = p === 'stream' ? v === true : p === 'tools' ? Array.isArray(v) && v.length > 0 : v != null
				if (!used || supported.includes(p)) continue
				if (p === 'stream' && options.streamUnsupported === 'json') continue
				errors.push(`model ${model} does not support ${p}`)
			}
			if (body.max_tokens != null) {
				if (!Number.isInteger(body.max_tokens) || body.max_tokens < 1) errors.push('max_tokens must be a positive integer')
				else if (body.max_tokens >= entry.context_length) errors.push('model context limit exceeded')
			}
		}
		if (body.model_region !== undefined && body.model_region !== null && body.model_region !== 'global') errors.push('model_region can only be set to global')
		if (isObj(body.fallback_config) && typeof body.fallback_config.depth === 'number' && body.fallback_config.depth > 2)
			errors.push('fallback_config depth cannot be greater than 2')
		if (isObj(body.response_format) && body.response_format.type === 'json_schema' && !isObj(body.response_format.json_schema?.schema))
			errors.push('response_format is invalid: json_schema.schema is required')
		if (Array.isArray(body.tools))
			body.tools.forEach((t: unknown, i: number) => {
				if (!isObj(t) || !isObj(t.function) || typeof t.function.name !== 'string') errors.push(`tools[${i}].function.name is required`)
				else if (!isObj(t.function.parameters)) errors.push(`tools[${i}].function.parameters is required`)
			})
		if (Array.isArray(body.messages))
			body.messages.forEach((m: unknown, i: number) => {
				if (!isObj(m)) {
					errors.push(`messages[${i}] must be an object`)
					return
				}
				if (m.type === 'function_call' || m.type === 'function_call_output') {
					if (typeof m.tool_call_id !== 'string' || !m.tool_call_id) errors.push(`messages[${i}].tool_call_id is required`)
					return
				}
				if (!['system', 'user', 'assistant', 'tool'].includes(m.role)) {
					errors.push(`messages[${i}].role ${String(m.role)} is not supported`)
					return
				}
				if (m.role === 'tool' && (typeof m.tool_call_id !== 'string' || !m.tool_call_id)) errors.push(`messages[${i}].tool_call_id is required`)
				if (options.nonTextParts === '400' && Array.isArray(m.content))
					m.content.forEach((p: unknown, j: number) => {
						const type = isObj(p) ? String(p.type) : typeof p
						if (type !== 'text') errors.push(`messages[${i}].content[${j}]: content type ${type} is not supported, only text is supported`)
					})
			})
		return errors
	}

	function toolCallObject(model: string, call: { name: string; arguments: string }) {
		const id = model.startsWith('claude-') ? `toolu_fake${String(++toolCallSeq).padStart(4, '0')}` : `call_fake${String(++toolCallSeq).padStart(4, '0')}`
		return { id, type: 'function', function: { name: call.name, arguments: call.arguments } }
	}

	/** Non-streamed success body (§4): no id/object/created, usage in both namings. */
	function successBody(body: Record<string, any>, answer: FakeAnswer, startedAt: number, cache: CacheUse) {
		const model = body.model as string
		const { messages: _m, prompt: _p, post_processing_steps: _s, ...requestCopy } = body
		const message = (content: string | null, calls?: unknown[]) => {
			const m: Record<string, unknown> = { role: 'assistant', content }
			if (calls && !options.choiceLevelToolCalls) m.tool_calls = calls
			else if (options.nullArrays) m.tool_calls = null
			return m
		}
		const choice = (index: number, content: string | null, calls?: unknown[]) => {
			const c: Record<string, unknown> = { index, message: message(content, calls), finish_reason: answer.finishReason }
			if (calls && options.choiceLevelToolCalls) c.tool_calls = calls
			return c
		}
		let choices: Record<string, unknown>[]
		if (answer.toolCall) {
			const calls = [toolCallObject(model, answer.toolCall)]
			// Claude splits text and tool calls across choices (§4.2)
			choices = answer.text !== null ? [choice(0, answer.text), choice(1, null, calls)] : [choice(0, null, calls)]
		} else choices = [choice(0, answer.text)]
		return {
			request: requestCopy,
			request_id: crypto.randomUUID(),
			model,
			choices,
			usage: fakeUsage(body, answer.output, cache),
			http_status_code: 200,
			response_time: Math.max(1, Math.round((performance.now() - startedAt) * 1e6)),
			llm_status_code: 200,
		}
	}

	/** SSE frames (§5.2), `[DONE]` last. */
	function streamFrames(body: Record<string, any>, answer: FakeAnswer, cache: CacheUse): string[] {
		const model = body.model as string
		const includeUsage = isObj(body.stream_options) && body.stream_options.include_usage === true
		const base: Record<string, unknown> = {
			id: `chatcmpl-${crypto.randomUUID()}`,
			object: 'chat.completion.chunk',
			created: Math.floor(now() / 1000),
			model: streamChunkModel(model),
		}
		// OpenAI's own extra fields come through the gateway unchanged
		if (isOpenAIModel(model)) Object.assign(base, { service_tier: 'default', system_fingerprint: null })
		const frame = (delta: Record<string, unknown>, finish: string | null = null) =>
			`data: ${JSON.stringify({
				...base,
				choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
				...(includeUsage ? { usage: null } : {}),
			})}\n\n`
		const frames = [frame({ role: 'assistant', content: '' })]
		const text = answer.text ?? ''
		const pieces = text.match(/\S+\s*/g) ?? []
		if (pieces.length > 0) pieces[0] = text.slice(0, text.length - pieces.slice(1).join('').length)
		for (const p of pieces) frames.push(frame({ content: p }))
		// streams keep everything on choice 0, as an OpenAI-chunk converter would; only the JSON answer splits Claude's choices
		if (answer.toolCall) {
			const call = toolCallObject(model, answer.toolCall)
			frames.push(frame({ tool_calls: [{ index: 0, id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } }] }))
			const args = call.function.arguments
			const cut = Math.max(1, Math.floor(args.length / 2))
			for (const part of [args.slice(0, cut), args.slice(cut)]) frames.push(frame({ tool_calls: [{ index: 0, function: { arguments: part } }] }))
		}
		frames.push(frame({}, answer.finishReason))
		if (includeUsage) {
			const u = fakeUsage(body, answer.output, cache)
			frames.push(
				`data: ${JSON.stringify({
					...base,
					choices: options.nullArrays ? null : [],
					usage: { prompt_tokens: u.prompt_tokens, completion_tokens: u.completion_tokens, total_tokens: u.total_tokens },
				})}\n\n`,
			)
		}
		frames.push('data: [DONE]\n\n')
		return frames
	}

	/**
	 * A body written piece by piece that notices the client leaving (signal or cancel) and records it.
	 * In handler mode an abort errors the body like fetch does; through Bun.serve the socket is gone anyway.
	 */
	function bodyStream(plan: BodyPlan, rec: RecordedRequest, signal: AbortSignal, viaServer: boolean): ReadableStream<Uint8Array> {
		const enc = new TextEncoder()
		let i = 0
		let finished = false
		let ctrl: ReadableStreamDefaultController<Uint8Array>
		const onAbort = () => {
			if (finished) return
			finished = true
			rec.aborted = true
			try {
				if (viaServer) ctrl.close()
				else ctrl.error(abortError(signal))
			} catch {}
		}
		const finish = () => {
			finished = true
			signal.removeEventListener('abort', onAbort)
		}
		return new ReadableStream<Uint8Array>({
			start(c) {
				ctrl = c
				if (signal.aborted) onAbort()
				else signal.addEventListener('abort', onAbort, { once: true })
			},
			async pull(c) {
				await Bun.sleep(plan.intervalMs ?? 1)
				if (finished) return
				if (plan.gap && i === plan.gap.after) {
					const ms = plan.gap.ms
					plan.gap = undefined
					if (await sleepAbortable(ms, signal)) return
				}
				if (i < plan.pieces.length) return void c.enqueue(enc.encode(plan.pieces[i++]))
				if (plan.end === 'stall') return untilAborted(signal)
				finish()
				if (plan.end === 'error') {
					// let Bun write the chunks already sent before the socket drops, so the client sees exactly N
					if (viaServer) await Bun.sleep(25)
					// undefined through Bun.serve: the socket drops without Bun logging a stack trace
					c.error(viaServer ? undefined : connectionReset())
				} else c.close()
			},
			cancel() {
				if (!finished) rec.aborted = true
				finish()
			},
		})
	}

	function faultResponse(fault: Fault, key: string, model: string): Response | null {
		switch (fault.kind) {
			case 'status': {
				const message = fault.message ?? DEFAULT_FAULT_MESSAGES[fault.status] ?? DEFAULT_FAULT_MESSAGES[500]!
				const headers = fault.headers ?? {}
				switch (fault.envelope ?? 'B') {
					case 'A':
						return json(fault.status, { error: message, status: 'error', request_id: crypto.randomUUID() }, headers)
					case 'C':
						return json(fault.status, { error: { code: fault.status, message, metadata: {} } }, headers)
					case 'D':
						return json(fault.status, { message: fault.message ?? DEFAULT_D_MESSAGE }, headers)
					case 'plain':
						return new Response(fault.message ?? 'upstream timeout', {
							status: fault.status,
							headers: { 'content-type': 'text/plain; charset=utf-8', ...headers },
						})
					default:
						return json(fault.status, { message, code: fault.status, request_id: crypto.randomUUID() }, headers)
				}
			}
			case 'rate-limit': {
				const w = liveWindow(key, model)
				const wait = fault.retryAfter ?? (w ? resetSeconds(w) : 60)
				return json(
					429,
					{ request_id: crypto.randomUUID(), message: MSG_RATE_LIMITED, code: 429 },
					{
						'retry-after': String(wait),
						...rateHeaders(limitOf(key), 0, wait, model),
					},
				)
			}
			case 'rate-limit-400': {
				const w = liveWindow(key, model)
				return validation400([MSG_RATE_LIMITED], rateHeaders(limitOf(key), 0, w ? resetSeconds(w) : 60, model), MSG_RATE_LIMITED)
			}
			case 'body-code':
				return json(200, {
					request_id: crypto.randomUUID(),
					message: DEFAULT_FAULT_MESSAGES[fault.status] ?? 'something went wrong',
					code: fault.status,
				})
			default:
				return null
		}
	}

	async function chat(req: Request, rec: RecordedRequest, body: unknown, parsed: boolean, viaServer: boolean, startedAt: number): Promise<Response> {
		if (rec.key === null) return envelopeA(401, MSG_MISSING_AUTH)
		const key = rec.key
		if (outage === 'auth') return envelopeA(401, MSG_BAD_KEY)
		if (outage === 'network') {
			rec.fault = 'reset'
			if (!viaServer) throw connectionReset()
			return new Response(new ReadableStream({ start: (c) => c.error(undefined) }))
		}
		const cfg = keys.get(key)
		if (!cfg || cfg.valid === false) return envelopeA(401, MSG_BAD_KEY)
		if (cfg.noGatewayAccess) return envelopeA(400, MSG_MISSING_AUTH)

		if (!parsed || !isObj(body)) return validation400([parsed ? 'request body must be a JSON object' : 'invalid JSON in request body'])
		const entry = typeof body.model === 'string' ? byId.get(body.model) : undefined
		const errors = validate(body, entry)
		if (errors.length > 0) return validation400(errors)
		const model = body.model as string
		if (cfg.noAccessModels?.includes(model)) return validation400([MSG_NO_MODEL_ACCESS])
		// The provider's own check, after the gateway's: a 400 it passes through unchanged.
		if (samplingExclusiveModel(model) && body.temperature != null && body.top_p != null) return json(400, { message: MSG_SAMPLING_EXCLUSIVE })

		const fault = takeFault(key)
		let gap: Extract<Fault, { kind: 'gap' }> | null = null
		let scripted: Extract<Fault, { kind: 'answer' }> | null = null
		let streamFault: Extract<Fault, { kind: 'stall' | 'die' | 'trickle' }> | null = null
		if (fault) {
			rec.fault = fault.kind
			if (fault.kind === 'reset') {
				if (!viaServer) throw connectionReset()
				// an empty body that errors before the first byte: Bun drops the socket, the client sees ECONNRESET
				return new Response(new ReadableStream({ start: (c) => c.error(undefined) }))
			}
			if (fault.kind === 'delay') {
				if (await sleepAbortable(fault.ms, req.signal)) return aborted(rec, req.signal, viaServer)
			} else if (fault.kind === 'stall' || fault.kind === 'die' || fault.kind === 'trickle') streamFault = fault
			else if (fault.kind === 'gap') gap = fault
			else if (fault.kind === 'answer') scripted = fault
			else return faultResponse(fault, key, model)!
		}

		// rate-limit accounting: a fixed 60 s window from the first counted request
		const limit = limitOf(key)
		const c = counter(key, model)
		let w = liveWindow(key, model)
		if (!w) windows.set(slot(key, model), (w = { start: now(), used: 0 }))
		c.sent++
		if (w.used >= limit) {
			c.rateLimited++
			const wait = resetSeconds(w)
			return json(
				429,
				{ request_id: crypto.randomUUID(), message: MSG_RATE_LIMITED, code: 429 },
				{
					'retry-after': String(wait),
					...rateHeaders(limit, 0, wait, model),
				},
			)
		}
		w.used++
		c.ok++
		const rl = rateHeaders(limit, limit - w.used, resetSeconds(w), model)

		const reasonsOf = finishReasons(model)
		const answer: FakeAnswer = scripted
			? { text: scripted.text, toolCall: null, finishReason: scripted.finish === 'length' ? reasonsOf.length : reasonsOf.stop, output: scripted.text }
			: fakeAnswer(body)
		// The key's prompt cache: read and written by every answered request.
		const cache = caches.use(
			key,
			model,
			JSON.stringify(body.tools ?? null),
			normalise(body).map((m) => ({
				identity: JSON.stringify([m.role, m.text, m.toolArgs]),
				chars: m.text.length + m.toolArgs.reduce((a, s) => a + s.length, 0),
				marker: m.cache,
			})),
			markerTtl(body.cache_control),
			typeof body.prompt_cache_retention === 'string' ? body.prompt_cache_retention : null,
		)
		rec.cache = cache
		const streams = body.stream === true && (entry!.supported_parameters ?? []).includes('stream')
		if (streams) {
			const frames = streamFrames(body, answer, cache)
			let plan: BodyPlan = { pieces: frames, end: 'close', ...(gap ? { gap: { after: gap.afterChunks, ms: gap.ms } } : {}) }
			if (streamFault?.kind === 'trickle') {
				// frames: the role delta, content deltas, then finish (+ usage) and [DONE]; the content ones repeat
				const repeat = Math.max(1, streamFault.repeat ?? 1)
				let end = frames.findIndex((f, i) => i > 0 && f.includes('"finish_reason":"'))
				if (end < 1) end = frames.length
				const middle = frames.slice(1, end)
				const pieces = [frames[0]!, ...Array.from({ length: repeat }, () => middle).flat(), ...frames.slice(end)]
				plan = { pieces, end: 'close', intervalMs: streamFault.intervalMs }
			} else if (streamFault) {
				const n = Math.min(streamFault.afterChunks, frames.length - 1)
				plan = { pieces: frames.slice(0, n), end: streamFault.kind === 'stall' ? 'stall' : (streamFault.mode ?? 'close') }
			}
			return new Response(bodyStream(plan, rec, req.signal, viaServer), {
				status: 200,
				headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', ...rl },
			})
		}
		const text = JSON.stringify(successBody(body, answer, startedAt, cache))
		if (streamFault?.kind === 'stall') {
			// non-streamed: no answer at all until the client gives up
			await untilAborted(req.signal)
			return aborted(rec, req.signal, viaServer)
		}
		if (streamFault?.kind === 'die') {
			// non-streamed: headers and half the JSON, then the body ends
			const half = text.slice(0, Math.floor(text.length / 2))
			return new Response(bodyStream({ pieces: [half], end: streamFault.mode ?? 'close' }, rec, req.signal, viaServer), {
				status: 200,
				headers: { ...JSON_HEADERS, ...rl },
			})
		}
		return new Response(text, { status: 200, headers: { ...JSON_HEADERS, ...rl } })
	}

	/** The client left before the answer: fetch rejects with its abort reason; through a socket nobody listens. */
	function aborted(rec: RecordedRequest, signal: AbortSignal, viaServer: boolean): Response {
		rec.aborted = true
		if (!viaServer) throw abortError(signal)
		return new Response(null, { status: 499 })
	}

	async function handle(req: Request, viaServer: boolean): Promise<Response> {
		const startedAt = performance.now()
		const url = new URL(req.url)
		const text = req.method === 'GET' || req.method === 'HEAD' ? '' : await req.text()
		let body: unknown = null
		let parsed = true
		if (text !== '') {
			try {
				body = JSON.parse(text)
			} catch {
				body = text
				parsed = false
			}
		}
		const auth = req.headers.get('authorization')?.trim() ?? ''
		const bearer = /^bearer\s+(.*)$/i.exec(auth)
		const rec: RecordedRequest = {
			at: now(),
			method: req.method,
			path: url.pathname,
			headers: Object.fromEntries(req.headers),
			body,
			key: auth === '' ? null : bearer ? bearer[1]!.trim() : auth,
			authScheme: auth === '' ? 'none' : bearer ? 'bearer' : 'raw',
			model: isObj(body) && typeof body.model === 'string' ? body.model : null,
			status: 0,
		}
		if (rec.key === '') rec.key = null
		requests.push(rec)
		if (req.signal.aborted) return aborted(rec, req.signal, viaServer)

		let res: Response
		if (url.pathname === '/v1/models') {
			// no auth on the catalog; an Authorization header is accepted and ignored
			res = req.method === 'GET' ? json(200, { data: catalog }) : new Response('method not allowed', { status: 405 })
		} else if (url.pathname === '/v1/chat/completions') {
			res = req.method === 'POST' ? await chat(req, rec, body, parsed, viaServer, startedAt) : new Response('method not allowed', { status: 405 })
		} else res = new Response('404 page not found', { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' } })
		// resets and early client exits leave status 0: no HTTP answer reached anyone
		if (!rec.aborted && rec.fault !== 'reset') rec.status = res.status
		return res
	}

	return {
		requests,
		fetch(input, init) {
			const req = input instanceof Request && init === undefined ? input : new Request(input, init)
			return handle(req, false)
		},
		async listen() {
			if (!server)
				server = Bun.serve({
					hostname: '127.0.0.1',
					port: 0,
					// stalls and long delays must outlive Bun's 10 s default
					idleTimeout: 0,
					fetch: (req) => handle(req, true).catch((e: unknown) => new Response(`fake gateway failure: ${String(e)}`, { status: 500 })),
				})
			return `http://127.0.0.1:${server.port}`
		},
		async stop() {
			await server?.stop(true)
			server = null
		},
		fault(key, fault, opts = {}) {
			faults.push({ key, fault, left: opts.times ?? 1, persistent: opts.persistent ?? false })
		},
		clearFaults() {
			faults = []
		},
		outage(kind) {
			outage = kind
		},
		setKey(key, config) {
			keys.set(key, { ...config })
		},
		count(key, model) {
			return { ...(counters.get(slot(key, model)) ?? { sent: 0, ok: 0, rateLimited: 0 }) }
		},
		window(key, model) {
			const limit = limitOf(key)
			const w = liveWindow(key, model)
			// no live window: the full budget, and nothing to wait for
			if (!w) return { limit, remaining: limit, resetInSeconds: 0 }
			return { limit, remaining: Math.max(0, limit - w.used), resetInSeconds: resetSeconds(w) }
		},
		reset() {
			requests.length = 0
			windows.clear()
			counters.clear()
			faults = []
			outage = null
			toolCallSeq = 0
			caches.clear()
		},
	}
}
