/** The panel's money parts: spend over a date range with a trend, prices with an override, the client list's limits and budget. */
import { afterEach, describe, expect, test } from 'bun:test'
import { type Harness, harnessSet, testClock } from '../../support.ts'
import { FORM, session } from './panel-support.ts'

let created: string[] = []
const harnesses = harnessSet(() => created)
afterEach(async () => {
	await harnesses.closeAll()
	created = []
})

const page = (h: Harness, path: string, cookie: string, htmx = false) =>
	h.call(path, { auth: null, headers: { cookie, ...(htmx ? { 'hx-request': 'true' } : {}) } })
const post = (h: Harness, path: string, s: { cookie: string; csrf: string }, body: Record<string, string>) =>
	h.call(path, {
		method: 'POST',
		auth: null,
		headers: { ...FORM, cookie: s.cookie, 'hx-request': 'true', 'x-csrf-token': s.csrf, origin: 'http://localhost' },
		body: new URLSearchParams(body),
	})
const hello = { messages: [{ role: 'user', content: 'Hello there, what is the capital of France?' }] }

describe('panel: spend, prices, client budgets', () => {
	test('usage shows spend over a date range, per model, key and client, with unpriced requests marked; the range is chosen by date', async () => {
		const c = testClock(Date.UTC(2026, 10, 26, 12, 0, 0))
		const h = await harnesses.start({ now: c.now })
		expect((await h.chat({ model: 'gpt-5', ...hello })).status).toBe(200)
		c.advance(86_400_000)
		expect((await h.chat({ model: 'qwen3-next-80b-a3b', ...hello })).status).toBe(200)
		// Logged in after the clock moved: a session lasts less than a day.
		const s = await session(h)
		const usage = await (await h.admin('/admin/usage/spend?from=2026-11-26&to=2026-11-27')).json()
		const full = await (await page(h, '/ui/usage', s.cookie)).text()
		expect(full).toContain('id="spend"')
		expect(full).toContain('Spend per day (USD), last 30 days')
		expect(full).toContain(`$${usage.models['gpt-5'].cost_usd.toFixed(6)}`)
		expect(full).toContain('unknown (no price)')
		const one = await (await page(h, '/ui/usage/spend?from=2026-11-27&to=2026-11-27', s.cookie, true)).text()
		expect(one.startsWith('<section id="spend">')).toBe(true)
		expect(one).toContain('qwen3-next-80b-a3b')
		expect(one).not.toContain('<td>gpt-5</td>')
		expect(one).toContain('href="/admin/usage/export?from=2026-11-27&amp;to=2026-11-27"')
		// A bad range falls back to the last 7 days, never an error page.
		expect((await page(h, '/ui/usage/spend?from=garbage&to=2026-11-27', s.cookie, true)).status).toBe(200)
	})

	test('models page lists prices with their source; an override is saved, validated and removed', async () => {
		const h = await harnesses.start()
		const s = await session(h)
		const models = await (await page(h, '/ui/models', s.cookie)).text()
		expect(models).toContain('id="prices"')
		expect(models).toMatch(/<code>qwen3-next-80b-a3b<\/code><\/td><td>unpriced/)
		const bad = await (await post(h, '/ui/models/prices', s, { model: 'gpt-5', action: 'save', prompt: '-1', completions: '2' })).text()
		expect(bad).toContain('notice-error')
		expect((await (await h.admin('/admin/prices')).json()).models.find((r: any) => r.model === 'gpt-5').source).toBe('catalog')
		const saved = await (
			await post(h, '/ui/models/prices', s, { model: 'gpt-5', action: 'save', prompt: '0.5', completions: '4', input_cache_read: '' })
		).text()
		expect(saved).toContain('Saved: gpt-5 now uses your prices.')
		const row = (await (await h.admin('/admin/prices')).json()).models.find((r: any) => r.model === 'gpt-5')
		// The regional tiers keep the catalog's increase.
		expect(row).toMatchObject({ source: 'override', override: { global: { prompt: 0.5, completions: 4 }, regional_increase_percent: 10 } })
		const removed = await (await post(h, '/ui/models/prices', s, { model: 'gpt-5', action: 'remove' })).text()
		expect(removed).toContain('uses the catalog price again')
		expect((await (await h.admin('/admin/prices')).json()).models.find((r: any) => r.model === 'gpt-5').source).toBe('catalog')
	})

	test('client list shows limits, budget with what is left, spend today and expiry without opening Edit; the form sets a budget', async () => {
		const h = await harnesses.start()
		const s = await session(h)
		const made = await post(h, '/ui/clients', s, { name: 'team-budget', daily_limit: '50', budget_usd: '2.5', budget_period: 'week', rpm: '30', tpm: '' })
		expect(made.status).toBe(200)
		const key = /value="(sk-amb-[^"]+)"/.exec(await made.text())?.[1] as string
		created.push(key)
		const record = (await (await h.admin('/admin/clients')).json()).clients[0]
		expect(record).toMatchObject({ budget_usd: 2.5, budget_period: 'week', rpm: 30, tpm: null, daily_limit: 50 })
		expect((await h.chat({ model: 'gpt-5', ...hello }, key)).status).toBe(200)
		const list = await (await page(h, '/ui/clients', s.cookie)).text()
		const row = list.slice(list.indexOf(`id="client-${record.id}"`))
		expect(row).toContain('daily 50, total unlimited<br>30 req/min')
		expect(row).toMatch(/\$0\.\d{6} \/ \$2\.50 \(week\)/)
		expect(row).toContain('left until')
		expect(row).toContain('never')
		const bad = await (await post(h, '/ui/clients', s, { name: 'x', budget_usd: '-3' })).text()
		expect(bad).toContain('The budget must be a positive amount of USD.')
		// Expiry as a date and a time, in UTC, shown with its zone.
		const edited = await post(h, `/ui/clients/${record.id}`, s, { name: 'team-budget', expires: '2031-05-06T17:45', budget_usd: '2.5', budget_period: 'week' })
		expect(edited.status).toBe(200)
		expect((await (await h.admin(`/admin/clients/${record.id}`)).json()).expires_at).toBe('2031-05-06T17:45:00.000Z')
		const after = await (await page(h, '/ui/clients', s.cookie)).text()
		expect(after).toContain('2031-05-06 17:45 UTC')
		expect(after).toContain('value="2031-05-06T17:45"')
	})
})
