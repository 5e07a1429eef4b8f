/** The performance page: per model p50/p95/p99 over a chosen window; empty, populated, error, hostile names. */
import { afterEach, describe, expect, test } from 'bun:test'
import { harnessSet } from '../../support.ts'
import { session } from './panel-support.ts'
import { FlakyLogStorage, flushLog, fragment, XSS } from './pages-support.ts'

const harnesses = harnessSet()
afterEach(() => harnesses.closeAll())

describe('performance page', () => {
	test('empty: the window choice (within REQUEST_LOG_DAYS), no model', async () => {
		const h = await harnesses.start({ env: { REQUEST_LOG_DAYS: '7' } })
		const { text } = await fragment(h, await session(h), '/ui/performance?window=24h')
		expect(text).toContain('<option value="24h" selected>')
		expect(text).toContain('<option value="7d">')
		expect(text).not.toContain('<option value="30d">')
		expect(text).toContain('data-performance="none"')
	})

	test('populated: one row per model with the same figures as the admin API', async () => {
		const h = await harnesses.start()
		const s = await session(h)
		for (let i = 0; i < 3; i++) await (await h.chat({ model: 'claude-sonnet-4-6', stream: true, messages: [{ role: 'user', content: 'hi' }] })).text()
		await h.chat({ model: 'gpt-5', messages: [{ role: 'user', content: 'hi' }] })
		await flushLog(h)
		const api = (await (await h.admin('/admin/requests/performance?window=15m')).json()) as {
			models: { model: string; requests: number; latency_ms: { p50: number } }[]
		}
		const { text } = await fragment(h, s, '/ui/performance?window=15m')
		for (const m of api.models) {
			expect(text).toContain(`<tr data-model="${m.model}"><th scope="row">${m.model}</th><td class="num">${m.requests}</td>`)
			expect(text).toContain(`data-metric="latency_ms">${Math.round(m.latency_ms.p50 * 10) / 10}<`)
		}
		expect(api.models.map((m) => m.model).sort()).toEqual(['claude-sonnet-4-6', 'gpt-5'])
	})

	test('a window not offered falls back to 1h and says so; hostile text is escaped', async () => {
		const h = await harnesses.start()
		const { status, text } = await fragment(h, await session(h), `/ui/performance?window=${encodeURIComponent(XSS)}`)
		expect(status).toBe(200)
		expect(text).toContain('<option value="1h" selected>')
		expect(text).not.toContain(XSS)
	})

	test('error: the log cannot be read', async () => {
		const storage = new FlakyLogStorage()
		const h = await harnesses.start({ storage })
		const s = await session(h)
		storage.failing = true
		const { text } = await fragment(h, s, '/ui/performance')
		expect(text).toContain('The request log cannot be read: request log read failed (test)')
	})
})
