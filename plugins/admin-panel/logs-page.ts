/** Logs: a live tail from a cursor (only new lines), level and text filters, download and clear. */
import { readRotatedLog } from '../../core/log-file.ts'
import { Elysia } from 'elysia'
import type { LogRing } from '../../core/log.ts'
import { logAtDebug } from '../../core/request-log.ts'
import { type LogLine, type LogsQuery, logLines, logPoller, logsView } from '../../views/logs.ts'
import { guard, htmlResponse, type PanelKit, postedForm, SECURITY_HEADERS, show } from './http.ts'

const RANK: Record<string, number> = { debug: 0, info: 1, warning: 2, warn: 2, error: 3, fatal: 4 }
const SHOWN = 200

function toLine(seq: number, entry: Record<string, unknown>): LogLine {
	const { time, level, msg, ...fields } = entry
	return {
		seq,
		time: typeof time === 'string' ? time : '',
		level: typeof level === 'string' ? level : 'info',
		msg: typeof msg === 'string' ? msg : '',
		fields: JSON.stringify(fields),
	}
}

export const logsPage = (kit: PanelKit, deps: { ring: LogRing; file: string | null }) => {
	const read = (after: number, q: LogsQuery): LogLine[] => {
		const min = RANK[q.level] ?? 0
		const needle = q.q.toLowerCase()
		const lines = deps.ring
			.since(after)
			.map(({ seq, entry }) => toLine(seq, entry))
			.filter((l) => (RANK[l.level] ?? 1) >= min && (!needle || `${l.msg} ${l.fields}`.toLowerCase().includes(needle)))
		return lines.slice(-SHOWN)
	}
	const query = (q: Record<string, string | undefined>): LogsQuery => ({
		level: q.level && q.level in RANK ? q.level : 'debug',
		q: (q.q ?? '').slice(0, 200),
	})
	return new Elysia({ name: 'panel-logs' })
		.get(
			'/ui/logs',
			async ({ request, query: q }) => {
				const v = await guard(kit, request)
				if (v instanceof Response) return v
				const lq = query(q)
				return show(kit, request, v, 'logs', 'Logs', logsView(read(0, lq), deps.ring.cursor, lq))
			},
			{ detail: { hide: true } },
		)
		.get(
			'/ui/fragments/logs',
			async ({ request, query: q }) => {
				const v = await guard(kit, request)
				if (v instanceof Response) return v
				logAtDebug(request)
				const lq = query(q)
				const after = Number(q.after)
				const cursor = deps.ring.cursor
				return htmlResponse(`${logLines(read(Number.isSafeInteger(after) && after >= 0 ? after : cursor, lq))}${logPoller(cursor, lq)}`)
			},
			{ detail: { hide: true } },
		)
		.post(
			'/ui/logs/clear',
			async ({ request }) => {
				const v = await guard(kit, request)
				if (v instanceof Response) return v
				await postedForm(kit, request, v)
				deps.ring.clear()
				const lq = query({})
				return show(kit, request, v, 'logs', 'Logs', logsView([], deps.ring.cursor, lq, 'The log view was cleared; the log file keeps every line.'))
			},
			{ parse: 'none', detail: { hide: true } },
		)
		.get(
			'/ui/logs/download',
			async ({ request }) => {
				const v = await guard(kit, request)
				if (v instanceof Response) return v
				// Lines in the file were scrubbed of secrets when they were written.
				// The rotated files too, oldest first: the download follows the rotation.
				const text = deps.file ? await readRotatedLog(deps.file).catch(() => null) : null
				if (text === null) return htmlResponse('<p>No log file (LOG_FILE is empty or not readable).</p>', 404)
				return new Response(text, {
					headers: {
						'content-type': 'application/x-ndjson',
						'content-disposition': 'attachment; filename="amb2api-log.ndjson"',
						'cache-control': 'no-store',
						...SECURITY_HEADERS,
					},
				})
			},
			{ detail: { hide: true } },
		)
}
