/**
 * The periods of client budgets and rate limits, and the counter groups they are kept in. Every
 * period is built on the usage day (07:00 UTC to 07:00 UTC), so budgets, quotas and statistics
 * turn over together. Pure.
 */
import { DAY_MS, dayStart, usageDay } from '../../core/usage-day.ts'

export type BudgetPeriod = 'day' | 'week' | 'month' | 'total'
export const BUDGET_PERIODS: readonly BudgetPeriod[] = ['day', 'week', 'month', 'total']

const HOUR_MS = 3_600_000
const RESET_MS = 7 * HOUR_MS

export interface PeriodWindow {
	/** Names the period in a counter group: `d2026-11-26`, `w2026-11-23`, `m2026-11`, `total`. */
	key: string
	start: number | null
	/** Epoch ms the period ends (null: never). */
	end: number | null
}

/** The period `now` falls in: the usage day; the week from Monday's; the month from the 1st's; or all time. */
export function periodOf(period: BudgetPeriod, now: number): PeriodWindow {
	const day = dayStart(now)
	if (period === 'day') return { key: `d${usageDay(now)}`, start: day, end: day + DAY_MS }
	if (period === 'week') {
		// The usage day's date is the UTC date at its start; Monday = 0.
		const weekday = (new Date(day).getUTCDay() + 6) % 7
		const start = day - weekday * DAY_MS
		return { key: `w${usageDay(start)}`, start, end: start + 7 * DAY_MS }
	}
	if (period === 'month') {
		const date = new Date(day)
		const start = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1) + RESET_MS
		const end = Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1) + RESET_MS
		return { key: `m${usageDay(start).slice(0, 7)}`, start, end }
	}
	return { key: 'total', start: null, end: null }
}

/** Spend of a client key in one period, in nano-USD (field `nusd`). */
export const clientSpendCounter = (periodKey: string, id: string) => `client-spend:${periodKey}:${id}`

/** Requests and tokens of a client key in one minute (fields `requests`, `tokens`). */
export const clientRateCounter = (minute: number, id: string) => `client-rate:${minute}:${id}`

export const MINUTE_MS = 60_000
