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
import { hookStream } from '../../core/stream-hooks.ts'

const KEEPALIVE = encodeComment('keepalive')

/** Wraps an SSE byte stream (one shared wrapper, core/stream-hooks.ts); `intervalMs <= 0` returns it unchanged. */
export function withKeepAlive(source: ReadableStream<Uint8Array>, intervalMs: number): ReadableStream<Uint8Array> {
	if (!(intervalMs > 0)) return source
	return hookStream(source, { keepAliveMs: intervalMs, keepAlive: KEEPALIVE })
}
