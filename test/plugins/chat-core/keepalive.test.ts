/**
 * Keep-alives for real streams: comments during upstream silence, only between events; the
 * upstream silence bound (UPSTREAM_TIMEOUT) still counts upstream bytes only; a long silent stream
 * outlives the server's idle timeout. The 6-minute version against Bun's 255 s cap is
 * scripts/long-stream-check.ts (outside .ci/run).
 */
import { afterEach, describe, expect, test } from 'bun:test'
import { liftIdleTimeoutForStreams } from '../../../core/serve.ts'
import { withKeepAlive } from '../../../plugins/chat-core/keepalive.ts'
import { type Harness, API_PASSWORD, harnessSet } from '../../support.ts'
import { assemble, readStrict } from './strict-sse.ts'

const harnesses = harnessSet()
afterEach(() => harnesses.closeAll())

const enc = new TextEncoder()

/** A source that sends the given pieces, sleeping where a number stands. */
function scripted(steps: (string | number)[]): ReadableStream<Uint8Array> {
	let i = 0
	return new ReadableStream({
		async pull(controller) {
			while (i < steps.length) {
				const step = steps[i++]!
				if (typeof step === 'number') await Bun.sleep(step)
				else return controller.enqueue(enc.encode(step))
			}
			controller.close()
		},
	})
}

describe('withKeepAlive', () => {
	test('comments fill the silence between events; the events pass intact', async () => {
		const out = await readStrict(withKeepAlive(scripted(['data: {"a":1}\n\n', 400, 'data: {"b":2}\n\n', 'data: [DONE]\n\n']), 100))
		expect(out.chunks).toEqual([{ a: 1 }, { b: 2 }])
		expect(out.done).toBe(true)
		expect(out.comments.length).toBeGreaterThanOrEqual(2)
		expect(out.comments.every((c) => c.text === 'keepalive')).toBe(true)
		const kinds = out.frames.map((f) => f.kind)
		expect(kinds[0]).toBe('event')
		expect(kinds.at(-1)).toBe('event')
	})

	test('never inside an event: a half-sent event holds the comments back', async () => {
		const out = await readStrict(withKeepAlive(scripted(['data: {"a":', 400, '1}\n\n', 300, 'data: [DONE]\n\n']), 60))
		expect(out.chunks).toEqual([{ a: 1 }])
		// The second silence, after a whole event, gets comments; the first, inside one, none.
		const aAt = out.frames.findIndex((f) => f.kind === 'event')
		expect(out.frames.slice(0, aAt).some((f) => f.kind === 'comment')).toBe(false)
		expect(out.comments.length).toBeGreaterThanOrEqual(2)
	})

	test('interval 0 leaves the stream as it is', () => {
		const source = scripted(['data: {}\n\n'])
		expect(withKeepAlive(source, 0)).toBe(source)
	})
})

const ask = { model: 'gpt-5', stream: true, messages: [{ role: 'user', content: 'think long and hard about this' }] }

async function timed(h: Harness, body: unknown) {
	const t0 = performance.now()
	const response = await h.chat(body)
	expect(response.status).toBe(200)
	return readStrict(response.body!, t0)
}

describe('keep-alives on real streams', () => {
	test('a stream silent upstream for 40 s with a 15 s keep-alive reaches the client whole', async () => {
		const h = await harnesses.start()
		h.fake.fault('*', { kind: 'gap', afterChunks: 2, ms: 40_000 })
		const s = await timed(h, ask)
		console.log(`[timing] 40 s gap: keep-alives at ${s.comments.map((c) => Math.round(c.at)).join(', ')} ms, end ${Math.round(s.endedAt)} ms`)
		expect(s.done).toBe(true)
		expect(assemble(s.chunks).content).toBe('Echo: think long and hard about this')
		expect(s.comments.length).toBeGreaterThanOrEqual(2)
		expect(s.comments[0]!.at).toBeGreaterThan(14_000)
		// The comments sit inside the silence, between the events before and after it.
		const first = s.frames.findIndex((f) => f.kind === 'comment')
		expect(s.frames[first - 1]?.kind).toBe('event')
		expect(s.frames.at(-1)?.kind).toBe('event')
	}, 70_000)

	test('UPSTREAM_TIMEOUT still bounds true silence: keep-alives do not count as upstream bytes', async () => {
		const h = await harnesses.start({ env: { STREAM_KEEPALIVE_SECONDS: '0.3', UPSTREAM_TIMEOUT: '1.5' } })
		h.fake.fault('*', { kind: 'gap', afterChunks: 2, ms: 5000 })
		const s = await timed(h, ask)
		console.log(`[timing] silence past UPSTREAM_TIMEOUT=1.5 s: cut at ${Math.round(s.endedAt)} ms after ${s.comments.length} keep-alives`)
		expect(s.comments.length).toBeGreaterThanOrEqual(3)
		expect(s.done).toBe(false)
		expect(s.error?.error?.code).toBeString()
		expect(s.endedAt).toBeLessThan(4500)
	})

	test('a stream that outlasts the server idle timeout 3 times over is not cut; without lifting the timeout it would be', async () => {
		const outcome = async (lift: boolean) => {
			const h = await harnesses.start({ env: { STREAM_KEEPALIVE_SECONDS: '0.5' } })
			h.fake.fault('*', { kind: 'gap', afterChunks: 2, ms: 6000 })
			// As core/main.ts serves the app, with Bun's idle timeout scaled down from 255 s to 2 s.
			const fetchFn = lift ? liftIdleTimeoutForStreams(h.gateway.app.fetch) : h.gateway.app.fetch
			const server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: fetchFn, idleTimeout: 2 })
			try {
				const response = await fetch(`http://127.0.0.1:${server.port}/v1/chat/completions`, {
					method: 'POST',
					headers: { authorization: `Bearer ${API_PASSWORD}`, 'content-type': 'application/json' },
					body: JSON.stringify(ask),
				})
				const s = await readStrict(response.body!)
				return s.done ? 'whole' : 'cut'
			} catch {
				return 'cut'
			} finally {
				await server.stop(true)
			}
		}
		const [lifted, plain] = await Promise.all([outcome(true), outcome(false)])
		expect(lifted).toBe('whole')
		// Keep-alive bytes alone do not reset Bun's idle timer: this is why the timeout is lifted.
		expect(plain).toBe('cut')
	}, 30_000)
})
