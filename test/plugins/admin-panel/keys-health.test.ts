/**
 * Key health on the keys page: tests go through the key-health service (kept with the key and
 * learned from), test all and test selected with a model choice, honest status badges, one row
 * per model, batch enable/disable/delete (delete asked twice), and the incident notice.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import { keyId } from '../../../core/secrets.ts'
import { harnessSet, KEYS, testClock } from '../../support.ts'
import { translator } from '../../../views/i18n/i18n.ts'
import { keysLive } from '../../../views/keys-table.ts'
import { session } from './panel-support.ts'
import { fragment, XSS } from './pages-support.ts'

const harnesses = harnessSet()
afterEach(() => harnesses.closeAll())

const keys = async (h: Awaited<ReturnType<typeof harnesses.start>>) =>
	(await (await h.admin('/admin/keys')).json()).keys as { id: string; status: string; last_test: { model: string; ok: boolean } | null; failing: unknown }[]

describe('keys page: key health', () => {
	test('empty: the toolbar (test all, model choice) and the no-key message', async () => {
		const h = await harnesses.start({ keys: [] })
		const { text } = await fragment(h, await session(h), '/ui/keys', { full: true })
		expect(text).toContain('id="keys-batch"')
		expect(text).toContain('data-action="test_all"')
		expect(text).toContain('No upstream key yet')
	})

	test('test one: the result is kept with the key and shown in its row (time, status, latency, model)', async () => {
		const h = await harnesses.start()
		const s = await session(h)
		const id = keyId(KEYS[0] as string)
		expect((await fragment(h, s, '/ui/fragments/keys')).text).toContain('Not tested yet.')
		const tested = await fragment(h, s, `/ui/keys/${id}/test`, { method: 'POST', form: { model: 'gpt-5' } })
		expect(tested.text).toMatch(/Test of \S+: HTTP 200 from gpt-5 in \d+ ms/)
		expect((await keys(h)).find((k) => k.id === id)?.last_test).toMatchObject({ ok: true, model: 'gpt-5' })
		const row =
			/<tbody id="key-[^"]+">[\s\S]*?<\/tbody>/.exec(
				(await fragment(h, s, '/ui/fragments/keys')).text.slice((await fragment(h, s, '/ui/fragments/keys')).text.indexOf(`id="key-${id}"`) - 7),
			)?.[0] ?? ''
		expect(row).toMatch(/data-test="ok">Last test: HTTP 200 from gpt-5 in \d+ ms, <time datetime="/)
	})

	test('a test refused with 401 bans the key under AUTO_BAN (learned, not just shown); the upstream text is shown as text', async () => {
		const h = await harnesses.start({ env: { AUTO_BAN: 'true' } })
		const s = await session(h)
		const id = keyId(KEYS[0] as string)
		h.fake.fault(KEYS[0] as string, { kind: 'status', status: 401, message: `bad ${XSS}` })
		const failed = await fragment(h, s, `/ui/keys/${id}/test`, { method: 'POST', form: {} })
		expect(failed.text).toContain('HTTP 401')
		expect(failed.text).not.toContain(XSS)
		expect((await keys(h)).find((k) => k.id === id)?.status).toBe('banned')
		expect(failed.text).toContain('badge-banned')
		expect(failed.text).toContain('data-test="failed"')
	})

	test('test all, and test selected with a model; an unknown model is refused', async () => {
		const h = await harnesses.start()
		const s = await session(h)
		const all = await fragment(h, s, '/ui/keys/batch', { method: 'POST', form: { action: 'test_all', model: '' } })
		expect(all.text).toContain(`Tested ${KEYS.length} key(s): ${KEYS.length} answered, 0 failed.`)
		expect((await keys(h)).every((k) => k.last_test?.ok)).toBe(true)
		const picked = [keyId(KEYS[1] as string), keyId(KEYS[2] as string)]
		const some = await fragment(h, s, '/ui/keys/batch', { method: 'POST', form: { action: 'test', ids: picked, model: 'gpt-5' } })
		expect(some.text).toContain('Tested 2 key(s): 2 answered, 0 failed.')
		expect(some.text).toContain('<option value="gpt-5" selected>')
		expect(some.text).toContain('hx-get="/ui/fragments/key-test-models?selected=gpt-5"')
		const options = await fragment(h, s, '/ui/fragments/key-test-models?selected=gpt-5')
		expect(options.text).toContain('<option value="">the cheapest model</option>')
		expect(options.text).toContain('<option value="gpt-5" selected>')
		expect(options.text).toContain('<option value="claude-sonnet-4-6">')
		expect(
			(await keys(h))
				.filter((k) => k.last_test?.model === 'gpt-5')
				.map((k) => k.id)
				.sort(),
		).toEqual(picked.sort())
		const none = await fragment(h, s, '/ui/keys/batch', { method: 'POST', form: { action: 'test', model: '' } })
		expect(none.text).toContain('Select at least one key')
		const typo = await fragment(h, s, '/ui/keys/batch', { method: 'POST', form: { action: 'test_all', model: `gpt-typo${XSS}` } })
		expect(typo.text).toContain('is not in the upstream catalog')
		expect(typo.text).not.toContain(XSS)
	})

	test('batch disable and enable; delete asks first, then removes admin keys and keeps env keys', async () => {
		const h = await harnesses.start()
		const s = await session(h)
		await fragment(h, s, '/ui/keys/add', { method: 'POST', form: { keys: 'aai-admin-key-0000000000001\naai-admin-key-0000000000002' } })
		const ids = (await keys(h)).map((k) => k.id)
		const disabled = await fragment(h, s, '/ui/keys/batch', { method: 'POST', form: { action: 'disable', ids: ids.slice(0, 2) } })
		expect(disabled.text).toContain('2 key(s) changed.')
		expect((await keys(h)).filter((k) => k.status === 'disabled')).toHaveLength(2)
		await fragment(h, s, '/ui/keys/batch', { method: 'POST', form: { action: 'enable', ids: ids.slice(0, 2) } })
		expect((await keys(h)).every((k) => k.status === 'active')).toBe(true)
		const env = keyId(KEYS[0] as string)
		const admin = ids.filter((id) => !KEYS.map(keyId).includes(id))
		const asked = await fragment(h, s, '/ui/keys/batch', { method: 'POST', form: { action: 'delete', ids: [env, ...admin] } })
		expect(asked.text).toContain('Delete 3 selected key(s)?')
		expect(await keys(h)).toHaveLength(ids.length)
		const deleted = await fragment(h, s, '/ui/keys/batch', { method: 'POST', form: { action: 'delete', confirm: 'yes', ids: [env, ...admin] } })
		expect(deleted.text).toContain('2 key(s) changed.')
		expect(deleted.text).toContain('1 key(s) come from ASSEMBLY_API_KEYS')
		expect((await keys(h)).map((k) => k.id)).toEqual(ids.filter((id) => !admin.includes(id)))
	})

	test('batch writes are CSRF-protected', async () => {
		const h = await harnesses.start()
		const s = await session(h)
		const refused = await fragment(h, { cookie: s.cookie, csrf: 'wrong' }, '/ui/keys/batch', {
			method: 'POST',
			form: { action: 'disable', ids: [keyId(KEYS[0] as string)] },
		})
		expect(refused.status).toBe(403)
		expect((await keys(h)).every((k) => k.status === 'active')).toBe(true)
	})

	test('honest badges: failing and quota spent; one row per model and no summary mixing models', async () => {
		const h = await harnesses.start()
		const s = await session(h)
		await h.chat({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'hi' }] })
		await h.chat({ model: 'gpt-5', messages: [{ role: 'user', content: 'hi' }] })
		const id = keyId(KEYS[0] as string)
		h.fake.fault(KEYS[0] as string, { kind: 'status', status: 403, message: 'forbidden' })
		await fragment(h, s, `/ui/keys/${id}/test`, { method: 'POST', form: {} })
		const { text } = await fragment(h, s, '/ui/fragments/keys')
		expect(text).toContain('data-status="failing"')
		expect(text).not.toMatch(/used \d+/)
		// Every model a key served has its own row; there is no per-key sum over models.
		expect(text).toMatch(/id="km-[^"]+-claude-sonnet-4-6"/)
		expect(text).toMatch(/id="km-[^"]+-gpt-5"/)
	})

	test('the quota-spent badge says until when (view)', () => {
		const t = translator('en')
		const now = Date.parse('2025-01-01T10:00:00Z')
		const row = {
			id: 'k1',
			key: `ab...${XSS}`,
			source: 'admin' as const,
			status: 'quota_exhausted',
			reason: null,
			cooldown_until: null,
			models: {},
			quota: { exhausted_until: '2025-01-02T07:00:00.000Z', reason: 'daily quota 100 spent' },
			counts: { success: 3, failure: 1 },
			last_test: null,
		}
		const html = keysLive(t, { keys: [row], now }).toString()
		expect(html).toContain('data-status="quota_exhausted">quota spent<')
		expect(html).toContain('daily quota 100 spent')
		expect(html).toContain(`data-until="${Date.parse('2025-01-02T07:00:00.000Z')}"`)
		expect(html).toContain('3 ok, 1 failed')
		expect(html).not.toContain(XSS)
		const zh = keysLive(translator('zh-CN'), { keys: [row], now }).toString()
		expect(zh).toContain('配额已用完')
	})

	test('an incident is shown above the table', async () => {
		const c = testClock()
		const h = await harnesses.start({ now: c.now, env: { RATE_LIMIT_MAX_WAIT: '0' } })
		const s = await session(h)
		await h.chat({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'hi' }] })
		c.advance(60_000)
		h.fake.outage('network')
		await h.chat({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'hi' }] })
		const { text } = await fragment(h, s, '/ui/fragments/keys')
		expect(text).toContain('data-incident="network"')
		expect(text).toContain('Network incident')
	})
})
