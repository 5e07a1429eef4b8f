/**
 * One info line per request: request id, method, path, status, latency, and for chat requests
 * the model and the masked upstream key (routes annotate the request; nothing is formatted below
 * the level). Observers (e.g. metrics) get every finished request too, /health included.
 */
import { Elysia } from 'elysia'
import type { Logger } from './log.ts'
import { capText, FIELD_MAX, PATH_MAX } from './log-fields.ts'
import { requestIdOf } from './request-id.ts'

const notes = new WeakMap<Request, Record<string, unknown>>()
const started = new WeakMap<Request, number>()
const quiet = new WeakSet<Request>()

/** Logs this request's line at debug instead of info (pollers: one line every 2 s per open tab is noise). */
export function logAtDebug(request: Request): void {
	quiet.add(request)
}

/** Adds fields (never secrets: the key must already be masked) to the request's log line. */
export function annotate(request: Request, fields: Record<string, unknown>): void {
	const held = notes.get(request)
	// One object per request, added to in place (a copy per call showed in profiles).
	if (held) Object.assign(held, fields)
	else notes.set(request, { ...fields })
}

/** A finished request as observers see it. `route` is the registered pattern ("" when none matched). */
export interface FinishedRequest {
	method: string
	route: string
	status: number
	/** Until the handler's answer was ready (a stream's body may still be flowing). */
	ms: number
}

/** Listeners of finished requests: the kernel's own service, so a plugin can count without a hook of its own. */
export class RequestObservers {
	private readonly listeners: ((request: FinishedRequest) => void)[] = []

	subscribe(listener: (request: FinishedRequest) => void): void {
		this.listeners.push(listener)
	}

	emit(request: FinishedRequest): void {
		for (const listener of this.listeners) listener(request)
	}
}

export const requestLog = (log: Logger, observers?: RequestObservers, now: () => number = performance.now.bind(performance)) =>
	new Elysia({ name: 'request-log' })
		.onRequest(function startClock({ request }) {
			started.set(request, now())
		})
		.onAfterResponse({ as: 'global' }, function logRequest({ request, set, responseValue, path, route }) {
			const status = responseValue instanceof Response ? responseValue.status : typeof set.status === 'number' ? set.status : 200
			const begin = started.get(request)
			const ms = begin === undefined ? 0 : now() - begin
			observers?.emit({ method: request.method, route: route ?? '', status, ms })
			// A 5xx is a failure of ours or the upstream's: a warning, never info. Panel polls are
			// logged at debug: an open tab would otherwise add a line every 2 s.
			const level = status >= 500 ? 'warn' : quiet.has(request) ? 'debug' : 'info'
			if (!log.isLevelEnabled(level) || path === '/health') return
			// Path and notes carry what the client sent (a model name, a client key's name): capped.
			const entry: Record<string, unknown> = {
				request_id: requestIdOf(request),
				method: request.method,
				path: capText(path, PATH_MAX),
				status,
				ms: Math.round(ms),
			}
			const held = notes.get(request)
			if (held) {
				for (const name in held) {
					const value = held[name]
					entry[name] = typeof value === 'string' && value.length > FIELD_MAX ? capText(value, FIELD_MAX) : value
				}
			}
			log[level](entry, 'request')
		})
