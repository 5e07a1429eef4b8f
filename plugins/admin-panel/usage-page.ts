/**
 * Usage: a day picker, totals, per model, key and client key, bar charts and a 14-day trend; below
 * it the spend over a range of days (per model, upstream key and client key), a 30-day spend
 * trend and the CSV of that range.
 */
import { Elysia } from 'elysia'
import { DAY_MS, parseUsageDay, usageDay } from '../../core/usage-day.ts'
import { html } from '../../views/html.ts'
import type { Translator } from '../../views/i18n/i18n.ts'
import { type SpendCounts, type SpendState, spendView } from '../../views/spend.ts'
import { type UsageState, usageView } from '../../views/usage.ts'
import type { ClientKeys } from '../client-keys/client-keys.ts'
import type { KeyPool } from '../rate-limits/key-pool.ts'
import { type ReportCounts, spendReport, type UsageStats, usageReport } from '../usage-stats/usage-stats.ts'
import { guard, message, type PanelKit, show } from './http.ts'

/** The default range: the last 7 usage days; the longest: a year, as the export allows. */
const DEFAULT_DAYS = 7
const MAX_DAYS = 366
const TREND_DAYS = 30

const spendCounts = (c: ReportCounts): SpendCounts => ({
	requests: c.requests,
	prompt_tokens: c.prompt_tokens,
	cached_tokens: c.cached_tokens,
	cache_write_tokens: c.cache_write_tokens + c.cache_write_1h_tokens,
	completion_tokens: c.completion_tokens,
	unpriced_requests: c.unpriced_requests,
	cost_usd: c.cost_usd,
})

/**
 * The range asked for (YYYY-MM-DD, inclusive; `to` defaults to today, `from` to 6 days before
 * `to`), or the last 7 days ending `to` (or today) when it cannot be used: not dates, backwards,
 * or longer than a year. `refused` says the asked range was replaced.
 */
export function spendRange(fromParam: unknown, toParam: unknown, today: string): { from: string; to: string; refused: boolean } {
	// undefined: not given; null: given but not a date.
	const read = (p: unknown) => (typeof p === 'string' && p !== '' ? parseUsageDay(p) : p === undefined || p === '' ? undefined : null)
	const from = read(fromParam)
	const to = read(toParam)
	const end = to ?? (parseUsageDay(today) as number)
	const fallback = (refused: boolean) => ({ from: usageDay(end - (DEFAULT_DAYS - 1) * DAY_MS), to: usageDay(end), refused })
	if (from === null || to === null) return fallback(true)
	if (from === undefined) return fallback(false)
	if (from > end || (end - from) / DAY_MS >= MAX_DAYS) return fallback(true)
	return { from: usageDay(from), to: usageDay(end), refused: false }
}

export const usagePage = (kit: PanelKit, deps: { usage: UsageStats; pool: KeyPool; clientKeys?: ClientKeys }) => {
	const state = async (t: Translator, dayParam: string | undefined): Promise<UsageState> => {
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
			return { day, report: null, trend: [], error: t('usage.unreadableWhy', { error: message(err) }) }
		}
	}
	/** Spend over the range, and the cost per day of the 30 days ending its last day. */
	const spend = async (fromParam: unknown, toParam: unknown): Promise<SpendState> => {
		const { from, to, refused } = spendRange(fromParam, toParam, usageDay(kit.now()))
		const end = parseUsageDay(to) as number
		const first = Math.min(parseUsageDay(from) as number, end - (TREND_DAYS - 1) * DAY_MS)
		const days: string[] = []
		for (let at = first; at <= end; at += DAY_MS) days.push(usageDay(at))
		try {
			const [rows, keys, clients] = await Promise.all([
				Promise.all(days.map(async (day) => ({ day, rows: await deps.usage.rows(day) }))),
				deps.pool.report(),
				deps.clientKeys?.list() ?? [],
			])
			const report = spendReport(
				from,
				to,
				rows.filter((d) => d.day >= from),
				new Map(keys.map((k) => [k.id, k.key])),
				new Map(clients.map((c) => [c.id, c.name])),
			)
			const trend = spendReport(from, to, rows.slice(-TREND_DAYS), new Map(), new Map()).days
			return {
				from,
				to,
				rangeRefused: refused,
				totals: spendCounts(report.totals),
				models: Object.entries(report.models).map(([name, c]) => ({ name, counts: spendCounts(c) })),
				keys: report.keys.map((k) => ({ id: k.id, key: k.key, counts: spendCounts(k.totals) })),
				clients: report.clients.map((c) => ({ id: c.id, name: c.name, counts: spendCounts(c.totals) })),
				trend: trend.map((d) => ({ day: d.day, cost_usd: d.cost_usd, unpriced_requests: d.unpriced_requests })),
			}
		} catch (err) {
			return { from, to, rangeRefused: refused, totals: null, models: [], keys: [], clients: [], trend: [], error: message(err) }
		}
	}
	return new Elysia({ name: 'panel-usage' })
		.get(
			'/ui/usage',
			async ({ request, query }) => {
				const v = await guard(kit, request)
				if (v instanceof Response) return v
				const usage = usageView(v.t, await state(v.t, typeof query.day === 'string' ? query.day : undefined))
				return show(kit, request, v, 'usage', usage, html`${usage}${spendView(v.t, await spend(undefined, undefined))}`)
			},
			{ detail: { hide: true } },
		)
		.get(
			'/ui/usage/spend',
			async ({ request, query }) => {
				const v = await guard(kit, request)
				if (v instanceof Response) return v
				const widget = spendView(v.t, await spend(query.from, query.to))
				return show(kit, request, v, 'usage', widget, html`${usageView(v.t, await state(v.t, undefined))}${widget}`)
			},
			{ detail: { hide: true } },
		)
}
