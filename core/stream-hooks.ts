/**
 * One wrapper for the byte streams the gateway answers with, whatever wants to watch them: a
 * close hook (metrics' open streams, the concurrency slot), a chunk hook (debug body taps),
 * keep-alive comments while an SSE stream is silent, and a signal that counts as a close (a
 * client that left may never pull again).
 *
 * Several places hook the same answer on its way out. Each wrapper would add a JavaScript pull
 * layer, a promise per chunk; instead, hooking a stream this module made (and nobody reads yet)
 * adds the hooks to it and returns it, so an answer passes one layer whatever watches it.
 * Web-standard only (Bun and Deno).
 */

export interface StreamHooks {
	/** Runs once when the stream ends, fails, is cancelled by its reader, or a `signal` aborts. */
	onClose?: () => void
	/** Sees every chunk as it passes (it must not keep or change it). */
	onChunk?: (bytes: Uint8Array) => void
	/**
	 * How the stream itself ended (request logs, debug taps). A signal does not count here: a
	 * client that read every byte may close its connection before the last, empty read.
	 */
	onEnd?: (how: 'end' | 'error' | 'cancelled') => void
	/**
	 * Awaited when the source ended cleanly, before the reader sees the end (a result that must be
	 * stored before the client may count the answer as whole). A rejection is ignored.
	 */
	beforeEnd?: () => Promise<void>
	/** Aborting it runs the `onClose` hooks (a client that left may never pull again). */
	signal?: AbortSignal
	/**
	 * `keepAlive` is sent after this many ms in which the source sent nothing, while the reader
	 * waits and only between SSE events (the source enqueues whole events). 0 or absent: none.
	 */
	keepAliveMs?: number
	keepAlive?: Uint8Array
}

interface Hooked {
	closes: (() => void)[]
	chunks: ((bytes: Uint8Array) => void)[]
	ends: ((how: 'end' | 'error' | 'cancelled') => void)[]
	beforeEnds: (() => Promise<void>)[]
	keepAliveMs: number
	keepAlive: Uint8Array | null
	/** Arms the keep-alive timer once an interval is known. */
	arm: () => void
	/** The stream ended (every hook runs once). */
	close: (how: 'end' | 'error' | 'cancelled') => void
	/** A signal aborted: the close hooks run (once), the end hooks wait for the stream's own end. */
	release: () => void
}

const hooked = new WeakMap<ReadableStream<Uint8Array>, Hooked>()

/** True when the bytes end an SSE event ("\n\n", or "\r\n\r\n"). */
function endsEvent(bytes: Uint8Array): boolean {
	const n = bytes.length
	return n >= 2 && bytes[n - 1] === 10 && (bytes[n - 2] === 10 || (n >= 3 && bytes[n - 2] === 13 && bytes[n - 3] === 10))
}

function addHooks(state: Hooked, hooks: StreamHooks): void {
	if (hooks.onClose) state.closes.push(hooks.onClose)
	if (hooks.onChunk) state.chunks.push(hooks.onChunk)
	if (hooks.onEnd) state.ends.push(hooks.onEnd)
	if (hooks.beforeEnd) state.beforeEnds.push(hooks.beforeEnd)
	if (hooks.keepAliveMs && hooks.keepAliveMs > 0 && hooks.keepAlive) {
		state.keepAliveMs = hooks.keepAliveMs
		state.keepAlive = hooks.keepAlive
		state.arm()
	}
	const signal = hooks.signal
	if (signal) {
		if (signal.aborted) state.release()
		else signal.addEventListener('abort', () => state.release(), { once: true })
	}
}

/** The same bytes with `hooks` watching them; at most one wrapper per stream, however often it is hooked. */
export function hookStream(source: ReadableStream<Uint8Array>, hooks: StreamHooks): ReadableStream<Uint8Array> {
	const existing = hooked.get(source)
	if (existing && !source.locked) {
		addHooks(existing, hooks)
		return source
	}
	const reader = source.getReader()
	let closed = false
	let released = false
	let waiting = false
	let betweenEvents = true
	let last = Date.now()
	let timer: ReturnType<typeof setTimeout> | undefined
	let controller!: ReadableStreamDefaultController<Uint8Array>
	const state: Hooked = {
		closes: [],
		chunks: [],
		ends: [],
		beforeEnds: [],
		keepAliveMs: 0,
		keepAlive: null,
		arm: () => {
			if (timer === undefined && !closed && state.keepAliveMs > 0) timer = setTimeout(tick, state.keepAliveMs)
		},
		close: (how) => {
			if (closed) return
			closed = true
			clearTimeout(timer)
			for (const end of state.ends) end(how)
			state.release()
		},
		release: () => {
			if (released) return
			released = true
			for (const close of state.closes) close()
		},
	}
	// One timer per stream, re-armed only when it fires: a chunk just records the time.
	const tick = () => {
		timer = undefined
		if (closed) return
		const silent = Date.now() - last
		if (silent >= state.keepAliveMs) {
			// Only to a reader that waits (none while the client is not reading) and between events.
			if (waiting && betweenEvents && state.keepAlive) controller.enqueue(state.keepAlive)
			last = Date.now()
			timer = setTimeout(tick, state.keepAliveMs)
		} else timer = setTimeout(tick, state.keepAliveMs - silent)
	}
	const stream = new ReadableStream<Uint8Array>(
		{
			start(c) {
				controller = c
			},
			async pull(c) {
				waiting = true
				let next: Awaited<ReturnType<typeof reader.read>>
				try {
					next = await reader.read()
				} catch (err) {
					waiting = false
					state.close('error')
					c.error(err)
					return
				}
				waiting = false
				if (next.done) {
					for (const before of state.beforeEnds) await before().catch(() => {})
					state.close('end')
					c.close()
					return
				}
				const bytes = next.value
				last = Date.now()
				betweenEvents = endsEvent(bytes)
				for (const chunk of state.chunks) chunk(bytes)
				c.enqueue(bytes)
			},
			cancel(reason) {
				state.close('cancelled')
				return reader.cancel(reason)
			},
		},
		{ highWaterMark: 0 },
	)
	hooked.set(stream, state)
	addHooks(state, hooks)
	return stream
}
