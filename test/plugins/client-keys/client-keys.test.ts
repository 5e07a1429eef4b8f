import { afterEach, describe, expect, test } from 'bun:test'
import OpenAI from 'openai'
import { keyId } from '../../../core/secrets.ts'
import { MemoryStorage } from '../../../core/storage.ts'
import { generateClientKey, maskClientKey } from '../../../plugins/client-keys/client-keys.ts'
import { API_PASSWORD, type Harness, harnessSet, testClock } from '../../support.ts'

/** Full client keys created in a test: none may appear in any log line. */
let created: string[] = []
const harnesses = harnessSet(() => created)
afterEach(async () => {
	await harnesses.closeAll()
	created = []
})
const start = harnesses.start

const clock = testClock

const msg = (content = 'hi') => [{ role: 'user', content }]
const ask = (h: Harness, key: string, model = 'claude-sonnet-4-6') => h.chat({ model, messages: msg() }, key)

async function createClient(h: Harness, body: Record<string, unknown>) {
	const response = await h.admin('/admin/clients', { method: 'POST', json: body })
	expect(response.status).toBe(201)
	const record = await response.json()
	created.push(record.key)
	return record as { key: string; id: string; masked_key: string } & Record<string, unknown>
}

async function refusal(response: Response, status: number, code: string) {
	expect(response.status).toBe(status)
	const error = (await response.json()).error
	expect(error.code).toBe(code)
	return error
}

describe('client API keys', () => {
	test('creation shows the full key once; list and get show it masked; the key works with the openai SDK', async () => {
		const h = await start()
		const record = await createClient(h, { name: 'team-a', daily_limit: 100, allowed_models: ['claude-sonnet-4-6', 'gpt-5'] })
		expect(record.key).toMatch(/^sk-amb-[A-Za-z0-9_-]{32}$/)
		expect(record).toMatchObject({
			id: keyId(record.key),
			name: 'team-a',
			masked_key: maskClientKey(record.key),
			enabled: true,
			status: 'active',
			daily_limit: 100,
			total_limit: null,
			allowed_models: ['claude-sonnet-4-6', 'gpt-5'],
			expires_at: null,
			used_today: 0,
			used_total: 0,
		})
		expect(record.masked_key).toMatch(/^sk-amb-.{4}\.\.\..{4}$/)

		const list = await (await h.admin('/admin/clients')).text()
		const one = await (await h.admin(`/admin/clients/${record.id}`)).text()
		for (const text of [list, one]) {
			expect(text).not.toContain(record.key)
			expect(text).not.toContain(record.key.slice(7, 20))
			expect(text).toContain(record.masked_key)
		}
		expect(JSON.parse(one).key).toBeUndefined()
		// Storage holds the hash id and the masked form only.
		expect(JSON.stringify(await h.storage.listDocs('clients'))).not.toContain(record.key.slice(7))

		const url = await h.listen()
		const sdk = new OpenAI({ baseURL: `${url}/v1`, apiKey: record.key, maxRetries: 0 })
		const completion = await sdk.chat.completions.create({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'Say hi' }] })
		expect(completion.choices[0]!.message.content).toBe('Echo: Say hi')
		expect((await sdk.models.list()).data.length).toBeGreaterThan(0)
		const denied = await sdk.chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e)
		expect(denied).toBeInstanceOf(OpenAI.PermissionDeniedError)
		expect((denied as InstanceType<typeof OpenAI.PermissionDeniedError>).code).toBe('model_not_allowed')

		const after = await (await h.admin(`/admin/clients/${record.id}`)).json()
		expect(after).toMatchObject({ used_today: 1, used_total: 1 })
	})

	test('daily quota: 429 quota_exceeded with Retry-After until 07:00 UTC, then usable again', async () => {
		const c = clock()
		const h = await start({ now: c.now })
		const { key } = await createClient(h, { name: 'daily', daily_limit: 2 })
		expect((await ask(h, key)).status).toBe(200)
		expect((await ask(h, key)).status).toBe(200)
		const response = await ask(h, key)
		expect(response.headers.get('retry-after')).toBe(String(19 * 3600))
		const error = await refusal(response, 429, 'quota_exceeded')
		expect(error.type).toBe('rate_limit_error')
		expect(error.message).toContain('daily quota of 2')
		expect(error.message).toContain('2026-11-27T07:00:00.000Z')
		// The API password is not affected by a client's quota.
		expect((await ask(h, API_PASSWORD)).status).toBe(200)
		c.set(Date.parse('2026-11-27T07:00:00.000Z'))
		expect((await ask(h, key)).status).toBe(200)
	})

	test('total quota: 429 quota_exceeded without Retry-After; a failed upstream request does not spend it', async () => {
		const c = clock()
		const h = await start({ now: c.now })
		const { key, id } = await createClient(h, { name: 'total', total_limit: 2 })
		expect((await ask(h, key)).status).toBe(200)
		// Every attempt fails upstream: the client gets a 5xx and keeps its quota.
		h.fake.fault('*', { kind: 'status', status: 500 }, { persistent: true })
		expect((await ask(h, key)).status).toBeGreaterThanOrEqual(500)
		h.fake.clearFaults()
		expect((await (await h.admin(`/admin/clients/${id}`)).json()).used_total).toBe(1)
		c.advance(86_400_000)
		expect((await ask(h, key)).status).toBe(200)
		const response = await ask(h, key)
		expect(response.headers.get('retry-after')).toBeNull()
		expect((await refusal(response, 429, 'quota_exceeded')).message).toContain('total quota of 2')
		// A client's own bad request was accepted: it spends quota (the limit counts accepted requests).
		const { key: other, id: otherId } = await createClient(h, { name: 'other', total_limit: 5 })
		expect(
			(await h.chat({ model: 'qwen3.5-4b-32k-fast', messages: msg('weather?'), tools: [{ type: 'function', function: { name: 'f', parameters: {} } }] }, other))
				.status,
		).toBe(400)
		expect((await (await h.admin(`/admin/clients/${otherId}`)).json()).used_total).toBe(1)
	})

	test('model allow-list: 403 model_not_allowed; [] allows none; null all', async () => {
		const h = await start()
		const { key, id } = await createClient(h, { name: 'gpt only', allowed_models: ['gpt-5'] })
		expect((await ask(h, key, 'gpt-5')).status).toBe(200)
		const error = await refusal(await ask(h, key, 'claude-sonnet-4-6'), 403, 'model_not_allowed')
		expect(error.type).toBe('permission_error')
		expect(error.message).toContain('claude-sonnet-4-6')
		await h.admin(`/admin/clients/${id}`, { method: 'PATCH', json: { allowed_models: [] } })
		await refusal(await ask(h, key, 'gpt-5'), 403, 'model_not_allowed')
		await h.admin(`/admin/clients/${id}`, { method: 'PATCH', json: { allowed_models: null } })
		expect((await ask(h, key, 'claude-sonnet-4-6')).status).toBe(200)
		// Refused requests spend no quota.
		expect((await (await h.admin(`/admin/clients/${id}`)).json()).used_total).toBe(2)
	})

	test('expiry, disable and delete: 403 client_key_expired, 403 client_key_disabled, 401 after deletion', async () => {
		const c = clock()
		const h = await start({ now: c.now })
		const { key, id } = await createClient(h, { name: 'short', expires_at: Math.floor(c.now() / 1000) + 60 })
		expect((await ask(h, key)).status).toBe(200)
		c.advance(60_000)
		const expired = await refusal(await ask(h, key), 403, 'client_key_expired')
		expect(expired.message).toContain('2026-11-26T12:01:00.000Z')
		expect((await (await h.admin(`/admin/clients/${id}`)).json()).status).toBe('expired')
		expect((await h.admin(`/admin/clients/${id}`, { method: 'PATCH', json: { expires_at: null } })).status).toBe(200)
		expect((await ask(h, key)).status).toBe(200)

		expect((await h.admin(`/admin/clients/${id}`, { method: 'PATCH', json: { enabled: false } })).status).toBe(200)
		await refusal(await ask(h, key), 403, 'client_key_disabled')
		await refusal(await h.call('/v1/models', { auth: key }), 403, 'client_key_disabled')
		expect((await (await h.admin('/admin/clients')).json()).clients[0]).toMatchObject({ id, enabled: false, status: 'disabled' })
		await h.admin(`/admin/clients/${id}`, { method: 'PATCH', json: { enabled: true, name: 'renamed' } })
		expect((await ask(h, key)).status).toBe(200)

		expect((await h.admin(`/admin/clients/${id}`, { method: 'DELETE' })).status).toBe(200)
		await refusal(await ask(h, key), 401, 'invalid_api_key')
		expect((await h.admin(`/admin/clients/${id}`, { method: 'DELETE' })).status).toBe(404)
		expect((await h.admin(`/admin/clients/${id}`, { method: 'PATCH', json: { enabled: true } })).status).toBe(404)
		expect((await h.admin(`/admin/clients/${id}`)).status).toBe(404)
		// A well-formed key nobody issued is just a wrong key.
		await refusal(await ask(h, generateClientKey()), 401, 'invalid_api_key')
	})

	test('usage is counted per client key in /admin/usage; the API password still works', async () => {
		const h = await start()
		const a = await createClient(h, { name: 'alpha' })
		const b = await createClient(h, { name: 'bravo' })
		for (let i = 0; i < 3; i++) expect((await ask(h, a.key)).status).toBe(200)
		expect((await ask(h, b.key, 'gpt-5')).status).toBe(200)
		const stream = await h.chat({ model: 'gpt-5', messages: msg(), stream: true }, b.key)
		expect(stream.status).toBe(200)
		// A stream is counted at its end.
		expect(await stream.text()).toEndWith('data: [DONE]\n\n')
		expect((await ask(h, API_PASSWORD)).status).toBe(200)
		const report = await (await h.admin('/admin/usage')).json()
		expect(report.totals.requests).toBe(6)
		const rows = Object.fromEntries(report.clients.map((c: { name: string }) => [c.name, c]))
		expect(rows.alpha).toMatchObject({ id: a.id, masked_key: a.masked_key, totals: { requests: 3, successes: 3, attempts: 3 } })
		expect(rows.alpha.totals.prompt_tokens).toBeGreaterThan(0)
		expect(Object.keys(rows.alpha.models)).toEqual(['claude-sonnet-4-6'])
		expect(rows.bravo.models['gpt-5']).toMatchObject({ requests: 2, successes: 2 })
		expect(rows.bravo.totals.completion_tokens).toBeGreaterThan(0)
	})

	test('bodies are validated; admin routes refuse the API password and client keys', async () => {
		const h = await start()
		for (const body of [
			{},
			{ name: '' },
			{ name: 'x', daily_limit: 0 },
			{ name: 'x', total_limit: 1.5 },
			{ name: 'x', allowed_models: 'gpt-5' },
			{ name: 'x', expires_at: 'soon' },
		]) {
			const response = await h.admin('/admin/clients', { method: 'POST', json: body })
			expect(response.status).toBe(400)
			expect((await response.json()).error.type).toBe('invalid_request_error')
		}
		const { key, id } = await createClient(h, { name: 'client' })
		expect((await h.admin(`/admin/clients/${id}`, { method: 'PATCH', json: { enabled: 'no' } })).status).toBe(400)
		// Each wrong password from its own address: repeated failures from one address are throttled (429).
		let peer = 0
		for (const auth of [API_PASSWORD, key, null]) {
			for (const [method, path] of [
				['GET', '/admin/clients'],
				['POST', '/admin/clients'],
				['PATCH', `/admin/clients/${id}`],
				['DELETE', `/admin/clients/${id}`],
				['GET', '/admin/usage'],
				['GET', '/admin/quotas'],
			] as const) {
				// An invalid body without credentials is still a 401: authentication comes before validation.
				const response = await h.call(path, { method, auth, peer: `10.4.0.${++peer}`, json: method === 'GET' ? undefined : { name: 42 } })
				expect(response.status).toBe(401)
				expect((await response.json()).error.type).toBe('authentication_error')
			}
		}
		expect((await h.admin(`/admin/clients/${id}`)).status).toBe(200)
	})

	test('another instance sees a change within about a second; a restart keeps the keys', async () => {
		const storage = new MemoryStorage()
		const a = await start({ storage })
		const { key, id } = await createClient(a, { name: 'shared' })
		const b = await start({ storage, fake: a.fake })
		expect((await ask(b, key)).status).toBe(200)
		await a.admin(`/admin/clients/${id}`, { method: 'PATCH', json: { enabled: false } })
		await refusal(await ask(a, key), 403, 'client_key_disabled')
		await Bun.sleep(1100)
		await refusal(await ask(b, key), 403, 'client_key_disabled')
		// The other instance never saw the full key in a creation answer, yet scrubs it from its log.
		b.gateway.log.info({ leaked: key }, 'scrub check')
		expect(b.logs.some((line) => line.includes('scrub check') && !line.includes(key))).toBe(true)
	})
})
