/**
 * The upstream call: one client request -> as many attempts on the AssemblyAI gateway as the
 * retry budget allows, each on a key leased from the pool, ending in an OpenAI completion, an
 * OpenAI SSE stream, or one catalogue error.
 *
 * One retry budget per client request, shared by every phase:
 * attempts = RETRY_429_MAX_RETRIES + 1 when RETRY_429_ENABLED, else 1.
 * - 429 / rate limit, auth failure, no access to the model: next key at once.
 * - 5xx / network: next key after RETRY_429_INTERVAL, nobody blamed.
 * - the client's own bad request: returned as it is, no retry.
 */
import { GatewayError, NotFoundError, RateLimitError, UpstreamError, UpstreamTimeoutError } from '../../core/errors.ts'
import { isObject } from '../../core/json.ts'
import type { Logger } from '../../core/log.ts'
import { sleep } from '../../core/sleep.ts'
import { hookStream } from '../../core/stream-hooks.ts'
import { classifyFailure, readUpstreamError, toClientError, type FailureClass } from './upstream-errors.ts'
import { gatewayHeaders, toGatewayBody } from './request.ts'
import { applyPromptCache, type PromptCacheOptions } from './prompt-cache.ts'
import { applyProviderRules, clampMaxTokens, fillMaxTokens, type MaxTokensMode } from './provider-rules.ts'
import { hasToolHistory, isToolEncodingError, toLegacyToolItems } from './tool-encoding.ts'
import { bodyErrorStatus, toChatCompletion } from './response.ts'
import type { Usage } from '../chat-core/chat-completion.ts'
import { completionToStream, translateStream } from './stream.ts'
import { KeysExhaustedError, type KeyPool, type Lease, type Outcome } from '../rate-limits/key-pool.ts'
import type { ModelCatalog, ModelInfo } from './model-catalog.ts'
import type { ChatRequest } from '../chat-core/chat-request.ts'
import type { Answer, ChatCall, ChatResult } from '../chat-core/upstream-call.ts'
import type { RequestEvent, UsageRecorder } from '../usage-stats/events.ts'
import { readLimitHeaders } from '../rate-limits/rate-window.ts'
import type { DebugBodies } from './debug-bodies.ts'
import { fallbackModels } from '../chat-core/reachable-models.ts'
import { answeringModel, endpointTier, requestTier } from '../pricing/tier.ts'

export interface AssemblyClientOptions {
	endpoint: string
	timeoutMs: number
	retryEnabled: boolean
	maxRetries: number
	retryIntervalMs: number
	modelRegion: string | null
	/** One client request's total time until its answer starts, every attempt and pause included (REQUEST_TIMEOUT). */
	requestTimeoutMs?: number
	/** Automatic prompt-cache markers (prompt-cache.ts); absent = off. */
	promptCache?: PromptCacheOptions
	/**
	 * Re-sends of a native stream that breaks after its headers and before its first chunk
	 * (STREAM_BOOTSTRAP_RETRIES), within the request's one retry budget. @default 0
	 */
	streamBootstrapRetries?: number
	/** MAX_TOKENS_MODE: fills a missing max_tokens from the catalog's maximum. @default 'off' */
	maxTokensMode?: MaxTokensMode
}

/** A native stream that broke before its first chunk: re-sent, or (no retry left) handed on as it is. */
interface BrokenBootstrap {
	/** The stream as the client would see it: its one frame (the error event) and the rest. */
	body: ReadableStream<Uint8Array>
	/** Records the request's end; called only when this stream is the answer after all. */
	report: () => void
}

export interface AssemblyClientDeps {
	fetch: typeof fetch
	pool: KeyPool
	catalog: ModelCatalog
	log: Logger
	recorder?: UsageRecorder
	now?: () => number
	/** LOG_LEVEL=debug body logging (debug-bodies.ts). */
	bodies?: DebugBodies
	/** Scrubs secrets out of text a client will read (the log's SecretRegistry). */
	scrub?: (text: string) => string
}

/** Thrown when the client went away: nothing is sent back. */
export class ClientGoneError extends GatewayError {
	override readonly status = 499
}

/**
 * Cuts a stream that goes silent for `idleMs`: the upstream request is aborted, so the
 * translator ends the client's stream with an error event instead of hanging forever. One timer
 * per stream, re-armed only when it fires (a chunk just records the time).
 */
function idleWatchdog(idleMs: number, controller: AbortController, now: () => number): { touch(): void; stop(): void } {
	let last = now()
	let timer: ReturnType<typeof setTimeout> | undefined
	const check = () => {
		const silent = now() - last
		if (silent >= idleMs) controller.abort(new Error(`upstream stream silent for ${Math.round(idleMs / 1000)} s`))
		else timer = setTimeout(check, idleMs - silent)
	}
	timer = setTimeout(check, idleMs)
	return {
		touch: () => {
			last = now()
		},
		stop: () => clearTimeout(timer),
	}
}

/** A stream read up to its first chunk, whole again: that chunk, then the rest. */
type ReadResult = Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>['read']>>

function withFirst(first: ReadResult, reader: ReadableStreamDefaultReader<Uint8Array>): ReadableStream<Uint8Array> {
	let pending: ReadResult | null = first
	return new ReadableStream<Uint8Array>(
		{
			async pull(controller) {
				const next = pending ?? (await reader.read())
				pending = null
				if (next.done) controller.close()
				else controller.enqueue(next.value)
			},
			cancel: (reason) => reader.cancel(reason),
		},
		{ highWaterMark: 0 },
	)
}

export class AssemblyClient {
	private readonly now: () => number

	/** The price tier of the endpoint's region (the endpoint does not change at run time). */
	private readonly endpointTier: ReturnType<typeof endpointTier>

	constructor(
		private readonly deps: AssemblyClientDeps,
		private readonly options: AssemblyClientOptions,
	) {
		this.now = deps.now ?? Date.now
		this.endpointTier = endpointTier(options.endpoint)
	}

	/**
	 * The body the first attempt would send for `request`, built exactly as `chat` builds it
	 * (translation, provider rules, max_tokens filling and clamping, the prompt-cache marker); nothing is sent.
	 */
	async preview(request: ChatRequest): Promise<Record<string, unknown>> {
		return this.gatewayBody(request, await this.deps.catalog.info(request.model)).gatewayBody
	}

	private gatewayBody(request: ChatRequest, info: Readonly<ModelInfo> | null, note?: ChatCall['note']) {
		const model = request.model
		const stream = request.stream === true
		const includeUsage = stream && (request.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true
		const gatewayBody = toGatewayBody(request, { model, stream, includeUsage, defaultModelRegion: this.options.modelRegion ?? undefined })
		const dropped = applyProviderRules(gatewayBody)
		if (dropped.length > 0) note?.({ provider_rules_dropped: dropped })
		const filled = fillMaxTokens(gatewayBody, this.options.maxTokensMode ?? 'off', info?.maxCompletionTokens)
		if (filled !== null) note?.({ max_tokens_filled: filled })
		const asked = clampMaxTokens(gatewayBody, info?.maxCompletionTokens)
		if (asked !== null) note?.({ max_tokens_clamped: { asked, sent: gatewayBody.max_tokens } })
		const { affinity } = applyPromptCache(gatewayBody, this.options.promptCache ?? { mode: 'off', ttl: '5m' })
		return { gatewayBody, affinity }
	}

	async chat({ request, signal, principal = { kind: 'password' }, requestId, trace, note }: ChatCall): Promise<ChatResult> {
		const model = request.model
		const wantsStream = request.stream === true
		const includeUsage = wantsStream && (request.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true
		// An unknown model is refused before anything is reserved, counted or stored.
		if (!(await this.deps.catalog.serves(model))) {
			throw new NotFoundError(
				`The model ${JSON.stringify(model.slice(0, 200))} does not exist in the AssemblyAI LLM Gateway catalog; GET /v1/models lists them.`,
				'model_not_found',
				{ param: 'model' },
			)
		}
		// No key at all: acquire's own check throws the 503 (and records it) before any upstream call.
		const info = await this.deps.catalog.info(model)
		// A streamed request reaching the client streams natively: the chat core's pipeline already
		// fake-streams the models the catalog does not list `stream` for (docs/upstream-api.md §5.1).
		const native = wantsStream
		const { gatewayBody, affinity } = this.gatewayBody(request, info, note)
		let body = JSON.stringify(gatewayBody)
		// The other encoding of a tool history, tried once on the two Bedrock errors it avoids.
		let reencoded = !Array.isArray(gatewayBody.messages) || !hasToolHistory(gatewayBody.messages as Record<string, unknown>[])
		// The price tier of what reaches the upstream, and the models that may answer (fallbacks).
		const tier = requestTier(gatewayBody.model_region, this.endpointTier)
		const fallbacks = fallbackModels(request)
		this.deps.bodies?.request(requestId, request, body)
		let attempts = this.options.retryEnabled ? this.options.maxRetries + 1 : 1
		// Real time, like the timers: the whole request is bounded, not only each attempt.
		const deadline = Date.now() + (this.options.requestTimeoutMs ?? Infinity)
		const tried = new Set<string>()
		let lastError: GatewayError | null = null
		let lastFailure: FailureClass | null = null
		let attempt = 0
		let bootstrapLeft = native ? (this.options.streamBootstrapRetries ?? 0) : 0
		const finish = (event: Omit<RequestEvent, 'model' | 'stream' | 'attempts' | 'principal'>) => {
			const ended: RequestEvent = { ...event, principal, model, stream: wantsStream, attempts: attempt, tier, requestId }
			// The recorder prices the call first (ended.cost): the request log keeps that same figure.
			this.deps.recorder?.finished(ended)
			trace?.upstreamEnded(ended)
		}

		while (attempt < attempts) {
			if (signal.aborted) throw this.gone(finish)
			if (Date.now() >= deadline) {
				lastError = this.totalTimeout()
				lastFailure = 'transient'
				break
			}
			let lease: Lease
			try {
				// Prefer keys this request has not tried; when all were tried, the pool's own state
				// (cooldowns, bans, windows) decides whether one may serve again.
				lease = await this.deps.pool
					.acquire(model, { exclude: tried, signal, affinity })
					.catch((err) => (err instanceof KeysExhaustedError && !signal.aborted ? this.deps.pool.acquire(model, { signal, affinity }) : Promise.reject(err)))
			} catch (err) {
				if (signal.aborted) throw this.gone(finish)
				// A key that timed out is not a rate limit: report the timeout, not a 429.
				const error =
					err instanceof KeysExhaustedError || (err instanceof RateLimitError && lastError instanceof UpstreamTimeoutError)
						? (lastError ?? new UpstreamError('No upstream key could serve the request.'))
						: (err as Error)
				finish({ keyId: null, ok: false, status: (error as GatewayError).status ?? 500, failure: lastFailure ?? 'no-key', usage: null })
				throw error
			}
			attempt++
			tried.add(lease.keyId)
			trace?.keyChosen(lease.masked, lease.choice)
			const timeoutMs = Math.max(1, Math.min(this.options.timeoutMs, deadline - Date.now()))
			const canBootstrap = bootstrapLeft > 0 && attempt < attempts
			const outcome = await this.attempt(
				lease,
				body,
				{ native, wantsStream, includeUsage, model, fallbacks, signal, requestId, timeoutMs, canBootstrap, mayReencode: !reencoded },
				finish,
			)
			if (outcome.broken) {
				// Nothing reached the client yet: the same request goes to another key at once.
				if (canBootstrap && !signal.aborted) {
					bootstrapLeft--
					outcome.broken.body.cancel().catch(() => {})
					note?.({ stream_bootstrap_retries: (this.options.streamBootstrapRetries ?? 0) - bootstrapLeft })
					continue
				}
				outcome.broken.report()
				outcome.result = { kind: 'stream', body: outcome.broken.body }
			}
			if (outcome.result) {
				let answer = this.deps.bodies ? this.deps.bodies.answer(requestId, outcome.result) : outcome.result
				const opened = answer.kind === 'stream' ? this.deps.recorder?.streamOpened?.(model) : undefined
				if (opened && answer.kind === 'stream') answer = { ...answer, body: hookStream(answer.body, { onClose: opened }) }
				return { ...answer, masked: lease.masked, attempts: attempt, keyChoice: lease.choice }
			}
			lastError = outcome.error
			lastFailure = outcome.failure
			if (outcome.failure === 'client' && !reencoded && outcome.upstreamMessage !== undefined && isToolEncodingError(outcome.upstreamMessage)) {
				reencoded = true
				body = JSON.stringify({ ...gatewayBody, messages: toLegacyToolItems(gatewayBody.messages as Record<string, unknown>[]) })
				// A different request, not a retry of a failure: it gets its own attempt even at the end of the budget.
				if (attempt >= attempts) attempts = attempt + 1
				this.deps.log.warn(
					{ request_id: requestId, key: lease.masked, model },
					'tool history refused by the provider; sending it once more in the legacy item encoding',
				)
				note?.({ tool_encoding: 'legacy' })
				continue
			}
			if (outcome.failure === 'client' || outcome.failure === null) break
			if (outcome.failure === 'transient' && attempt < attempts) await sleep(Math.min(this.options.retryIntervalMs, Math.max(0, deadline - Date.now())), signal)
		}
		if (signal.aborted) throw this.gone(finish)
		const error = lastError ?? new UpstreamError('The upstream request failed.')
		if (lastFailure !== 'client') finish({ keyId: null, ok: false, status: error.status, failure: lastFailure, usage: null })
		throw error
	}

	private totalTimeout(): UpstreamTimeoutError {
		return new UpstreamTimeoutError(
			`The upstream did not answer within REQUEST_TIMEOUT (${Math.round((this.options.requestTimeoutMs ?? 0) / 1000)} s, every retry included).`,
		)
	}

	private gone(finish: (e: Omit<RequestEvent, 'model' | 'stream' | 'attempts' | 'principal'>) => void): ClientGoneError {
		finish({ keyId: null, ok: false, status: 499, failure: 'aborted', usage: null })
		return new ClientGoneError('client closed the request')
	}

	/** One attempt on one key. Resolves to a result, or to the error and its class. */
	private async attempt(
		lease: Lease,
		body: string,
		ctx: {
			native: boolean
			wantsStream: boolean
			includeUsage: boolean
			model: string
			fallbacks: readonly string[]
			signal: AbortSignal
			requestId?: string
			timeoutMs: number
			/** A native stream is held until its first chunk, so a break before it can be re-sent. */
			canBootstrap?: boolean
			/** The request can still be re-sent in the other tool encoding. */
			mayReencode?: boolean
		},
		finish: (e: Omit<RequestEvent, 'model' | 'stream' | 'attempts' | 'principal'>) => void,
	): Promise<{ result?: Answer; error: GatewayError | null; failure: FailureClass | null; broken?: BrokenBootstrap; upstreamMessage?: string }> {
		const { model, signal } = ctx
		const record = (status: number | null, outcome: Outcome) => {
			this.deps.recorder?.attempt({ keyId: lease.keyId, model, status, outcome: outcome.kind, ms: this.now() - started })
			return lease.settle(outcome)
		}
		// A success's bookkeeping (one storage round trip) must not delay the answer, except a
		// probe's: it teaches the pool the limit that other requests wait for. Failures are
		// awaited, because the next attempt must see the cooldown or ban they record.
		const recordSuccess = async (status: number, headers: Headers) => {
			const recorded = record(status, { kind: 'success', headers }).catch((err) =>
				this.deps.log.warn({ key: lease.masked, model, err: String(err) }, 'could not record the rate-limit state of a success'),
			)
			if (lease.probe) await recorded
		}
		// Timeout covers the wait for the answer's headers; a running stream is not cut.
		const controller = new AbortController()
		const onClientAbort = () => controller.abort(signal.reason)
		signal.addEventListener('abort', onClientAbort, { once: true })
		let timedOut = false
		const timer = setTimeout(() => {
			timedOut = true
			controller.abort(new Error('upstream timeout'))
		}, ctx.timeoutMs)
		const started = this.now()

		let response: Response
		try {
			response = await this.deps.fetch(this.options.endpoint, {
				method: 'POST',
				headers: gatewayHeaders(lease.key),
				body,
				signal: controller.signal,
			})
		} catch (err) {
			clearTimeout(timer)
			signal.removeEventListener('abort', onClientAbort)
			if (signal.aborted) {
				await record(null, { kind: 'aborted' })
				return { error: null, failure: null }
			}
			await record(null, { kind: 'transient', message: timedOut ? 'timeout' : String(err), unanswered: true })
			this.deps.log.warn(
				{ request_id: ctx.requestId, key: lease.masked, model, err: timedOut ? 'timeout' : String(err), ms: this.now() - started },
				'upstream attempt failed',
			)
			return timedOut
				? { error: new UpstreamTimeoutError(`The upstream did not answer within ${Math.round(ctx.timeoutMs / 1000)} s.`), failure: 'transient' }
				: { error: new UpstreamError('Could not reach the upstream gateway (network error).', 502, 'upstream_unreachable'), failure: 'transient' }
		}
		clearTimeout(timer)

		const contentType = response.headers.get('content-type') ?? ''
		if (response.ok && contentType.includes('text/event-stream') && response.body) {
			await recordSuccess(response.status, response.headers)
			const created = Math.floor(this.now() / 1000)
			let usage: Usage | null = null
			let answered: string | undefined
			const watchdog = idleWatchdog(this.options.timeoutMs, controller, Date.now)
			// While the first chunk is awaited, a broken end is only noted: the request may be re-sent.
			let holding = ctx.canBootstrap === true
			let heldReport: (() => void) | null = null
			const stream = translateStream(response.body, {
				onChunk: watchdog.touch,
				scrub: this.deps.scrub,
				model,
				created,
				includeUsage: ctx.includeUsage,
				onUsage: (u) => {
					usage = u
				},
				onModel: (m) => {
					answered = m
				},
				onEnd: ({ clean }) => {
					watchdog.stop()
					signal.removeEventListener('abort', onClientAbort)
					// Bun's reader.cancel() leaves the upstream socket open; only abort() closes it.
					if (!clean) controller.abort(new Error('stream ended early'))
					const report = () =>
						finish({
							keyId: lease.keyId,
							ok: clean,
							status: clean ? 200 : 502,
							failure: clean ? null : signal.aborted ? 'aborted' : 'transient',
							usage,
							answeredModel: answeringModel(model, ctx.fallbacks, answered),
						})
					if (holding && !clean && !signal.aborted) heldReport = report
					else report()
				},
			})
			if (!holding) return { result: { kind: 'stream', body: stream }, error: null, failure: null }
			const reader = stream.getReader()
			const first = await reader.read()
			holding = false
			const body = withFirst(first, reader)
			if (heldReport === null) return { result: { kind: 'stream', body }, error: null, failure: null }
			this.deps.log.warn({ request_id: ctx.requestId, key: lease.masked, model, ms: this.now() - started }, 'upstream stream broke before its first chunk')
			return {
				error: new UpstreamError('The upstream stream broke before its first chunk.', 502, 'upstream_stream_broken'),
				failure: 'transient',
				broken: { body, report: heldReport },
			}
		}

		let text: string
		try {
			text = await response.text()
		} catch (err) {
			signal.removeEventListener('abort', onClientAbort)
			if (signal.aborted) {
				await record(response.status, { kind: 'aborted' })
				return { error: null, failure: null }
			}
			await record(response.status, { kind: 'transient', headers: response.headers, message: String(err) })
			return { error: new UpstreamError('The upstream answer broke off.', 502, 'upstream_broken'), failure: 'transient' }
		}
		signal.removeEventListener('abort', onClientAbort)

		let status = response.status
		let parsed: unknown = null
		if (response.ok) {
			try {
				parsed = JSON.parse(text)
				status = bodyErrorStatus(parsed) ?? status
			} catch {
				await record(status, { kind: 'transient', headers: response.headers, message: 'invalid JSON' })
				return { error: new UpstreamError('The upstream answered with invalid JSON.', 502, 'upstream_invalid_response'), failure: 'transient' }
			}
		}
		if (status >= 200 && status < 300) {
			await recordSuccess(status, response.headers)
			const completion = toChatCompletion(parsed, { model, created: Math.floor(this.now() / 1000) })
			const answeredModel = answeringModel(model, ctx.fallbacks, isObject(parsed) ? parsed.model : undefined)
			finish({ keyId: lease.keyId, ok: true, status: 200, failure: null, usage: completion.usage ?? null, answeredModel })
			if (ctx.wantsStream) {
				return { result: { kind: 'stream', body: completionToStream(completion, { includeUsage: ctx.includeUsage }) }, error: null, failure: null }
			}
			const upstreamRequestId = isObject(parsed) && typeof parsed.request_id === 'string' ? parsed.request_id : undefined
			return { result: { kind: 'json', completion, upstreamRequestId }, error: null, failure: null }
		}

		const info = readUpstreamError(status, text)
		const failure = classifyFailure(status, info, response.headers)
		this.deps.bodies?.upstreamError(ctx.requestId, status, lease.masked, text)
		// A failed attempt is a warning, whoever caused it: never info (operators filter by level).
		this.deps.log.warn(
			{ request_id: ctx.requestId, key: lease.masked, model, status, failure, upstream_request_id: info.requestId, ms: this.now() - started },
			'upstream refused',
		)
		const { headers } = response
		const { message } = info
		const outcome: Outcome =
			failure === 'client'
				? { kind: 'client', headers }
				: failure === 'key'
					? { kind: 'key', status, headers, message }
					: failure === 'no-model-access'
						? { kind: failure, headers, message }
						: { kind: failure, status, headers, message }
		await record(status, outcome)
		const limits = failure === 'rate-limit' ? readLimitHeaders(headers, this.now()) : null
		const error = toClientError(status, info, failure, limits ? (limits.retryAfterSeconds ?? limits.resetSeconds ?? 60) : null)
		const upstreamMessage = [info.message, ...info.errors].join(' ')
		// A refusal the other tool encoding may avoid is not the request's end yet.
		const resend = ctx.mayReencode === true && isToolEncodingError(upstreamMessage)
		if (failure === 'client' && !resend) finish({ keyId: lease.keyId, ok: false, status: error.status, failure, usage: null })
		return { error, failure, upstreamMessage }
	}
}
