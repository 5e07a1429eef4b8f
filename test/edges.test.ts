/**
 * Honest records and clean edges: an unmatched route is a 404 in its log line and in /metrics;
 * the stored `model_region` takes only what the upstream accepts; a client key cannot be created
 * already expired; disabling a client key refuses its next request at once while a stream that
 * was already running finishes (the decision documented in docs/client-key-revocation.md).
 */
import { afterEach, describe, expect, test } from 'bun:test'
import OpenAI from 'openai'
import { harnessSet, KEYS, PANEL_PASSWORD } from './support.ts'

const harnesses = harnessSet()
afterEach(() => harnesses.closeAll())

describe('unmatched routes', () => {
	test('are logged and counted as 404', async () => {
		const h = await harnesses.start()
		expect((await h.call('/no/such/route')).status).toBe(404)
		expect((await h.call('/v1/nothing-here')).status).toBe(404)
		await Bun.sleep(100) // request lines are written after the answer
		const lines = h.logs.filter((l) => l.includes('"msg":"request"') && (l.includes('/no/such/route') || l.includes('/v1/nothing-here')))
		expect(lines).toHaveLength(2)
		for (const line of lines) expect(JSON.parse(line).status).toBe(404)
		const metrics = await (await h.call('/metrics', { auth: PANEL_PASSWORD })).text()
		expect(metrics).toMatch(/amb2api_http_requests_total\{method="GET",route="unmatched",status="404"\} 2/)
		expect(metrics).not.toContain('route="unmatched",status="200"')
	})
})

describe('model_region setting', () => {
	test('only "global" is stored; control characters and 10,000 characters are a 400 that does not echo them whole', async () => {
		const h = await harnesses.start()
		for (const bad of ['us', 'glo\u0000bal', 'x'.repeat(10_000), ' US ']) {
			const answer = await h.admin('/admin/settings', { method: 'PUT', json: { model_region: bad } })
			expect(answer.status).toBe(400)
			expect((await answer.text()).length).toBeLessThan(1000)
		}
		expect((await h.admin('/admin/settings', { method: 'PUT', json: { model_region: 'global' } })).status).toBe(200)
		const view = (await (await h.admin('/admin/settings')).json()).settings as { env: string; value: unknown }[]
		expect(view.find((v) => v.env === 'MODEL_REGION')?.value).toBe('global')
	})
})

describe('client keys', () => {
	test('expires_at in the past is a 400 at creation; in the future is fine', async () => {
		const h = await harnesses.start()
		const now = Math.floor(Date.now() / 1000)
		const past = await h.admin('/admin/clients', { method: 'POST', json: { name: 'old', expires_at: now - 60 } })
		expect(past.status).toBe(400)
		expect((await past.json()).error).toMatchObject({ code: 'expires_at_in_past', param: 'expires_at' })
		expect((await (await h.admin('/admin/clients')).json()).clients).toHaveLength(0)
		expect((await h.admin('/admin/clients', { method: 'POST', json: { name: 'new', expires_at: now + 3600 } })).status).toBe(201)
	})

	test('disabling a key: its running stream finishes, its next request is refused at once', async () => {
		const h = await harnesses.start()
		const created = await (await h.admin('/admin/clients', { method: 'POST', json: { name: 'streamer' } })).json()
		const base = await h.listen()
		const client = new OpenAI({ apiKey: created.key as string, baseURL: `${base}/v1`, maxRetries: 0 })
		for (const key of KEYS) h.fake.fault(key, { kind: 'trickle', intervalMs: 40, repeat: 5 }, { times: 1 })
		const stream = await client.chat.completions.create({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'tell a story' }], stream: true })
		let chunks = 0
		let disabled = false
		let finish: string | null = null
		for await (const chunk of stream) {
			chunks++
			if (!disabled) {
				disabled = true
				expect((await h.admin(`/admin/clients/${created.id}`, { method: 'PATCH', json: { enabled: false } })).status).toBe(200)
				const refused = await h.chat({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'again' }] }, created.key)
				expect(refused.status).toBe(403)
				expect((await refused.json()).error.code).toBe('client_key_disabled')
			}
			finish = chunk.choices[0]?.finish_reason ?? finish
		}
		expect(chunks).toBeGreaterThan(3)
		expect(finish).toBe('stop')
	})
})
