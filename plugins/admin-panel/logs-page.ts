/** Logs: a live tail from a cursor (only new lines), level and text filters, download and clear. */
import { readFile } from 'node:fs/promises'
import { Elysia } from 'elysia'
import type { LogRing } from '../../core/log.ts'
import { logAtDebug } from '../../core/request-log.ts'
import { html } from '../../views/html.ts'
import { type LogLine, type LogsQuery, logLines, logPoller, logsView } from '../../views/logs.ts'
import { guard, htmlResponse, type PanelKit, postedForm, SECURITY_HEADERS, show } from './http.ts'

const RANK: Record<string, number> = { debug: 0, info: 1, warning: 2, warn: 2, error: 3, fatal: 4 }
const SHOWN = 200

/** The panel's own page loads, polls and assets: noise while the operator reads the log (its actions, POSTs, stay). */
export function isPanelRequest(entry: Record<string, unknown>): boolean {
	if (entry.msg !== 'request' || entry.method !== 'GET' || typeof entry.path !== 'string') return false
	const path = entry.path
	return path === '/' || path === '/ui' || path.startsWith('/ui/') || path === '/favicon.ico'
}

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
			.filter(({ entry }) => q.panel || !isPanelRequest(entry))
			.map(({ seq, entry }) => toLine(seq, entry))
			.filter((l) => (RANK[l.level] ?? 1) >= min && (!needle || `${l.msg} ${l.fields}`.toLowerCase().includes(needle)))
		return lines.slice(-SHOWN)
	}
	const query = (q: Record<string, string | undefined>): LogsQuery => ({
		level: q.level && q.level in RANK ? q.level : 'debug',
		q: (q.q ?? '').slice(0, 200),
		panel: q.panel === '1',
	})
	return new Elysia({ name: 'panel-logs' })
		.get(
			'/ui/logs',
			async ({ request, query: q }) => {
				const v = await guard(kit, request)
				if (v instanceof Response) return v
				const lq = query(q)
				return show(kit, request, v, 'logs', logsView(v.t, read(0, lq), deps.ring.cursor, lq))
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
				return show(kit, request, v, 'logs', logsView(v.t, [], deps.ring.cursor, lq, v.t('logs.cleared')))
			},
			{ parse: 'none', detail: { hide: true } },
		)
		.get(
			'/ui/logs/download',
			async ({ request }) => {
				const v = await guard(kit, request)
				if (v instanceof Response) return v
				// Lines in the file were scrubbed of secrets when they were written.
				const text = deps.file ? await readFile(deps.file, 'utf8').catch(() => null) : null
				if (text === null) return htmlResponse(html`<p>${v.t('logs.noFile')}</p>`.toString(), 404)
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
