/** The panel's money parts: spend over a date range with a trend, prices with an override, the client list's limits and budget. */
import { afterEach, describe, expect, test } from 'bun:test'
import { type Harness, harnessSet } from '../../support.ts'
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
