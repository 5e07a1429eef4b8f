/**
 * The request log: one row per client request (time, request id, dialect, client key, models,
 * masked upstream key, attempts, status and error class, stage timings, tokens, cost), written
 * in batches off the request's path with bounded retention, and read by /admin/requests.
 */
import { int, spec } from '../../core/config.ts'
import { definePlugin } from '../../core/plugin.ts'
import { RequestFigures } from './figures.ts'
import { requestLogRoutes } from './routes.ts'
import { RequestLog } from './writer.ts'

declare module '../../core/plugin.ts' {
	interface Services {
		/** The chat core's recorder of requests, and the request log's reader. */
		requestLog: RequestLog
		/** The overview's and the performance page's figures (cached for the panel's polls). */
		requestFigures: RequestFigures
	}
}

export const plugin = definePlugin({
	name: 'request-log',
	description: 'one row per client request (timings, tokens, cost, masked key), batched into storage with bounded retention; /admin/requests',
	optional: true,
	needs: ['storage', 'log', 'now', 'adminAuth'],
	provides: ['requestLog', 'requestFigures'],
	settings: {
		days: spec('REQUEST_LOG_DAYS', int(1, 3650), 7, 'request-log rows older than this many days are removed', 'request_log_days'),
		maxRows: spec(
			'REQUEST_LOG_MAX_ROWS',
			int(100, 10_000_000),
			50_000,
			'at most this many request-log rows are kept (the oldest go first); file storage holds them in memory',
			'request_log_max_rows',
		),
	},
	setup: ({ services, settings }) => {
		// Read through the settings object on each use, so a changed stored setting applies at the next prune.
		const retention = {
			get days() {
				return settings.days
			},
			get maxRows() {
				return settings.maxRows
			},
		}
		const requestLog = new RequestLog(
			{
				storage: services.storage,
				log: services.log,
				now: services.now,
			},
			retention,
		)
		requestLog.run()
		const requestFigures = new RequestFigures(requestLog, retention, services.now)
		return {
			services: { requestLog, requestFigures },
			routes: requestLogRoutes({ auth: services.adminAuth, requests: requestLog, settings: retention, figures: requestFigures }),
			// Rows are written in the background: let the last ones land before storage closes.
			close: () => requestLog.close(),
		}
	},
})
