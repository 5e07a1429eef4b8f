/**
 * One info line per request: method, path, status, latency, and for chat requests the model and
 * the masked upstream key (routes annotate the request; nothing is formatted below the level).
 */
import { Elysia } from 'elysia'
import type { Logger } from './log.ts'

const notes = new WeakMap<Request, Record<string, unknown>>()
const started = new WeakMap<Request, number>()
const quiet = new WeakSet<Request>()

/** Logs this request's line at debug instead of info (pollers: one line every 2 s per open tab is noise). */
export function logAtDebug(request: Request): void {
	quiet.add(request)
}

/** Adds fields (never secrets: the key must already be masked) to the request's log line. */
export function annotate(request: Request, fields: Record<string, unknown>): void {
	notes.set(request, { ...notes.get(request), ...fields })
}

export const requestLog = (log: Logger, now: () => number = performance.now.bind(performance)) =>
	new Elysia({ name: 'request-log' })
		.onRequest(function startClock({ request }) {
			started.set(request, now())
		})
		.onAfterResponse({ as: 'global' }, function logRequest({ request, set, responseValue, path }) {
			const level = quiet.has(request) ? 'debug' : 'info'
			if (!log.isLevelEnabled(level) || path === '/health') return
			const status = responseValue instanceof Response ? responseValue.status : typeof set.status === 'number' ? set.status : 200
			const begin = started.get(request)
			log[level](
				{ method: request.method, path, status, ms: begin === undefined ? undefined : Math.round(now() - begin), ...notes.get(request) },
				'request',
			)
		})
