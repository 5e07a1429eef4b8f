/**
 * max_tokens above the model's maximum output (the catalog's top_provider.max_completion_tokens)
 * is lowered to it before the request goes upstream, and the request's access-log line says so;
 * a value within the maximum, or a model the catalog gives no maximum, goes as sent.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { clampMaxTokens } from '../../../plugins/assembly-client/provider-rules.ts'
import { FAKE_CATALOG } from '../../fake-gateway.ts'
import { type Harness, startHarness } from '../../support.ts'

let h: Harness
beforeAll(async () => {
	h = await startHarness()
})
afterAll(() => h.close())

const lastUpstreamBody = () => h.fake.requests.filter((r) => r.path === '/v1/chat/completions').at(-1)!.body
const maxOf = (model: string) => FAKE_CATALOG.find((e) => e.id === model)!.top_provider!.max_completion_tokens!

async function accessLine(fragment: string): Promise<string | undefined> {
	// The access line is written after the answer went out.
	for (let i = 0; i < 50; i++, await Bun.sleep(10)) {
		const line = h.logs.find((l) => l.includes('"msg":"request"') && l.includes(fragment))
		if (line) return line
	}
	return undefined
}

describe('max_tokens clamp', () => {
	test('a value beyond the context length (which the upstream refuses) is lowered to the model maximum: 200', async () => {
		const max = maxOf('claude-opus-4-7')
		const res = await h.chat({ model: 'claude-opus-4-7', max_tokens: 250_000, messages: [{ role: 'user', content: 'hi' }] })
		expect(res.status).toBe(200)
		expect(lastUpstreamBody().max_tokens).toBe(max)
		expect(await accessLine('max_tokens_clamped')).toContain(`"max_tokens_clamped":{"asked":250000,"sent":${max}}`)
	})

	test('max_completion_tokens is clamped the same way; streamed requests too', async () => {
		const max = maxOf('gpt-5')
		const res = await h.chat({ model: 'gpt-5', max_completion_tokens: 300_000, stream: true, messages: [{ role: 'user', content: 'hi' }] })
		expect(res.status).toBe(200)
		await res.text()
		expect(lastUpstreamBody().max_tokens).toBe(max)
	})

	test('a value within the maximum goes as sent, and nothing is noted', async () => {
		const res = await h.chat({ model: 'claude-sonnet-4-6', max_tokens: 1234, messages: [{ role: 'user', content: 'within' }] })
		expect(res.status).toBe(200)
		expect(lastUpstreamBody().max_tokens).toBe(1234)
	})

	test('the rule alone: no maximum known, or none asked, changes nothing', () => {
		const body: Record<string, unknown> = { max_tokens: 10 }
		expect(clampMaxTokens(body, undefined)).toBeNull()
		expect(clampMaxTokens({}, 100)).toBeNull()
		expect(clampMaxTokens(body, 5)).toBe(10)
		expect(body.max_tokens).toBe(5)
	})
})

describe('MAX_TOKENS_MODE fills a missing max_tokens only', () => {
	for (const [mode, expected] of [
		['off', undefined],
		['low', 4096],
		['medium', 32000],
		['high', 64000],
	] as const) {
		test(`${mode}: ${expected ?? 'nothing sent (the gateway default)'}; a client's own value is kept`, async () => {
			const own = await startHarness({ env: { MAX_TOKENS_MODE: mode } })
			try {
				const upstream = () => own.fake.requests.filter((r) => r.path === '/v1/chat/completions').at(-1)!.body
				expect((await own.chat({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'hi' }] })).status).toBe(200)
				expect(upstream().max_tokens).toBe(expected)
				expect((await own.chat({ model: 'claude-sonnet-4-6', max_tokens: 77, messages: [{ role: 'user', content: 'hi' }] })).status).toBe(200)
				expect(upstream().max_tokens).toBe(77)
			} finally {
				await own.close()
			}
		})
	}

	test('a value outside off/low/medium/high stops start-up with one line naming it', async () => {
		await expect(startHarness({ env: { MAX_TOKENS_MODE: 'huge' } })).rejects.toThrow(/MAX_TOKENS_MODE="huge"/)
	})
})
