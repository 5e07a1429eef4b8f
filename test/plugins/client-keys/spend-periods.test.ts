import { describe, expect, test } from 'bun:test'
import { periodOf } from '../../../plugins/client-keys/spend-periods.ts'

const at = (iso: string) => Date.parse(iso)
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

describe('budget periods on the 07:00 UTC usage day', () => {
	test('day: 07:00 UTC to 07:00 UTC; before 07:00 is the previous usage day', () => {
		const p = periodOf('day', at('2026-11-27T06:59:59Z'))
		expect(p.key).toBe('d2026-11-26')
		expect([iso(p.start), iso(p.end)]).toEqual(['2026-11-26T07:00:00.000Z', '2026-11-27T07:00:00.000Z'])
	})

	test('week: from Monday 07:00 UTC; Monday 06:59 is still the week before', () => {
		// 2026-11-26 is a Thursday; its week started on Monday 2026-11-23.
		const p = periodOf('week', at('2026-11-26T12:00:00Z'))
		expect(p.key).toBe('w2026-11-23')
		expect([iso(p.start), iso(p.end)]).toEqual(['2026-11-23T07:00:00.000Z', '2026-11-30T07:00:00.000Z'])
		expect(periodOf('week', at('2026-11-30T06:59:59Z')).key).toBe('w2026-11-23')
		expect(periodOf('week', at('2026-11-30T07:00:00Z')).key).toBe('w2026-11-30')
	})

	test('month: from the 1st, 07:00 UTC; across a year end', () => {
		const p = periodOf('month', at('2026-12-31T23:00:00Z'))
		expect(p.key).toBe('m2026-12')
		expect([iso(p.start), iso(p.end)]).toEqual(['2026-12-01T07:00:00.000Z', '2027-01-01T07:00:00.000Z'])
		expect(periodOf('month', at('2027-01-01T06:00:00Z')).key).toBe('m2026-12')
		expect(periodOf('month', at('2027-01-01T07:00:00Z')).key).toBe('m2027-01')
	})

	test('total never ends', () => {
		expect(periodOf('total', at('2026-11-26T12:00:00Z'))).toEqual({ key: 'total', start: null, end: null })
	})
})
