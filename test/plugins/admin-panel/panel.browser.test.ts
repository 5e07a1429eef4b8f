/**
 * The panel end to end in headless Chromium (Debian's chromium, driven by the pinned
 * playwright-core), once per language (the browser's locale picks it through Accept-Language),
 * at 1280 and 390 px: log in from a deep link, watch the rate-limit table change without losing
 * a text selection, disable and unban a key (the notice outlives the polls), add a key, create a
 * client key and use it, filter and choose models, add a model quota (the entry row empties),
 * see a refused setting beside the Save button, change a setting and see it take effect, see a
 * new log line arrive, an empty filter, dark mode and its toggle, the language switch, stop the
 * server and see the banner; preview and send a streamed request in the playground and find it in
 * the request log as the client "panel"; every page (overview, request log, performance and
 * playground included) at 390 px without overflow. Button names come from the message catalogue, so the test reads
 * each language as an operator would. Screenshots of each page go to test/screenshots/
 * (git-ignored); with PANEL_DOCS_SHOTS=1 those of both languages also go to docs/.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { type Browser, chromium, type Page } from 'playwright-core'
import { keyId } from '../../../core/secrets.ts'
import { type Lang, LANGS, type MessageKey, t, type Vars } from '../../../views/i18n/i18n.ts'
import { type Harness, KEYS, PANEL_PASSWORD, startHarness } from '../../support.ts'

const CHROMIUM = '/usr/bin/chromium'
const SHOTS = join(import.meta.dir, '../../screenshots')
const DOCS = join(import.meta.dir, '../../../docs')
/** PANEL_DOCS_SHOTS=1 refreshes the screenshots in docs/ (kept out of ordinary runs: they would change tracked files). */
const docs = process.env.PANEL_DOCS_SHOTS === '1'
const PAGES = ['overview', 'requests', 'performance', 'keys', 'models', 'usage', 'quotas', 'clients', 'playground', 'settings', 'logs', 'storage'] as const

let browser: Browser

describe.skipIf(!existsSync(CHROMIUM))('panel in Chromium', () => {
	beforeAll(async () => {
		mkdirSync(SHOTS, { recursive: true })
		browser = await chromium.launch({
			executablePath: CHROMIUM,
			args: [
				'--headless',
				'--no-sandbox',
				'--disable-gpu',
				'--disable-quic',
				'--no-first-run',
				'--disable-background-networking',
				'--disable-component-update',
				'--disable-sync',
			],
		})
	})

	afterAll(async () => {
		await browser?.close()
	})

	for (const lang of LANGS) {
		test(
			`an operator session in ${lang}`,
			async () => {
				const m = (key: MessageKey, vars?: Vars) => t(lang, key, vars)
				const h: Harness = await startHarness({ env: { LOG_LEVEL: '' } })
				try {
					await operatorSession(h, lang, m)
				} finally {
					await h.close()
				}
			},
			{ timeout: 240_000 },
		)
	}
})

async function operatorSession(h: Harness, lang: Lang, m: (key: MessageKey, vars?: Vars) => string) {
	const base = await h.listen()
	const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${lang}-${name}.png`), fullPage: true })
	const chat = (auth?: string) => h.chat({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'hi' }] }, auth)
	const context = await browser.newContext({
		viewport: { width: 1280, height: 900 },
		locale: lang === 'zh-CN' ? 'zh-CN' : 'en-US',
		timezoneId: lang === 'zh-CN' ? 'Asia/Shanghai' : 'America/New_York',
	})
	const page = await context.newPage()
	const consoleErrors: string[] = []
	page.on('console', (msg) => {
		if (msg.type() === 'error') consoleErrors.push(msg.text())
	})
	page.on('pageerror', (err) => consoleErrors.push(String(err)))

	// A deep link asks for a login, then lands where it pointed.
	await page.goto(`${base}/ui/settings`)
	expect(await page.locator('html').getAttribute('lang')).toBe(lang)
	await page.getByLabel(m('login.password')).fill(PANEL_PASSWORD)
	await page.getByRole('button', { name: m('login.submit') }).click()
	await page.waitForURL(`${base}/ui/settings`)
	await page.goto(`${base}/ui/keys`)
	expect(await page.locator('h1').textContent()).toBe(m('title.keys'))

	// Select a key's mask, let requests go through the gateway, and watch the table change in place.
	const first = keyId(KEYS[0] as string)
	const mask = page.locator(`#key-${first} code`).first()
	const maskText = (await mask.textContent()) as string
	await mask.evaluate((el) => {
		const range = document.createRange()
		range.selectNodeContents(el)
		const sel = window.getSelection()
		sel?.removeAllRanges()
		sel?.addRange(range)
	})
	for (let i = 0; i < 4; i++) expect((await chat()).status).toBe(200)
	await page.waitForFunction(() => document.querySelector('#keys summary[data-models="1"]') !== null, null, { timeout: 15_000 })
	expect(await page.evaluate(() => window.getSelection()?.toString())).toBe(maskText)
	// An expanded row stays expanded across polls.
	const busy = (await h.gateway.services.pool?.report())?.find((k) => Object.keys(k.models).length)?.id as string
	await page.locator(`#key-${busy}-models summary`).click()
	expect((await chat()).status).toBe(200)
	await page.waitForFunction((id) => document.querySelector(`#key-${id} [data-used="5"]`) !== null, busy, { timeout: 15_000 })
	expect(await page.locator(`#key-${busy}-models`).getAttribute('open')).not.toBeNull()
	expect(await page.locator(`#key-${busy}-models tr`, { hasText: 'claude-sonnet-4-6' }).isVisible()).toBe(true)
	await shot(page, 'keys-live')

	// Disable a key: the notice outlives the 2 s polls until it is dismissed.
	await page.locator(`#key-${first} .key-row button[data-action=disable]`).click()
	await page.locator(`#key-${first} .key-row .badge-disabled`).waitFor()
	const disabledNotice = page.locator('#keys-notice .notice', { hasText: m('keys.disabled', { id: first.slice(0, 8) }) })
	await disabledNotice.waitFor()
	await page.waitForTimeout(4500)
	expect(await disabledNotice.isVisible()).toBe(true)
	await disabledNotice.locator('[data-dismiss]').click()
	expect(await disabledNotice.count()).toBe(0)
	await page.locator(`#key-${first} .key-row button[data-action=enable]`).click()
	await page.locator(`#key-${first} .key-row .badge-active`).waitFor()
	await h.gateway.services.pool?.setStatus(first, 'banned', 'HTTP 401 from the upstream')
	const unban = page.locator(`#key-${first} .key-row button[data-action=unban]`)
	await unban.waitFor({ timeout: 15_000 })
	await unban.click()
	await page.locator(`#key-${first} .key-row .badge-active`).waitFor()
	expect(await page.locator(`#key-${first}`).textContent()).not.toContain('HTTP 401')

	// Add a key.
	await page.getByLabel(m('keys.addLabel')).fill('aai-browser-added-000000000001')
	await page.getByRole('button', { name: m('keys.addButton') }).click()
	await page.getByText(m('keys.added', { n: 1 })).waitFor()
	expect((await (await h.admin('/admin/keys')).json()).keys).toHaveLength(KEYS.length + 1)

	// Create a client key and use it on /v1.
	await page.goto(`${base}/ui/clients`)
	await page.getByLabel(m('clients.name')).first().fill('browser client')
	await page.getByRole('button', { name: m('clients.create') }).click()
	const created = page.locator('#created-key')
	await created.waitFor()
	const clientKey = await created.inputValue()
	expect(clientKey).toStartWith('sk-amb-')
	const viaClient = await fetch(`${base}/v1/chat/completions`, {
		method: 'POST',
		headers: { authorization: `Bearer ${clientKey}`, 'content-type': 'application/json' },
		body: JSON.stringify({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'hi' }] }),
	})
	expect(viaClient.status).toBe(200)
	await shot(page, 'clients')

	// Models: offering a few models takes a few clicks (select none, filter, select shown), and hidden models are explained.
	await page.goto(`${base}/ui/models`)
	expect(await page.locator('#models-hidden-note').textContent()).toBe(m('models.hiddenNote'))
	await page.getByRole('button', { name: m('models.selectNone') }).click()
	await page.getByText(m('models.checked', { n: 0 })).waitFor()
	await page.getByLabel(m('models.filter')).fill('claude-sonnet')
	const shown = await page.locator('form[data-models] tbody tr:not([hidden])').count()
	expect(shown).toBeGreaterThan(0)
	expect(shown).toBeLessThan(await page.locator('form[data-models] tbody tr').count())
	await page.getByRole('button', { name: m('models.selectShown') }).click()
	await page.getByText(m('models.checked', { n: shown })).waitFor()
	await page.getByRole('button', { name: m('models.save') }).click()
	await page.getByText(m('models.saved', { n: shown })).waitFor()
	expect((await (await h.call('/v1/models')).json()).data).toHaveLength(shown)
	await page.getByRole('button', { name: m('models.offerAll') }).click()
	await page.getByText(m('models.savedAll')).waitFor()

	// Quotas: a model limit chosen from the catalog; the entry row is empty after the save; times in the browser's zone.
	await page.goto(`${base}/ui/quotas`)
	const quota = page.locator(`#quota-${first}`)
	await quota.locator('select[name=new_model]').selectOption('claude-sonnet-4-6')
	await quota.locator('input[name=new_limit]').fill('50')
	await quota.getByRole('button', { name: m('quotas.save') }).click()
	await page.getByText(m('quotas.saved', { id: first.slice(0, 8) })).waitFor()
	expect(await page.locator(`#quota-${first} select[name=new_model]`).inputValue()).toBe('')
	expect(await page.locator(`#quota-${first} input[name=new_limit]`).inputValue()).toBe('')
	expect(await page.locator(`#quota-${first} input[name="model:claude-sonnet-4-6"]`).inputValue()).toBe('50')
	await page.locator('#quotas .local-time').first().waitFor()

	// Settings: a refused value is reported beside Save and at its field, which is highlighted and focused.
	await page.goto(`${base}/ui/settings`)
	await page.locator('#s-LOG_BODY_MAX').fill('lots')
	const save = page.getByRole('button', { name: m('settings.save') })
	await save.click()
	const refusal = page.locator('#settings-outcome .notice-error')
	await refusal.waitFor()
	expect(await refusal.textContent()).toContain('LOG_BODY_MAX')
	const [noticeBox, saveBox] = [await refusal.boundingBox(), await save.boundingBox()]
	expect(Math.abs((saveBox?.y ?? 9999) - (noticeBox?.y ?? 0))).toBeLessThan(200)
	expect(await page.locator('#s-LOG_BODY_MAX').getAttribute('aria-invalid')).toBe('true')
	await page.waitForFunction(() => document.activeElement?.id === 's-LOG_BODY_MAX')
	await shot(page, 'settings-refused')
	// Change a setting and see it take effect: the log level goes to debug, and the log view shows debug lines.
	await page.locator('#s-LOG_BODY_MAX').fill('8192')
	await page.locator('#s-LOG_LEVEL').selectOption('debug')
	await save.click()
	await page.getByText(m('settings.saved', { names: 'LOG_LEVEL' })).waitFor()
	expect(h.gateway.log.level).toBe('debug')

	// See a new log line arrive in the tail; the panel's own polls are not in it.
	await page.goto(`${base}/ui/logs`)
	h.gateway.log.warn({ marker: 'browser-test-line' }, 'a line the browser must see')
	// At debug a chat writes its bodies to the log: debug lines that are not the panel's own.
	expect((await chat()).status).toBe(200)
	await page.locator('#log-lines li', { hasText: 'browser-test-line' }).waitFor({ timeout: 15_000 })
	await page.locator('#log-lines .badge-debug').first().waitFor({ timeout: 15_000 })
	expect(await page.locator('#log-lines li.log', { hasText: '/ui/fragments/' }).count()).toBe(0)
	await shot(page, 'logs')
	// Pause holds new lines back; resume brings them.
	await page.getByRole('button', { name: m('logs.pause') }).click()
	await page.waitForTimeout(2500)
	h.gateway.log.warn({ marker: 'while-paused' }, 'a line sent while paused')
	await page.waitForTimeout(4500)
	expect(await page.locator('#log-lines li', { hasText: 'while-paused' }).count()).toBe(0)
	await page.getByRole('button', { name: m('logs.resume') }).click()
	await page.locator('#log-lines li', { hasText: 'while-paused' }).waitFor({ timeout: 15_000 })
	// Clear asks first.
	let asked = ''
	page.once('dialog', (dialog) => {
		asked = dialog.message()
		void dialog.accept()
	})
	await page.getByRole('button', { name: m('logs.clear') }).click()
	await page.getByText(m('logs.cleared')).waitFor()
	expect(asked).toBe(m('logs.clearConfirm'))
	expect(await page.locator('#log-lines li', { hasText: 'browser-test-line' }).count()).toBe(0)
	// A filter with no match says so, in a small box.
	await page.getByLabel(m('logs.level'), { exact: true }).selectOption('warning')
	await page.getByLabel(m('logs.text'), { exact: true }).fill('no-line-has-this')
	await page.getByRole('button', { name: m('logs.filter') }).click()
	await page.getByText(m('logs.empty')).waitFor()
	expect((await page.locator('#log-lines').boundingBox())?.height ?? 999).toBeLessThan(80)

	// The playground: preview the upstream body (key masked), then send a streamed request through the pool.
	await page.goto(`${base}/ui/playground`)
	await page.getByLabel(m('playground.model'), { exact: true }).selectOption('claude-sonnet-4-6')
	await page.getByLabel(m('playground.user'), { exact: true }).fill('browser playground')
	await page.getByLabel(m('playground.stream'), { exact: true }).check()
	await page.getByRole('button', { name: m('playground.preview') }).click()
	await page.getByText(m('playground.upstreamRequest')).waitFor()
	const preview = (await page.locator('[data-preview] code').textContent()) ?? ''
	expect(preview).toContain('"stream": true')
	expect(preview).toContain('"content": "browser playground"')
	for (const key of KEYS) expect(preview).not.toContain(key)
	const calls = h.fake.requests.length
	await page.getByRole('button', { name: m('playground.send') }).click()
	await page.locator('[data-answer] [data-content]', { hasText: 'Echo: browser playground' }).waitFor()
	expect(await page.locator('[data-answer]').textContent()).toContain(m('playground.streamedNote'))
	expect(await page.locator('[data-cost]').textContent()).toMatch(/^\$\d|^[^$]+$/)
	// The form keeps what was typed.
	expect(await page.getByLabel(m('playground.user'), { exact: true }).inputValue()).toBe('browser playground')
	const sent = h.fake.requests.slice(calls).find((r) => r.path.endsWith('/chat/completions'))
	expect(sent?.body?.stream).toBe(true)
	await shot(page, 'playground-sent')
	// The request log lists it with the client "panel"; the overview and the performance page count it.
	await h.gateway.services.requestLog?.flush()
	await page.goto(`${base}/ui/requests?client=panel`)
	await page.locator('#requests tbody tr').first().waitFor()
	expect(await page.locator('#requests tbody').textContent()).toContain('panel')
	await page.goto(`${base}/ui/overview`)
	await page.locator('#overview').waitFor()
	await page.goto(`${base}/ui/performance?window=15m`)
	await page.locator('#performance tr[data-model="claude-sonnet-4-6"]').waitFor()

	// Every page at 390 px: no horizontal overflow, a compact navigation, the settings' values in view.
	await page.setViewportSize({ width: 390, height: 844 })
	for (const name of PAGES) {
		await page.goto(`${base}/ui/${name}`)
		const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)
		expect({ page: name, overflow }).toEqual({ page: name, overflow: 0 })
		const header = Math.round((await page.locator('header.top').boundingBox())?.height ?? 999)
		expect({ page: name, header: header <= 75 ? 'compact' : header }).toEqual({ page: name, header: 'compact' })
		await shot(page, `${name}-390px`)
	}
	await page.goto(`${base}/ui/settings`)
	for (const id of ['s-LOG_LEVEL', 's-CALLS_PER_ROTATION', 's-ANTI_TRUNCATION_MODELS']) {
		const box = await page.locator(`#${id}`).boundingBox()
		expect({ id, inView: box !== null && box.x >= 0 && box.x + box.width <= 390 }).toEqual({ id, inView: true })
	}
	if (docs) await page.screenshot({ path: join(DOCS, `panel-${lang}-390px.png`) })
	await page.setViewportSize({ width: 1280, height: 900 })
	for (const name of PAGES) {
		await page.goto(`${base}/ui/${name}`)
		await shot(page, name)
	}
	await page.goto(`${base}/ui/keys`)
	if (docs) await page.screenshot({ path: join(DOCS, `panel-${lang}.png`) })
	expect(consoleErrors.filter((e) => !e.includes('favicon'))).toEqual([])

	// Dark mode: follows the system, and a toggle that is remembered (the server renders it: no flash).
	await page.emulateMedia({ colorScheme: 'dark' })
	const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor)
	expect(await background()).toBe('rgb(18, 20, 23)')
	if (docs) await page.screenshot({ path: join(DOCS, `panel-${lang}-dark.png`) })
	const toggle = page.locator('#theme-toggle')
	await toggle.click()
	expect(await toggle.textContent()).toBe(m('shell.theme.dark'))
	await toggle.click()
	expect(await toggle.textContent()).toBe(m('shell.theme.light'))
	expect(await background()).toBe('rgb(250, 250, 250)')
	// The cookie reaches the server, which renders the theme into <html>: no flash of the other one.
	const served = await (await page.request.get(`${base}/ui/keys`, { headers: { 'accept-language': lang } })).text()
	expect(served).toContain(`<html lang="${lang}" data-theme="light">`)
	await page.reload()
	expect(await background()).toBe('rgb(250, 250, 250)')
	// Back to following the system.
	await page.locator('#theme-toggle').click()
	expect(await background()).toBe('rgb(18, 20, 23)')
	await page.emulateMedia({ colorScheme: 'light' })

	// The language switch: the other language, remembered, then back.
	const other = lang === 'en' ? 'zh-CN' : 'en'
	await page.locator(`header a[hreflang="${other}"]`).click()
	await page.waitForFunction((l) => document.documentElement.lang === l, other)
	expect(await page.locator('h1').textContent()).toBe(t(other, 'title.keys'))
	await page.locator(`header a[hreflang="${lang}"]`).click()
	await page.waitForFunction((l) => document.documentElement.lang === l, lang)

	// Log out.
	await page.getByRole('button', { name: m('shell.logout') }).click()
	await page.waitForURL(`${base}/ui`)
	expect(await page.getByLabel(m('login.password')).count()).toBe(1)
	expect((await page.goto(`${base}/ui/keys`))?.url()).toBe(`${base}/ui?next=%2Fui%2Fkeys`)

	// Stop the server and see the banner.
	await page.getByLabel(m('login.password')).fill(PANEL_PASSWORD)
	await page.getByRole('button', { name: m('login.submit') }).click()
	await page.waitForURL(`${base}/ui/keys`)
	expect(await page.locator('#disconnected').isHidden()).toBe(true)
	await h.stopListening()
	await page.locator('#disconnected').waitFor({ state: 'visible', timeout: 15_000 })
	await shot(page, 'disconnected')
	await context.close()
}
