/**
 * The panel end to end in headless Chromium (Debian's chromium, driven by the pinned
 * playwright-core): log in, watch the rate-limit table change without losing a text selection,
 * disable and unban a key, add a key, create a client key and use it, change a setting and see
 * it take effect, see a new log line arrive, stop the server and see the banner, check 390 px,
 * log out. Playwright launches Chromium with a fresh temporary profile. Screenshots of each page go to test/screenshots/ (git-ignored).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { type Browser, chromium, type Page } from 'playwright-core'
import { keyId } from '../../../core/secrets.ts'
import { type Harness, KEYS, PANEL_PASSWORD, startHarness } from '../../support.ts'

const CHROMIUM = '/usr/bin/chromium'
const SHOTS = join(import.meta.dir, '../../screenshots')
const PAGES = ['keys', 'models', 'usage', 'quotas', 'clients', 'settings', 'logs', 'storage'] as const

let h: Harness
let base: string
let browser: Browser

describe.skipIf(!existsSync(CHROMIUM))('panel in Chromium', () => {
	beforeAll(async () => {
		h = await startHarness({ env: { LOG_LEVEL: '' } })
		base = await h.listen()
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
		await h?.close()
	})

	const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true })
	const chat = (auth?: string) => h.chat({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'hi' }] }, auth)

	test(
		'an operator session',
		async () => {
			const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
			const page = await context.newPage()
			const consoleErrors: string[] = []
			page.on('console', (m) => {
				if (m.type() === 'error') consoleErrors.push(m.text())
			})

			// Log in.
			await page.goto(`${base}/ui`)
			await page.getByLabel('Panel password').fill(PANEL_PASSWORD)
			await page.getByRole('button', { name: 'Log in' }).click()
			await page.waitForURL(`${base}/ui/keys`)
			expect(await page.locator('h1').textContent()).toBe('Keys and rate limits')

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
			await page.waitForFunction(
				() =>
					/\d+ models?/.test(document.querySelector('#keys')?.textContent ?? '') && (document.querySelector('#keys')?.textContent ?? '').includes('1 model'),
				null,
				{ timeout: 15_000 },
			)
			expect(await page.evaluate(() => window.getSelection()?.toString())).toBe(maskText)
			// An expanded row stays expanded across polls.
			const busy = (await h.gateway.services.pool?.report())?.find((k) => Object.keys(k.models).length)?.id as string
			await page.locator(`#key-${busy}-models summary`).click()
			expect((await chat()).status).toBe(200)
			await page.waitForFunction((id) => /used 5/.test(document.querySelector(`#key-${id}`)?.textContent ?? ''), busy, { timeout: 15_000 })
			expect(await page.locator(`#key-${busy}-models`).getAttribute('open')).not.toBeNull()
			expect(await page.locator(`#key-${busy}-models tr`, { hasText: 'claude-sonnet-4-6' }).isVisible()).toBe(true)
			await shot(page, 'keys-live')

			// Disable a key, then ban it from the side and unban it here.
			await page.locator(`#key-${first} .key-row button`, { hasText: 'Disable' }).click()
			await page.locator(`#key-${first} .key-row .badge-disabled`).waitFor()
			await page.locator(`#key-${first} .key-row button`, { hasText: 'Enable' }).click()
			await page.locator(`#key-${first} .key-row .badge-active`).waitFor()
			await h.gateway.services.pool?.setStatus(first, 'banned', 'HTTP 401 from the upstream')
			await page.locator(`#key-${first} .key-row button`, { hasText: 'Unban' }).waitFor({ timeout: 15_000 })
			await page.locator(`#key-${first} .key-row button`, { hasText: 'Unban' }).click()
			await page.locator(`#key-${first} .key-row .badge-active`).waitFor()
			expect(await page.locator(`#key-${first}`).textContent()).not.toContain('HTTP 401')

			// Add a key.
			await page.getByLabel('Add keys (one per line)').fill('aai-browser-added-000000000001')
			await page.getByRole('button', { name: 'Add keys' }).click()
			await page.getByText('1 key(s) added').waitFor()
			expect((await (await h.admin('/admin/keys')).json()).keys).toHaveLength(KEYS.length + 1)

			// Create a client key and use it on /v1.
			await page.goto(`${base}/ui/clients`)
			await page.getByLabel('Name').first().fill('browser client')
			await page.getByRole('button', { name: 'Create client key' }).click()
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

			// Change a setting and see it take effect: the log level goes to debug, and the log view shows debug lines.
			await page.goto(`${base}/ui/settings`)
			await page.locator('#s-LOG_LEVEL').fill('debug')
			await page.getByRole('button', { name: 'Save settings' }).click()
			await page.getByText('Saved: log_level').waitFor()
			expect(h.gateway.log.level).toBe('debug')
			await shot(page, 'settings')

			// See a new log line arrive in the tail.
			await page.goto(`${base}/ui/logs`)
			h.gateway.log.warn({ marker: 'browser-test-line' }, 'a line the browser must see')
			await page.locator('#log-lines li', { hasText: 'browser-test-line' }).waitFor({ timeout: 15_000 })
			await page.locator('#log-lines .badge-debug').first().waitFor({ timeout: 15_000 })
			await shot(page, 'logs')
			// Pause holds new lines back; resume brings them.
			await page.getByRole('button', { name: 'Pause' }).click()
			await Bun.sleep(2500)
			h.gateway.log.warn({ marker: 'while-paused' }, 'a line sent while paused')
			await Bun.sleep(4500)
			expect(await page.locator('#log-lines li', { hasText: 'while-paused' }).count()).toBe(0)
			await page.getByRole('button', { name: 'Resume' }).click()
			await page.locator('#log-lines li', { hasText: 'while-paused' }).waitFor({ timeout: 15_000 })
			// Clear asks first.
			let asked = ''
			page.once('dialog', (dialog) => {
				asked = dialog.message()
				void dialog.accept()
			})
			await page.getByRole('button', { name: 'Clear view' }).click()
			await page.getByText('The log view was cleared').waitFor()
			expect(asked).toContain('Clear')
			expect(await page.locator('#log-lines li', { hasText: 'browser-test-line' }).count()).toBe(0)

			// Every page, and no horizontal overflow at 390 px.
			await page.setViewportSize({ width: 390, height: 844 })
			for (const name of PAGES) {
				await page.goto(`${base}/ui/${name}`)
				const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)
				expect({ page: name, overflow }).toEqual({ page: name, overflow: 0 })
				await shot(page, `${name}-390px`)
			}
			await page.setViewportSize({ width: 1280, height: 900 })
			for (const name of PAGES) {
				await page.goto(`${base}/ui/${name}`)
				await shot(page, name)
			}
			expect(consoleErrors.filter((e) => !e.includes('favicon'))).toEqual([])

			// Log out.
			await page.goto(`${base}/ui/keys`)
			await page.getByRole('button', { name: 'Log out' }).click()
			await page.waitForURL(`${base}/ui`)
			expect(await page.getByLabel('Panel password').count()).toBe(1)
			expect((await page.goto(`${base}/ui/keys`))?.url()).toBe(`${base}/ui`)

			// Stop the server and see the banner.
			await page.getByLabel('Panel password').fill(PANEL_PASSWORD)
			await page.getByRole('button', { name: 'Log in' }).click()
			await page.waitForURL(`${base}/ui/keys`)
			expect(await page.locator('#disconnected').isHidden()).toBe(true)
			await h.stopListening()
			await page.locator('#disconnected').waitFor({ state: 'visible', timeout: 15_000 })
			await shot(page, 'disconnected')
			await context.close()
		},
		{ timeout: 180_000 },
	)
})
