/**
 * One transcription through the key pool: lease a key for the speech model, upload the audio and
 * create the transcript with it, fail over to another key on 401/403, 429 and 5xx (uploading
 * again: uploads belong to one key's project, docs/upstream-speech.md §1), then poll the
 * transcript with the key that created it until it is done, SPEECH_MAX_WAIT passes (504) or the
 * client goes away (polling stops). Usage: one attempt event per key tried and one finished
 * event with the seconds of audio and their cost.
 */
import { BadRequestError, GatewayError, RateLimitError, UpstreamError, UpstreamTimeoutError } from '../../core/errors.ts'
import type { Logger } from '../../core/log.ts'
import { sleep } from '../../core/sleep.ts'
import type { Principal } from '../api-auth/api-auth.ts'
import { KeysExhaustedError, type KeyPool, type Lease, type Outcome } from '../rate-limits/key-pool.ts'
import type { RequestEvent, RequestFailure, UsageRecorder } from '../usage-stats/events.ts'
import { costMicroUsd, pricePerHour, type ResolvedSpeechModel } from './speech-models.ts'
import type { SpeechAnswer, SpeechUpstream, Transcript } from './speech-upstream.ts'
import type { TranscriptionForm } from './transcription-form.ts'

export interface TranscriberOptions {
	/** Keys tried per request at most (SPEECH_MAX_ATTEMPTS). */
	maxAttempts: number
	/** The whole request, upload and polling included (SPEECH_MAX_WAIT). */
	maxWaitMs: number
	/** First pause between polls; it grows to 3x (SPEECH_POLL_INTERVAL). */
	pollIntervalMs: number
	/** Operator prices, USD per hour (SPEECH_PRICES). */
	prices: Readonly<Record<string, number>>
}

export interface TranscriberDeps {
	pool: KeyPool
	upstream: SpeechUpstream
	log: Logger
	recorder?: UsageRecorder
	now?: () => number
	/** Read at each request: settings may change at run time. */
	options: () => TranscriberOptions
}

export interface TranscriptionResult {
	transcript: Transcript
	/** SRT or VTT text when asked for. */
	subtitles: string | null
	masked: string
	attempts: number
	seconds: number
}

/** The client went away: nothing is sent back (the HTTP layer logs 499). */
export class SpeechClientGoneError extends GatewayError {
	override readonly status = 499
}

const toOutcome = (answer: Extract<SpeechAnswer<unknown>, { ok: false }>): Outcome => {
	const headers = answer.headers ?? new Headers()
	switch (answer.failure) {
		case 'rate-limit':
			return { kind: 'rate-limit', status: answer.status ?? 429, headers, message: answer.message }
		case 'key':
			return { kind: 'key', status: answer.status ?? 401, headers, message: answer.message }
		case 'client':
			return { kind: 'client', headers }
		case 'aborted':
			return { kind: 'aborted' }
		default:
			return answer.status === null
				? { kind: 'transient', message: answer.message, unanswered: true }
				: { kind: 'transient', status: answer.status, headers, message: answer.message }
	}
}

/** The error a client sees when this failure is the last one. */
function clientError(answer: Extract<SpeechAnswer<unknown>, { ok: false }>): GatewayError {
	const message = answer.message
	switch (answer.failure) {
		case 'client':
			return new BadRequestError(`AssemblyAI refused the transcription: ${message}`, null, 'upstream_invalid_request')
		case 'rate-limit': {
			const retry = Number(answer.headers?.get('retry-after'))
			return new RateLimitError(`Upstream rate limit reached (HTTP ${answer.status}): ${message}`, Number.isFinite(retry) ? retry : 60)
		}
		case 'key':
			return new UpstreamError(`Upstream rejected amb2api's AssemblyAI key (HTTP ${answer.status}): ${message}`, 502, 'upstream_auth_error')
		default:
			return message.startsWith('no answer within')
				? new UpstreamTimeoutError(`AssemblyAI did not answer: ${message}`)
				: new UpstreamError(`AssemblyAI failed (${answer.status === null ? message : `HTTP ${answer.status}: ${message}`})`, 502, 'upstream_error')
	}
}

export class Transcriber {
	private readonly now: () => number

	constructor(private readonly deps: TranscriberDeps) {
		this.now = deps.now ?? Date.now
	}

	async transcribe(call: {
		form: TranscriptionForm
		model: ResolvedSpeechModel
		signal: AbortSignal
		principal: Principal
		requestId?: string
	}): Promise<TranscriptionResult> {
		const { form, model, signal, principal } = call
		const options = this.deps.options()
		// Real time, like the timers: the whole request is bounded.
		const deadline = Date.now() + options.maxWaitMs
		const tried = new Set<string>()
		let attempts = 0
		let last: Extract<SpeechAnswer<unknown>, { ok: false }> | null = null
		const finish = (e: Pick<RequestEvent, 'keyId' | 'ok' | 'status' | 'failure'> & { seconds?: number; transcriptModel?: string }) => {
			const seconds = e.seconds ?? 0
			const priced = e.transcriptModel ?? model.poolModel
			const cost = e.ok ? costMicroUsd(seconds, pricePerHour(priced, options.prices)) : null
			this.deps.recorder?.finished({
				keyId: e.keyId,
				ok: e.ok,
				status: e.status,
				failure: e.failure,
				principal,
				model: model.poolModel,
				stream: false,
				usage: null,
				attempts,
				// Always present on a transcription (0 s when it failed), so listeners can tell it from a chat request.
				audio: { seconds: e.ok ? seconds : 0, costMicroUsd: cost },
			})
		}
		const gone = () => {
			finish({ keyId: null, ok: false, status: 499, failure: 'aborted' })
			return new SpeechClientGoneError('client closed the request')
		}

		while (attempts < options.maxAttempts) {
			if (signal.aborted) throw gone()
			if (Date.now() >= deadline) break
			let lease: Lease
			try {
				lease = await this.deps.pool
					.acquire(model.poolModel, { exclude: tried, signal })
					.catch((err) => (err instanceof KeysExhaustedError && !signal.aborted ? this.deps.pool.acquire(model.poolModel, { signal }) : Promise.reject(err)))
			} catch (err) {
				if (signal.aborted) throw gone()
				const error =
					err instanceof KeysExhaustedError ? (last ? clientError(last) : new UpstreamError('No upstream key could serve the request.')) : (err as Error)
				finish({ keyId: null, ok: false, status: (error as GatewayError).status ?? 500, failure: (last?.failure as RequestFailure) ?? 'no-key' })
				throw error
			}
			attempts++
			tried.add(lease.keyId)
			const started = this.now()
			const created = await this.start(lease, form, model, signal)
			const outcome: Outcome = created.ok ? { kind: 'success', headers: created.headers } : toOutcome(created)
			this.deps.recorder?.attempt({
				keyId: lease.keyId,
				model: model.poolModel,
				status: created.status,
				outcome: outcome.kind,
				ms: this.now() - started,
			})
			// Failures are awaited: the next lease must see the cooldown or ban they record.
			await lease
				.settle(outcome)
				.catch((err) => this.deps.log.warn({ key: lease.masked, err: String(err) }, 'could not record the outcome of a speech attempt'))
			if (created.ok) return this.finishOn(lease, created.body, form, signal, deadline, attempts, finish, gone)
			last = created
			this.deps.log.info(
				{ request_id: call.requestId, key: lease.masked, model: model.poolModel, status: created.status, failure: created.failure },
				'speech upstream refused',
			)
			if (created.failure === 'aborted') throw gone()
			if (created.failure === 'client') {
				const error = clientError(created)
				finish({ keyId: lease.keyId, ok: false, status: error.status, failure: 'client' })
				throw error
			}
			if (created.failure === 'transient') await sleep(Math.min(options.pollIntervalMs, Math.max(0, deadline - Date.now())), signal)
		}
		if (signal.aborted) throw gone()
		const error =
			Date.now() >= deadline
				? new UpstreamTimeoutError(`The transcription did not start within SPEECH_MAX_WAIT (${Math.round(options.maxWaitMs / 1000)} s).`)
				: last
					? clientError(last)
					: new UpstreamError('The transcription failed.')
		finish({ keyId: null, ok: false, status: error.status, failure: (last?.failure as RequestFailure) ?? 'transient' })
		throw error
	}

	/** Upload with this key, then create the transcript with it. */
	private async start(lease: Lease, form: TranscriptionForm, model: ResolvedSpeechModel, signal: AbortSignal): Promise<SpeechAnswer<Transcript>> {
		const uploaded = await this.deps.upstream.upload(lease.key, form.file.bytes, signal)
		if (!uploaded.ok) return uploaded
		const params: Record<string, unknown> = { audio_url: uploaded.body.upload_url, speech_models: model.speechModels }
		if (form.language) params.language_code = form.language.replace('-', '_').toLowerCase()
		// OpenAI detects the language when none is given; AssemblyAI does so only when asked.
		else params.language_detection = true
		// The prompt is a Universal-3 Pro feature (docs/upstream-speech.md §3); other models would refuse it.
		if (form.prompt && model.speechModels[0]?.startsWith('universal-3')) params.prompt = form.prompt
		return this.deps.upstream.create(lease.key, params, signal)
	}

	/** Polls the transcript with the key that created it, then reads the subtitles when asked for. */
	private async finishOn(
		lease: Lease,
		created: Transcript,
		form: TranscriptionForm,
		signal: AbortSignal,
		deadline: number,
		attempts: number,
		finish: (e: Pick<RequestEvent, 'keyId' | 'ok' | 'status' | 'failure'> & { seconds?: number; transcriptModel?: string }) => void,
		gone: () => SpeechClientGoneError,
	): Promise<TranscriptionResult> {
		const options = this.deps.options()
		let transcript = created
		let pause = options.pollIntervalMs
		const fail = (error: GatewayError, failure: RequestFailure) => {
			finish({ keyId: lease.keyId, ok: false, status: error.status, failure })
			return error
		}
		while (transcript.status !== 'completed' && transcript.status !== 'error') {
			const left = deadline - Date.now()
			if (left <= 0) {
				throw fail(new UpstreamTimeoutError(`The transcript was not done within SPEECH_MAX_WAIT (${Math.round(options.maxWaitMs / 1000)} s).`), 'transient')
			}
			await sleep(Math.min(pause, left), signal)
			pause = Math.min(pause * 1.5, options.pollIntervalMs * 3)
			if (signal.aborted) throw gone()
			const polled = await this.deps.upstream.get(lease.key, transcript.id, signal)
			if (polled.ok) {
				transcript = polled.body
				continue
			}
			if (polled.failure === 'aborted') throw gone()
			// The transcript lives in this key's project: a busy or flaky upstream is waited out, not failed over.
			if (polled.failure === 'rate-limit' || polled.failure === 'transient') {
				const retry = Number(polled.headers?.get('retry-after'))
				if (Number.isFinite(retry) && retry > 0) pause = Math.max(pause, retry * 1000)
				continue
			}
			// A 4xx on our own transcript is not the client's doing.
			const error =
				polled.failure === 'client' ? new UpstreamError(`AssemblyAI lost the transcript (HTTP ${polled.status}): ${polled.message}`) : clientError(polled)
			throw fail(error, polled.failure === 'client' ? 'transient' : polled.failure)
		}
		if (transcript.status === 'error') {
			// The audio was accepted and could not be transcribed: the client's file, not our key.
			throw fail(
				new BadRequestError(`AssemblyAI could not transcribe the audio: ${transcript.error ?? 'no reason given'}`, 'file', 'transcription_failed'),
				'client',
			)
		}
		let subtitles: string | null = null
		if (form.responseFormat === 'srt' || form.responseFormat === 'vtt') {
			const read = await this.deps.upstream.subtitles(lease.key, transcript.id, form.responseFormat, signal)
			if (!read.ok) {
				if (read.failure === 'aborted') throw gone()
				const error = read.failure === 'client' ? new UpstreamError(`AssemblyAI gave no subtitles (HTTP ${read.status}): ${read.message}`) : clientError(read)
				throw fail(error, read.failure === 'client' ? 'transient' : read.failure)
			}
			subtitles = read.body
		}
		const seconds = typeof transcript.audio_duration === 'number' && transcript.audio_duration > 0 ? transcript.audio_duration : 0
		finish({ keyId: lease.keyId, ok: true, status: 200, failure: null, seconds, transcriptModel: transcript.speech_model_used ?? undefined })
		return { transcript, subtitles, masked: lease.masked, attempts, seconds }
	}
}
