/**
 * The request log's admin API: the rows with filters and paging, one row with its timings as a
 * waterfall, CSV export, and the overview's and performance page's figures as JSON.
 */
import { Elysia, t } from 'elysia'
import { BadRequestError, NotFoundError } from '../../core/errors.ts'
import type { LogQuery, LogRow } from '../../core/storage.ts'
import { type AdminAuth, requirePanelAuth } from '../admin-auth/admin-auth.ts'
import { toCsv } from './csv.ts'
import type { RequestFigures } from './figures.ts'
import type { RequestLog, RequestLogSettings } from './writer.ts'

export interface RequestLogRoutesDeps {
	auth: AdminAuth
	requests: RequestLog
	settings: RequestLogSettings
	figures: RequestFigures
}

const tags = ['Admin']
const security = [{ bearer: [] }]
const PAGE_DEFAULT = 50
const PAGE_MAX = 500
const CSV_MAX = 10_000

const filters = t.Object({
	request_id: t.Optional(t.String({ maxLength: 200 })),
	client: t.Optional(t.String({ maxLength: 200 })),
	key: t.Optional(t.String({ maxLength: 200 })),
	model: t.Optional(t.String({ maxLength: 300 })),
	status: t.Optional(t.String({ maxLength: 10 })),
	from: t.Optional(t.String({ maxLength: 40 })),
	to: t.Optional(t.String({ maxLength: 40 })),
	limit: t.Optional(t.String({ maxLength: 10 })),
	cursor: t.Optional(t.String({ maxLength: 300 })),
})
type Filters = typeof filters.static

/** A time as epoch ms or an ISO 8601 date. */
function parseTime(value: string | undefined, name: string): number | undefined {
	if (value === undefined || value === '') return undefined
	const ms = /^\d{1,15}$/.test(value) ? Number(value) : Date.parse(value)
	if (!Number.isFinite(ms)) throw new BadRequestError(`${name} must be epoch milliseconds or an ISO 8601 time`, name, 'invalid_time')
	return ms
}

function parseLimit(value: string | undefined, max: number, fallback: number): number {
	if (value === undefined || value === '') return fallback
	const n = Number(value)
	if (!Number.isInteger(n) || n < 1 || n > max) throw new BadRequestError(`limit must be an integer from 1 to ${max}`, 'limit', 'invalid_limit')
	return n
}

/** The paging cursor: the last row's time and id. */
export const encodeCursor = (row: { at: number; id: string }): string => `${row.at}.${row.id}`

function parseCursor(value: string | undefined): { at: number; id: string } | undefined {
	if (value === undefined || value === '') return undefined
	const dot = value.indexOf('.')
	const at = Number(value.slice(0, dot))
	if (dot < 1 || !Number.isSafeInteger(at)) throw new BadRequestError('cursor is not one this API gave', 'cursor', 'invalid_cursor')
	return { at, id: value.slice(dot + 1) }
}

/** The query parameters as a log query (the same ones for the list and the CSV export). */
export function toLogQuery(q: Filters, limit: number): LogQuery {
	const where: Record<string, string | number> = {}
	if (q.request_id) where.request_id = q.request_id
	if (q.client) where.client = q.client
	if (q.key) where.key = q.key
	if (q.model) where.model = q.model
	if (q.status) {
		const status = Number(q.status)
		if (!Number.isInteger(status) || status < 100 || status > 599)
			throw new BadRequestError('status must be an HTTP status (100-599)', 'status', 'invalid_status')
		where.status = status
	}
	const from = parseTime(q.from, 'from')
	const to = parseTime(q.to, 'to')
	const after = parseCursor(q.cursor)
	return { where, limit, ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}), ...(after ? { after } : {}) }
}

/** A duration such as `15m`, `1h` or `7d`. */
export function parseWindow(value: string | undefined, maxMs: number): number {
	const match = /^(\d{1,4})([mhd])$/.exec(value ?? '1h')
	const ms = match ? Number(match[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 'm' | 'h' | 'd'] : Number.NaN
	if (!(ms > 0 && ms <= maxMs))
		throw new BadRequestError('window must be minutes, hours or days (e.g. 15m, 1h, 7d) within REQUEST_LOG_DAYS', 'window', 'invalid_window')
	return ms
}

/** A row's stages as bars from the request's start (ms): what a waterfall draws. */
export function waterfall(row: LogRow): { stage: string; start: number; end: number }[] {
	const n = (v: unknown) => (typeof v === 'number' ? v : null)
	const admitted = n(row.admission_ms) ?? 0
	const answered = n(row.upstream_ms)
	const firstByte = n(row.ttfb_ms)
	const firstToken = n(row.ttft_ms)
	const total = n(row.total_ms) ?? answered ?? admitted
	const bars = [{ stage: 'admission', start: 0, end: admitted }]
	if (answered !== null) bars.push({ stage: 'upstream', start: admitted, end: answered })
	if (firstByte !== null) bars.push({ stage: 'first_byte', start: answered ?? admitted, end: firstByte })
	if (firstToken !== null) bars.push({ stage: 'first_token', start: firstByte ?? answered ?? admitted, end: firstToken })
	bars.push({ stage: 'answer', start: firstToken ?? firstByte ?? answered ?? admitted, end: total })
	return bars
}

export const requestLogRoutes = (deps: RequestLogRoutesDeps) => {
	return new Elysia({ name: 'request-log-admin', prefix: '/admin' })
		.onTransform(requirePanelAuth(deps.auth))
		.get(
			'/requests',
			async function listRequests({ query }) {
				const limit = parseLimit(query.limit, PAGE_MAX, PAGE_DEFAULT)
				// One more than asked tells whether another page follows.
				const rows = await deps.requests.query(toLogQuery(query, limit + 1))
				const data = rows.slice(0, limit)
				const last = data[data.length - 1]
				return { data, next_cursor: rows.length > limit && last ? encodeCursor(last) : null }
			},
			{
				query: filters,
				detail: {
					summary: 'Request log',
					description:
						'One row per client request, newest first: time, request id, dialect, client key (by name), model asked and answered, upstream key (masked), attempts, status and error class, stage timings (ms), tokens by kind and cost (USD, null when unpriced). Filters: `request_id`, `client`, `key` (masked, as shown), `model`, `status`, `from`/`to` (epoch ms or ISO 8601). Paging: `limit` (1-500, default 50) and `cursor` (the `next_cursor` of the previous page). Bodies are never stored.',
					tags,
					security,
				},
			},
		)
		.get(
			'/requests.csv',
			async function exportRequests({ query }) {
				const rows = await deps.requests.query(toLogQuery(query, parseLimit(query.limit, CSV_MAX, CSV_MAX)))
				return new Response(toCsv(rows), {
					headers: {
						'content-type': 'text/csv; charset=utf-8',
						'content-disposition': 'attachment; filename="requests.csv"',
						'cache-control': 'no-store',
					},
				})
			},
			{
				query: filters,
				detail: {
					summary: 'Request log as CSV',
					description: `The same rows and filters as GET /admin/requests, as CSV (at most ${CSV_MAX} rows, newest first; \`limit\` lowers it).`,
					tags,
					security,
				},
			},
		)
		.get(
			'/requests/overview',
			function requestOverview() {
				return deps.figures.overview()
			},
			{
				detail: {
					summary: 'Request figures of today',
					description:
						"Today's (the usage day, from 07:00 UTC) requests, success rate, errors by class (client, upstream, rate-limited, gateway), tokens by kind, spend (USD of priced requests; `unpriced` counts the others), the share of prompt tokens read from cache, p50/p95 latency and time to first token of successful requests, and requests per minute over the last hour (60 buckets, oldest first).",
					tags,
					security,
				},
			},
		)
		.get(
			'/requests/performance',
			function requestPerformance({ query }) {
				return deps.figures.performance(parseWindow(query.window, deps.figures.maxWindowMs))
			},
			{
				query: t.Object({ window: t.Optional(t.String({ maxLength: 10 })) }),
				detail: {
					summary: 'Performance per model',
					description:
						'Per model over `window` (e.g. 15m, 1h, 24h, 7d; default 1h): requests, errors, and p50/p95/p99 of latency, time to first byte, time to first token and output tokens per second (after the first token) of successful requests.',
					tags,
					security,
				},
			},
		)
		.get(
			'/requests/:id',
			async function requestDetail({ params }) {
				const row = await deps.requests.get(params.id)
				if (!row) throw new NotFoundError(`No request-log row with id ${JSON.stringify(params.id.slice(0, 100))}`, 'request_not_found')
				return { ...row, waterfall: waterfall(row) }
			},
			{
				params: t.Object({ id: t.String({ minLength: 1, maxLength: 200 }) }),
				detail: {
					summary: 'One request-log row',
					description: 'The row, and its stages as bars from the request start in ms (`waterfall`: admission, upstream, first_byte, first_token, answer).',
					tags,
					security,
				},
			},
		)
}
