/** The mass-failure guard: every key refused at once is an upstream incident, not dead keys. */
import { afterEach, describe, expect, test } from 'bun:test'
import { keyId } from '../../../core/secrets.ts'
import { assertNoSecrets, type Harness, KEYS, startHarness, testClock } from '../../support.ts'

let h: Harness
afterEach(async () => {
	assertNoSecrets(h.logs)
	await h.close()
})

const ask = () => h.chat({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'hi' }] })
const keysList = async () => (await (await h.admin('/admin/keys')).json()) as { keys: any[]; incident: any }
const incident = async () => (await (await h.admin('/admin/incident')).json()).incident

describe('every key forced to 401 at once', () => {
	test('AUTO_BAN bans none of them; the incident is shown; after the upstream recovers the pool serves again by itself', async () => {
		const c = testClock()
		h = await startHarness({ now: c.now, env: { AUTO_BAN: 'true', RATE_LIMIT_MAX_WAIT: '0' } })
		expect((await ask()).status).toBe(200)
		c.advance(60_000)
		h.fake.outage('auth')
		const failed = await ask()
		expect(failed.status).toBeGreaterThanOrEqual(400)
		const during = await keysList()
		expect(during.keys.map((k) => k.status).filter((s) => s === 'banned')).toEqual([])
		expect(during.incident).toMatchObject({ cause: 'auth', keys: 3 })
		expect(await incident()).toMatchObject({ cause: 'auth', since: new Date(c.now()).toISOString() })
		expect(h.logs.some((l) => l.includes('upstream incident'))).toBe(true)
		const health = await h.call('/health', { auth: null })
		expect(health.status).toBe(200)
		expect(await health.json()).toMatchObject({ status: 'degraded', upstream: { ok: false, incident: { cause: 'auth' } } })

		// More failures during the incident ban nothing either.
		c.advance(6000)
		await ask()
		expect((await keysList()).keys.every((k) => k.status !== 'banned')).toBe(true)

		// The upstream recovers: once the short cooldown is over, traffic flows with no operator action.
		h.fake.outage(null)
		c.advance(6000)
		expect((await ask()).status).toBe(200)
		expect(await incident()).toBeNull()
		expect(await (await h.call('/health', { auth: null })).json()).toMatchObject({ status: 'ok', upstream: { ok: true, incident: null } })
		const after = await keysList()
		expect(after.keys.map((k) => k.status)).toEqual(['active', 'active', 'active'])
		for (let i = 0; i < 3; i++) expect((await ask()).status).toBe(200)
	})

	test('the re-probe ends the incident without any client request', async () => {
		h = await startHarness({ env: { AUTO_BAN: 'true', RATE_LIMIT_MAX_WAIT: '0', INCIDENT_PROBE_INTERVAL: '1' } })
		h.fake.outage('auth')
		await ask()
		expect(await incident()).toMatchObject({ cause: 'auth' })
		h.fake.outage(null)
		const before = h.fake.requests.length
		const deadline = Date.now() + 5000
		while ((await incident()) !== null && Date.now() < deadline) await Bun.sleep(100)
		expect(await incident()).toBeNull()
		// The probe was one cheap call, not traffic of a client.
		const probes = h.fake.requests.slice(before).filter((r) => r.path === '/v1/chat/completions')
		expect(probes.length).toBeGreaterThanOrEqual(1)
		expect(probes.every((r) => r.body.max_tokens === 1)).toBe(true)
		expect((await keysList()).keys.every((k) => k.status === 'active')).toBe(true)
		expect((await ask()).status).toBe(200)
	}, 15_000)

	test('network errors on every key: an incident with cause network; nothing banned', async () => {
		h = await startHarness({ env: { AUTO_BAN: 'true', RATE_LIMIT_MAX_WAIT: '0' } })
		h.fake.outage('network')
		await ask()
		expect(await incident()).toMatchObject({ cause: 'network' })
		h.fake.outage(null)
		expect((await ask()).status).toBe(200)
		expect(await incident()).toBeNull()
	})
})

describe('dead keys are still dead keys', () => {
	test('one key refused among keys that work is banned (AUTO_BAN): a success in the window means the upstream is fine', async () => {
		h = await startHarness({ env: { AUTO_BAN: 'true', CALLS_PER_ROTATION: '1' } })
		h.fake.setKey(KEYS[1], { valid: false })
		for (let i = 0; i < 6; i++) expect((await ask()).status).toBe(200)
		const keys = (await keysList()).keys
		expect(keys.find((k) => k.id === keyId(KEYS[1])).status).toBe('banned')
		expect(await incident()).toBeNull()
	})

	test('two of three keys dead: banned, no incident', async () => {
		h = await startHarness({ env: { AUTO_BAN: 'true', CALLS_PER_ROTATION: '1' } })
		h.fake.setKey(KEYS[0], { valid: false })
		h.fake.setKey(KEYS[2], { valid: false })
		for (let i = 0; i < 4; i++) expect((await ask()).status).toBe(200)
		const statuses = Object.fromEntries((await keysList()).keys.map((k) => [k.id, k.status]))
		expect(statuses).toEqual({ [keyId(KEYS[0])]: 'banned', [keyId(KEYS[1])]: 'active', [keyId(KEYS[2])]: 'banned' })
		expect(await incident()).toBeNull()
	})
})
