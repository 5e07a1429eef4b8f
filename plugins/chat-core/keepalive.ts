/**
 * Keep-alives for real streams: an SSE comment after every `intervalMs` in which the stream sent
 * nothing, so proxies and Bun's own idle timeout do not cut a model that thinks for minutes.
 *
 * Comments go only between events: the source must enqueue whole events (translateStream does),
 * and a comment is held back whenever the last bytes sent do not end an event. The upstream's own
 * silence watchdog (UPSTREAM_TIMEOUT) counts upstream bytes only, so these comments never keep a
 * dead upstream alive.
 */
import { encodeComment } from '../../core/sse.ts'

const KEEPALIVE = encodeComment('keepalive')

function endsEvent(bytes: Uint8Array): boolean {
	const n = bytes.length
	// "\n\n" (or "\r\n\r\n", whose last two bytes are "\r\n" preceded by "\n"): an event ended.
	return n >= 2 && bytes[n - 1] === 10 && (bytes[n - 2] === 10 || (n >= 3 && bytes[n - 2] === 13 && bytes[n - 3] === 10))
}

/**
 * Wraps an SSE byte stream; `intervalMs <= 0` returns it unchanged. One timer per stream, re-armed
 * only when it fires (a chunk just records the time), so the hot path costs a Promise.race.
 */
export function withKeepAlive(source: ReadableStream<Uint8Array>, intervalMs: number): ReadableStream<Uint8Array> {
	if (!(intervalMs > 0)) return source
	const reader = source.getReader()
	/** A read that outlived a keep-alive tick: the next pull waits for the same one. */
	let pending: ReturnType<typeof reader.read> | null = null
	let betweenEvents = true
	let last = Date.now()
	let fire: (() => void) | null = null
	let tick = new Promise<'tick'>((resolve) => (fire = () => resolve('tick')))
	let timer: ReturnType<typeof setTimeout> | undefined
	let ended = false
	const check = () => {
		const silent = Date.now() - last
		if (silent < intervalMs) {
			timer = setTimeout(check, intervalMs - silent)
			return
		}
		// Silent long enough: wake a waiting pull (nobody waits while the client is not reading).
		last = Date.now()
		const wake = fire
		tick = new Promise<'tick'>((resolve) => (fire = () => resolve('tick')))
		wake?.()
		timer = setTimeout(check, intervalMs)
	}
	const stop = () => {
		ended = true
		clearTimeout(timer)
	}
	return new ReadableStream<Uint8Array>(
		{
			start() {
				timer = setTimeout(check, intervalMs)
			},
			async pull(controller) {
				for (;;) {
					pending ??= reader.read()
					const result = await Promise.race([pending, tick]).catch((err: unknown) => {
						stop()
						throw err
					})
					if (ended) return
					if (result === 'tick') {
						if (!betweenEvents) continue
						controller.enqueue(KEEPALIVE)
						return
					}
					pending = null
					if (result.done) {
						stop()
						controller.close()
						return
					}
					if (result.value === undefined || result.value.length === 0) continue
					last = Date.now()
					betweenEvents = endsEvent(result.value)
					controller.enqueue(result.value)
					return
				}
			},
			cancel(reason) {
				stop()
				return reader.cancel(reason)
			},
		},
		{ highWaterMark: 0 },
	)
}
