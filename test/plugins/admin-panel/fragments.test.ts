/**
 * Every panel widget through app.handle, as htmx asks for it (HX-Request), in each of its
 * states: empty, populated, error. Hostile text (model names, upstream errors, client-key
 * names) shows as text.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import { keyId } from '../../../core/secrets.ts'
import { MemoryStorage } from '../../../core/storage.ts'
import { FAKE_CATALOG } from '../../fake-gateway.ts'
import { harnessSet, type Harness, KEYS, PANEL_PASSWORD } from '../../support.ts'
import { session } from './panel-support.ts'

const harnesses = harnessSet()
afterEach(() => harnesses.closeAll())

const XSS = '<script>alert(1)</script>'

/** Memory storage whose reads can be made to fail. */
class FlakyStorage extends MemoryStorage {
	failing = false
	override async listDocs<T extends { id: string } & Record<string, unknown>>(kind: 'keys' | 'clients' | 'limits' | 'quotas'): Promise<T[]> {
		if (this.failing) throw new Error('storage read failed (test)')
		return super.listDocs<T>(kind)
	}
	override async readCounters(prefix: string) {
		if (this.failing) throw new Error('storage read failed (test)')
		return super.readCounters(prefix)
	}
	override async ping() {
		if (this.failing) throw new Error('connection refused (test)')
	}
}

async function fragment(
	h: Harness,
	s: { cookie: string; csrf: string },
	path: string,
	init: { method?: string; form?: Record<string, string | string[]> } = {},
) {
	const body = new URLSearchParams()
	for (const [k, v] of Object.entries(init.form ?? {})) for (const one of Array.isArray(v) ? v : [v]) body.append(k, one)
	const response = await h.call(path, {
		method: init.method ?? 'GET',
		auth: null,
		headers: { cookie: s.cookie, 'hx-request': 'true', 'x-csrf-token': s.csrf, ...(init.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
		body: init.form ? body : undefined,
	})
	const text = await response.text()
	expect(text).not.toContain('<html')
	return { status: response.status, text }
}

const idOf = async (h: Harness, i = 0) => (await (await h.admin('/admin/keys')).json()).keys[i].id as string

describe('keys widget', () => {
	test('empty', async () => {
		const h = await harnesses.start({ keys: [] })
		const { status, text } = await fragment(h, await session(h), '/ui/fragments/keys')
		expect(status).toBe(200)
		expect(text).toContain('No upstream key yet')
		expect(text).toContain('hx-trigger="every 2s"')
	})

	test('populated: mask beside short id, badges, per-model rows with stable ids, a reset countdown; polled with a morph swap', async () => {
		const h = await harnesses.start()
		expect((await h.chat({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'hi' }] })).status).toBe(200)
		const { text } = await fragment(h, await session(h), '/ui/fragments/keys')
		expect(text).toContain('hx-swap="outerMorph"')
		const id = await idOf(h)
		expect(text).toContain(`id ${id.slice(0, 8)}`)
		expect(text).toContain(`id="key-${id}"`)
		expect(text).toContain('badge-active')
		expect(text).toContain('claude-sonnet-4-6')
		expect(text).toMatch(/data-until="\d+"/)
		for (const key of KEYS) expect(text).not.toContain(key)
	})

	test('two short keys are told apart by their ids', async () => {
		const h = await harnesses.start({ keys: ['aa-short-1', 'aa-short-2'] })
		const { text } = await fragment(h, await session(h), '/ui/fragments/keys')
		expect(text.match(/<code>aa\*\*\*/g)?.length).toBe(2)
		expect(text).toContain(`id ${(await idOf(h, 0)).slice(0, 8)}`)
		expect(text).toContain(`id ${(await idOf(h, 1)).slice(0, 8)}`)
	})

	test('a key-level reason is shown once, not on every model row, and is gone after recovery', async () => {
		const h = await harnesses.start()
		const s = await session(h)
		const id = await idOf(h)
		expect((await fragment(h, s, `/ui/keys/${id}/disable`, { method: 'POST', form: {} })).text).toContain('disabled by the operator')
		const after = await fragment(h, s, `/ui/keys/${id}/enable`, { method: 'POST', form: {} })
		expect(after.text).toContain('enabled')
		expect(after.text).not.toContain('disabled by the operator')
	})

	test('actions: add (one per line), disable, unban, remove, test; the upstream answer is shown as text', async () => {
		const h = await harnesses.start()
		const s = await session(h)
		const added = await fragment(h, s, '/ui/keys/add', { method: 'POST', form: { keys: 'aai-new-key-00000000000001\naai-new-key-00000000000002\n' } })
		expect(added.text).toContain('2 key(s) added')
		expect((await (await h.admin('/admin/keys')).json()).keys).toHaveLength(KEYS.length + 2)
		const bad = await fragment(h, s, '/ui/keys/add', { method: 'POST', form: { keys: 'has space in it' } })
		expect(bad.text).toContain('printable characters')
		const id = keyId(KEYS[0] as string)
		await h.gateway.services.pool?.setStatus(id, 'banned', `HTTP 401 ${XSS}`)
		const banned = await fragment(h, s, '/ui/fragments/keys')
		expect(banned.text).toContain('badge-banned')
		expect(banned.text).not.toContain(XSS)
		expect(banned.text).toContain('&lt;script&gt;')
		expect((await fragment(h, s, `/ui/keys/${id}/unban`, { method: 'POST', form: {} })).text).toContain('unbanned')
		expect((await (await h.admin('/admin/keys')).json()).keys.find((k: { id: string }) => k.id === id).status).toBe('active')
		const env = await fragment(h, s, `/ui/keys/${id}/remove`, { method: 'POST', form: {} })
		expect(env.text).toContain('ASSEMBLY_API_KEYS')

		const tested = await fragment(h, s, `/ui/keys/${id}/test`, { method: 'POST', form: {} })
		expect(tested.text).toMatch(/HTTP 200 from \S+ in \d+ ms/)
		h.fake.fault(KEYS[0] as string, { kind: 'status', status: 500, envelope: 'A', message: `upstream ${XSS} broke` })
		const failed = await fragment(h, s, `/ui/keys/${id}/test`, { method: 'POST', form: {} })
		expect(failed.text).toContain('HTTP 500')
		expect(failed.text).not.toContain(XSS)
		expect(failed.text).toContain('&lt;script&gt;')
		expect(failed.text).not.toContain(KEYS[0] as string)
	})

	test('error: the pool cannot be read', async () => {
		const storage = new FlakyStorage()
		const h = await harnesses.start({ storage })
		const s = await session(h)
		storage.failing = true
		const { status, text } = await fragment(h, s, '/ui/fragments/keys')
		expect(status).toBe(200)
		expect(text).toContain('cannot be read')
		expect(text).toContain('notice-error')
	})
})

describe('models widget', () => {
	test('populated: metadata, and saving a selection changes /v1/models', async () => {
		const h = await harnesses.start()
		const s = await session(h)
		const { text } = await fragment(h, s, '/ui/models')
		expect(text).toContain('claude-sonnet-4-6')
		expect(text).toMatch(/<td class="num">\d+<\/td>/)
		const saved = await fragment(h, s, '/ui/models', { method: 'POST', form: { model: ['claude-sonnet-4-6'] } })
		expect(saved.text).toContain('offers 1 model')
		const models = (await (await h.call('/v1/models')).json()).data.map((m: { id: string }) => m.id)
		expect(models).toEqual(['claude-sonnet-4-6'])
		await fragment(h, s, '/ui/models', { method: 'POST', form: { all: '1' } })
		expect((await (await h.call('/v1/models')).json()).data.length).toBeGreaterThan(1)
	})

	test('empty, and a hostile model name shows as text', async () => {
		const h = await harnesses.start({ fakeOptions: { catalog: [] } })
		expect((await fragment(h, await session(h), '/ui/models')).text).toContain('lists no model')
		const first = FAKE_CATALOG[0] as (typeof FAKE_CATALOG)[number]
		const x = await harnesses.start({ fakeOptions: { catalog: [{ ...first, id: XSS, name: XSS }] } })
		const shown = await fragment(x, await session(x), '/ui/models')
		expect(shown.text).not.toContain(XSS)
		expect(shown.text).toContain('&lt;script&gt;')
	})

	test('error: the catalog cannot be fetched', async () => {
		const h = await harnesses.start({ listenFake: true })
		const s = await session(h)
		await h.fake.stop()
		const { status, text } = await fragment(h, s, '/ui/models')
		expect(status).toBe(200)
		expect(text).toContain('cannot be fetched')
	})
})

describe('usage widget', () => {
	test('empty day, then populated with tokens and SVG charts', async () => {
		const h = await harnesses.start()
		const s = await session(h)
		const empty = await fragment(h, s, '/ui/usage')
		expect(empty.text).toContain('Nothing this day')
		expect(empty.text).toContain('<svg')
		await h.chat({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'hi' }] })
		const full = await fragment(h, s, '/ui/usage')
		expect(full.text).toContain('claude-sonnet-4-6')
		expect(full.text).toContain('class="chart-bar"')
		expect(full.text).toContain('Completion tok.')
		const other = await fragment(h, s, '/ui/usage?day=2020-01-01')
		expect(other.text).toContain('value="2020-01-01"')
	})

	test('error', async () => {
		const storage = new FlakyStorage()
		const h = await harnesses.start({ storage })
		const s = await session(h)
		storage.failing = true
		expect((await fragment(h, s, '/ui/usage')).text).toContain('Usage cannot be read')
	})
})

describe('quotas widget', () => {
	test('empty, populated, save, error', async () => {
		const none = await harnesses.start({ keys: [] })
		expect((await fragment(none, await session(none), '/ui/quotas')).text).toContain('No upstream key yet')
		const storage = new FlakyStorage()
		const h = await harnesses.start({ storage })
		const s = await session(h)
		const id = await idOf(h)
		const saved = await fragment(h, s, `/ui/quotas/${id}`, { method: 'POST', form: { daily_limit: '7', new_model: 'claude-sonnet-4-6', new_limit: '3' } })
		expect(saved.text).toContain('saved')
		const q = (await (await h.admin('/admin/quotas')).json()).quotas.find((e: { id: string }) => e.id === id)
		expect(q.daily_limit).toBe(7)
		expect(q.model_limits).toEqual({ 'claude-sonnet-4-6': 3 })
		expect((await fragment(h, s, `/ui/quotas/${id}`, { method: 'POST', form: { daily_limit: '-1' } })).text).toContain('whole number')
		storage.failing = true
		expect((await fragment(h, s, '/ui/quotas')).text).toContain('Quotas cannot be read')
	})
})

describe('client keys widget', () => {
	test('empty, create (shown once, works on /v1), hostile name as text, edit, revoke, error', async () => {
		const storage = new FlakyStorage()
		const h = await harnesses.start({ storage })
		const s = await session(h)
		expect((await fragment(h, s, '/ui/clients')).text).toContain('No client key yet')
		const created = await fragment(h, s, '/ui/clients', { method: 'POST', form: { name: XSS, daily_limit: '5', allowed_models: 'claude-sonnet-4-6' } })
		const key = /id="created-key" readonly value="(sk-amb-[^"]+)"/.exec(created.text)?.[1] as string
		expect(key).toBeTruthy()
		expect(created.text).not.toContain(XSS)
		expect(created.text).toContain('data-copy')
		const listed = await fragment(h, s, '/ui/clients')
		expect(listed.text).not.toContain(key)
		expect((await h.chat({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'hi' }] }, key)).status).toBe(200)
		const id = (await (await h.admin('/admin/clients')).json()).clients[0].id as string
		const edited = await fragment(h, s, `/ui/clients/${id}`, { method: 'POST', form: { name: 'renamed', total_limit: '9', enabled: '1' } })
		expect(edited.text).toContain('renamed')
		expect((await (await h.admin(`/admin/clients/${id}`)).json()).total_limit).toBe(9)
		expect((await fragment(h, s, `/ui/clients/${id}/revoke`, { method: 'POST', form: {} })).text).toContain('revoked')
		expect((await h.chat({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'hi' }] }, key)).status).toBe(401)
		storage.failing = true
		expect((await fragment(h, s, '/ui/clients')).text).toContain('cannot be read')
	})
})

describe('settings widget', () => {
	test('every setting with its source; env-locked fields read-only; saving validates and takes effect', async () => {
		const h = await harnesses.start({ env: { AUTO_BAN: 'true', LOG_LEVEL: '' } })
		const s = await session(h)
		const page = await fragment(h, s, '/ui/settings')
		expect(page.text).toContain('CALLS_PER_ROTATION')
		expect(page.text).toContain('locked: set by AUTO_BAN in the environment')
		expect(page.text).toContain('set (hidden)')
		expect(page.text).not.toContain(PANEL_PASSWORD)
		const bad = await fragment(h, s, '/ui/settings', { method: 'POST', form: { calls_per_rotation: 'lots' } })
		expect(bad.text).toContain('CALLS_PER_ROTATION was not saved: it must be a whole number')
		const good = await fragment(h, s, '/ui/settings', { method: 'POST', form: { calls_per_rotation: '7', log_level: 'warning' } })
		expect(good.text).toContain('Saved')
		const view = (await (await h.admin('/admin/settings')).json()).settings as { env: string; value: unknown; source: string }[]
		expect(view.find((v) => v.env === 'CALLS_PER_ROTATION')).toMatchObject({ value: 7, source: 'stored' })
		expect(h.gateway.log.level).toBe('warn')
		const locked = await h.admin('/admin/settings', { method: 'PUT', json: { auto_ban_enabled: false } })
		expect(locked.status).toBe(400)
		expect((await locked.json()).error.code).toBe('setting_locked')
	})

	test('another instance sharing the storage picks up a saved setting', async () => {
		const h = await harnesses.start({ env: { LOG_LEVEL: '' } })
		const other = await harnesses.start({ env: { LOG_LEVEL: '' }, storage: h.storage, fake: h.fake })
		expect((await h.admin('/admin/settings', { method: 'PUT', json: { log_level: 'error', daily_request_limit: 42 } })).status).toBe(200)
		expect((await (await h.admin('/admin/quotas')).json()).default_daily_limit).toBe(42)
		// The other instance re-reads every 2 s; a refresh now stands for that tick.
		await other.gateway.services.settingsWatch?.refresh()
		expect(other.gateway.log.level).toBe('error')
		expect((await (await other.admin('/admin/quotas')).json()).default_daily_limit).toBe(42)
		const view = (await (await other.admin('/admin/settings')).json()).settings as { env: string; value: unknown; source: string }[]
		expect(view.find((v) => v.env === 'DAILY_REQUEST_LIMIT')).toMatchObject({ value: 42, source: 'stored' })
	})
})

describe('logs widget', () => {
	test('populated; the tail fragment sends only lines after its cursor; level and text filters; clear', async () => {
		const h = await harnesses.start()
		const s = await session(h)
		const page = await fragment(h, s, '/ui/logs')
		expect(page.text).toContain('id="log-poller"')
		const cursor = Number(/data-cursor="(\d+)"/.exec(page.text)?.[1])
		h.gateway.log.warn({ marker: 'needle-1' }, 'a new line')
		const tail = await fragment(h, s, `/ui/fragments/logs?after=${cursor}&level=debug&q=`)
		expect(tail.text).toContain('needle-1')
		const next = Number(/data-cursor="(\d+)"/.exec(tail.text)?.[1])
		expect(next).toBeGreaterThan(cursor)
		expect((await fragment(h, s, `/ui/fragments/logs?after=${next}&level=debug&q=`)).text).not.toContain('needle-1')
		expect((await fragment(h, s, `/ui/fragments/logs?after=${cursor}&level=error&q=`)).text).not.toContain('needle-1')
		expect((await fragment(h, s, `/ui/fragments/logs?after=${cursor}&level=debug&q=nomatch`)).text).not.toContain('needle-1')
		h.gateway.log.info({ hostile: XSS }, XSS)
		const hostile = await fragment(h, s, `/ui/fragments/logs?after=${next}&level=debug&q=`)
		expect(hostile.text).not.toContain(XSS)
		for (const secret of [PANEL_PASSWORD, ...KEYS]) expect(hostile.text).not.toContain(secret)
		const cleared = await fragment(h, s, '/ui/logs/clear', { method: 'POST', form: {} })
		expect(cleared.text).toContain('cleared')
		expect(cleared.text).not.toContain('needle-1')
	})

	test('panel polls are logged at debug, not info', async () => {
		const h = await harnesses.start()
		const s = await session(h)
		await fragment(h, s, '/ui/fragments/keys')
		await Bun.sleep(20)
		const line = h.logs.map((l) => JSON.parse(l)).find((l) => l.path === '/ui/fragments/keys')
		expect(line?.level).toBe('debug')
	})
})

describe('storage widget and outage banner', () => {
	test('healthy, then down with a banner, then clear again', async () => {
		const storage = new FlakyStorage()
		const h = await harnesses.start({ storage })
		const s = await session(h)
		const ok = await fragment(h, s, '/ui/fragments/storage')
		expect(ok.text).toContain('memory')
		expect(ok.text).toContain('badge-healthy')
		expect((await fragment(h, s, '/ui/fragments/status')).text).not.toContain('down')
		storage.failing = true
		expect((await fragment(h, s, '/ui/fragments/storage')).text).toContain('connection refused')
		const banner = await fragment(h, s, '/ui/fragments/status')
		expect(banner.text).toContain('down since')
		storage.failing = false
		expect((await fragment(h, s, '/ui/fragments/status')).text).not.toContain('down')
	})
})
