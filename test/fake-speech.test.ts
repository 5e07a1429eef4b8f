/** The speech fake itself: it must behave as docs/upstream-speech.md says, or tests built on it prove nothing. */
import { describe, expect, test } from 'bun:test'
import { createFakeSpeech, SPEECH_MSG_BAD_KEY, SPEECH_MSG_NO_ACCESS, SPEECH_MSG_NOT_AUDIO, silentWav, wavSeconds } from './fake-speech.ts'

const B = 'https://fake-speech.test'
const post = (path: string, key: string | null, body: BodyInit, type = 'application/json') =>
	new Request(`${B}${path}`, { method: 'POST', body, headers: { ...(key ? { authorization: key } : {}), 'content-type': type } })
const get = (path: string, key: string) => new Request(`${B}${path}`, { headers: { authorization: key } })

async function transcribe(fake: ReturnType<typeof createFakeSpeech>, key: string, bytes: Uint8Array, models = ['universal-2']) {
	const up = (await (await fake.fetch(post('/v2/upload', key, bytes as BodyInit, 'application/octet-stream'))).json()) as { upload_url: string }
	const created = await fake.fetch(post('/v2/transcript', key, JSON.stringify({ audio_url: up.upload_url, speech_models: models })))
	return { up, created, body: (await created.json()) as Record<string, unknown> }
}

describe('fake speech upstream', () => {
	test('401 in the spec envelope for a missing, unknown or invalid key', async () => {
		const fake = createFakeSpeech({ keys: { good: {}, bad: { valid: false } } })
		for (const key of [null, 'unknown', 'bad']) {
			const res = await fake.fetch(post('/v2/upload', key, 'x', 'application/octet-stream'))
			expect(res.status).toBe(401)
			expect(await res.json()).toEqual({ error: SPEECH_MSG_BAD_KEY })
		}
	})

	test('a WAV goes queued -> processing -> completed, with words in ms, duration in s, and subtitles', async () => {
		const fake = createFakeSpeech({ keys: { k: {} }, pollsToComplete: 2 })
		const { body } = await transcribe(fake, 'k', silentWav(3))
		expect(body.status).toBe('queued')
		const id = body.id as string
		expect(((await (await fake.fetch(get(`/v2/transcript/${id}`, 'Bearer k'))).json()) as { status: string }).status).toBe('processing')
		const done = (await (await fake.fetch(get(`/v2/transcript/${id}`, 'k'))).json()) as Record<string, any>
		expect(done.status).toBe('completed')
		expect(done.audio_duration).toBe(3)
		expect(done.speech_model_used).toBe('universal-2')
		expect(done.words.at(-1).end).toBeLessThanOrEqual(3000)
		expect(done.words[1].start).toBeGreaterThan(0)
		const srt = await (await fake.fetch(get(`/v2/transcript/${id}/srt`, 'k'))).text()
		expect(srt).toMatch(/^1\n00:00:00,000 --> 00:00:0\d,\d{3}\nThe quick/)
		const vtt = await (await fake.fetch(get(`/v2/transcript/${id}/vtt`, 'k'))).text()
		expect(vtt.startsWith('WEBVTT\n\n00:00.000 --> ')).toBe(true)
		expect(fake.pendingPolls()).toBe(2)
	})

	test('a file that is not audio fails after acceptance with status error', async () => {
		const fake = createFakeSpeech({ keys: { k: {} }, pollsToComplete: 1 })
		const { body } = await transcribe(fake, 'k', new TextEncoder().encode('not audio at all, just text'))
		const done = (await (await fake.fetch(get(`/v2/transcript/${body.id}`, 'k'))).json()) as Record<string, unknown>
		expect(done).toMatchObject({ status: 'error', error: SPEECH_MSG_NOT_AUDIO })
	})

	test("another project's key may not use an upload (403) nor read a transcript (404)", async () => {
		const fake = createFakeSpeech({ keys: { a: {}, a2: { project: 'a' }, b: {} }, pollsToComplete: 1 })
		const { up, body } = await transcribe(fake, 'a', silentWav(1))
		const foreign = await fake.fetch(post('/v2/transcript', 'b', JSON.stringify({ audio_url: up.upload_url, speech_models: ['universal-2'] })))
		expect(foreign.status).toBe(403)
		expect(await foreign.json()).toEqual({ error: SPEECH_MSG_NO_ACCESS })
		expect((await fake.fetch(get(`/v2/transcript/${body.id}`, 'b'))).status).toBe(404)
		expect((await fake.fetch(get(`/v2/transcript/${body.id}`, 'a2'))).status).toBe(200)
	})

	test('unknown speech model and missing audio_url are 400s naming the problem', async () => {
		const fake = createFakeSpeech({ keys: { k: {} } })
		const { created, body } = await transcribe(fake, 'k', silentWav(1), ['whisper-1'])
		expect(created.status).toBe(400)
		expect(String(body.error)).toContain('whisper-1')
		const missing = await fake.fetch(post('/v2/transcript', 'k', JSON.stringify({ speech_models: ['universal-2'] })))
		expect(missing.status).toBe(400)
	})

	test('per-key faults: 429 with Retry-After once, then normal', async () => {
		const fake = createFakeSpeech({ keys: { k: {}, other: {} } })
		fake.fault('k', { kind: 'status', status: 429, retryAfter: 7 })
		const other = await fake.fetch(post('/v2/upload', 'other', silentWav(1) as BodyInit, 'application/octet-stream'))
		expect(other.status).toBe(200)
		const limited = await fake.fetch(post('/v2/upload', 'k', silentWav(1) as BodyInit, 'application/octet-stream'))
		expect(limited.status).toBe(429)
		expect(limited.headers.get('retry-after')).toBe('7')
		expect((await fake.fetch(post('/v2/upload', 'k', silentWav(1) as BodyInit, 'application/octet-stream'))).status).toBe(200)
	})

	test('wavSeconds reads the header and refuses non-WAV bytes', () => {
		expect(wavSeconds(silentWav(5))).toBe(5)
		expect(wavSeconds(new Uint8Array(100))).toBeNull()
	})
})
