/**
 * `POST /v1/audio/transcriptions`, behind the API password or a client key like chat: the caller
 * is authenticated before the body is read, a slot of the chat core's concurrency limit is taken
 * (503 beyond it), the multipart form is read within SPEECH_MAX_FILE_SIZE, a client key is
 * admitted for the model it named (allow-list and quota), and the transcript is answered in the
 * response format asked for.
 */
import { Elysia } from 'elysia'
import { GatewayError } from '../../core/errors.ts'
import { requestIdOf } from '../../core/request-id.ts'
import { annotate } from '../../core/request-log.ts'
import type { ApiAuthenticator } from '../api-auth/api-auth.ts'
import type { ConcurrencyLimit } from '../chat-core/concurrency-limit.ts'
import { toOpenAITranscription } from './openai-transcription.ts'
import { resolveSpeechModel } from './speech-models.ts'
import type { Transcriber } from './transcriber.ts'
import { readTranscriptionForm } from './transcription-form.ts'
import { bearerCaller } from '../api-auth/bearer-caller.ts'

export const TRANSCRIPTIONS_PATH = '/v1/audio/transcriptions'

export interface TranscriptionRoutesDeps {
	auth: ApiAuthenticator
	transcriber: Transcriber
	/** The chat core's limit on requests in flight; absent = unlimited. */
	limit?: ConcurrencyLimit
	/** Read at each request (settings may change at run time). */
	maxFileBytes: () => number
	defaultModels: () => readonly string[]
}

export const transcriptionRoutes = (deps: TranscriptionRoutesDeps) =>
	new Elysia({ name: 'audio-transcriptions' })
		.resolve(async function authenticateCaller({ headers, request }) {
			return { principal: await bearerCaller(deps.auth, headers, request) }
		})
		.post(
			TRANSCRIPTIONS_PATH,
			async function createTranscription({ request, principal }) {
				// Beyond MAX_CONCURRENT_REQUESTS: an honest 503 before a byte of audio is read.
				const release = deps.limit?.acquire()
				let admission: Awaited<ReturnType<NonNullable<ApiAuthenticator['admit']>>> = null
				try {
					const form = await readTranscriptionForm(request, deps.maxFileBytes())
					const model = resolveSpeechModel(form.model, deps.defaultModels())
					annotate(request, {
						model: model.poolModel,
						audio_bytes: form.file.bytes.byteLength,
						...(principal.kind === 'client' ? { client: principal.name } : {}),
					})
					// The allow-list names the model the client asked for (whisper-1, universal-2, ...).
					admission = deps.auth.admit && principal.kind === 'client' ? await deps.auth.admit(principal, model.requested, [], { kind: 'audio' }) : null
					// The reservation travels with the principal to the usage event that settles it with the audio's cost.
					const caller =
						admission?.ticket && principal.kind === 'client'
							? Object.defineProperty({ ...principal }, 'ticket', { value: admission.ticket, enumerable: false })
							: principal
					const result = await deps.transcriber.transcribe({ form, model, signal: request.signal, principal: caller, requestId: requestIdOf(request) })
					annotate(request, { key: result.masked, attempts: result.attempts, audio_seconds: result.seconds })
					// The answer waits until the settlement is stored (a budget's next request sees it).
					await admission?.close?.()
					return toOpenAITranscription(result.transcript, form.responseFormat, {
						subtitles: result.subtitles,
						granularities: form.granularities,
						seconds: result.seconds,
					})
				} catch (err) {
					// A request that failed on our side does not spend the client's quota; its own 4xx does.
					if (admission && !(err instanceof GatewayError && err.status < 429)) await admission.release()
					else await admission?.close?.()
					throw err
				} finally {
					release?.()
				}
			},
			{
				parse: 'none',
				detail: {
					summary: 'Transcribe audio',
					description:
						'OpenAI audio transcriptions on AssemblyAI speech-to-text, with a key from the pool. Multipart form: `file` (up to SPEECH_MAX_FILE_SIZE), `model` (`whisper-1`, `gpt-4o-transcribe` and `gpt-4o-mini-transcribe` use SPEECH_DEFAULT_MODELS; an AssemblyAI model name such as `universal-2` is used as it is), `language`, `prompt`, `response_format` (`json`, `text`, `srt`, `vtt`, `verbose_json`), `timestamp_granularities[]` (`word`, `segment`), `temperature` (accepted and ignored).',
					tags: ['OpenAI'],
					security: [{ bearer: [] }],
					requestBody: {
						required: true,
						content: {
							'multipart/form-data': {
								schema: {
									type: 'object',
									required: ['file', 'model'],
									properties: {
										file: { type: 'string', format: 'binary' },
										model: { type: 'string', example: 'whisper-1' },
										language: { type: 'string', example: 'en' },
										prompt: { type: 'string' },
										response_format: { type: 'string', enum: ['json', 'text', 'srt', 'vtt', 'verbose_json'] },
										'timestamp_granularities[]': { type: 'array', items: { type: 'string', enum: ['word', 'segment'] } },
										temperature: { type: 'number' },
									},
								},
							},
						},
					},
					responses: {
						200: { description: 'The transcript in the response format asked for' },
						400: { description: 'Empty file, unsupported format, bad field, or audio AssemblyAI could not transcribe' },
						401: { description: 'Missing or wrong API key' },
						403: { description: 'The client key may not use this model' },
						413: { description: 'The file is larger than SPEECH_MAX_FILE_SIZE (refused while it streams in)' },
						429: { description: 'Every key is rate limited; Retry-After says when to retry' },
						502: { description: 'The upstream failed after retries' },
						503: { description: 'No upstream key, or MAX_CONCURRENT_REQUESTS reached' },
						504: { description: 'The transcript was not done within SPEECH_MAX_WAIT' },
					},
				},
			},
		)
