/** Usage: a day picker, totals, per model, key and client key, bar charts and a 14-day trend. */
import { Elysia } from 'elysia'
import { DAY_MS, parseUsageDay, usageDay } from '../../core/usage-day.ts'
import type { Translator } from '../../views/i18n/i18n.ts'
import { type UsageState, usageView } from '../../views/usage.ts'
import type { ClientKeys } from '../client-keys/client-keys.ts'
import type { KeyPool } from '../rate-limits/key-pool.ts'
import { type UsageStats, usageReport } from '../usage-stats/usage-stats.ts'
import { guard, message, type PanelKit, show } from './http.ts'

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
	return new Elysia({ name: 'panel-usage' }).get(
		'/ui/usage',
		async ({ request, query }) => {
			const v = await guard(kit, request)
			if (v instanceof Response) return v
			return show(kit, request, v, 'usage', usageView(v.t, await state(v.t, typeof query.day === 'string' ? query.day : undefined)))
		},
		{ detail: { hide: true } },
	)
}
