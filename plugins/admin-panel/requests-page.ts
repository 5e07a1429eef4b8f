/** The request log: /ui/requests with the filters and query parameters of GET /admin/requests, paging, and one request's waterfall. */
import { Elysia } from 'elysia'
import { BadRequestError } from '../../core/errors.ts'
import { FILTERS, type RequestsState, requestDetailView, requestsView } from '../../views/requests.ts'
import { encodeCursor, toLogQuery, waterfall } from '../request-log/routes.ts'
import type { RequestLog } from '../request-log/writer.ts'
import { guard, message, type PanelKit, show } from './http.ts'

export interface RequestsPageDeps {
	requests: Pick<RequestLog, 'query' | 'get'>
}

const PAGE = 50
const LONGEST = 300

export const requestsPage = (kit: PanelKit, deps: RequestsPageDeps) => {
	const list = async ({ request }: { request: Request }) => {
		const v = await guard(kit, request)
		if (v instanceof Response) return v
		const params = new URL(request.url).searchParams
		const filters: RequestsState['filters'] = {}
		for (const name of [...FILTERS, 'limit'] as const) {
			const value = params.get(name)?.trim()
			if (value) filters[name] = value.slice(0, LONGEST)
		}
		const cursor = params.get('cursor')?.slice(0, LONGEST) || undefined
		let state: RequestsState
		try {
			const limit = Math.min(500, Math.max(1, Number(filters.limit) || PAGE))
			const rows = await deps.requests.query(toLogQuery({ ...filters, ...(cursor ? { cursor } : {}) }, limit + 1))
			const shown = rows.slice(0, limit)
			const last = shown[shown.length - 1]
			state = { filters, rows: shown, nextCursor: rows.length > limit && last ? encodeCursor(last) : null }
		} catch (err) {
			// A wrong filter is the operator's typo: say which, keep the form.
			const error =
				err instanceof BadRequestError
					? v.t('requests.badFilter', { param: err.param ?? '?', detail: err.message })
					: v.t('requests.unreadable', { error: message(err) })
			state = { filters, rows: err instanceof BadRequestError ? [] : null, nextCursor: null, error }
		}
		return show(kit, request, v, 'requests', requestsView(v.t, state))
	}
	return new Elysia({ name: 'panel-requests' }).get('/ui/requests', list, { detail: { hide: true } }).get(
		'/ui/requests/:id',
		async ({ request, params }) => {
			const v = await guard(kit, request)
			if (v instanceof Response) return v
			try {
				const row = params.id.length <= 200 ? await deps.requests.get(params.id) : null
				return show(kit, request, v, 'requests', requestDetailView(v.t, { row, bars: row ? waterfall(row) : [] }))
			} catch (err) {
				return show(kit, request, v, 'requests', requestDetailView(v.t, { row: null, bars: [], error: v.t('requests.unreadable', { error: message(err) }) }))
			}
		},
		{ detail: { hide: true } },
	)
}
