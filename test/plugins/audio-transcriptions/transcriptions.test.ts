/**
 * POST /v1/audio/transcriptions end to end: the official `openai` SDK against amb2api on a real
 * socket, amb2api against the speech fake (test/fake-speech.ts) on another, with the real key
 * pool, client keys, usage and metrics.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import OpenAI, { toFile } from 'openai'
import { createFakeSpeech, type FakeSpeech, SPEECH_DEFAULT_TEXT, SPEECH_MSG_BAD_KEY, silentWav } from '../../fake-speech.ts'
import { API_PASSWORD, type Harness, KEYS, PANEL_PASSWORD, startHarness } from '../../support.ts'

let h: Harness | null = null
let speech: FakeSpeech | null = null

afterEach(async () => {
	await h?.close()
	await speech?.stop()
	h = null
	speech = null
})

async function start(env: Record<string, string> = {}, pollsToComplete = 2) {
	speech = createFakeSpeech({ keys: Object.fromEntries(KEYS.map((k) => [k, {}])), pollsToComplete })
	const speechUrl = await speech.listen()
	h = await startHarness({ listenFake: true, env: { SPEECH_BASE_URL: speechUrl, SPEECH_POLL_INTERVAL: '0.01', LOG_LEVEL: 'info', ...env } })
	const base = await h.listen()
	const client = new OpenAI({ apiKey: API_PASSWORD, baseURL: `${base}/v1`, maxRetries: 0 })
	return { h, speech, base, client }
}

const wav = (seconds = 4, name = 'speech.wav') => toFile(silentWav(seconds), name, { type: 'audio/wav' })

async function usageTotals(harness: Harness) {
	return (await (await harness.admin('/admin/usage')).json()) as {
		totals: Record<string, number>
		models: Record<string, Record<string, number>>
		keys: { id: string; key: string; totals: Record<string, number> }[]
		clients: { id: string; totals: Record<string, number> }[]
	}
}

describe('POST /v1/audio/transcriptions with the openai SDK', () => {
	test('every response_format: json, text, srt, vtt, verbose_json with segments and words', async () => {
		const { client, speech } = await start()
		const json = await client.audio.transcriptions.create({ file: await wav(), model: 'whisper-1' })
		expect(json.text).toBe(SPEECH_DEFAULT_TEXT)

		const text = await client.audio.transcriptions.create({ file: await wav(), model: 'whisper-1', response_format: 'text' })
		expect(String(text).trim()).toBe(SPEECH_DEFAULT_TEXT)

		const srt = String(await client.audio.transcriptions.create({ file: await wav(), model: 'whisper-1', response_format: 'srt' }))
		expect(srt).toMatch(/^1\n00:00:00,000 --> 00:00:0\d,\d{3}\nThe quick brown fox jumps\n\n2\n/)

		const vtt = String(await client.audio.transcriptions.create({ file: await wav(), model: 'gpt-4o-transcribe', response_format: 'vtt' }))
		expect(vtt.startsWith('WEBVTT\n\n00:00.000 --> ')).toBe(true)

		const verbose = await client.audio.transcriptions.create({
			file: await wav(4),
			model: 'whisper-1',
			response_format: 'verbose_json',
			timestamp_granularities: ['word', 'segment'],
			temperature: 0.2,
		})
		expect(verbose.text).toBe(SPEECH_DEFAULT_TEXT)
		expect(verbose.duration).toBe(4)
		expect(verbose.language).toBe('en')
		expect(verbose.segments?.length).toBe(1)
		expect(verbose.segments?.[0]?.text.trim()).toBe(SPEECH_DEFAULT_TEXT)
		expect(verbose.words?.length).toBe(9)
		// Seconds, not AssemblyAI's milliseconds.
		expect(verbose.words?.[1]?.start).toBeCloseTo(0.444, 3)
		expect(verbose.words?.at(-1)?.end).toBeLessThanOrEqual(4)

		// whisper-1 and gpt-4o-transcribe went upstream as the default models, with language detection.
		const creates = speech.requests.filter((r) => r.path === '/v2/transcript' && r.method === 'POST')
		expect(creates).toHaveLength(5)
		for (const c of creates) expect(c.body).toMatchObject({ speech_models: ['universal-3-pro', 'universal-2'], language_detection: true })
		// Polling happened, with the raw key of the key that created the transcript.
		expect(speech.pendingPolls()).toBe(10)
		const keysByTranscript = speech.requests.filter((r) => r.path.startsWith('/v2/transcript/')).map((r) => r.key)
		for (const k of keysByTranscript) expect(KEYS).toContain(k as string)
	})

	test("AssemblyAI's own model names go through as they are; language and prompt are passed on", async () => {
		const { client, speech } = await start()
		await client.audio.transcriptions.create({ file: await wav(), model: 'universal-2', language: 'de' })
		await client.audio.transcriptions.create({ file: await wav(), model: 'universal-3-pro', prompt: 'Medical dictation' })
		const creates = speech.requests.filter((r) => r.path === '/v2/transcript').map((r) => r.body)
		expect(creates[0]).toMatchObject({ speech_models: ['universal-2'], language_code: 'de' })
		expect(creates[0]).not.toHaveProperty('prompt')
		expect(creates[1]).toMatchObject({ speech_models: ['universal-3-pro'], prompt: 'Medical dictation', language_detection: true })
	})

	test('an unknown AssemblyAI model is the client’s 400, and no key is blamed', async () => {
		const { client } = await start({ AUTO_BAN: 'true' })
		const err = await client.audio.transcriptions.create({ file: await wav(), model: 'nano' }).catch((e) => e)
		expect(err).toBeInstanceOf(OpenAI.BadRequestError)
		expect(err.error.code).toBe('upstream_invalid_request')
		const { keys } = (await (await h!.admin('/admin/keys')).json()) as { keys: { status: string }[] }
		expect(keys).toHaveLength(3)
		for (const k of keys) expect(k.status).toBe('active')
	})
})

describe('key pool: failover, bans and cooldowns', () => {
	test('failover on 429: the next key uploads again and serves; the limited key cools down', async () => {
		const { client, speech } = await start()
		speech.fault('*', { kind: 'status', status: 429, retryAfter: 30 })
		const result = await client.audio.transcriptions.create({ file: await wav(), model: 'whisper-1' })
		expect(result.text).toBe(SPEECH_DEFAULT_TEXT)
		const uploads = speech.requests.filter((r) => r.path === '/v2/upload')
		expect(uploads.map((u) => u.status)).toEqual([429, 200])
		expect(uploads[0]?.key).not.toBe(uploads[1]?.key)
		// The transcript was created and polled with the key that uploaded it.
		const later = speech.requests.filter((r) => r.path.startsWith('/v2/transcript'))
		for (const r of later) expect(r.key).toBe(uploads[1]?.key as string)
		// The next request does not go to the cooling key.
		await client.audio.transcriptions.create({ file: await wav(), model: 'whisper-1' })
		const next = speech.requests.filter((r) => r.path === '/v2/upload').at(-1)
		expect(next?.key).not.toBe(uploads[0]?.key as string)
		const usage = await usageTotals(h!)
		expect(usage.models['universal-3-pro']?.attempts).toBe(3)
		expect(usage.models['universal-3-pro']?.successes).toBe(2)
	})

	test('failover on 401, and with AUTO_BAN the key is banned with its reason', async () => {
		const { client, speech } = await start({ AUTO_BAN: 'true' })
		// Whichever key is chosen first answers 401 (the key itself turns invalid), the next one serves.
		speech.fault('*', { kind: 'status', status: 401, message: SPEECH_MSG_BAD_KEY })
		const result = await client.audio.transcriptions.create({ file: await wav(), model: 'universal-2' })
		expect(result.text).toBe(SPEECH_DEFAULT_TEXT)
		const uploads = speech.requests.filter((r) => r.path === '/v2/upload')
		expect(uploads.map((u) => u.status)).toEqual([401, 200])
		speech.setKey(uploads[0]?.key as string, { valid: false })
		const report = (await (await h!.admin('/admin/keys')).json()) as { keys: { key: string; status: string; reason: string | null }[] }
		const banned = report.keys.filter((k) => k.status === 'banned')
		expect(banned).toHaveLength(1)
		for (const k of banned) expect(k.reason).toContain('401')
		// Banned keys are never tried again.
		speech.reset()
		for (let i = 0; i < 3; i++) await client.audio.transcriptions.create({ file: await wav(), model: 'universal-2' })
		expect(speech.requests.filter((r) => r.status === 401)).toHaveLength(0)
		// Secrets stay masked in reports.
		expect(JSON.stringify(report)).not.toContain(KEYS[0])
	})

	test('5xx on every key: 502 after trying each, never a hidden success', async () => {
		const { client, speech } = await start({ SPEECH_MAX_ATTEMPTS: '3' })
		speech.fault('*', { kind: 'status', status: 503 }, 10)
		const err = await client.audio.transcriptions.create({ file: await wav(), model: 'whisper-1' }).catch((e) => e)
		expect(err.status).toBe(502)
		expect(new Set(speech.requests.map((r) => r.key)).size).toBe(3)
	})
})

describe('client keys', () => {
	test('a client key is refused (403) for a model outside its allow-list, served for one inside it', async () => {
		const { h, base, speech } = await start()
		const created = await (await h.admin('/admin/clients', { method: 'POST', json: { name: 'dictation', allowed_models: ['whisper-1'] } })).json()
		const client = new OpenAI({ apiKey: created.key, baseURL: `${base}/v1`, maxRetries: 0 })
		const refused = await client.audio.transcriptions.create({ file: await wav(), model: 'universal-2' }).catch((e) => e)
		expect(refused).toBeInstanceOf(OpenAI.PermissionDeniedError)
		expect(refused.error.code).toBe('model_not_allowed')
		expect(speech.requests).toHaveLength(0)
		const ok = await client.audio.transcriptions.create({ file: await wav(3), model: 'whisper-1' })
		expect(ok.text).toBe(SPEECH_DEFAULT_TEXT)
		// Seconds of audio per client and key; universal-3-pro has no published price here.
		const usage = await usageTotals(h)
		const row = usage.clients.find((c) => c.id === created.id)
		expect(row?.totals.audio_seconds).toBe(3)
		expect(row?.totals.audio_seconds_unpriced).toBe(3)
		expect(usage.totals.audio_cost_micro_usd).toBe(0)
	})
})

describe('client key budgets', () => {
	test('a transcription is charged to a budgeted key at the speech price; a spent budget refuses the next one', async () => {
		const { h, base, speech } = await start()
		// 36 s of universal-2 at $0.15/h = $0.0015: a budget of $0.001 is spent by the first.
		const created = await (await h.admin('/admin/clients', { method: 'POST', json: { name: 'dictation', budget_usd: 0.001, budget_period: 'day' } })).json()
		const client = new OpenAI({ apiKey: created.key, baseURL: `${base}/v1`, maxRetries: 0 })
		expect((await client.audio.transcriptions.create({ file: await wav(36), model: 'universal-2' })).text).toBe(SPEECH_DEFAULT_TEXT)
		const view = (await (await h.admin(`/admin/clients/${created.id}`)).json()) as { budget: { spent_usd: number } }
		expect(view.budget.spent_usd).toBe(0.0015)
		const sent = speech.requests.length
		const refused = await client.audio.transcriptions.create({ file: await wav(36), model: 'universal-2' }).catch((e) => e)
		expect(refused).toBeInstanceOf(OpenAI.RateLimitError)
		expect(refused.error.code).toBe('budget_exceeded')
		expect(speech.requests).toHaveLength(sent)
	})
})

describe('usage and money', () => {
	test('seconds and cost per key and day from the published price; /metrics shows them', async () => {
		const { client, h } = await start()
		// 36 s of universal-2 at $0.15/h = $0.0015 = 1500 micro-USD
		await client.audio.transcriptions.create({ file: await wav(36), model: 'universal-2' })
		const usage = await usageTotals(h)
		expect(usage.models['universal-2']).toMatchObject({ audio_seconds: 36, audio_cost_micro_usd: 1500, audio_seconds_unpriced: 0, successes: 1 })
		const key = usage.keys.find((k) => k.totals.audio_seconds === 36)
		expect(key).toBeDefined()
		const metrics = await (await h.call('/metrics', { auth: PANEL_PASSWORD })).text()
		expect(metrics).toContain('amb2api_audio_seconds_total{model="universal-2"} 36')
		expect(metrics).toContain('amb2api_audio_cost_usd_total{model="universal-2"} 0.0015')
		expect(metrics).toContain('amb2api_transcription_requests_total{model="universal-2",status="200",failure="none"} 1')
		expect(metrics).not.toContain('amb2api_chat_requests_total{model="universal-2"')
	})

	test('SPEECH_PRICES prices a model that has no published price', async () => {
		const { client, h } = await start({ SPEECH_PRICES: 'universal-3-pro=0.36' })
		await client.audio.transcriptions.create({ file: await wav(10), model: 'whisper-1' })
		const usage = await usageTotals(h)
		// 10 s at $0.36/h = $0.001 = 1000 micro-USD
		expect(usage.models['universal-3-pro']).toMatchObject({ audio_seconds: 10, audio_cost_micro_usd: 1000, audio_seconds_unpriced: 0 })
	})
})

describe('bad input', () => {
	const form = (parts: Record<string, string | Blob>, file?: { bytes: Uint8Array; name: string }) => {
		const body = new FormData()
		for (const [k, v] of Object.entries(parts)) body.append(k, v)
		if (file) body.append('file', new Blob([file.bytes as BlobPart]), file.name)
		return body
	}
	const post = (base: string, body: BodyInit, headers: Record<string, string> = {}) =>
		fetch(`${base}/v1/audio/transcriptions`, { method: 'POST', body, headers: { authorization: `Bearer ${API_PASSWORD}`, ...headers } })

	test('an empty file is a 400 empty_file, before anything goes upstream', async () => {
		const { client, speech } = await start()
		const err = await client.audio.transcriptions.create({ file: await toFile(new Uint8Array(0), 'empty.wav'), model: 'whisper-1' }).catch((e) => e)
		expect(err).toBeInstanceOf(OpenAI.BadRequestError)
		expect(err.error).toMatchObject({ code: 'empty_file', param: 'file', type: 'invalid_request_error' })
		expect(speech.requests).toHaveLength(0)
	})

	test('an oversized file is a 413 file_too_large, even above MAX_BODY_SIZE it is our own limit that speaks', async () => {
		const { client, speech } = await start({ SPEECH_MAX_FILE_SIZE: '64kb', MAX_BODY_SIZE: '16kb' })
		const err = await client.audio.transcriptions.create({ file: await toFile(new Uint8Array(200 * 1024), 'big.wav'), model: 'whisper-1' }).catch((e) => e)
		expect(err.status).toBe(413)
		expect(err.error).toMatchObject({ code: 'file_too_large', param: 'file' })
		expect(speech.requests).toHaveLength(0)
		// A file within SPEECH_MAX_FILE_SIZE but above MAX_BODY_SIZE is served.
		const ok = await client.audio.transcriptions.create({ file: await wav(5), model: 'whisper-1' })
		expect(ok.text).toBe(SPEECH_DEFAULT_TEXT)
	})

	test('an oversized chunked upload is refused while it streams in, before the client finished sending', async () => {
		const { base } = await start({ SPEECH_MAX_FILE_SIZE: '64kb' })
		const boundary = 'speechboundary'
		const head = new TextEncoder().encode(
			`--${boundary}\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper-1\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\nContent-Type: audio/wav\r\n\r\n`,
		)
		let sent = 0
		let finished = false
		const body = new ReadableStream<Uint8Array>({
			async pull(controller) {
				if (sent === 0) controller.enqueue(head)
				if (sent >= 256 * 1024) {
					// Never ends by itself: only an answer that comes before the end proves the refusal.
					await new Promise((r) => setTimeout(r, 5000))
					finished = true
					controller.close()
					return
				}
				controller.enqueue(new Uint8Array(16 * 1024))
				sent += 16 * 1024
			},
		})
		const started = performance.now()
		const res = await fetch(`${base}/v1/audio/transcriptions`, {
			method: 'POST',
			body,
			headers: { authorization: `Bearer ${API_PASSWORD}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
			duplex: 'half',
		} as RequestInit)
		expect(res.status).toBe(413)
		expect((await res.json()).error.code).toBe('file_too_large')
		expect(finished).toBe(false)
		expect(performance.now() - started).toBeLessThan(4000)
	})

	test('an unsupported format, a missing file, a missing model, a bad response_format: 400s naming the param', async () => {
		const { base, speech } = await start()
		const cases: [FormData, string, string][] = [
			[form({ model: 'whisper-1' }, { bytes: silentWav(1), name: 'notes.txt' }), 'unsupported_file_format', 'file'],
			[form({ model: 'whisper-1' }), 'missing_file', 'file'],
			[form({}, { bytes: silentWav(1), name: 'a.wav' }), 'missing_model', 'model'],
			[form({ model: 'whisper-1', response_format: 'xml' }, { bytes: silentWav(1), name: 'a.wav' }), 'invalid_response_format', 'response_format'],
			[form({ model: 'whisper-1', temperature: 'hot' }, { bytes: silentWav(1), name: 'a.wav' }), 'invalid_temperature', 'temperature'],
		]
		for (const [body, code, param] of cases) {
			const res = await post(base, body)
			expect(res.status).toBe(400)
			expect((await res.json()).error).toMatchObject({ code, param })
		}
		const notMultipart = await post(base, JSON.stringify({ model: 'whisper-1' }), { 'content-type': 'application/json' })
		expect(notMultipart.status).toBe(400)
		expect((await notMultipart.json()).error.code).toBe('invalid_content_type')
		expect(speech.requests).toHaveLength(0)
	})

	test('audio AssemblyAI cannot transcribe is the client’s 400 transcription_failed, and bans no key', async () => {
		const { client } = await start({ AUTO_BAN: 'true' })
		const err = await client.audio.transcriptions
			.create({ file: await toFile(new TextEncoder().encode('this is not audio'), 'voice.mp3'), model: 'whisper-1' })
			.catch((e) => e)
		expect(err).toBeInstanceOf(OpenAI.BadRequestError)
		expect(err.error.code).toBe('transcription_failed')
		expect(err.error.message).toContain('does not appear to contain audio')
		const { keys } = (await (await h!.admin('/admin/keys')).json()) as { keys: { status: string }[] }
		for (const k of keys) expect(k.status).toBe('active')
	})

	test('without a key: 401 before the body is read', async () => {
		const { base } = await start()
		const res = await fetch(`${base}/v1/audio/transcriptions`, { method: 'POST', body: form({ model: 'whisper-1' }) })
		expect(res.status).toBe(401)
	})
})

describe('long audio and clients that leave', () => {
	test('a transcript not done within SPEECH_MAX_WAIT answers 504', async () => {
		const { client, speech } = await start({ SPEECH_MAX_WAIT: '1' }, 1_000_000)
		const started = performance.now()
		const err = await client.audio.transcriptions.create({ file: await wav(), model: 'whisper-1' }).catch((e) => e)
		expect(err.status).toBe(504)
		expect(err.error.code).toBe('upstream_timeout')
		expect(performance.now() - started).toBeLessThan(3000)
		expect(speech.pendingPolls()).toBeGreaterThan(3)
	})

	test('a client that goes away stops the polling', async () => {
		const { client, speech } = await start({ SPEECH_POLL_INTERVAL: '0.05' }, 1_000_000)
		const controller = new AbortController()
		const pending = client.audio.transcriptions.create({ file: await wav(), model: 'whisper-1' }, { signal: controller.signal }).catch((e) => e)
		// Wait until polling has started, then leave.
		for (let i = 0; i < 100 && speech.pendingPolls() < 2; i++) await new Promise((r) => setTimeout(r, 20))
		expect(speech.pendingPolls()).toBeGreaterThanOrEqual(2)
		controller.abort()
		await pending
		await new Promise((r) => setTimeout(r, 300))
		const after = speech.pendingPolls()
		await new Promise((r) => setTimeout(r, 600))
		expect(speech.pendingPolls()).toBe(after)
	})

	test('beyond MAX_CONCURRENT_REQUESTS a transcription gets an honest 503 with Retry-After', async () => {
		const { client, speech } = await start({ MAX_CONCURRENT_REQUESTS: '1', SPEECH_POLL_INTERVAL: '0.05' }, 1_000_000)
		const controller = new AbortController()
		const first = client.audio.transcriptions.create({ file: await wav(), model: 'whisper-1' }, { signal: controller.signal }).catch((e) => e)
		for (let i = 0; i < 100 && speech.pendingPolls() < 1; i++) await new Promise((r) => setTimeout(r, 20))
		const second = await client.audio.transcriptions.create({ file: await wav(), model: 'whisper-1' }).catch((e) => e)
		expect(second.status).toBe(503)
		expect(second.error.code).toBe('too_many_requests_in_flight')
		expect(second.headers.get('retry-after')).toBe('1')
		controller.abort()
		await first
	})
})
