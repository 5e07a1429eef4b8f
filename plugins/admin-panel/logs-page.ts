/** Logs: a live tail from a cursor (only new lines), level and text filters, download and clear. */
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { Readable } from 'node:stream'
import { rotatedLogFiles } from '../../core/log-file.ts'
import { Elysia } from 'elysia'
import type { LogRing } from '../../core/log.ts'
import { capText } from '../../core/log-fields.ts'
import { logAtDebug } from '../../core/request-log.ts'
import { type LogLine, type LogsQuery, logLines, logPoller, logsView } from '../../views/logs.ts'
import { guard, htmlResponse, type PanelKit, postedForm, SECURITY_HEADERS, show } from './http.ts'

const RANK: Record<string, number> = { debug: 0, info: 1, warning: 2, warn: 2, error: 3, fatal: 4 }
const SHOWN = 200
/** What one shown line may take, so a poll of the tail stays a few hundred KiB at most. */
const MSG_SHOWN = 500
const FIELDS_SHOWN = 1000

function toLine(seq: number, entry: Record<string, unknown>): LogLine {
	const { time, level, msg, ...fields } = entry
	return {
		seq,
		time: typeof time === 'string' ? time : '',
		level: typeof level === 'string' ? level : 'info',
		msg: typeof msg === 'string' ? capText(msg, MSG_SHOWN) : '',
		fields: capText(JSON.stringify(fields), FIELDS_SHOWN),
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
				// Lines in the files were scrubbed of secrets when they were written. The rotated files
				// too, oldest first (the download follows the rotation), each streamed, never read whole:
				// a file may be larger than memory. Lines appended while it streams are left for the
				// next download, so the length is known up front.
				const files = deps.file ? await sizedFiles(rotatedLogFiles(deps.file)) : []
				if (files.length === 0) return htmlResponse('<p>No log file (LOG_FILE is empty or not readable).</p>', 404)
				const size = files.reduce((sum, f) => sum + f.size, 0)
				return new Response(concatFiles(files), {
					headers: {
						'content-type': 'application/x-ndjson',
						'content-length': String(size),
						'content-disposition': 'attachment; filename="amb2api-log.ndjson"',
						'cache-control': 'no-store',
						...SECURITY_HEADERS,
					},
				})
			},
			{ detail: { hide: true } },
		)
}

/** The files that exist, with their current sizes (a file rotated away meanwhile is left out). */
async function sizedFiles(paths: string[]): Promise<{ path: string; size: number }[]> {
	const sized = await Promise.all(
		paths.map((path) =>
			stat(path).then(
				(s) => (s.isFile() ? { path, size: s.size } : null),
				() => null,
			),
		),
	)
	return sized.filter((f): f is { path: string; size: number } => f !== null)
}

/** The files' first `size` bytes each, one after the other, read as the client takes them. */
function concatFiles(files: { path: string; size: number }[]): ReadableStream<Uint8Array> {
	let index = 0
	let reader: ReadableStreamDefaultReader<Uint8Array> | null = null
	return new ReadableStream<Uint8Array>({
		async pull(controller) {
			for (;;) {
				if (reader === null) {
					const file = files[index++]
					if (file === undefined) return controller.close()
					if (file.size === 0) continue
					const stream = Readable.toWeb(createReadStream(file.path, { start: 0, end: file.size - 1 })) as unknown as ReadableStream<Uint8Array>
					reader = stream.getReader()
				}
				const next = await reader.read()
				if (next.done) {
					reader = null
					continue
				}
				return controller.enqueue(next.value)
			}
		},
		cancel(reason) {
			return reader?.cancel(reason)
		},
	})
}
