/**
 * STREAM_BOOTSTRAP_RETRIES: a native stream that breaks after its headers and before its first
 * chunk is re-sent on another key, and the client sees one clean stream; a stream that broke
 * after a chunk reached the client is never re-sent (the client gets the error event, no [DONE]).
 */
import { afterEach, describe, expect, test } from 'bun:test'
import { harnessSet, readSse } from '../../support.ts'

const harnesses = harnessSet()
afterEach(() => harnesses.closeAll())

const ask = { model: 'claude-sonnet-4-6', stream: true, messages: [{ role: 'user', content: 'tell me' }] }

describe('a native stream that breaks before its first chunk', () => {
	for (const mode of ['error', 'close'] as const) {
		test(`(${mode === 'error' ? 'connection broken' : 'closed without [DONE]'}) is re-sent on another key: one clean stream`, async () => {
			const h = await harnesses.start()
			h.fake.fault('*', { kind: 'die', afterChunks: 0, mode })
			const res = await h.chat(ask)
			expect(res.status).toBe(200)
			const frames = await readSse(res)
			expect(frames.at(-1)).toBe('[DONE]')
			expect(frames.some((f) => f.includes('"error"'))).toBe(false)
			const content = frames
				.filter((f) => f.startsWith('{'))
				.map((f) => JSON.parse(f).choices?.[0]?.delta?.content ?? '')
				.join('')
			expect(content).toBe('Echo: tell me')
			const sent = h.fake.requests.filter((r) => r.path === '/v1/chat/completions')
			expect(sent).toHaveLength(2)
			expect(sent[0]!.key).not.toBe(sent[1]!.key)
			let line: string | undefined
			for (let i = 0; i < 50 && !line; i++, await Bun.sleep(10)) line = h.logs.find((l) => l.includes('"msg":"request"') && l.includes('/v1/chat/completions'))
			expect(line).toContain('"stream_bootstrap_retries":1')
			expect(h.logs.some((l) => l.includes('"level":"warning"') && l.includes('broke before its first chunk'))).toBe(true)
		})
	}

	test('STREAM_BOOTSTRAP_RETRIES=0: not re-sent; the client gets the error event and no [DONE]', async () => {
		const h = await harnesses.start({ env: { STREAM_BOOTSTRAP_RETRIES: '0' } })
		h.fake.fault('*', { kind: 'die', afterChunks: 0, mode: 'error' })
		const res = await h.chat(ask)
		const frames = await readSse(res)
		expect(frames).not.toContain('[DONE]')
		expect(frames.some((f) => f.includes('upstream_stream_broken'))).toBe(true)
		expect(h.fake.requests.filter((r) => r.path === '/v1/chat/completions')).toHaveLength(1)
	})

	test('a break on every key: one re-send by default, then the broken stream as it is', async () => {
		const h = await harnesses.start()
		h.fake.fault('*', { kind: 'die', afterChunks: 0, mode: 'error' }, { persistent: true })
		const frames = await readSse(await h.chat(ask))
		expect(frames).not.toContain('[DONE]')
		expect(h.fake.requests.filter((r) => r.path === '/v1/chat/completions')).toHaveLength(2)
	})
})

describe('a native stream that breaks after a chunk reached the client', () => {
	test('is never re-sent', async () => {
		const h = await harnesses.start()
		h.fake.fault('*', { kind: 'die', afterChunks: 1, mode: 'error' })
		const frames = await readSse(await h.chat(ask))
		expect(frames.length).toBeGreaterThan(1)
		expect(frames).not.toContain('[DONE]')
		expect(frames.at(-1)).toContain('upstream_stream_broken')
		expect(h.fake.requests.filter((r) => r.path === '/v1/chat/completions')).toHaveLength(1)
	})
})
