/**
 * The usage day: 07:00 UTC to 07:00 UTC, as the product documentation says. Usage statistics
 * and daily quotas are both keyed by it, so they reset together.
 */

/** Hours after UTC midnight at which a usage day starts. */
export const RESET_HOUR_UTC = 7

const HOUR_MS = 3_600_000
export const DAY_MS = 24 * HOUR_MS
const OFFSET_MS = RESET_HOUR_UTC * HOUR_MS
const DAY_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/

/** The usage day `nowMs` falls in, named by the UTC date on which it started (`2026-11-26` = 2026-11-26T07:00Z ..). */
export function usageDay(nowMs: number): string {
	// Called several times per request: formatting a date once per day is enough.
	const start = dayStart(nowMs)
	if (start !== cachedStart) {
		cachedStart = start
		cachedDay = new Date(start - OFFSET_MS).toISOString().slice(0, 10)
	}
	return cachedDay
}
let cachedStart = Number.NaN
let cachedDay = ''

/** Epoch ms at which the usage day of `nowMs` started. */
export function dayStart(nowMs: number): number {
	return Math.floor((nowMs - OFFSET_MS) / DAY_MS) * DAY_MS + OFFSET_MS
}

/** Epoch ms of the next reset (07:00 UTC) strictly after `nowMs`. */
export function nextReset(nowMs: number): number {
	return dayStart(nowMs) + DAY_MS
}

/** Epoch ms at which a named usage day starts, or null when `day` is not a real `YYYY-MM-DD` date. */
export function parseUsageDay(day: string): number | null {
	const match = DAY_PATTERN.exec(day)
	if (!match) return null
	const ms = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))
	// Date.UTC rolls 2026-02-31 over to March: a round trip catches impossible dates.
	if (!Number.isFinite(ms) || new Date(ms).toISOString().slice(0, 10) !== day) return null
	return ms + OFFSET_MS
}
