/**
 * CORS for the client API (`/v1/*` only): browser chat apps (NextChat, LobeChat in client mode,
 * any web page) call the gateway from another origin. `/admin`, `/ui` and `/metrics` never answer
 * cross-origin: the panel's session cookie must not be usable from another site.
 *
 * `*` allows every origin without credentials (the API is called with a bearer token, which
 * needs none). A list of origins echoes the one that matched, with credentials allowed and
 * `Vary: Origin` so a shared cache never hands one origin's answer to another.
 */
import { Elysia } from 'elysia'

export interface CorsOptions {
	/** Allowed origins; `*` = any origin, without credentials. @default ['*'] */
	origins: readonly string[]
}

/** Headers a browser client may read from an answer (request id for bug reports, Retry-After on 429). */
const EXPOSED = 'x-request-id, retry-after, x-ratelimit-limit, x-ratelimit-remaining, x-ratelimit-reset'
const METHODS = 'GET, POST, OPTIONS'
/** Used when a preflight names no headers; otherwise the named ones are allowed (they are checked by auth anyway). */
const DEFAULT_HEADERS = 'authorization, content-type, x-api-key, anthropic-version, x-request-id'
const MAX_AGE = '600'

export function isCorsPath(path: string): boolean {
	return path === '/v1' || path.startsWith('/v1/')
}

/** The CORS answer headers for one origin, or null when the origin is not allowed. */
export function corsHeaders(origins: readonly string[], origin: string): Record<string, string> | null {
	if (origins.includes('*')) return { 'access-control-allow-origin': '*' }
	if (!origins.includes(origin)) return null
	return { 'access-control-allow-origin': origin, 'access-control-allow-credentials': 'true' }
}

const pathOf = (url: string): string => {
	const start = url.indexOf('/', url.indexOf('//') + 2)
	if (start < 0) return '/'
	const end = url.indexOf('?', start)
	return end < 0 ? url.slice(start) : url.slice(start, end)
}

export const cors = (options: CorsOptions) => {
	const wildcard = options.origins.includes('*')
	return new Elysia({ name: 'cors', seed: options.origins.join(',') }).onRequest(function applyCors({ request, set }) {
		if (!isCorsPath(pathOf(request.url))) return
		const origin = request.headers.get('origin')
		// A list answers differently per origin: caches must key on it, even for same-origin calls.
		if (!wildcard) set.headers.vary = 'Origin'
		const allowed = origin === null ? null : corsHeaders(options.origins, origin)
		const preflight = request.method === 'OPTIONS' && origin !== null && request.headers.has('access-control-request-method')
		if (preflight) {
			const headers: Record<string, string> = wildcard ? {} : { vary: 'Origin' }
			if (allowed) {
				Object.assign(headers, allowed, {
					'access-control-allow-methods': METHODS,
					'access-control-allow-headers': request.headers.get('access-control-request-headers') || DEFAULT_HEADERS,
					'access-control-max-age': MAX_AGE,
				})
			}
			// No Allow-Origin for a foreign origin: the browser refuses the call, the server tells nothing.
			return new Response(null, { status: 204, headers })
		}
		if (allowed) Object.assign(set.headers, allowed, { 'access-control-expose-headers': EXPOSED })
	})
}
