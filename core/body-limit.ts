/**
 * Request body limits. One limit, MAX_BODY_SIZE, for every route:
 * - a `Content-Length` above it is refused before a byte of the body is read (global hook);
 * - a body without `Content-Length` (chunked) is counted while it streams and cut at the limit
 *   (`limitRequestBodies` wraps the server's fetch; the chat route reads its body with
 *   `readBodyText`, which counts too), so memory per request stays bounded by the limit;
 * - the answer is always 413 with OpenAI error JSON (`body_too_large`), never an empty 413.
 * Web-standard only (Bun and Deno).
 */
import { copyPeerAddress } from './client-address.ts'
import { Elysia } from 'elysia'
import { PayloadTooLargeError } from './errors.ts'

/** The declared length, or null when absent (chunked) or not a number. */
function declaredLength(request: Request): number | null {
	const header = request.headers.get('content-length')
	if (header === null) return null
	const n = Number(header)
	return Number.isFinite(n) ? n : null
}

/** The request's path (our servers speak plain http, so it is what follows the authority). */
function pathOf(request: Request): string {
	return new URL(request.url).pathname
}

/**
 * Global hook: a declared length over the limit is refused at once, except on `exempt` paths
 * (routes that bound their own bodies; filled while plugins are set up).
 */
export const bodyLimit = (maxBytes: number, exempt: ReadonlySet<string> = new Set()) =>
	new Elysia({ name: 'body-limit', seed: maxBytes }).onRequest(function refuseLargeBody({ request }) {
		const length = declaredLength(request)
		if (length !== null && length > maxBytes && !exempt.has(pathOf(request))) throw new PayloadTooLargeError(maxBytes)
	})

/** A stream of the same bytes that errors with 413 once more than `maxBytes` went through. */
function countingStream(body: ReadableStream<Uint8Array>, maxBytes: number): ReadableStream<Uint8Array> {
	let seen = 0
	return body.pipeThrough(
		new TransformStream<Uint8Array, Uint8Array>({
			transform(chunk, controller) {
				seen += chunk.byteLength
				if (seen > maxBytes) controller.error(new PayloadTooLargeError(maxBytes))
				else controller.enqueue(chunk)
			},
		}),
	)
}

/**
 * Wraps a server's fetch: a request body without Content-Length is counted while it streams, so
 * a route that parses its body (admin JSON) fails with 413 at the limit instead of buffering all
 * of it. Requests with a Content-Length pass untouched (the global hook checks them).
 */
export function limitRequestBodies<F extends (request: Request, ...rest: never[]) => Response | Promise<Response>>(
	handler: F,
	maxBytes: number,
	exempt: ReadonlySet<string> = new Set(),
): F {
	return ((request: Request, ...rest: never[]) => {
		if (request.body === null || request.headers.has('content-length') || exempt.has(pathOf(request))) return handler(request, ...rest)
		const limited = new Request(request, { body: countingStream(request.body, maxBytes), duplex: 'half' } as RequestInit)
		copyPeerAddress(request, limited)
		return handler(limited, ...rest)
	}) as F
}

/**
 * Reads a request body as text, at most `maxBytes` of it, counting while it streams (chunked
 * bodies too); throws 413 as soon as the limit is passed, without reading the rest.
 */
export async function readBodyText(request: Request, maxBytes: number): Promise<string> {
	const length = declaredLength(request)
	if (length !== null && length > maxBytes) throw new PayloadTooLargeError(maxBytes)
	if (request.body === null) return ''
	// A declared length within the limit is all the server will hand over: read it natively.
	if (length !== null) return request.text()
	const reader = request.body.getReader()
	const chunks: Uint8Array[] = []
	let total = 0
	for (;;) {
		const next = await reader.read()
		if (next.done) break
		total += next.value.byteLength
		if (total > maxBytes) {
			reader.cancel().catch(() => {})
			throw new PayloadTooLargeError(maxBytes)
		}
		chunks.push(next.value)
	}
	if (chunks.length === 1) return new TextDecoder().decode(chunks[0])
	const all = new Uint8Array(total)
	let offset = 0
	for (const chunk of chunks) {
		all.set(chunk, offset)
		offset += chunk.byteLength
	}
	return new TextDecoder().decode(all)
}
