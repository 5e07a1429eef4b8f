/** x-request-id: on every answer, the client's own when sane, in the request's log line and in error JSON. */
import { afterEach, describe, expect, test } from 'bun:test'
import { chooseRequestId, isSaneId } from '../../core/request-id.ts'
import { createFakeGateway } from '../fake-gateway.ts'
import { harnessSet, KEYS } from '../support.ts'

const harnesses = harnessSet()
afterEach(() => harnesses.closeAll())
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** The request line is written after the answer is sent: give it a moment. */
const settle = () => Bun.sleep(30)
const linesOf = (logs: string[], msg: string) => logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === msg)

describe('chooseRequestId', () => {
	test('keeps a sane id, replaces an empty, long or hostile one', () => {
		expect(chooseRequestId('abc-123_X.y:z')).toBe('abc-123_X.y:z')
		for (const bad of [null, '', 'a'.repeat(129), 'a b', 'x\r\nSet-Cookie: y', '<script>', 'é']) expect(chooseRequestId(bad)).toMatch(UUID)
		expect(chooseRequestId(null)).not.toBe(chooseRequestId(null))
		expect(isSaneId('5b1c-93f7')).toBe(true)
		expect(isSaneId('a\r\nb')).toBe(false)
	})
})

describe('x-request-id', () => {
	test("the client's id round-trips on a chat and is in the request's log line", async () => {
		const h = await harnesses.start()
		const res = await h.call('/v1/chat/completions', {
			method: 'POST',
			json: { model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'hello' }] },
			headers: { 'x-request-id': 'client-trace-42' },
		})
		expect(res.status).toBe(200)
		expect(res.headers.get('x-request-id')).toBe('client-trace-42')
		// The upstream's request_id is passed through too (the fake sends one per answer, as upstream does).
		expect(res.headers.get('x-upstream-request-id')).toMatch(UUID)
		await settle()
		const line = linesOf(h.logs, 'request').find((l) => l.path === '/v1/chat/completions')
		expect(line?.request_id).toBe('client-trace-42')
		expect(line?.upstream_request_id).toBe(res.headers.get('x-upstream-request-id'))
	})

	test('a generated id when the client sends none, on success, on errors and on unknown routes; the error JSON carries it', async () => {
		const h = await harnesses.start()
		const ok = await h.call('/v1/models')
		expect(ok.headers.get('x-request-id')).toMatch(UUID)

		const denied = await h.call('/v1/models', { auth: 'wrong' })
		expect(denied.status).toBe(401)
		const id = denied.headers.get('x-request-id')
		expect(id).toMatch(UUID)
		expect(id).not.toBe(ok.headers.get('x-request-id'))
		expect(((await denied.json()) as { error: { request_id: string } }).error.request_id).toBe(id as string)

		const missing = await h.call('/nowhere', { headers: { 'x-request-id': 'bad id with spaces' } })
		expect(missing.status).toBe(404)
		const missingId = missing.headers.get('x-request-id') as string
		expect(missingId).toMatch(UUID)
		expect(((await missing.json()) as { error: { request_id: string } }).error.request_id).toBe(missingId)
		await settle()
		expect(linesOf(h.logs, 'request').find((l) => l.path === '/nowhere')?.request_id).toBe(missingId)
	})

	test("an upstream refusal: the error JSON has the gateway's id and the upstream's request_id", async () => {
		const h = await harnesses.start({ env: { RETRY_429_ENABLED: 'false' } })
		h.fake.fault('*', { kind: 'status', status: 500, envelope: 'B', message: 'something went wrong' }, { persistent: true })
		const res = await h.call('/v1/chat/completions', {
			method: 'POST',
			json: { model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'hello' }] },
			headers: { 'x-request-id': 'trace-500' },
		})
		expect(res.status).toBe(502)
		const body = (await res.json()) as { error: { request_id: string; upstream_request_id: string } }
		expect(body.error.request_id).toBe('trace-500')
		expect(body.error.upstream_request_id).toMatch(UUID)
		const refused = linesOf(h.logs, 'upstream refused')[0]
		expect(refused?.request_id).toBe('trace-500')
		expect(refused?.upstream_request_id).toBe(body.error.upstream_request_id)
	})

	test('an upstream request_id that is not header-safe is not passed on (and breaks nothing)', async () => {
		const real = createFakeGateway({ keys: Object.fromEntries(KEYS.map((k) => [k, {}])) })
		const fake = Object.assign(Object.create(real), {
			fetch: async (request: Request) => {
				const answer = await real.fetch(request)
				const body = (await answer.json()) as Record<string, unknown>
				return Response.json({ ...body, request_id: 'evil\r\nset-cookie: x=1' }, { status: answer.status, headers: answer.headers })
			},
		}) as typeof real
		const h = await harnesses.start({ fake })
		const res = await h.chat({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'hello' }] })
		expect(res.status).toBe(200)
		expect(res.headers.get('x-upstream-request-id')).toBeNull()
		expect(res.headers.get('set-cookie')).toBeNull()
		await real.stop()
	})
})
