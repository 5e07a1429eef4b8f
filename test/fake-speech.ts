/**
 * A local stand-in for AssemblyAI's speech-to-text for recorded audio, built from
 * docs/upstream-speech.md (§9 lists what it reproduces), so tests never touch the network.
 *
 * - Auth per key, raw or Bearer (§1); unknown or invalid keys get 401 `{"error": ...}` (§5).
 * - Per-key faults (429 with Retry-After, 5xx), used once each in order, on any route.
 * - Uploads belong to the uploading key's project: another project's key gets 403 (§1).
 * - Transcripts go queued -> processing -> completed over `pollsToComplete` GETs; a file that is
 *   not audio (here: not a RIFF/WAVE file) ends in `status: "error"` (§4, §5).
 * - Duration comes from the WAV header (seconds, rounded up); `words` in milliseconds, spread
 *   evenly over the duration; SRT and VTT subtitles made from the words (§4).
 */

export const SPEECH_MSG_BAD_KEY = 'Authentication error, API token missing/invalid'
export const SPEECH_MSG_RATE_LIMITED = 'Too Many Requests'
export const SPEECH_MSG_NO_ACCESS = 'Cannot access uploaded file'
export const SPEECH_MSG_NOT_AUDIO = 'Transcoding failed. File does not appear to contain audio.'
export const SPEECH_DEFAULT_TEXT = 'The quick brown fox jumps over the lazy dog.'
/** Model names the fake accepts (docs/upstream-speech.md §3). */
export const SPEECH_MODELS = ['universal-3-pro', 'universal-2', 'universal-3-5-pro', 'assemblyai-stt-3-7']

export interface FakeSpeechKey {
	/** false -> 401. Default true. */
	valid?: boolean
	/** Keys with the same project share uploads and transcripts. Default: the key itself. */
	project?: string
}

export type SpeechFault = { kind: 'status'; status: number; message?: string; retryAfter?: number } | { kind: 'reset' }

export interface FakeSpeechOptions {
	keys?: Record<string, FakeSpeechKey>
	/** GETs a transcript needs before it is completed (each GET advances one step). Default 2. */
	pollsToComplete?: number
	/** The words the fake "hears" in every file. */
	text?: string
}

export interface SpeechRecord {
	method: string
	path: string
	key: string | null
	status: number
	/** JSON body of POST /v2/transcript; byte length of an upload. */
	body?: unknown
	bytes?: number
}

interface Upload {
	project: string
	bytes: Uint8Array
}
interface TranscriptState {
	id: string
	project: string
	polls: number
	audioUrl: string
	models: string[]
	language: string | null
	detect: boolean
	prompt: string | null
	error: string | null
	seconds: number
}

export interface FakeSpeech {
	fetch(input: Request | string | URL, init?: RequestInit): Promise<Response>
	listen(): Promise<string>
	stop(): Promise<void>
	readonly requests: SpeechRecord[]
	/** A fault for a key ('*' = any key), applied once to its next request on any route. */
	fault(key: string, fault: SpeechFault, times?: number): void
	setKey(key: string, config: FakeSpeechKey): void
	/** GETs of transcripts that were not yet complete (the polling amb2api did). */
	pendingPolls(): number
	reset(): void
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
	new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } })
const error = (status: number, message: string, headers: Record<string, string> = {}) => json(status, { error: message }, headers)

/** Seconds of a RIFF/WAVE file (data bytes / byte rate, rounded up), or null when it is no WAV. */
export function wavSeconds(bytes: Uint8Array): number | null {
	if (bytes.byteLength < 44) return null
	const text = (from: number, to: number) => String.fromCharCode(...bytes.subarray(from, to))
	if (text(0, 4) !== 'RIFF' || text(8, 12) !== 'WAVE') return null
	const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
	const byteRate = view.getUint32(28, true)
	if (byteRate === 0) return null
	return Math.max(1, Math.ceil((bytes.byteLength - 44) / byteRate))
}

/** A mono 8 kHz 8-bit WAV of `seconds` of silence: the smallest real audio file a test can send. */
export function silentWav(seconds: number): Uint8Array {
	const rate = 8000
	const data = rate * seconds
	const out = new Uint8Array(44 + data)
	const view = new DataView(out.buffer)
	const put = (at: number, s: string) => {
		for (let i = 0; i < s.length; i++) out[at + i] = s.charCodeAt(i)
	}
	put(0, 'RIFF')
	view.setUint32(4, 36 + data, true)
	put(8, 'WAVE')
	put(12, 'fmt ')
	view.setUint32(16, 16, true)
	view.setUint16(20, 1, true) // PCM
	view.setUint16(22, 1, true) // mono
	view.setUint32(24, rate, true)
	view.setUint32(28, rate, true) // byte rate: 1 byte per sample
	view.setUint16(32, 1, true)
	view.setUint16(34, 8, true)
	put(36, 'data')
	view.setUint32(40, data, true)
	out.fill(128, 44)
	return out
}

interface Word {
	text: string
	start: number
	end: number
	confidence: number
	speaker: null
}

function wordsOf(text: string, seconds: number): Word[] {
	const parts = text.split(/\s+/).filter(Boolean)
	const step = Math.floor((seconds * 1000) / Math.max(1, parts.length))
	return parts.map((w, i) => ({ text: w, start: i * step, end: (i + 1) * step - 10, confidence: 0.98, speaker: null }))
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0')
function clock(ms: number, sep: string, hours: boolean): string {
	const h = Math.floor(ms / 3_600_000)
	const m = Math.floor((ms % 3_600_000) / 60_000)
	const s = Math.floor((ms % 60_000) / 1000)
	return `${hours || h > 0 ? `${pad(h)}:` : ''}${pad(m)}:${pad(s)}${sep}${pad(ms % 1000, 3)}`
}

/** Cues of at most 5 words, as SRT (numbered, comma) or VTT (WEBVTT, dot). */
function subtitles(words: Word[], format: 'srt' | 'vtt'): string {
	const cues: Word[][] = []
	for (let i = 0; i < words.length; i += 5) cues.push(words.slice(i, i + 5))
	const lines = cues.map((cue, i) => {
		const first = cue[0] as Word
		const last = cue[cue.length - 1] as Word
		const text = cue.map((w) => w.text).join(' ')
		return format === 'srt'
			? `${i + 1}\n${clock(first.start, ',', true)} --> ${clock(last.end, ',', true)}\n${text}`
			: `${clock(first.start, '.', false)} --> ${clock(last.end, '.', false)}\n${text}`
	})
	return format === 'srt' ? `${lines.join('\n\n')}\n` : `WEBVTT\n\n${lines.join('\n\n')}\n`
}

export function createFakeSpeech(options: FakeSpeechOptions = {}): FakeSpeech {
	const keys = new Map<string, FakeSpeechKey>(Object.entries(options.keys ?? {}))
	const uploads = new Map<string, Upload>()
	const transcripts = new Map<string, TranscriptState>()
	const requests: SpeechRecord[] = []
	let faults: { key: string; fault: SpeechFault; left: number }[] = []
	let pending = 0
	let seq = 0
	let server: ReturnType<typeof Bun.serve> | null = null
	let base = 'https://fake-speech.test'
	const text = options.text ?? SPEECH_DEFAULT_TEXT
	const pollsToComplete = options.pollsToComplete ?? 2

	function takeFault(key: string): SpeechFault | null {
		const i = faults.findIndex((f) => f.key === key || f.key === '*')
		if (i < 0) return null
		const entry = faults[i] as { fault: SpeechFault; left: number }
		if (--entry.left <= 0) faults.splice(i, 1)
		return entry.fault
	}

	function transcriptBody(t: TranscriptState) {
		const status = t.polls >= pollsToComplete ? (t.error ? 'error' : 'completed') : t.polls === 0 ? 'queued' : 'processing'
		const done = status === 'completed'
		return {
			id: t.id,
			status,
			audio_url: t.audioUrl,
			speech_models: t.models,
			speech_model_used: done ? t.models[0] : undefined,
			language_code: t.language ?? (t.detect ? 'en' : 'en_us'),
			language_detection: t.detect,
			language_confidence: t.detect && done ? 0.99 : null,
			language_confidence_threshold: null,
			prompt: t.prompt,
			text: done ? text : null,
			words: done ? wordsOf(text, t.seconds) : null,
			confidence: done ? 0.98 : null,
			audio_duration: done ? t.seconds : null,
			error: status === 'error' ? t.error : undefined,
			// required by the spec, meaningless here
			speech_model: null,
			language_model: 'assemblyai_default',
			acoustic_model: 'assemblyai_default',
			webhook_auth: false,
			auto_highlights: false,
			redact_pii: false,
			summarization: false,
		}
	}

	async function handle(req: Request): Promise<Response> {
		const url = new URL(req.url)
		const auth = req.headers.get('authorization')?.trim() ?? ''
		const key = /^bearer\s+/i.test(auth) ? auth.replace(/^bearer\s+/i, '') : auth || null
		const rec: SpeechRecord = { method: req.method, path: url.pathname, key, status: 0 }
		requests.push(rec)
		const answer = (res: Response) => {
			rec.status = res.status
			return res
		}
		const config = key ? keys.get(key) : undefined
		if (!key || !config || config.valid === false) return answer(error(401, SPEECH_MSG_BAD_KEY))
		const fault = takeFault(key)
		if (fault?.kind === 'reset') throw new TypeError('fetch failed: connection reset by the fake')
		if (fault?.kind === 'status') {
			const headers: Record<string, string> = fault.status === 429 ? { 'retry-after': String(fault.retryAfter ?? 1) } : {}
			return answer(error(fault.status, fault.message ?? (fault.status === 429 ? SPEECH_MSG_RATE_LIMITED : 'Internal Server Error'), headers))
		}
		const project = config.project ?? key

		if (url.pathname === '/v2/upload' && req.method === 'POST') {
			const bytes = new Uint8Array(await req.arrayBuffer())
			rec.bytes = bytes.byteLength
			if (bytes.byteLength === 0) return answer(error(400, 'Upload is empty'))
			const id = `upload-${++seq}`
			uploads.set(id, { project, bytes })
			return answer(json(200, { upload_url: `${base}/cdn/${id}` }))
		}
		if (url.pathname === '/v2/transcript' && req.method === 'POST') {
			let body: Record<string, unknown>
			try {
				body = (await req.json()) as Record<string, unknown>
			} catch {
				return answer(error(400, 'Invalid JSON body'))
			}
			rec.body = body
			if (typeof body.audio_url !== 'string') return answer(error(400, 'audio_url is required'))
			const models = body.speech_models
			if (!Array.isArray(models) || models.length === 0) return answer(error(400, 'speech_models is required'))
			const unknown = models.find((m) => typeof m !== 'string' || !SPEECH_MODELS.includes(m))
			if (unknown !== undefined) {
				return answer(error(400, `Invalid speech model ${JSON.stringify(unknown)}. Accepted models: ${SPEECH_MODELS.join(', ')}`))
			}
			const uploadId = /\/cdn\/([^/]+)$/.exec(body.audio_url)?.[1]
			const upload = uploadId ? uploads.get(uploadId) : undefined
			if (!upload) return answer(error(400, 'Could not download the file at audio_url'))
			if (upload.project !== project) return answer(error(403, SPEECH_MSG_NO_ACCESS))
			const seconds = wavSeconds(upload.bytes)
			const t: TranscriptState = {
				id: crypto.randomUUID(),
				project,
				polls: 0,
				audioUrl: body.audio_url,
				models: models as string[],
				language: typeof body.language_code === 'string' ? body.language_code : null,
				detect: body.language_detection === true,
				prompt: typeof body.prompt === 'string' ? body.prompt : null,
				error: seconds === null ? SPEECH_MSG_NOT_AUDIO : null,
				seconds: seconds ?? 0,
			}
			transcripts.set(t.id, t)
			return answer(json(200, transcriptBody(t)))
		}
		const match = /^\/v2\/transcript\/([^/]+)(?:\/(srt|vtt))?$/.exec(url.pathname)
		if (match && req.method === 'GET') {
			const t = transcripts.get(match[1] as string)
			if (!t || t.project !== project) return answer(error(404, 'Transcript not found'))
			if (match[2]) {
				if (t.polls < pollsToComplete || t.error) return answer(error(400, 'Transcript is not completed'))
				return answer(new Response(subtitles(wordsOf(text, t.seconds), match[2] as 'srt' | 'vtt'), { headers: { 'content-type': 'text/plain' } }))
			}
			if (t.polls < pollsToComplete) {
				pending++
				t.polls++
			}
			return answer(json(200, transcriptBody(t)))
		}
		return answer(error(404, 'Not found'))
	}

	return {
		requests,
		fetch(input, init) {
			const req = input instanceof Request && init === undefined ? input : new Request(input, init)
			return handle(req)
		},
		async listen() {
			if (!server) {
				server = Bun.serve({
					hostname: '127.0.0.1',
					port: 0,
					idleTimeout: 0,
					maxRequestBodySize: 1024 ** 3,
					fetch: (req) => handle(req).catch(() => new Response(null, { status: 500 })),
				})
				base = `http://127.0.0.1:${server.port}`
			}
			return base
		},
		async stop() {
			await server?.stop(true)
			server = null
		},
		fault(key, fault, times = 1) {
			faults.push({ key, fault, left: times })
		},
		setKey(key, config) {
			keys.set(key, { ...config })
		},
		pendingPolls: () => pending,
		reset() {
			requests.length = 0
			faults = []
			pending = 0
		},
	}
}
