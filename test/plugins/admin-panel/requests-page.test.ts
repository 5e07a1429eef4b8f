/** The request-log page: filters as GET /admin/requests takes them, paging, CSV link, the waterfall; empty, populated, error, hostile names. */
import { afterEach, describe, expect, test } from 'bun:test'
import { harnessSet, KEYS } from '../../support.ts'
import { session } from './panel-support.ts'
import { FlakyLogStorage, flushLog, fragment, XSS } from './pages-support.ts'

const harnesses = harnessSet()
afterEach(() => harnesses.closeAll())

describe('request log page', () => {
	test('empty: the filter form, the CSV link, no rows', async () => {
		const h = await harnesses.start()
		const { text } = await fragment(h, await session(h), '/ui/requests')
		expect(text).toContain('data-requests-filters')
		expect(text).toContain('href="/admin/requests.csv"')
		expect(text).toContain('data-requests="none"')
	})

	test('populated: one row per request with client, models, masked key, status class, timings, tokens; filters and paging as the API', async () => {
		const h = await harnesses.start()
		const s = await session(h)
		for (let i = 0; i < 3; i++) expect((await h.chat({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'hi' }] })).status).toBe(200)
		expect((await h.chat({ model: `no-such-${XSS}`, messages: [{ role: 'user', content: 'hi' }] })).status).toBe(404)
		await flushLog(h)
		const all = await fragment(h, s, '/ui/requests')
		expect(all.text.match(/data-request="/g)?.length).toBe(4)
		expect(all.text).toContain('API password')
		expect(all.text).toContain('data-error-class="client"')
		expect(all.text).toMatch(/\d+ in, \d+ out, 0 cached/)
		expect(all.text).not.toContain(XSS)
		expect(all.text).toContain('no-such-&lt;script&gt;')
		for (const key of KEYS) expect(all.text).not.toContain(key)
		// The same query parameters as the API: status filter, a page of 2, the next page, the CSV with the filters.
		const api = (await (await h.admin('/admin/requests?status=200&limit=2')).json()) as { data: { id: string }[]; next_cursor: string }
		const page = await fragment(h, s, '/ui/requests?status=200&limit=2')
		expect(page.text.match(/data-request="/g)?.length).toBe(2)
		for (const row of api.data) expect(page.text).toContain(`data-request="${row.id}"`)
		expect(page.text).toContain(`cursor=${encodeURIComponent(api.next_cursor)}`)
		expect(page.text).toContain('href="/admin/requests.csv?status=200&amp;limit=2"')
		const next = await fragment(h, s, `/ui/requests?status=200&limit=2&cursor=${encodeURIComponent(api.next_cursor)}`)
		expect(next.text.match(/data-request="/g)?.length).toBe(1)
		expect(next.text).not.toContain('data-next')
		// The CSV link works with the panel session.
		const csv = await h.call('/admin/requests.csv?status=200', { auth: null, headers: { cookie: s.cookie } })
		expect(csv.status).toBe(200)
		expect((await csv.text()).trim().split('\n')).toHaveLength(4)
	})

	test('a wrong filter is said beside the form, not a 5xx', async () => {
		const h = await harnesses.start()
		const { status, text } = await fragment(h, await session(h), '/ui/requests?status=abc&from=yesterday')
		expect(status).toBe(200)
		expect(text).toContain('The filter')
		expect(text).toContain('value="abc"')
	})

	test('detail: the facts and the timings as a waterfall; an unknown id says so', async () => {
		const h = await harnesses.start()
		const s = await session(h)
		await (await h.chat({ model: 'claude-sonnet-4-6', stream: true, messages: [{ role: 'user', content: 'hi' }] })).text()
		await flushLog(h)
		const id = ((await (await h.admin('/admin/requests')).json()) as { data: { id: string }[] }).data[0]?.id as string
		const { text } = await fragment(h, s, `/ui/requests/${encodeURIComponent(id)}`, { full: true })
		expect(text).toContain('<h1>Request log</h1>')
		expect(text).toContain('class="chart waterfall"')
		for (const stage of ['admission', 'upstream', 'first_byte', 'first_token', 'answer']) expect(text).toContain(`data-stage="${stage}"`)
		expect(text).toContain('stream')
		const missing = await fragment(h, s, '/ui/requests/no-such-id')
		expect(missing.text).toContain('No such request')
	})

	test('error: the log cannot be read', async () => {
		const storage = new FlakyLogStorage()
		const h = await harnesses.start({ storage })
		const s = await session(h)
		storage.failing = true
		const { status, text } = await fragment(h, s, '/ui/requests')
		expect(status).toBe(200)
		expect(text).toContain('The request log cannot be read: request log read failed (test)')
		expect((await fragment(h, s, '/ui/requests/x')).text).toContain('request log read failed (test)')
	})
})
