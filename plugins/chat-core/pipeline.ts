/**
 * The chat pipeline every dialect calls: one ChatRequest in, an OpenAI completion or an OpenAI
 * chunk stream out, with the streaming modes applied on the way:
 * - model-name prefixes (`假流式/`, `fake-stream/`, `流式抗截断/`, `anti-truncation/`) are read and removed;
 * - fake streaming for prefixed requests, for all or chosen models (settings), and for models the
 *   upstream cannot stream;
 * - anti-truncation for prefixed requests or chosen models, streamed or not;
 * - keep-alive comments on real streams.
 *
 * `chat(call)` has the same contract as AssemblyClient.chat, so a dialect (OpenAI, Anthropic
 * Messages, Responses) swaps one for the other and gets every mode.
 */
import type { ChatRequest } from './chat-request.ts'
import type { ChatCall, ChatResult, StreamCapabilities, UpstreamChat } from './upstream-call.ts'
import { type CallResult, completeWithoutTruncation, streamWithoutTruncation, withMarkerInstruction } from './anti-truncation.ts'
import { type FakeAnswer, type HeartbeatStyle, fakeStream } from './fake-stream.ts'
import { withKeepAlive } from './keepalive.ts'
import { readModelPrefixes, withPrefixedVariants } from './model-prefix.ts'

export interface StreamModeSettings {
	/** Keep-alive comment after this much silence on a real stream; 0 = off. */
	keepAliveMs: number
	fakeStream: { all: boolean; models: readonly string[]; heartbeatMs: number; heartbeat: HeartbeatStyle; charsPerSecond: number; listModels: boolean }
	antiTruncation: { all: boolean; models: readonly string[]; maxContinuations: number; listModels: boolean }
}

export interface ChatPipelineDeps {
	client: UpstreamChat
	catalog: StreamCapabilities
	now: () => number
}

/** Which modes a request gets, and why (the request log records it). */
export interface ModeChoice {
	model: string
	stream: 'none' | 'real' | 'fake'
	antiTruncation: boolean
}

export class ChatPipeline {
	constructor(
		private readonly deps: ChatPipelineDeps,
		readonly settings: StreamModeSettings,
	) {}

	/** The modes for a request (model prefixes, settings, what the upstream can stream). */
	async choose(request: ChatRequest): Promise<ModeChoice> {
		const prefixes = readModelPrefixes(request.model)
		const model = prefixes.model
		const { fakeStream: fake, antiTruncation: anti } = this.settings
		const antiTruncation = prefixes.antiTruncation || anti.all || anti.models.includes(model)
		if (request.stream !== true) return { model, stream: 'none', antiTruncation }
		const forced = prefixes.fakeStream || fake.all || fake.models.includes(model)
		return { model, stream: forced || !(await this.canStream(model)) ? 'fake' : 'real', antiTruncation }
	}

	/**
	 * One chat request through the modes. `keepAlive: false` leaves real streams without keep-alive
	 * comments, for a dialect that re-encodes the chunks (its SSE parser would drop the comments):
	 * it wraps its own output with `keepAlive()` instead.
	 */
	async chat(call: ChatCall & { keepAlive?: boolean }): Promise<ChatResult & { modes: ModeChoice }> {
		const modes = await this.choose(call.request)
		const request: ChatRequest = modes.model === call.request.model ? call.request : { ...call.request, model: modes.model }
		const includeUsage = request.stream === true && request.stream_options?.include_usage === true
		const seen: { masked: string; attempts: number; keyChoice?: ChatResult['keyChoice'] } = { masked: '', attempts: 0 }
		const upstream: ChatCall = {
			signal: call.signal,
			request,
			...(call.principal ? { principal: call.principal } : {}),
			...(call.requestId ? { requestId: call.requestId } : {}),
			...(call.trace ? { trace: call.trace } : {}),
			...(call.note ? { note: call.note } : {}),
		}
		const once = async (req: ChatRequest): Promise<CallResult> => {
			const result = await this.deps.client.chat({ ...upstream, request: req })
			seen.masked = result.masked
			seen.keyChoice = result.keyChoice
			seen.attempts += result.attempts
			return result
		}
		const done = (answer: CallResult): ChatResult & { modes: ModeChoice } => ({
			...answer,
			masked: seen.masked,
			attempts: seen.attempts,
			keyChoice: seen.keyChoice,
			modes,
		})

		if (modes.stream === 'none') {
			if (!modes.antiTruncation) return done(await once(request))
			const { completion } = await completeWithoutTruncation(request, { maxContinuations: this.settings.antiTruncation.maxContinuations, call: once })
			return done({ kind: 'json', completion })
		}

		const created = Math.floor(this.deps.now() / 1000)
		if (modes.stream === 'fake') {
			const plain: ChatRequest = { ...request, stream: false }
			delete plain.stream_options
			const answer: Promise<FakeAnswer> = modes.antiTruncation
				? completeWithoutTruncation(plain, { maxContinuations: this.settings.antiTruncation.maxContinuations, call: once })
				: once(plain).then((r) => {
						if (r.kind !== 'json') throw new Error('a non-streamed upstream call answered with a stream')
						return { completion: r.completion }
					})
			const f = this.settings.fakeStream
			const body = await fakeStream(answer, {
				heartbeatMs: f.heartbeatMs,
				heartbeat: f.heartbeat,
				charsPerSecond: f.charsPerSecond,
				includeUsage,
				model: modes.model,
				created,
				signal: call.signal,
			})
			return done({ kind: 'stream', body })
		}

		let body: ReadableStream<Uint8Array>
		if (modes.antiTruncation) {
			body = await streamWithoutTruncation(request, {
				maxContinuations: this.settings.antiTruncation.maxContinuations,
				call: once,
				includeUsage,
				model: modes.model,
				created,
			})
		} else {
			const result = await once(request)
			if (result.kind === 'json') return done(result)
			body = result.body
		}
		return done({ kind: 'stream', body: call.keepAlive === false ? body : this.keepAlive(body) })
	}

	/**
	 * The upstream body of the first call `chat` would make for this request (model prefix removed,
	 * a fake stream's plain call, anti-truncation's marker instruction), with the modes; nothing is
	 * sent. Null when the upstream client cannot build bodies without sending.
	 */
	async preview(call: ChatRequest): Promise<{ body: Record<string, unknown>; modes: ModeChoice } | null> {
		const client = this.deps.client
		if (!client.preview) return null
		const modes = await this.choose(call)
		const request: ChatRequest = modes.model === call.model ? call : { ...call, model: modes.model }
		let first: ChatRequest = request
		if (modes.stream === 'fake') {
			first = { ...request, stream: false }
			delete first.stream_options
		}
		// The same first request as completeWithoutTruncation / streamWithoutTruncation build.
		if (modes.antiTruncation)
			first =
				modes.stream === 'real'
					? withMarkerInstruction({ ...first, stream: true, stream_options: { ...(first.stream_options ?? {}), include_usage: true } })
					: withMarkerInstruction({ ...first, stream: false })
		return { body: await client.preview(first), modes }
	}

	/** Keep-alive comments on an SSE byte stream that sends whole events, at the configured interval. */
	keepAlive(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
		return withKeepAlive(body, this.settings.keepAliveMs)
	}

	/** The model list with the prefixed variants the operator enabled. */
	listModels(ids: readonly string[]): string[] {
		return withPrefixedVariants(ids, { fakeStream: this.settings.fakeStream.listModels, antiTruncation: this.settings.antiTruncation.listModels })
	}

	private async canStream(model: string): Promise<boolean> {
		const info = await this.deps.catalog.info(model)
		// Native streaming only where the catalog lists `stream` (docs/upstream-api.md §5.1); unknown models try it.
		return info?.supportedParameters ? info.supportedParameters.includes('stream') : true
	}
}
