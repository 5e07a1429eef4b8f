/** Usage: a day picker, totals, per model, key and client key, bar charts and a 14-day trend. */
import { Elysia } from 'elysia'
import { DAY_MS, parseUsageDay, usageDay } from '../../core/usage-day.ts'
import { type UsageState, usageView } from '../../views/usage.ts'
import type { ClientKeys } from '../client-keys/client-keys.ts'
import type { KeyPool } from '../rate-limits/key-pool.ts'
import { html } from '../../views/html.ts'
import { type SpendCounts, type SpendState, spendView } from '../../views/spend.ts'
import { type ReportCounts, spendReport, type UsageStats, usageReport } from '../usage-stats/usage-stats.ts'
import { guard, message, type PanelKit, show } from './http.ts'

export const usagePage = (kit: PanelKit, deps: { usage: UsageStats; pool: KeyPool; clientKeys?: ClientKeys }) => {
	const state = async (dayParam: string | undefined): Promise<UsageState> => {
		const today = usageDay(kit.now())
		const day = dayParam && parseUsageDay(dayParam) !== null ? dayParam : today
		try {
			const [data, keys, clients] = await Promise.all([deps.usage.read(day), deps.pool.report(), deps.clientKeys?.list() ?? []])
			const report = usageReport(
				day,
				data,
				keys.map((k) => ({ id: k.id, key: k.key })),
				clients.map((c) => ({ id: c.id, name: c.name, masked_key: c.masked_key })),
			)
			const start = parseUsageDay(day) ?? kit.now()
			const days = Array.from({ length: 14 }, (_, i) => usageDay(start - (13 - i) * DAY_MS + 1))
			const trend = await Promise.all(
				days.map(async (d) => {
					let requests = 0
					for (const models of (await deps.usage.read(d)).keys.values()) for (const counts of models.values()) requests += counts.requests
					return { day: d, requests }
				}),
			)
			return { day, report, trend }
		} catch (err) {
			return { day, report: null, trend: [], error: `Usage cannot be read: ${message(err)}` }
		}
	}
	const counts = (c: ReportCounts): SpendCounts => ({
		requests: c.requests,
		prompt_tokens: c.prompt_tokens,
		cached_tokens: c.cached_tokens,
		completion_tokens: c.completion_tokens,
		unpriced_requests: c.unpriced_requests,
		cost_usd: c.cost_usd,
	})
	/** Spend from `from` to `to` (default: the last 7 usage days) and the 30 days ending `to`. */
	const spend = async (fromParam: unknown, toParam: unknown): Promise<SpendState> => {
		const today = usageDay(kit.now())
		const to = typeof toParam === 'string' && parseUsageDay(toParam) !== null ? toParam : today
		const end = parseUsageDay(to) as number
		const asked = typeof fromParam === 'string' ? parseUsageDay(fromParam) : null
		// At most a year, never after `to`.
		const start = asked !== null && asked <= end && end - asked < 366 * DAY_MS ? asked : end - 6 * DAY_MS
		const from = usageDay(start)
		try {
			const trendStart = Math.min(start, end - 29 * DAY_MS)
			const days: string[] = []
			for (let at = trendStart; at <= end; at += DAY_MS) days.push(usageDay(at))
			const [rows, keys, clients] = await Promise.all([
				Promise.all(days.map(async (day) => ({ day, rows: await deps.usage.rows(day) }))),
				deps.pool.report(),
				deps.clientKeys?.list() ?? [],
			])
			const inRange = rows.filter((d) => d.day >= from)
			const report = spendReport(from, to, inRange, new Map(keys.map((k) => [k.id, k.key])), new Map(clients.map((c) => [c.id, c.name])))
			const trend = spendReport(from, to, rows.slice(-30), new Map(), new Map()).days
			return {
				from,
				to,
				totals: counts(report.totals),
				models: Object.entries(report.models).map(([name, c]) => ({ name, counts: counts(c) })),
				keys: report.keys.map((k) => ({ id: k.id, key: k.key, counts: counts(k.totals) })),
				clients: report.clients.map((c) => ({ id: c.id, name: c.name, counts: counts(c.totals) })),
				trend: trend.map((d) => ({ day: d.day, cost_usd: d.cost_usd })),
			}
		} catch (err) {
			return { from, to, totals: null, models: [], keys: [], clients: [], trend: [], error: message(err) }
		}
	}
	return new Elysia({ name: 'panel-usage' })
		.get(
			'/ui/usage',
			async ({ request, query }) => {
				const v = await guard(kit, request)
				if (v instanceof Response) return v
				const usage = usageView(await state(typeof query.day === 'string' ? query.day : undefined))
				const body = html`${usage}${spendView(await spend(undefined, undefined))}`
				return show(kit, request, v, 'usage', 'Usage', usage, body)
			},
			{ detail: { hide: true } },
		)
		.get(
			'/ui/usage/spend',
			async ({ request, query }) => {
				const v = await guard(kit, request)
				if (v instanceof Response) return v
				const widget = spendView(await spend(query.from, query.to))
				const body = html`${usageView(await state(undefined))}${widget}`
				return show(kit, request, v, 'usage', 'Usage', widget, body)
			},
			{ detail: { hide: true } },
		)
}
