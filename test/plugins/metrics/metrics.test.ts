/** GET /metrics: authentication, and numbers that agree with what happened. */
import { afterEach, describe, expect, test } from 'bun:test'
import { Counter, exposition, Gauge, Histogram } from '../../../plugins/metrics/prometheus.ts'
import { maskKey } from '../../../core/secrets.ts'
import { API_PASSWORD, harnessSet, KEYS, PANEL_PASSWORD } from '../../support.ts'

const TOKEN = 'metrics-token-5f0c1a2b'
const harnesses = harnessSet(() => [TOKEN])
afterEach(() => harnesses.closeAll())

const scrape = async (h: Awaited<ReturnType<typeof harnesses.start>>, auth: string | null = TOKEN) => {
	const res = await h.call('/metrics', { auth })
	return { res, text: res.status === 200 ? await res.text() : '' }
}

/** The value of one sample, by metric name and exact label text. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
	const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`)
	for (const line of text.split('\n')) {
		if (!line.startsWith(`${name}{`) && line !== name && !line.startsWith(`${name} `)) continue
		const inside = /\{(.*)\}/.exec(line)?.[1] ?? ''
		const parts = inside ? inside.split(/,(?=[a-z_]+=")/) : []
		if (wanted.every((w) => parts.includes(w)) && parts.length === wanted.length) return Number(line.slice(line.lastIndexOf(' ') + 1))
	}
	return undefined
}

describe('/metrics', () => {
	test('needs METRICS_TOKEN or the panel password; the API password and nothing are refused', async () => {
		const h = await harnesses.start({ env: { METRICS_TOKEN: TOKEN } })
		expect((await scrape(h, null)).res.status).toBe(401)
		expect((await scrape(h, API_PASSWORD)).res.status).toBe(401)
		expect((await scrape(h, 'wrong')).res.status).toBe(401)
		const ok = await scrape(h, TOKEN)
		expect(ok.res.status).toBe(200)
		expect(ok.res.headers.get('content-type')).toContain('text/plain; version=0.0.4')
		expect((await scrape(h, PANEL_PASSWORD)).res.status).toBe(200)
		// Every line is a comment or a well-formed sample.
		for (const line of ok.text.trimEnd().split('\n'))
			expect(line).toMatch(/^(# (HELP|TYPE) [a-z_0-9]+ .+|[a-z_0-9]+(\{[^}]*\})? -?[0-9.e+-]+|[a-z_0-9]+(\{[^}]*\})? [+-]Inf|[a-z_0-9]+(\{[^}]*\})? NaN)$/)
	})

	test('requests, failure classes, upstream attempts, latency, headroom, storage and open streams', async () => {
		const h = await harnesses.start({ env: { METRICS_TOKEN: TOKEN, CALLS_PER_ROTATION: '100', RETRY_429_ENABLED: 'false' }, fakeOptions: { limit: 10 } })
		const model = 'claude-sonnet-4-6'
		for (let i = 0; i < 3; i++) expect((await h.chat({ model, messages: [{ role: 'user', content: `hi ${i}` }] })).status).toBe(200)
		h.fake.fault('*', { kind: 'status', status: 503, envelope: 'B' }, { times: 1 })
		expect((await h.chat({ model, messages: [{ role: 'user', content: 'fails' }] })).status).toBe(502)
		// The client's own bad input, refused upstream (a region the gateway refuses).
		expect((await h.chat({ model, model_region: 'us', messages: [{ role: 'user', content: 'x' }] })).status).toBe(400)

		// A stream held open: the gauge shows it while it flows, not after.
		h.fake.fault('*', { kind: 'stall', afterChunks: 1 }, { times: 1 })
		const controller = new AbortController()
		const open = await h.call('/v1/chat/completions', {
			method: 'POST',
			json: { model, stream: true, messages: [{ role: 'user', content: 'a long story' }] },
			signal: controller.signal,
		})
		expect(open.status).toBe(200)
		const reader = (open.body as ReadableStream<Uint8Array>).getReader()
		await reader.read()
		let text = (await scrape(h)).text
		expect(sample(text, 'amb2api_open_streams', { model })).toBe(1)
		controller.abort()
		await reader.cancel().catch(() => {})
		await Bun.sleep(50)
		text = (await scrape(h)).text
		expect(sample(text, 'amb2api_open_streams', { model })).toBe(0)

		expect(sample(text, 'amb2api_chat_requests_total', { model, status: '200', failure: 'none', stream: 'false' })).toBe(3)
		expect(sample(text, 'amb2api_chat_requests_total', { model, status: '502', failure: 'transient', stream: 'false' })).toBe(1)
		expect(sample(text, 'amb2api_chat_requests_total', { model, status: '400', failure: 'client', stream: 'false' })).toBe(1)
		expect(sample(text, 'amb2api_upstream_attempts_total', { model, outcome: 'success', status: '200' })).toBe(4)
		expect(sample(text, 'amb2api_upstream_attempts_total', { model, outcome: 'transient', status: '503' })).toBe(1)
		expect(sample(text, 'amb2api_upstream_attempt_duration_seconds_count', { model, outcome: 'success' })).toBe(4)
		expect(sample(text, 'amb2api_upstream_attempt_duration_seconds_bucket', { model, outcome: 'success', le: '+Inf' })).toBe(4)
		expect(sample(text, 'amb2api_http_requests_total', { method: 'POST', route: '/v1/chat/completions', status: '200' })).toBe(4)
		expect(sample(text, 'amb2api_http_requests_total', { method: 'POST', route: '/v1/chat/completions', status: '502' })).toBe(1)
		expect(sample(text, 'amb2api_chat_tokens_total', { model, kind: 'completion' })).toBeGreaterThan(0)

		// Headroom as the pool learned it from the fake's headers: limit 10, and the key's own use.
		const used = KEYS.map((k) => ({ k, n: h.fake.count(k, model).sent })).filter((x) => x.n > 0)
		expect(used.length).toBeGreaterThan(0)
		for (const { k } of used) {
			const id = ((await (await h.admin('/admin/rate-limits')).json()).rate_limits as { id: string; key: string }[]).find((r) => r.key === maskKey(k))
				?.id as string
			const labels = { key_id: id, key: maskKey(k), model }
			expect(sample(text, 'amb2api_key_limit_requests', labels)).toBe(10)
			expect(sample(text, 'amb2api_key_remaining_requests', labels)).toBeLessThan(10)
			expect(sample(text, 'amb2api_key_status', { key_id: id, key: maskKey(k), status: 'active' })).toBe(1)
		}
		expect(sample(text, 'amb2api_storage_healthy', { backend: 'memory' })).toBe(1)
		expect(sample(text, 'amb2api_storage_probe_duration_seconds_count', { backend: 'memory' })).toBe(2)
		expect(text).not.toContain(KEYS[0])
	})

	test('DISABLE_PLUGINS=metrics: no route, and the gateway still serves', async () => {
		const h = await harnesses.start({ env: { DISABLE_PLUGINS: 'metrics' } })
		expect((await h.call('/metrics', { auth: PANEL_PASSWORD })).status).toBe(404)
		expect((await h.chat({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'hi' }] })).status).toBe(200)
	})
})

describe('prometheus text', () => {
	test('escapes label values, keeps histograms cumulative, folds series beyond the cap into _other', () => {
		const c = new Counter('t_total', 'a "help"\nline', ['model'], 2)
		c.inc({ model: 'a"b\\c\nd' })
		c.inc({ model: 'x' })
		c.inc({ model: 'y' }, 2)
		c.inc({ model: 'z' })
		const h = new Histogram('t_seconds', 'h', [], [0.1, 1])
		for (const v of [0.05, 0.5, 5]) h.observe({}, v)
		const g = new Gauge('t_gauge', 'g', [])
		g.set({}, -1)
		expect(exposition([c, h, g])).toBe(
			[
				'# HELP t_total a "help"\\nline',
				'# TYPE t_total counter',
				't_total{model="a\\"b\\\\c\\nd"} 1',
				't_total{model="x"} 1',
				't_total{model="_other"} 3',
				'# HELP t_seconds h',
				'# TYPE t_seconds histogram',
				't_seconds_bucket{le="0.1"} 1',
				't_seconds_bucket{le="1"} 2',
				't_seconds_bucket{le="+Inf"} 3',
				't_seconds_sum 5.55',
				't_seconds_count 3',
				'# HELP t_gauge g',
				'# TYPE t_gauge gauge',
				't_gauge -1',
				'',
			].join('\n'),
		)
	})
})
