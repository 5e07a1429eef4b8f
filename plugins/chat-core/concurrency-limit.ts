/**
 * The gateway's own limit on chat requests in flight. Each one holds an
 * upstream connection from its admission until its answer's last byte (a stream: until it
 * ends or the client leaves), so this bounds concurrent upstream requests. Beyond the limit a
 * new request gets an honest 503 with Retry-After at once: never a silent queue, which is what
 * Bun's own fetch cap (BUN_CONFIG_MAX_HTTP_REQUESTS, default 256) did, delaying every other
 * request behind long streams. Pure: no services.
 */
import { ServiceUnavailableError } from '../../core/errors.ts'
import { hookStream } from '../../core/stream-hooks.ts'

export class ConcurrencyLimit {
	private active = 0

	constructor(readonly max: number) {}

	/** A slot, or 503 `too_many_requests_in_flight` with Retry-After. The release is idempotent. */
	acquire(): () => void {
		if (this.active >= this.max) {
			throw new ServiceUnavailableError(
				`amb2api is serving its maximum of ${this.max} concurrent requests (MAX_CONCURRENT_REQUESTS). Retry shortly.`,
				'too_many_requests_in_flight',
				1,
			)
		}
		this.active++
		let released = false
		return () => {
			if (released) return
			released = true
			this.active--
		}
	}
}

/**
 * The same bytes; `release` runs once when the body ends, fails, or the client cancels it, or
 * when `signal` aborts (a client that left may never pull again).
 */
export function releaseWhenDone(body: ReadableStream<Uint8Array>, release: () => void, signal: AbortSignal): ReadableStream<Uint8Array> {
	return hookStream(body, { onClose: release, signal })
}
