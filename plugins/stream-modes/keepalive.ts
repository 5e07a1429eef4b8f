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

/** Wraps an SSE byte stream; `intervalMs <= 0` returns it unchanged. */
export function withKeepAlive(source: ReadableStream<Uint8Array>, intervalMs: number): ReadableStream<Uint8Array> {
	if (!(intervalMs > 0)) return source
	const reader = source.getReader()
	/** A read that outlived a keep-alive tick: the next pull waits for the same one. */
	let pending: ReturnType<typeof reader.read> | null = null
	let betweenEvents = true
	return new ReadableStream<Uint8Array>(
		{
			async pull(controller) {
				for (;;) {
					pending ??= reader.read()
					let timer: ReturnType<typeof setTimeout> | undefined
					const tick = new Promise<'tick'>((resolve) => {
						timer = setTimeout(() => resolve('tick'), intervalMs)
					})
					const read = pending
					const result = await Promise.race([read, tick]).finally(() => clearTimeout(timer))
					if (result === 'tick') {
						if (!betweenEvents) continue
						controller.enqueue(KEEPALIVE)
						return
					}
					pending = null
					if (result.done) {
						controller.close()
						return
					}
					if (result.value === undefined || result.value.length === 0) continue
					betweenEvents = endsEvent(result.value)
					controller.enqueue(result.value)
					return
				}
			},
			cancel(reason) {
				return reader.cancel(reason)
			},
		},
		{ highWaterMark: 0 },
	)
}
