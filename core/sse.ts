/**
 * Server-sent events as bytes: framing for what amb2api sends, parsing for what it reads.
 *
 * Bytes, not strings: a generator of strings breaks the response body on Deno (patterns.md §6.4).
 */

const encoder = new TextEncoder()

export interface SseEvent {
	/** The data lines of one event, joined with '\n'. */
	data: string
	event?: string
	id?: string
}

/** One event. Multi-line data becomes several `data:` lines, so no client sees only the first line. */
export function encodeEvent(data: string, options?: { event?: string; id?: string }): Uint8Array {
	let frame = ''
	if (options?.event !== undefined) frame += `event: ${singleLine(options.event, 'event')}\n`
	if (options?.id !== undefined) frame += `id: ${singleLine(options.id, 'id')}\n`
	if (data.includes('\n') || data.includes('\r')) {
		for (const line of data.split(/\r\n|\r|\n/)) frame += `data: ${line}\n`
	} else {
		frame += `data: ${data}\n`
	}
	return encoder.encode(`${frame}\n`)
}

/** The headers of every SSE answer; nginx and similar proxies must not buffer a stream. */
export const SSE_HEADERS: Readonly<Record<string, string>> = {
	'content-type': 'text/event-stream; charset=utf-8',
	'cache-control': 'no-cache',
	connection: 'keep-alive',
	'x-accel-buffering': 'no',
}

export const DONE: Uint8Array = encoder.encode('data: [DONE]\n\n')

/** A comment line (keep-alive); ignored by every SSE client. */
export function encodeComment(text: string): Uint8Array {
	let frame = ''
	for (const line of text.split(/\r\n|\r|\n/)) frame += `: ${line}\n`
	return encoder.encode(`${frame}\n`)
}

function singleLine(value: string, field: string): string {
	if (value.includes('\n') || value.includes('\r')) throw new TypeError(`SSE ${field} must not contain CR or LF`)
	return value
}

/**
 * Incremental parser (WHATWG event-stream rules): frames may be split anywhere, even inside a
 * UTF-8 character; lines end with `\n`, `\r\n` or `\r`; comments and unknown fields are skipped.
 * Each byte is scanned once: the unfinished line is the only text carried between chunks.
 */
export class SseParser {
	private readonly decoder = new TextDecoder('utf-8')
	/** Text of an unfinished line (never contains a line break). */
	private rest = ''
	/** The last chunk ended with '\r': a '\n' opening the next one belongs to it. */
	private pendingCr = false
	private data: string[] = []
	private event: string | undefined
	private id: string | undefined

	push(chunk: Uint8Array): SseEvent[] {
		return this.feed(this.decoder.decode(chunk, { stream: true }))
	}

	/** Flushes the decoder; an event left unterminated at the end of the stream is still delivered. */
	end(): SseEvent[] {
		const events = this.feed(this.decoder.decode())
		if (this.rest !== '') {
			this.line(this.rest, events)
			this.rest = ''
		}
		this.dispatch(events)
		return events
	}

	private feed(text: string): SseEvent[] {
		const events: SseEvent[] = []
		let start = 0
		if (this.pendingCr && text.length > 0) {
			this.pendingCr = false
			if (text.charCodeAt(0) === 10) start = 1
		}
		// Positions of the next LF and CR, each found once per occurrence: linear in the chunk.
		let lf = text.indexOf('\n', start)
		let cr = text.indexOf('\r', start)
		while (lf !== -1 || cr !== -1) {
			const end = lf === -1 ? cr : cr === -1 ? lf : Math.min(lf, cr)
			const piece = text.slice(start, end)
			const line = this.rest === '' ? piece : this.rest + piece
			this.rest = ''
			this.line(line, events)
			if (end === cr && cr + 1 === text.length) {
				this.pendingCr = true
				start = text.length
			} else if (end === cr && text.charCodeAt(cr + 1) === 10) {
				start = cr + 2
			} else {
				start = end + 1
			}
			if (lf !== -1 && lf < start) lf = text.indexOf('\n', start)
			if (cr !== -1 && cr < start) cr = text.indexOf('\r', start)
		}
		if (start < text.length) this.rest += text.slice(start)
		return events
	}

	private line(line: string, events: SseEvent[]): void {
		if (line === '') {
			this.dispatch(events)
			return
		}
		if (line.charCodeAt(0) === 58) return // ':' comment
		const colon = line.indexOf(':')
		const field = colon === -1 ? line : line.slice(0, colon)
		let value = colon === -1 ? '' : line.slice(colon + 1)
		if (value.charCodeAt(0) === 32) value = value.slice(1)
		if (field === 'data') this.data.push(value)
		else if (field === 'event') this.event = value
		else if (field === 'id') this.id = value
	}

	private dispatch(events: SseEvent[]): void {
		if (this.data.length > 0) {
			const event: SseEvent = { data: this.data.length === 1 ? this.data[0]! : this.data.join('\n') }
			if (this.event !== undefined) event.event = this.event
			if (this.id !== undefined) event.id = this.id
			events.push(event)
		}
		this.data = []
		this.event = undefined
		// The id persists per spec (last event id), but amb2api reports it only on the event that set it.
		this.id = undefined
	}
}
