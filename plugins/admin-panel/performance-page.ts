/** Performance per model over a chosen window, from the request log's figures (shared 2 s cache with the admin API). */
import { Elysia } from 'elysia'
import { type PerformanceState, performanceView } from '../../views/performance.ts'
import type { RequestFigures } from '../request-log/figures.ts'
import { parseWindow } from '../request-log/routes.ts'
import { guard, message, type PanelKit, show } from './http.ts'

/** The windows offered; those longer than the retention are left out. */
const WINDOWS = ['15m', '1h', '6h', '24h', '7d', '30d']

export const performancePage = (kit: PanelKit, deps: { figures: Pick<RequestFigures, 'performance' | 'maxWindowMs'> }) => {
	const page = async ({ request }: { request: Request }) => {
		const v = await guard(kit, request)
		if (v instanceof Response) return v
		const windows = WINDOWS.filter((w) => {
			try {
				return parseWindow(w, deps.figures.maxWindowMs) > 0
			} catch {
				return false
			}
		})
		const asked = new URL(request.url).searchParams.get('window') ?? '1h'
		const window = windows.includes(asked) ? asked : '1h'
		let state: PerformanceState
		try {
			const figures = await deps.figures.performance(parseWindow(window, deps.figures.maxWindowMs))
			state = {
				window,
				windows,
				models: figures.models,
				truncated: figures.truncated,
				error: asked === window ? null : v.t('perf.badWindow', { window: asked.slice(0, 10) }),
			}
		} catch (err) {
			state = { window, windows, models: null, error: v.t('perf.unreadable', { error: message(err) }) }
		}
		return show(kit, request, v, 'performance', performanceView(v.t, state))
	}
	return new Elysia({ name: 'panel-performance' }).get('/ui/performance', page, { detail: { hide: true } })
}
