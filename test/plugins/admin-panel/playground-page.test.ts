/** The playground: the form, the upstream body before sending (key masked), a send through the pool logged as "panel"; errors at the field; hostile text escaped. */
import { afterEach, describe, expect, test } from 'bun:test'
import { maskKey } from '../../../core/secrets.ts'
import { harnessSet, KEYS } from '../../support.ts'
import { session } from './panel-support.ts'
import { flushLog, fragment, XSS } from './pages-support.ts'

const harnesses = harnessSet()
afterEach(() => harnesses.closeAll())

const BASE = {
	model: 'claude-sonnet-4-6',
	user: 'hello there',
	system: 'be brief',
	temperature: '0.5',
	max_tokens: '64',
	top_p: '0.9',
	reasoning_effort: 'low',
}
/** The JSON body shown in the preview. */
const previewBody = (text: string) =>
	JSON.parse(
		(/content-type: application\/json\n\n([\s\S]*?)<\/code>/.exec(text)?.[1] ?? '')
			.replace(/&quot;/g, '"')
			.replace(/&#39;/g, "'")
			.replace(/&lt;/g, '<')
			.replace(/&gt;/g, '>')
			.replace(/&amp;/g, '&'),
	) as Record<string, unknown>
const chatCalls = (h: { fake: { requests: { path: string }[] } }) => h.fake.requests.filter((r) => r.path.endsWith('/chat/completions'))

describe('playground page', () => {
	test('empty: the form with the catalogue models, the parameters and a linked nav entry', async () => {
		const h = await harnesses.start()
		const { status, text } = await fragment(h, await session(h), '/ui/playground', { full: true })
		expect(status).toBe(200)
		expect(text).toContain('<option value="claude-sonnet-4-6">')
		for (const name of ['temperature', 'max_tokens', 'top_p', 'reasoning_effort', 'system', 'user', 'tools', 'stream']) expect(text).toContain(`name="${name}"`)
		expect(text).toContain('href="/ui/playground"')
		expect(text).toContain('id="playground-result"')
	})

	test('preview: the exact body the upstream then receives, and a masked key; the preview itself sends nothing', async () => {
		const h = await harnesses.start()
		const s = await session(h)
		const { status, text } = await fragment(h, s, '/ui/playground/preview', { method: 'POST', form: BASE })
		expect(status).toBe(200)
		expect(chatCalls(h).length).toBe(0)
		const previewed = previewBody(text)
		// Not only the translation: the Claude rule that drops top_p beside temperature applies too.
		expect(previewed.top_p).toBeUndefined()
		expect(previewed.reasoning).toEqual({ effort: 'low' })
		expect(KEYS.some((k) => text.includes(`authorization: ${maskKey(k)}`))).toBe(true)
		for (const k of KEYS) expect(text).not.toContain(k)
		await fragment(h, s, '/ui/playground/send', { method: 'POST', form: BASE })
		expect((chatCalls(h)[0] as unknown as { body: unknown }).body).toEqual(previewed)
	})

	test('preview of a fake-streamed request: the plain upstream call it really makes', async () => {
		const h = await harnesses.start({ env: { FAKE_STREAM_ENABLED: 'true' } })
		const s = await session(h)
		const form = { ...BASE, stream: '1' }
		const previewed = previewBody((await fragment(h, s, '/ui/playground/preview', { method: 'POST', form })).text)
		expect(previewed.stream).toBeUndefined()
		const sent = await fragment(h, s, '/ui/playground/send', { method: 'POST', form })
		expect(sent.text).toContain('Echo: hello there')
		expect((chatCalls(h)[0] as unknown as { body: unknown }).body).toEqual(previewed)
	})

	test('send, not streamed: the answer, its usage and cost; counted and logged with the client "panel"', async () => {
		const h = await harnesses.start()
		const s = await session(h)
		const { status, text } = await fragment(h, s, '/ui/playground/send', { method: 'POST', form: BASE })
		expect(status).toBe(200)
		expect(text).toContain('Echo: hello there')
		expect(chatCalls(h).length).toBe(1)
		const sent = chatCalls(h)[0] as unknown as { body: Record<string, unknown> }
		expect(sent.body.temperature).toBe(0.5)
		expect(sent.body.reasoning).toEqual({ effort: 'low' })
		const usage = /<dt>Prompt tokens<\/dt><dd>(\d+)<\/dd><dt>Completion tokens<\/dt><dd>(\d+)<\/dd>/.exec(text)
		expect(Number(usage?.[1])).toBeGreaterThan(0)
		const cost = h.gateway.services.pricing?.costOf('claude-sonnet-4-6', { prompt_tokens: Number(usage?.[1]), completion_tokens: Number(usage?.[2]) }, 'us')
		const shownCost = /data-cost>([^<]+)</.exec(text)?.[1]
		expect(shownCost).toBe(cost ? `$${cost.usd < 0.01 ? cost.usd.toFixed(6) : cost.usd.toFixed(4)}` : 'unpriced')
		await flushLog(h)
		const rows = ((await (await h.admin('/admin/requests')).json()) as { data: { client: string | null; status: number }[] }).data
		expect(rows.map((r) => r.client)).toEqual(['panel'])
	})

	test('send, streamed: the whole answer once complete, with usage; the upstream call is a stream', async () => {
		const h = await harnesses.start()
		const s = await session(h)
		const { status, text } = await fragment(h, s, '/ui/playground/send', { method: 'POST', form: { ...BASE, stream: '1' } })
		expect(status).toBe(200)
		expect(text).toContain('Echo: hello there')
		expect(text).toContain('streamed, shown when complete')
		expect(text).toMatch(/<dt>Total tokens<\/dt><dd>[1-9]\d*<\/dd>/)
		const sent = chatCalls(h)[0] as unknown as { body: Record<string, unknown> }
		expect(sent.body.stream).toBe(true)
	})

	test('pricing off: the cost reads "unpriced"', async () => {
		const h = await harnesses.start({ env: { DISABLE_PLUGINS: 'pricing' } })
		const { text } = await fragment(h, await session(h), '/ui/playground/send', { method: 'POST', form: BASE })
		expect(text).toContain('data-cost>unpriced<')
	})

	test('bad JSON in tools: a 400 with the message at the field; nothing is sent', async () => {
		const h = await harnesses.start()
		const s = await session(h)
		const { status, text } = await fragment(h, s, '/ui/playground/send', { method: 'POST', form: { ...BASE, tools: '[{"type": "function",' } })
		expect(status).toBe(400)
		expect(text).toContain('Tools are not valid JSON')
		const full = await fragment(h, s, '/ui/playground/send', { method: 'POST', form: { ...BASE, tools: '{"a": 1}' }, full: true })
		expect(full.status).toBe(400)
		expect(full.text).toContain('aria-describedby="pg-tools-error"')
		expect(full.text).toContain('Tools must be a JSON array')
		// The typed values stay in the form.
		expect(full.text).toContain('>hello there</textarea>')
		expect(chatCalls(h).length).toBe(0)
	})

	test('tools nested 5,000 levels: a 400 at the field, as on /v1, never a stack overflow; nothing is sent', async () => {
		const h = await harnesses.start()
		const s = await session(h)
		const deep = `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`
		const tools = `[{"type":"function","function":{"name":"f","parameters":${deep}}}]`
		const { status, text } = await fragment(h, s, '/ui/playground/send', { method: 'POST', form: { ...BASE, tools } })
		expect(status).toBe(400)
		expect(text).toContain('Tools are nested deeper than 64 levels.')
		expect(chatCalls(h).length).toBe(0)
	})

	test('error: every key failing upstream is shown as a failure, not a blank page', async () => {
		const h = await harnesses.start({ env: { MAX_RETRIES: '0' } })
		const s = await session(h)
		h.fake.fault('*', { kind: 'status', status: 500 }, { times: 10 })
		const { status, text } = await fragment(h, s, '/ui/playground/send', { method: 'POST', form: BASE })
		expect(status).toBeGreaterThanOrEqual(500)
		expect(text).toContain('The request failed')
	})

	test('hostile names: a model not in the catalogue is refused, and every echoed text is escaped', async () => {
		const h = await harnesses.start()
		const s = await session(h)
		const refused = await fragment(h, s, '/ui/playground/preview', { method: 'POST', form: { ...BASE, model: XSS }, full: true })
		expect(refused.status).toBe(400)
		expect(refused.text).toContain('This model is not in the catalogue.')
		expect(refused.text).not.toContain(XSS)
		const sent = await fragment(h, s, '/ui/playground/send', { method: 'POST', form: { ...BASE, user: XSS, system: XSS } })
		expect(sent.status).toBe(200)
		expect(sent.text).not.toContain(XSS)
		expect(sent.text).toContain('Echo: &lt;script&gt;')
	})

	test('CSRF: a send without the token is refused and nothing reaches the upstream', async () => {
		const h = await harnesses.start()
		const s = await session(h)
		const response = await fragment(h, { cookie: s.cookie, csrf: 'wrong' }, '/ui/playground/send', { method: 'POST', form: BASE })
		expect(response.status).toBe(403)
		expect(chatCalls(h).length).toBe(0)
	})
})
