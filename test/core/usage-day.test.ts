import { describe, expect, test } from 'bun:test'
import { dayStart, nextReset, parseUsageDay, usageDay } from '../../core/usage-day.ts'

const at = (iso: string) => Date.parse(iso)

describe('usage day: 07:00 UTC to 07:00 UTC', () => {
	test('06:59:59.999 belongs to the previous day, 07:00:00.000 starts the next', () => {
		expect(usageDay(at('2026-11-26T06:59:59.999Z'))).toBe('2026-11-25')
		expect(usageDay(at('2026-11-26T07:00:00.000Z'))).toBe('2026-11-26')
		expect(usageDay(at('2026-11-27T06:59:59.999Z'))).toBe('2026-11-26')
		expect(usageDay(at('2026-11-26T23:59:59.999Z'))).toBe('2026-11-26')
		expect(usageDay(at('2026-11-27T00:00:00.000Z'))).toBe('2026-11-26')
	})

	test('the next reset is the next 07:00 UTC, strictly after now', () => {
		expect(new Date(nextReset(at('2026-11-26T06:59:59.999Z'))).toISOString()).toBe('2026-11-26T07:00:00.000Z')
		expect(new Date(nextReset(at('2026-11-26T07:00:00.000Z'))).toISOString()).toBe('2026-11-27T07:00:00.000Z')
		expect(new Date(nextReset(at('2026-11-26T12:00:00.000Z'))).toISOString()).toBe('2026-11-27T07:00:00.000Z')
		expect(new Date(dayStart(at('2026-11-26T12:00:00.000Z'))).toISOString()).toBe('2026-11-26T07:00:00.000Z')
	})

	test('month, year and leap-day boundaries', () => {
		expect(usageDay(at('2027-01-01T06:00:00Z'))).toBe('2026-12-31')
		expect(usageDay(at('2028-03-01T06:59:59.999Z'))).toBe('2028-02-29')
		expect(new Date(nextReset(at('2026-12-31T08:00:00Z'))).toISOString()).toBe('2027-01-01T07:00:00.000Z')
	})

	test('parseUsageDay accepts real dates only and gives the day start', () => {
		expect(parseUsageDay('2026-11-26')).toBe(at('2026-11-26T07:00:00Z'))
		for (const bad of ['2026-02-30', '2026-13-01', '26-11-26', '2026-11-26T07:00', 'today', '']) expect(parseUsageDay(bad)).toBeNull()
		// A day's name round-trips through its start.
		expect(usageDay(parseUsageDay('2028-02-29')!)).toBe('2028-02-29')
	})
})
