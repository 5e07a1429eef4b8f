/**
 * The client key's expiry in a real browser (headless Chromium): the date and time are typed in
 * the browser's time zone, the form names that zone, the server stores UTC, and the edit form
 * shows the stored instant back in the browser's zone with the zone's name. The models page's
 * price override and the usage page's spend range, as an operator uses them.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync } from 'node:fs'
import { type Browser, chromium } from 'playwright-core'
import { t } from '../../../views/i18n/i18n.ts'
import { PANEL_PASSWORD, startHarness } from '../../support.ts'

const CHROMIUM = '/usr/bin/chromium'
let browser: Browser

describe.skipIf(!existsSync(CHROMIUM))('client key expiry in the browser zone', () => {
	beforeAll(async () => {
		browser = await chromium.launch({
			executablePath: CHROMIUM,
			args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
		})
	})
	afterAll(async () => {
		await browser?.close()
	})

	test('typed in Europe/Berlin, stored in UTC, shown back in Berlin with the zone named', async () => {
		const h = await startHarness({ env: { LOG_LEVEL: '' } })
		try {
			const base = await h.listen()
			const context = await browser.newContext({ locale: 'en-US', timezoneId: 'Europe/Berlin' })
			const page = await context.newPage()
			const errors: string[] = []
			page.on('pageerror', (err) => errors.push(String(err)))
			await page.goto(`${base}/ui/clients`)
			await page.getByLabel(t('en', 'login.password')).fill(PANEL_PASSWORD)
			await page.getByRole('button', { name: t('en', 'login.submit') }).click()
			await page.waitForURL(`${base}/ui/clients`)
			const form = page.locator('form.card')
			expect(await form.locator('[data-zone-label]').textContent()).toBe(t('en', 'clients.timeZone', { zone: 'Europe/Berlin' }))
			await form.getByLabel(t('en', 'clients.name')).fill('berlin team')
			await form.getByLabel(t('en', 'clients.expiresOn')).fill('2031-05-06')
			await form.getByLabel(t('en', 'clients.expiresAt')).fill('17:45')
			await form.getByRole('button', { name: t('en', 'clients.create') }).click()
			await page.locator('#created-key').waitFor()
			const [client] = (await (await h.admin('/admin/clients')).json()).clients
			// Summer time in Berlin is UTC+2.
			expect(client.expires_at).toBe('2031-05-06T15:45:00.000Z')
			// After the htmx swap, the edit form shows the stored instant in Berlin again.
			const row = page.locator(`#client-${client.id}`)
			await row.locator('summary').click()
			expect(await row.locator('input[name=expires_date]').inputValue()).toBe('2031-05-06')
			expect(await row.locator('input[name=expires_time]').inputValue()).toBe('17:45')
			expect(await row.locator('input[name=tz]').inputValue()).toBe('Europe/Berlin')
			expect(await row.locator('[data-zone-label]').textContent()).toBe(t('en', 'clients.timeZone', { zone: 'Europe/Berlin' }))
			// The list says the UTC time and, beside it, the browser's.
			expect(await row.locator('[data-field=expires]').textContent()).toContain('2031-05-06 15:45 UTC')
			expect(await row.locator('[data-field=expires] .local-time').textContent()).toContain('17:45')
			// Saving the edit form untouched keeps the instant (no drift by the zone's offset).
			await row.getByRole('button', { name: t('en', 'common.save') }).click()
			await page.getByText(t('en', 'clients.saved', { name: 'berlin team' })).waitFor()
			expect((await (await h.admin(`/admin/clients/${client.id}`)).json()).expires_at).toBe('2031-05-06T15:45:00.000Z')
			await row.locator('summary').click()
			expect(await row.locator('input[name=expires_time]').inputValue()).toBe('17:45')
			expect(errors).toEqual([])
			await context.close()
		} finally {
			await h.close()
		}
	}, 60_000)

	test('a price override set and removed from the models page; the spend range chosen on the usage page', async () => {
		const h = await startHarness({ env: { LOG_LEVEL: '' } })
		try {
			const base = await h.listen()
			expect((await h.chat({ model: 'gpt-5', messages: [{ role: 'user', content: 'hi' }] })).status).toBe(200)
			const context = await browser.newContext({ locale: 'en-US', timezoneId: 'UTC' })
			const page = await context.newPage()
			const errors: string[] = []
			page.on('pageerror', (err) => errors.push(String(err)))
			page.on('dialog', (dialog) => void dialog.accept())
			await page.goto(`${base}/ui/models`)
			await page.getByLabel(t('en', 'login.password')).fill(PANEL_PASSWORD)
			await page.getByRole('button', { name: t('en', 'login.submit') }).click()
			await page.waitForURL(`${base}/ui/models`)
			const row = page.locator('#price-gpt-5')
			await row.getByText(t('en', 'prices.setOverride')).click()
			await row.getByLabel(t('en', 'prices.col.prompt'), { exact: true }).fill('0.5')
			await row.getByLabel(t('en', 'prices.col.completion'), { exact: true }).fill('4')
			await row.getByRole('button', { name: t('en', 'prices.save') }).click()
			await page.getByText(t('en', 'prices.saved', { model: 'gpt-5' })).waitFor()
			expect(await page.locator('#price-gpt-5').getAttribute('data-source')).toBe('override')
			expect(await page.locator('#price-gpt-5 [data-field=prompt]').textContent()).toBe('0.5')
			// The models form above is untouched by the prices' swap.
			expect(await page.locator('#models form[data-models]').count()).toBe(1)
			// The row's form stays open across the swap (the morph keeps `open`), now offering the removal.
			expect(await page.locator('#price-gpt-5 details').getAttribute('open')).not.toBeNull()
			expect(await page.locator('#price-gpt-5 summary').textContent()).toBe(t('en', 'prices.editOverride'))
			await page
				.locator('#price-gpt-5')
				.getByRole('button', { name: t('en', 'prices.remove') })
				.click()
			await page.getByText(t('en', 'prices.removed', { model: 'gpt-5' })).waitFor()
			expect(await page.locator('#price-gpt-5').getAttribute('data-source')).toBe('catalog')

			await page.goto(`${base}/ui/usage`)
			const today = new Date(Date.now() - 7 * 3_600_000).toISOString().slice(0, 10)
			expect(await page.locator('#spend [data-day]').count()).toBe(30)
			await page.getByLabel(t('en', 'spend.from')).fill(today)
			await page.getByRole('button', { name: t('en', 'spend.show') }).click()
			await page.waitForFunction((day) => document.querySelector('#spend a[download]')?.getAttribute('href')?.includes(`from=${day}&`), today)
			expect(await page.locator('#spend').textContent()).toContain(t('en', 'spend.range', { from: today, to: today }))
			expect(await page.locator('#spend [data-field=cost]').first().textContent()).toMatch(/^\$0\.0000\d\d$/)
			expect(errors).toEqual([])
			await context.close()
		} finally {
			await h.close()
		}
	}, 60_000)
})
