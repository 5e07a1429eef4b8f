/** The panel's money parts: spend over a date range with a trend, prices with an override, the client list's limits and budget. */
import { afterEach, describe, expect, test } from 'bun:test'
import { MemoryStorage } from '../../../core/storage.ts'
import { spendRange } from '../../../plugins/admin-panel/usage-page.ts'
import { translator } from '../../../views/i18n/i18n.ts'
import { pricesView } from '../../../views/prices.ts'
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
/** Memory storage whose counter reads can be made to fail. */
class FlakyCounters extends MemoryStorage {
	failing = false
	override async readCounters(prefix: string) {
		if (this.failing) throw new Error('counters unreadable (test)')
		return super.readCounters(prefix)
	}
}
const XSS = '<script>alert(1)</script>'
/** The body of the table under a heading of the spend section (the day's usage above it has headings of its own). */
const section = (text: string, heading: string) => {
	const start = text.indexOf(`<h3>${heading}</h3>`, text.indexOf('<section id="spend">'))
	expect(start).toBeGreaterThan(-1)
	return text.slice(start, text.indexOf('</table>', start))
}

/** The row of one client key in the list. */
const clientRow = (list: string, id: string) => {
	const start = list.indexOf(`<tr id="client-${id}"`)
	expect(start).toBeGreaterThan(-1)
	return list.slice(start, list.indexOf('</tr>', start))
}

describe('panel: client keys with limits, budget, spend and expiry', () => {
	test('the list shows limits, budget with what is left, spend today and expiry without opening Edit; the form sets a budget and rpm', async () => {
		const h = await harnesses.start()
		const s = await session(h)
		const made = await post(h, '/ui/clients', s, { name: 'team-budget', daily_limit: '50', budget_usd: '2.5', budget_period: 'week', rpm: '30', tpm: '' })
		expect(made.status).toBe(200)
		const key = /value="(sk-amb-[^"]+)"/.exec(await made.text())?.[1] as string
		created.push(key)
		const record = (await (await h.admin('/admin/clients')).json()).clients[0]
		expect(record).toMatchObject({ budget_usd: 2.5, budget_period: 'week', rpm: 30, tpm: null, daily_limit: 50, total_limit: null, expires_at: null })
		expect((await h.chat({ model: 'gpt-5', ...hello }, key)).status).toBe(200)
		const view = (await (await h.admin(`/admin/clients/${record.id}`)).json()) as {
			spent_today_usd: number
			budget: { remaining_usd: number; resets_at: string }
		}
		expect(view.spent_today_usd).toBeGreaterThan(0)
		const row = clientRow(await (await page(h, '/ui/clients', s.cookie)).text(), record.id)
		// Outside the <details> of Edit: the columns themselves.
		const columns = row.slice(0, row.indexOf('<details'))
		expect(columns).toContain('daily 50, total unlimited')
		expect(columns).toContain('30 requests/min')
		expect(columns).not.toContain('tokens/min')
		expect(columns).toContain(`$${view.spent_today_usd.toFixed(6)} of $2.50 per week`)
		expect(columns).toContain(`$${view.budget.remaining_usd.toFixed(2)} left until <time datetime="${view.budget.resets_at}" data-local>`)
		expect(columns).toContain(`<td class="num" data-field="spent-today">$${view.spent_today_usd.toFixed(6)}</td>`)
		expect(columns).toContain('<td data-field="expires">never</td>')
		// The edit form carries the values back.
		expect(row).toContain('name="budget_usd" type="number" min="0" step="any" value="2.5"')
		expect(row).toMatch(/<option value="week" selected>/)
		expect(row).toContain('name="rpm" type="number" min="1" value="30"')
	})

	test('a wrong budget, period, rate or expiry is refused with its reason and changes nothing', async () => {
		const h = await harnesses.start()
		const s = await session(h)
		const cases: [Record<string, string>, string][] = [
			[{ budget_usd: '-3' }, 'The budget must be a positive amount of USD.'],
			[{ budget_usd: 'lots' }, 'The budget must be a positive amount of USD.'],
			[{ budget_usd: '5', budget_period: 'year' }, 'The budget period must be day, week, month or total.'],
			[{ rpm: '0' }, 'Requests per minute must be a whole number of at least 1.'],
			[{ tpm: '1.5' }, 'Tokens per minute must be a whole number of at least 1.'],
			[{ expires_date: '2031-02-31' }, 'The expiry must be a date, with a time as HH:MM.'],
			[{ expires_date: '2031-02-01', expires_time: '25:00' }, 'The expiry must be a date, with a time as HH:MM.'],
			[{ expires_time: '10:00' }, 'The expiry must be a date, with a time as HH:MM.'],
			[{ expires_date: '2020-01-01' }, 'The expiry must be in the future.'],
			[{ expires_date: '2031-02-01', tz: 'Mars/Olympus_Mons' }, 'Unknown time zone Mars/Olympus_Mons: reload the panel.'],
			[{ expires_date: '2031-02-01', tz: '<script>' }, 'Unknown time zone &lt;script&gt;: reload the panel.'],
		]
		for (const [fields, reason] of cases) {
			const answer = await post(h, '/ui/clients', s, { name: 'x', ...fields })
			expect(answer.status).toBe(200)
			const text = await answer.text()
			expect({ fields, error: text.includes('notice-error') && text.includes(reason) }).toEqual({ fields, error: true })
		}
		expect((await (await h.admin('/admin/clients')).json()).clients).toEqual([])
	})

	test('expiry is a date and a time in the zone the form names, stored in UTC and shown with its zone; reset_used starts the counters again', async () => {
		const h = await harnesses.start()
		const s = await session(h)
		const made = await (await post(h, '/ui/clients', s, { name: 'team-tz', daily_limit: '3' })).text()
		const key = /value="(sk-amb-[^"]+)"/.exec(made)?.[1] as string
		created.push(key)
		const id = (await (await h.admin('/admin/clients')).json()).clients[0].id as string
		// 17:45 in Berlin in May is 15:45 UTC (summer time); in January 16:45.
		const edit = (fields: Record<string, string>) => post(h, `/ui/clients/${id}`, s, { name: 'team-tz', daily_limit: '3', enabled: '1', ...fields })
		expect((await edit({ expires_date: '2031-05-06', expires_time: '17:45', tz: 'Europe/Berlin' })).status).toBe(200)
		expect((await (await h.admin(`/admin/clients/${id}`)).json()).expires_at).toBe('2031-05-06T15:45:00.000Z')
		await edit({ expires_date: '2031-01-06', expires_time: '17:45', tz: 'Europe/Berlin' })
		expect((await (await h.admin(`/admin/clients/${id}`)).json()).expires_at).toBe('2031-01-06T16:45:00.000Z')
		// Without a zone (no JavaScript) the fields are UTC, as the form says; a date alone is midnight.
		await edit({ expires_date: '2031-05-06', expires_time: '17:45' })
		expect((await (await h.admin(`/admin/clients/${id}`)).json()).expires_at).toBe('2031-05-06T17:45:00.000Z')
		const list = await (await page(h, '/ui/clients', s.cookie)).text()
		const row = clientRow(list, id)
		expect(row).toContain('<td data-field="expires"><time datetime="2031-05-06T17:45:00.000Z" data-local>2031-05-06 17:45 UTC</time></td>')
		expect(row).toContain('data-zoned data-utc="2031-05-06T17:45:00.000Z"')
		expect(row).toContain('name="expires_date" type="date" value="2031-05-06"')
		expect(row).toContain('name="expires_time" type="time" value="17:45"')
		expect(row).toContain('<input type="hidden" name="tz" value="UTC" data-zone-field>')
		expect(row).toContain('data-template="time zone {zone}">time zone UTC</span>')
		await edit({ expires_date: '2031-05-06' })
		expect((await (await h.admin(`/admin/clients/${id}`)).json()).expires_at).toBe('2031-05-06T00:00:00.000Z')
		await edit({})
		expect((await (await h.admin(`/admin/clients/${id}`)).json()).expires_at).toBeNull()
		// reset_used: the day's quota starts again.
		for (let i = 0; i < 3; i++) expect((await h.chat({ model: 'gpt-5', ...hello }, key)).status).toBe(200)
		expect((await h.chat({ model: 'gpt-5', ...hello }, key)).status).toBe(429)
		const kept = await (await edit({})).text()
		expect(kept).toContain('Client key team-tz saved.')
		expect((await h.chat({ model: 'gpt-5', ...hello }, key)).status).toBe(429)
		const reset = await (await edit({ reset_used: '1' })).text()
		expect(reset).toContain('Client key team-tz saved; its counters start again from 0.')
		expect((await (await h.admin(`/admin/clients/${id}`)).json()).used_today).toBe(0)
		expect((await h.chat({ model: 'gpt-5', ...hello }, key)).status).toBe(200)
	})
})

describe('panel: spend over a date range', () => {
	test('spend per model, upstream key and client key over the range; unpriced requests marked, never $0; a 30-day trend; the CSV of the range', async () => {
		const c = testClock(Date.UTC(2026, 10, 26, 12, 0, 0))
		const h = await harnesses.start({ now: c.now })
		let s = await session(h)
		const made = await (await post(h, '/ui/clients', s, { name: XSS })).text()
		const key = /value="(sk-amb-[^"]+)"/.exec(made)?.[1] as string
		created.push(key)
		expect((await h.chat({ model: 'gpt-5', ...hello }, key)).status).toBe(200)
		c.advance(86_400_000)
		expect((await h.chat({ model: 'qwen3-next-80b-a3b', ...hello })).status).toBe(200)
		expect((await h.chat({ model: 'gpt-5', ...hello })).status).toBe(200)
		// A session lasts less than a day.
		s = await session(h)
		const both = await (await h.admin('/admin/usage/spend?from=2026-11-26&to=2026-11-27')).json()
		const full = await (await page(h, '/ui/usage', s.cookie)).text()
		expect(full).toContain('<section id="usage">')
		expect(full).toContain('<section id="spend">')
		// The default range: the last 7 usage days, ending today.
		expect(full).toContain('id="spend-from" type="date" name="from" value="2026-11-21"')
		expect(full).toContain('id="spend-to" type="date" name="to" value="2026-11-27"')
		const totals = section(full, 'Total')
		expect(totals).toContain(`$${both.totals.cost_usd.toFixed(6)} <span class="unpriced small" data-unpriced>+ 1 without a price</span>`)
		const models = section(full, 'Per model')
		const gpt = models.slice(models.indexOf('<code>gpt-5</code>'))
		expect(gpt.slice(0, gpt.indexOf('</tr>'))).toContain(`<td class="num" data-field="cost">$${both.models['gpt-5'].cost_usd.toFixed(6)}</td>`)
		const qwen = models.slice(models.indexOf('<code>qwen3-next-80b-a3b</code>'))
		expect(qwen.slice(0, qwen.indexOf('</tr>'))).toContain(
			'<td class="num" data-field="cost"><span class="unpriced" data-unpriced>no price</span></td><td class="num" data-field="unpriced">1</td>',
		)
		expect(models).not.toContain('$0.00<')
		// Per upstream key: masked keys only; per client key: the hostile name as text.
		const keys = section(full, 'Per upstream key')
		for (const k of both.keys) expect(keys).toContain(`<code>${k.key}</code>`)
		const clients = section(full, 'Per client key')
		expect(clients).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
		expect(full).not.toContain(XSS)
		expect(clients).toContain(`$${both.clients[0].totals.cost_usd.toFixed(6)}`)
		// The trend: 30 usage days ending on the range's last, each saying its cost; an unpriced day is marked.
		const bars = [...full.matchAll(/<g data-day="([\d-]+)" data-cost="([^"]*)">/g)].map((m) => [m[1], m[2]])
		expect(bars).toHaveLength(30)
		expect(bars[0]?.[0]).toBe('2026-10-29')
		expect(bars[29]).toEqual(['2026-11-27', String(both.days[1].cost_usd)])
		expect(bars[28]).toEqual(['2026-11-26', String(both.days[0].cost_usd)])
		expect(full).toContain('<title>2026-11-27: $')
		expect(full).toContain('; 1 unpriced request(s)</title>')
		expect((full.match(/class="chart-unpriced"/g) ?? []).length).toBe(1)
		// The CSV link is for the same range, and the panel session may follow it.
		expect(full).toContain('href="/admin/usage/export?from=2026-11-21&amp;to=2026-11-27" download')
		const csv = await page(h, '/admin/usage/export?from=2026-11-21&to=2026-11-27', s.cookie)
		expect(csv.status).toBe(200)
		expect((await csv.text()).split('\n').filter((l) => l.includes('gpt-5'))).toHaveLength(2)

		// One day, as htmx asks for it: only the spend section, only that day's models.
		const one = await (await page(h, '/ui/usage/spend?from=2026-11-26&to=2026-11-26', s.cookie, true)).text()
		expect(one.startsWith('<section id="spend">')).toBe(true)
		expect(section(one, 'Per model')).toContain('<code>gpt-5</code>')
		expect(section(one, 'Per model')).not.toContain('qwen3-next-80b-a3b')
		expect(one).toContain('href="/admin/usage/export?from=2026-11-26&amp;to=2026-11-26"')
		expect([...one.matchAll(/<g data-day="([\d-]+)"/g)].map((m) => m[1]).at(-1)).toBe('2026-11-26')
		// Without htmx the same address is the whole page with that range.
		const whole = await (await page(h, '/ui/usage/spend?from=2026-11-26&to=2026-11-26', s.cookie)).text()
		expect(whole).toContain('<html')
		expect(whole).toContain('<section id="usage">')
		expect(whole).toContain('name="from" value="2026-11-26"')
	})

	test('a range that cannot be used is said, and the last 7 days are shown instead; never an error page', async () => {
		const c = testClock(Date.UTC(2026, 10, 26, 12, 0, 0))
		const h = await harnesses.start({ now: c.now })
		const s = await session(h)
		for (const query of ['from=garbage&to=2026-11-26', 'from=2026-11-27&to=2026-11-20', 'from=2024-01-01&to=2026-11-26', 'to=2026-02-31']) {
			const answer = await page(h, `/ui/usage/spend?${query}`, s.cookie, true)
			expect(answer.status).toBe(200)
			const text = await answer.text()
			expect({ query, refused: text.includes('notice-error') && text.includes('That range cannot be shown') }).toEqual({ query, refused: true })
			expect(text).toContain('name="to" value="2026-11-')
		}
		const fine = await (await page(h, '/ui/usage/spend?from=&to=2026-11-20', s.cookie, true)).text()
		expect(fine).not.toContain('notice-error')
		expect(fine).toContain('name="from" value="2026-11-14"')
	})

	test('spendRange: defaults, a year at most, backwards and wrong dates refused', () => {
		const today = '2026-11-26'
		expect(spendRange(undefined, undefined, today)).toEqual({ from: '2026-11-20', to: '2026-11-26', refused: false })
		expect(spendRange('2026-11-01', undefined, today)).toEqual({ from: '2026-11-01', to: '2026-11-26', refused: false })
		expect(spendRange('2026-11-01', '2026-11-03', today)).toEqual({ from: '2026-11-01', to: '2026-11-03', refused: false })
		expect(spendRange('2025-11-27', '2026-11-26', today)).toEqual({ from: '2025-11-27', to: '2026-11-26', refused: false })
		expect(spendRange('2025-11-25', '2026-11-26', today)).toEqual({ from: '2026-11-20', to: '2026-11-26', refused: true })
		expect(spendRange('2026-11-04', '2026-11-03', today)).toEqual({ from: '2026-10-28', to: '2026-11-03', refused: true })
		expect(spendRange('2026-13-01', undefined, today)).toEqual({ from: '2026-11-20', to: '2026-11-26', refused: true })
		expect(spendRange(['2026-11-01'], undefined, today).refused).toBe(true)
	})

	test('fragment states: empty, and an error when the counters cannot be read', async () => {
		const storage = new FlakyCounters()
		const h = await harnesses.start({ storage })
		const s = await session(h)
		const empty = await (await page(h, '/ui/usage/spend', s.cookie, true)).text()
		expect(empty.startsWith('<section id="spend">')).toBe(true)
		expect((empty.match(/Nothing in this range\./g) ?? []).length).toBe(3)
		expect(section(empty, 'Total')).toContain('<td class="num" data-field="cost">$0.00</td><td class="num" data-field="unpriced">0</td>')
		expect([...empty.matchAll(/<g data-day=/g)]).toHaveLength(30)
		expect(empty).not.toContain('class="chart-unpriced"')
		storage.failing = true
		const failed = await page(h, '/ui/usage/spend', s.cookie, true)
		expect(failed.status).toBe(200)
		const text = await failed.text()
		expect(text).toContain('notice-error')
		expect(text).toContain('Spend cannot be read: counters unreadable (test)')
		// The picker stays, so the operator can try again.
		expect(text).toContain('id="spend-from"')
	})
})

describe('panel: prices on the models page', () => {
	const priceRow = (text: string, model: string) => {
		const start = text.indexOf(`<tr id="price-${model.replace(/[^A-Za-z0-9_-]/g, '_')}"`)
		expect(start).toBeGreaterThan(-1)
		return text.slice(start, text.indexOf('</tr>', start))
	}
	const priceOf = async (h: Harness, model: string) => (await (await h.admin('/admin/prices')).json()).models.find((r: { model: string }) => r.model === model)

	test('each model with its prices and source; an unpriced model says so; the override is saved, shown as such, and removed', async () => {
		const h = await harnesses.start()
		const s = await session(h)
		const models = await (await page(h, '/ui/models', s.cookie)).text()
		expect(models).toContain('<section id="models">')
		expect(models).toContain('<section id="prices">')
		const gpt = priceRow(models, 'gpt-5')
		expect(gpt).toContain('data-source="catalog"')
		expect(gpt).toContain('>catalog</span>')
		expect(gpt).toContain(
			'<td class="num" data-field="prompt">1.25</td><td class="num" data-field="completions">10</td><td class="num" data-field="input_cache_read">0.125</td><td class="num" data-field="input_cache_write">–</td>',
		)
		// US pays its own tier, EU the global raised by 10 %.
		expect(gpt).toContain('<td class="num" data-field="regional">1.375 / 1.375</td>')
		expect(gpt).toContain('Set an override')
		expect(gpt).not.toContain('Use the catalog price')
		const qwen = priceRow(models, 'qwen3-next-80b-a3b')
		expect(qwen).toContain('data-source="unpriced"')
		expect(qwen).toContain('>no price</span><br><span class="muted small">tokens are counted, the cost is unknown</span>')
		expect(qwen).toContain('<td class="num" data-field="regional">–</td>')

		const saved = await (
			await post(h, '/ui/models/prices', s, { model: 'gpt-5', action: 'save', prompt: '0.5', completions: '4', input_cache_read: '' })
		).text()
		expect(saved.startsWith('<section id="prices">')).toBe(true)
		expect(saved).toContain('Saved: gpt-5 now costs your prices.')
		expect(await priceOf(h, 'gpt-5')).toMatchObject({
			source: 'override',
			override: { global: { prompt: 0.5, completions: 4 }, regional_increase_percent: 10 },
		})
		expect((await priceOf(h, 'gpt-5')).override.global.input_cache_read).toBeUndefined()
		const overridden = priceRow(saved, 'gpt-5')
		expect(overridden).toContain('data-source="override"')
		expect(overridden).toContain('<td class="num" data-field="prompt">0.5</td>')
		expect(overridden).toContain('<td class="num" data-field="regional">0.55 / 0.55</td>')
		expect(overridden).toContain('name="prompt" type="number" min="0" max="100000" step="any" value="0.5"')
		expect(overridden).toContain('Use the catalog price')
		// The override is what a request costs from now on.
		expect((await h.chat({ model: 'gpt-5', ...hello })).status).toBe(200)

		// An unpriced model can be given a price, and loses it again on removal.
		await post(h, '/ui/models/prices', s, { model: 'qwen3-next-80b-a3b', action: 'save', prompt: '0.1', completions: '0.2' })
		expect((await priceOf(h, 'qwen3-next-80b-a3b')).source).toBe('override')
		const unpricedAgain = await (await post(h, '/ui/models/prices', s, { model: 'qwen3-next-80b-a3b', action: 'remove' })).text()
		expect(unpricedAgain).toContain('Removed: qwen3-next-80b-a3b has no price again.')

		const removed = await (await post(h, '/ui/models/prices', s, { model: 'gpt-5', action: 'remove' })).text()
		expect(removed).toContain('Removed: gpt-5 costs the catalog price again.')
		expect((await priceOf(h, 'gpt-5')).source).toBe('catalog')
		expect(priceRow(removed, 'gpt-5')).toContain('<td class="num" data-field="prompt">1.25</td>')
	})

	test('a wrong price is said at its field, what was typed stays, and nothing is stored', async () => {
		const h = await harnesses.start()
		const s = await session(h)
		const cases: [Record<string, string>, string, string][] = [
			[{ prompt: '-1', completions: '2' }, 'prompt', 'Prompt must be a number from 0 to 100000 (USD per million tokens).'],
			[{ prompt: '1', completions: 'lots' }, 'completions', 'Completion must be a number from 0 to 100000 (USD per million tokens).'],
			[
				{ prompt: '1', completions: '2', input_cache_write_1h: '100001' },
				'input_cache_write_1h',
				'Cache write 1 h must be a number from 0 to 100000 (USD per million tokens).',
			],
			[{ prompt: '1', completions: '' }, 'completions', 'Completion is needed.'],
		]
		for (const [fields, field, reason] of cases) {
			const text = await (await post(h, '/ui/models/prices', s, { model: 'gpt-5', action: 'save', ...fields })).text()
			const row = priceRow(text, 'gpt-5')
			expect(row).toContain('<details id="p-gpt-5-edit" open>')
			expect(row).toContain(`id="p-gpt-5-${field}" name="${field}" type="number" min="0" max="100000" step="any" value="${fields[field] ?? ''}"`)
			expect(row).toMatch(new RegExp(`id="p-gpt-5-${field}"[^>]* aria-invalid="true" aria-describedby="p-gpt-5-${field}-error"`))
			expect(row).toContain(`<p id="p-gpt-5-${field}-error" class="field-error" role="alert">${reason}</p>`)
			// Only that field is marked; the other typed values stay.
			expect((row.match(/aria-invalid/g) ?? []).length).toBe(1)
			if (field !== 'prompt') expect(row).toContain(`name="prompt" type="number" min="0" max="100000" step="any" value="${fields.prompt}"`)
			expect((await priceOf(h, 'gpt-5')).source).toBe('catalog')
		}
		// A model that is neither in the catalog nor overridden, with a hostile name: said as text, nothing stored.
		const unknown = await (await post(h, '/ui/models/prices', s, { model: XSS, action: 'save', prompt: '1', completions: '2' })).text()
		expect(unknown).toContain('notice-error')
		expect(unknown).toContain('No model &lt;script&gt;alert(1)&lt;/script&gt; in the catalog or the overrides.')
		expect(unknown).not.toContain(XSS)
		expect((await (await h.admin('/admin/prices')).json()).models.some((r: { model: string }) => r.model === XSS)).toBe(false)
	})

	test('view states: error, empty, and a hostile model name among the overrides', () => {
		const t = translator('en')
		const failed = pricesView(t, { rows: null, error: 'storage down <b>' }).toString()
		expect(failed).toContain('Prices cannot be read: storage down &lt;b&gt;')
		expect(pricesView(t, { rows: [] }).toString()).toContain('No model has a price or an override yet.')
		const hostile = pricesView(t, {
			rows: [
				{
					model: XSS,
					source: 'override',
					prices: { global: { prompt: 1, completions: 2 } },
					override: { global: { prompt: 1, completions: 2 } },
					regional_prompt: { us: 1.1, eu: 1.1 },
					in_catalog: false,
				},
			],
		}).toString()
		expect(hostile).not.toContain(XSS)
		expect(hostile).toContain('<code>&lt;script&gt;alert(1)&lt;/script&gt;</code>')
		expect(hostile).toContain('no longer in the catalog')
		expect(hostile).toContain('Remove the override')
		expect(hostile).toContain('hx-confirm="Remove the override of &lt;script&gt;alert(1)&lt;/script&gt;?"')
	})

	test('without the pricing plugin the models page has no prices and no price route', async () => {
		const h = await harnesses.start({ env: { DISABLE_PLUGINS: 'pricing' } })
		const s = await session(h)
		const models = await (await page(h, '/ui/models', s.cookie)).text()
		expect(models).toContain('<section id="models">')
		expect(models).not.toContain('<section id="prices">')
		expect((await post(h, '/ui/models/prices', s, { model: 'gpt-5', action: 'remove' })).status).toBe(404)
	})
})
