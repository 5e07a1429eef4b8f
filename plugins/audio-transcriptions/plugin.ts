/** OpenAI's POST /v1/audio/transcriptions on AssemblyAI speech-to-text, through the same key pool as chat. */
import { bodySize, int, list, seconds, spec, url } from '../../core/config.ts'
import { definePlugin } from '../../core/plugin.ts'
import { fanOut, pricedRecorder } from '../usage-stats/events.ts'
import { TRANSCRIPTIONS_PATH, transcriptionRoutes } from './routes.ts'
import { DEFAULT_SPEECH_MODELS, speechPrices } from './speech-models.ts'
import { SpeechUpstream } from './speech-upstream.ts'
import { Transcriber } from './transcriber.ts'

export const plugin = definePlugin({
	name: 'audio-transcriptions',
	description: 'POST /v1/audio/transcriptions: OpenAI speech-to-text on AssemblyAI, through the same key pool as chat',
	optional: true,
	needs: ['pool', 'apiAuth', 'chat', 'log', 'now', 'upstreamFetch'],
	uses: ['usage', 'metrics'],
	settings: {
		baseUrl: spec(
			'SPEECH_BASE_URL',
			url,
			'https://api.assemblyai.com',
			'AssemblyAI speech-to-text base URL; https://api.eu.assemblyai.com for the EU',
			'speech_base_url',
		),
		maxFileSize: spec(
			'SPEECH_MAX_FILE_SIZE',
			bodySize,
			100 * 1024 * 1024,
			'largest audio file accepted (e.g. 100mb); larger ones get 413 while they stream in',
		),
		maxWait: spec('SPEECH_MAX_WAIT', seconds(1, 86_400), 600, 'seconds a transcription may take, upload and polling included (then 504)', 'speech_max_wait'),
		pollInterval: spec('SPEECH_POLL_INTERVAL', seconds(0.01, 60), 1, 'seconds between the first polls of a transcript (grows to 3x)', 'speech_poll_interval'),
		maxAttempts: spec('SPEECH_MAX_ATTEMPTS', int(1, 100), 6, 'keys tried per transcription (failover on 401/403, 429, 5xx)', 'speech_max_attempts'),
		defaultModels: spec<string[]>(
			'SPEECH_DEFAULT_MODELS',
			list,
			[...DEFAULT_SPEECH_MODELS],
			'AssemblyAI speech models (in priority order) that whisper-1 and gpt-4o-transcribe use',
			'speech_default_models',
		),
		prices: spec<Record<string, number>>(
			'SPEECH_PRICES',
			speechPrices,
			{},
			'USD per hour of audio per speech model, e.g. universal-3-pro=0.21 (adds to or replaces the published prices)',
			'speech_prices',
		),
	},
	setup: ({ services, settings, config }) => {
		const upstream = new SpeechUpstream({ fetch: services.upstreamFetch, baseUrl: () => settings.baseUrl, timeoutMs: config.upstream.timeoutMs })
		const transcriber = new Transcriber({
			pool: services.pool,
			upstream,
			log: services.log,
			// The listeners, after the client key's budget is settled with the audio's cost.
			recorder: pricedRecorder(fanOut(services.usage, services.metrics)),
			now: services.now,
			options: () => ({
				maxAttempts: settings.maxAttempts,
				maxWaitMs: settings.maxWait * 1000,
				pollIntervalMs: settings.pollInterval * 1000,
				prices: settings.prices,
			}),
		})
		return {
			routes: transcriptionRoutes({
				auth: services.apiAuth,
				transcriber,
				limit: services.chat.limit,
				maxFileBytes: () => settings.maxFileSize,
				defaultModels: () => settings.defaultModels,
			}),
			// Audio may be larger than MAX_BODY_SIZE: the route counts it against SPEECH_MAX_FILE_SIZE.
			ownBodyLimit: [TRANSCRIPTIONS_PATH],
		}
	},
})
