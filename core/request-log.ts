/**
 * One info line per request: request id, method, path, status, latency, and for chat requests the model and
 * the masked upstream key (routes annotate the request; nothing is formatted below the level).
 */
import { Elysia } from 'elysia'
import type { Logger } from './log.ts'
import { requestIdOf } from './request-id.ts'

const notes = new WeakMap<Request, Record<string, unknown>>()
const started = new WeakMap<Request, number>()

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
			if (!log.isLevelEnabled('info') || path === '/health') return
			const status = responseValue instanceof Response ? responseValue.status : typeof set.status === 'number' ? set.status : 200
			const begin = started.get(request)
			log.info(
				{ request_id: requestIdOf(request), method: request.method, path, status, ms: begin === undefined ? undefined : Math.round(now() - begin), ...notes.get(request) },
				'request',
			)
		})
