/**
 * AssemblyAI's speech-to-text routes with one key (docs/upstream-speech.md §2): upload, create a
 * transcript, read it, read its subtitles. Each call answers what happened (a body, or a failure
 * with its class) and never throws for an upstream answer; the pool logic lives in transcriber.ts.
 */
import { isObject } from '../../core/json.ts'

/** How a failed call is handled (docs/upstream-speech.md §5): by status, as for chat. */
export type SpeechFailure = 'key' | 'rate-limit' | 'transient' | 'client' | 'aborted'

export type SpeechAnswer<T> =
	| { ok: true; status: number; headers: Headers; body: T }
	| { ok: false; status: number | null; headers: Headers | null; failure: SpeechFailure; message: string }

export function classifySpeechStatus(status: number): SpeechFailure {
	if (status === 429) return 'rate-limit'
	if (status === 401 || status === 403) return 'key'
	if (status === 408 || status >= 500) return 'transient'
	return 'client'
}

/** The upstream's message, one line, bounded, with anything key-like removed. */
function messageOf(status: number, text: string): string {
	let message = text
	try {
		const parsed: unknown = JSON.parse(text)
		if (isObject(parsed) && typeof parsed.error === 'string') message = parsed.error
	} catch {
		// plain text (a proxy's page): used as it is
	}
	const flat = message
		.slice(0, 4000)
		.replace(/\s+/g, ' ')
		.replace(/\bBearer\s+\S+/gi, 'Bearer [redacted]')
		.replace(/\b[0-9a-f]{32,}\b/gi, '[redacted]')
		.trim()
	return (flat.length > 500 ? `${flat.slice(0, 500)}…` : flat) || `HTTP ${status} with an empty body`
}

export interface SpeechUpstreamDeps {
	fetch: typeof fetch
	/** Read at each call: the setting may change at run time. */
	baseUrl: () => string
	/** Each call's limit until its answer is read (UPSTREAM_TIMEOUT). */
	timeoutMs: number
}

export class SpeechUpstream {
	constructor(private readonly deps: SpeechUpstreamDeps) {}

	upload(key: string, bytes: Uint8Array, signal: AbortSignal): Promise<SpeechAnswer<{ upload_url: string }>> {
		return this.call(key, 'POST', '/v2/upload', signal, { body: bytes as BodyInit, type: 'application/octet-stream' }, (body) =>
			isObject(body) && typeof body.upload_url === 'string' ? (body as { upload_url: string }) : null,
		)
	}

	create(key: string, params: Record<string, unknown>, signal: AbortSignal): Promise<SpeechAnswer<Transcript>> {
		return this.call(key, 'POST', '/v2/transcript', signal, { body: JSON.stringify(params), type: 'application/json' }, asTranscript)
	}

	get(key: string, id: string, signal: AbortSignal): Promise<SpeechAnswer<Transcript>> {
		return this.call(key, 'GET', `/v2/transcript/${encodeURIComponent(id)}`, signal, null, asTranscript)
	}

	subtitles(key: string, id: string, format: 'srt' | 'vtt', signal: AbortSignal): Promise<SpeechAnswer<string>> {
		return this.call(key, 'GET', `/v2/transcript/${encodeURIComponent(id)}/${format}`, signal, null, (body) => (typeof body === 'string' ? body : null), true)
	}

	private async call<T>(
		key: string,
		method: string,
		path: string,
		signal: AbortSignal,
		send: { body: BodyInit; type: string } | null,
		read: (body: unknown) => T | null,
		plain = false,
	): Promise<SpeechAnswer<T>> {
		const timeout = AbortSignal.timeout(this.deps.timeoutMs)
		const both = AbortSignal.any([signal, timeout])
		let response: Response
		let text: string
		try {
			response = await this.deps.fetch(`${this.deps.baseUrl().replace(/\/+$/, '')}${path}`, {
				method,
				headers: { authorization: key, ...(send ? { 'content-type': send.type } : {}) },
				body: send?.body,
				signal: both,
			})
			text = await response.text()
		} catch (err) {
			if (signal.aborted) return { ok: false, status: null, headers: null, failure: 'aborted', message: 'client closed the request' }
			const message = timeout.aborted ? `no answer within ${Math.round(this.deps.timeoutMs / 1000)} s` : `network error: ${String(err).slice(0, 200)}`
			return { ok: false, status: null, headers: null, failure: 'transient', message }
		}
		if (!response.ok) {
			return {
				ok: false,
				status: response.status,
				headers: response.headers,
				failure: classifySpeechStatus(response.status),
				message: messageOf(response.status, text),
			}
		}
		let body: unknown = text
		if (!plain) {
			try {
				body = JSON.parse(text)
			} catch {
				body = undefined
			}
		}
		const value = read(body)
		if (value === null)
			return { ok: false, status: response.status, headers: response.headers, failure: 'transient', message: 'the upstream answered with an unexpected body' }
		return { ok: true, status: response.status, headers: response.headers, body: value }
	}
}

/** The transcript fields amb2api reads (docs/upstream-speech.md §4). */
export interface Transcript {
	id: string
	status: 'queued' | 'processing' | 'completed' | 'error'
	text?: string | null
	words?: { text: string; start: number; end: number; confidence?: number }[] | null
	audio_duration?: number | null
	language_code?: string | null
	speech_model_used?: string | null
	error?: string | null
}

function asTranscript(body: unknown): Transcript | null {
	if (!isObject(body) || typeof body.id !== 'string' || typeof body.status !== 'string') return null
	return body as unknown as Transcript
}
