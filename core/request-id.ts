/**
 * A request id on every answer: the client's own `x-request-id` when it is sane (1-128 visible
 * characters from a safe set, so it cannot forge log lines or headers), else a new UUID. It is
 * sent back as `x-request-id`, written in the request's log line and in every error JSON, so a
 * user's report can be matched to the gateway log.
 */
import { Elysia } from 'elysia'

export const REQUEST_ID_HEADER = 'x-request-id'
const SANE = /^[A-Za-z0-9._:@/+=-]{1,128}$/
const ids = new WeakMap<Request, string>()

/** An id that is safe in a header and a log line (also used for ids the upstream sends). */
export function isSaneId(value: string | null | undefined): value is string {
	return typeof value === 'string' && SANE.test(value)
}

/** The client's id when it is sane, else a fresh one. */
export function chooseRequestId(given: string | null | undefined): string {
	const trimmed = given?.trim()
	return isSaneId(trimmed) ? trimmed : crypto.randomUUID()
}

/** The id of a request (one is made on first ask, e.g. for a request that never passed the hook). */
export function requestIdOf(request: Request): string {
	let id = ids.get(request)
	if (id === undefined) {
		id = chooseRequestId(request.headers.get(REQUEST_ID_HEADER))
		ids.set(request, id)
	}
	return id
}

/**
 * The header goes on the answer itself. A Response built by a route gets it in place: going
 * through `set.headers` would make Elysia copy every Response (new Headers, and the body turned
 * into a stream). Other values (objects, strings) are turned into a Response by Elysia with
 * `set.headers`, so they get it there; error answers carry it from `GatewayError.toResponse`.
 */
export const requestIds = () =>
	new Elysia({ name: 'request-id' }).mapResponse({ as: 'global' }, function addRequestId({ request, responseValue, set }) {
		const id = requestIdOf(request)
		if (responseValue instanceof Response) {
			try {
				responseValue.headers.set(REQUEST_ID_HEADER, id)
				return responseValue
			} catch {
				// Immutable headers (a Response passed through from fetch): let Elysia merge.
			}
		}
		set.headers[REQUEST_ID_HEADER] = id
	})
