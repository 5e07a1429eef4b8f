import { describe, expect, test } from 'bun:test'
import {
	coolDown,
	deny,
	emptyWindow,
	leaseSize,
	observe,
	observeUnlimited,
	readLimitHeaders,
	refund,
	reserve,
	sameWindow,
} from '../../../plugins/rate-limits/rate-window.ts'

const headers = (h: Record<string, string>) => readLimitHeaders(new Headers(h), 0)

describe('rate window', () => {
	test('an unknown limit lets exactly one probe through until its answer arrives', () => {
		const w = emptyWindow('k', 'm')
		expect(reserve(w, 0, 30_000)).toEqual({ granted: true, probe: true })
		expect(reserve(w, 10, 30_000)).toMatchObject({ granted: false, why: 'probing', until: 30_000 })
		observe(w, headers({ 'x-ratelimit-limit': '3', 'x-ratelimit-remaining': '2', 'x-ratelimit-reset': '60' }), 100)
		expect(w.probeUntil).toBeNull()
		expect(reserve(w, 200, 30_000)).toEqual({ granted: true, probe: false })
		expect(reserve(w, 200, 30_000)).toEqual({ granted: true, probe: false })
		const denied = reserve(w, 200, 30_000)
		expect(denied).toMatchObject({ granted: false, why: 'exhausted' })
		expect((denied as { until: number }).until).toBeGreaterThanOrEqual(60_100)
	})

	test('a probe that never answers stops blocking after its TTL', () => {
		const w = emptyWindow('k', 'm')
		reserve(w, 0, 1000)
		expect(reserve(w, 999, 1000).granted).toBe(false)
		expect(reserve(w, 1001, 1000)).toEqual({ granted: true, probe: true })
	})

	test('the window starts over at its limit once the reset has passed', () => {
		const w = emptyWindow('k', 'm')
		reserve(w, 0, 1000)
		observe(w, headers({ 'x-ratelimit-limit': '2', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '10' }), 0)
		expect(reserve(w, 5_000, 1000).granted).toBe(false)
		expect(reserve(w, 10_300, 1000)).toEqual({ granted: true, probe: false })
		expect(w.remaining).toBe(1)
		expect(w.used).toBe(1)
	})

	test('headers lower our count but never raise it within a window (in-flight requests)', () => {
		const w = emptyWindow('k', 'm')
		w.limit = 10
		w.remaining = 4
		w.resetAt = 60_000
		observe(w, headers({ 'x-ratelimit-limit': '10', 'x-ratelimit-remaining': '7', 'x-ratelimit-reset': '50' }), 10_000)
		expect(w.remaining).toBe(4)
		observe(w, headers({ 'x-ratelimit-limit': '10', 'x-ratelimit-remaining': '2', 'x-ratelimit-reset': '50' }), 10_000)
		expect(w.remaining).toBe(2)
	})

	test('a missing Remaining or Reset is unknown, not exhausted; nothing blocks without an end', () => {
		const w = emptyWindow('k', 'm')
		reserve(w, 0, 1000)
		observe(w, headers({ 'x-ratelimit-limit': '5' }), 0)
		expect(w.remaining).toBeNull()
		expect(reserve(w, 1, 1000).granted).toBe(true)
		const x = emptyWindow('k', 'm')
		x.limit = 1
		x.remaining = 0
		const r = reserve(x, 1000, 1000)
		expect(r).toMatchObject({ granted: false, why: 'exhausted', until: 61_000 })
	})

	test('a 2xx without rate-limit headers means no limit', () => {
		const w = emptyWindow('k', 'm')
		reserve(w, 0, 1000)
		observeUnlimited(w)
		for (let i = 0; i < 100; i++) expect(reserve(w, i, 1000).granted).toBe(true)
	})

	test('429: cooldown until Retry-After, else the reset, else 60 s', () => {
		const a = emptyWindow('k', 'm')
		expect(coolDown(a, headers({ 'retry-after': '17', 'x-ratelimit-reset': '40' }), 0, 'x')).toBe(17_250)
		expect(reserve(a, 17_000, 1000)).toMatchObject({ granted: false, why: 'cooling' })
		const b = emptyWindow('k', 'm')
		expect(coolDown(b, headers({ 'x-ratelimit-reset': '40' }), 0, 'x')).toBe(40_250)
		const c = emptyWindow('k', 'm')
		expect(coolDown(c, headers({}), 0, 'x')).toBe(60_250)
		expect(readLimitHeaders(new Headers({ 'retry-after': new Date(30_000).toUTCString() }), 0).retryAfterSeconds).toBe(30)
	})

	test('no access to a model leaves the key out for that model; a refund gives the slot back', () => {
		const w = emptyWindow('k', 'm')
		deny(w, 0, 3600_000, 'no access')
		expect(reserve(w, 1000, 1000)).toMatchObject({ granted: false, why: 'denied' })
		const r = emptyWindow('k', 'm')
		r.limit = 3
		r.remaining = 3
		r.resetAt = 60_000
		reserve(r, 0, 1000)
		refund(r)
		expect(r.remaining).toBe(3)
		expect(r.used).toBe(0)
	})

	test('an answer that confirms the window changes nothing (no storage write needed)', () => {
		const w = emptyWindow('k', 'm')
		reserve(w, 0, 1000)
		observe(w, headers({ 'x-ratelimit-limit': '30', 'x-ratelimit-remaining': '29', 'x-ratelimit-reset': '60' }), 0)
		const before = { ...w }
		// Same window, reported 400 ms later with the reset rounded to whole seconds.
		observe(w, headers({ 'x-ratelimit-limit': '30', 'x-ratelimit-remaining': '29', 'x-ratelimit-reset': '60' }), 400)
		expect(sameWindow(before, w)).toBe(true)
		observe(w, headers({ 'x-ratelimit-limit': '30', 'x-ratelimit-remaining': '28', 'x-ratelimit-reset': '59' }), 900)
		expect(sameWindow(before, w)).toBe(false)
	})
})

describe('leases', () => {
	const empty = emptyWindow
	const size = leaseSize
	test('an eighth of what is left, at most max; none without a known end, while probing, or when short', () => {
		const w = { ...empty('k', 'm'), limit: 200, remaining: 200, resetAt: 1000 }
		expect(size(w, 32)).toBe(25)
		expect(size({ ...w, remaining: 1000, limit: 1000 }, 32)).toBe(32)
		expect(size({ ...w, remaining: 7 }, 32)).toBe(0)
		expect(size({ ...w, resetAt: null }, 32)).toBe(0)
		expect(size({ ...w, probeUntil: 5 }, 32)).toBe(0)
		expect(size({ ...empty('k', 'm'), unlimited: true }, 32)).toBe(32)
		expect(size(w, 0)).toBe(0)
	})
})
