/**
 * A web page from another origin streams a chat through /v1/chat/completions with `fetch` in
 * headless Chromium (the preflight, the streamed answer read chunk by chunk, a header exposed to
 * the page), as a browser chat app does. Without CORS the browser refuses the call.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync } from 'node:fs'
import { type Browser, chromium } from 'playwright-core'
import { API_PASSWORD, type Harness, startHarness } from '../../support.ts'

const CHROMIUM = '/usr/bin/chromium'

/** The page's script: one streamed chat, reporting what a chat app would see. */
const PAGE = `<!doctype html><meta charset="utf-8"><title>chat app</title><script>
async function streamChat(base, password) {
	const res = await fetch(base + '/v1/chat/completions', {
		method: 'POST',
		headers: { authorization: 'Bearer ' + password, 'content-type': 'application/json' },
		body: JSON.stringify({ model: 'claude-sonnet-4-6', stream: true, messages: [{ role: 'user', content: 'Say hello' }] }),
	})
	const reader = res.body.getReader()
	const decoder = new TextDecoder()
	let text = '', reads = 0
	for (;;) {
		const { done, value } = await reader.read()
		if (done) break
		reads++
		text += decoder.decode(value, { stream: true })
	}
	const content = text.split('\\n').filter((l) => l.startsWith('data: {')).map((l) => JSON.parse(l.slice(6)).choices[0]?.delta?.content ?? '').join('')
	return { status: res.status, requestId: res.headers.get('x-request-id'), reads, done: text.includes('data: [DONE]'), content }
}
</script>`

describe.skipIf(!existsSync(CHROMIUM))('a browser chat app on another origin', () => {
	let h: Harness
	let gatewayBase: string
	let page: ReturnType<typeof Bun.serve>
	let browser: Browser

	beforeAll(async () => {
		h = await startHarness({ env: { LOG_LEVEL: '' } })
		gatewayBase = await h.listen()
		page = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response(PAGE, { headers: { 'content-type': 'text/html' } }) })
		browser = await chromium.launch({
			executablePath: CHROMIUM,
			args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
		})
	})

	afterAll(async () => {
		await browser?.close()
		await page?.stop(true)
		await h?.close()
	})

	test('streams a chat through /v1/chat/completions with fetch', async () => {
		const tab = await (await browser.newContext()).newPage()
		await tab.goto(`http://127.0.0.1:${page.port}/`)
		expect(new URL(tab.url()).origin).not.toBe(gatewayBase)
		const result = await tab.evaluate(
			([base, password]) => (globalThis as unknown as { streamChat: (b: string, p: string) => Promise<Record<string, unknown>> }).streamChat(base!, password!),
			[gatewayBase, API_PASSWORD],
		)
		expect(result.status).toBe(200)
		expect(result.done).toBe(true)
		expect(String(result.content).length).toBeGreaterThan(0)
		expect(result.requestId).toMatch(/\S+/)
		// The preflight reached the gateway and was answered, then the real call.
		const seen = h.logs.filter((l) => l.includes('"path":"/v1/chat/completions"'))
		expect(seen.some((l) => l.includes('"method":"POST"'))).toBe(true)
	}, 30_000)
})
