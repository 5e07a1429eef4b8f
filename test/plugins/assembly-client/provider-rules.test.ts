/**
 * Provider rules: a newer Claude model keeps `temperature` and loses `top_p` when both are sent
 * (the provider refuses both, as the fake does); Claude gets no penalties; other models get
 * everything as sent. The request's access-log line names what was dropped.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import OpenAI from 'openai'
import { applyProviderRules, claudeVersion, samplingExclusive } from '../../../plugins/assembly-client/provider-rules.ts'
import { createFakeGateway, MSG_SAMPLING_EXCLUSIVE } from '../../fake-gateway.ts'
import { API_PASSWORD, type Harness, KEYS, startHarness } from '../../support.ts'

describe('which models the sampling rule covers', () => {
	test('Opus 4.1 and later, Sonnet and Haiku 4.5 and later, dated ids included', () => {
		for (const model of [
			'claude-opus-4-1-20250805',
			'claude-opus-4-5-20251101',
			'claude-opus-4-7',
			'claude-opus-5',
			'claude-opus-5-5',
			'claude-sonnet-4-5-20250929',
			'claude-sonnet-4-6',
			'claude-sonnet-5',
			'claude-haiku-4-5-20251001',
		])
			expect([model, samplingExclusive(model)]).toEqual([model, true])
		for (const model of [
			'claude-opus-4-20250514',
			'claude-sonnet-4-20250514',
			'claude-3-haiku-20240307',
			'claude-3-5-sonnet-20241022',
			'gpt-5',
			'gemini-2.5-pro',
		])
			expect([model, samplingExclusive(model)]).toEqual([model, false])
		expect(claudeVersion('claude-opus-4-20250514')).toEqual({ family: 'opus', major: 4, minor: 0 })
	})

	test('the rules change only what they must', () => {
		const claude: Record<string, unknown> = { model: 'claude-sonnet-4-6', temperature: 0.2, top_p: 0.9, frequency_penalty: 0.5, presence_penalty: 0.1 }
		expect(applyProviderRules(claude)).toEqual(['top_p', 'frequency_penalty', 'presence_penalty'])
		expect(claude).toEqual({ model: 'claude-sonnet-4-6', temperature: 0.2 })
		const topPOnly = { model: 'claude-sonnet-4-6', top_p: 0.9 }
		expect(applyProviderRules(topPOnly)).toEqual([])
		expect(topPOnly.top_p).toBe(0.9)
		const older = { model: 'claude-sonnet-4-20250514', temperature: 0.2, top_p: 0.9 }
		expect(applyProviderRules(older)).toEqual([])
		const gpt = { model: 'gpt-5', temperature: 0.2, top_p: 0.9, frequency_penalty: 0.5 }
		expect(applyProviderRules(gpt)).toEqual([])
		expect(gpt).toEqual({ model: 'gpt-5', temperature: 0.2, top_p: 0.9, frequency_penalty: 0.5 })
	})
})

describe('the fake refuses both sampling parameters as the provider does', () => {
	test('400 with the provider message for claude-sonnet-4-6; accepted for gpt-5', async () => {
		const fake = createFakeGateway({ keys: { [KEYS[0]]: {} } })
		const send = (model: string) =>
			fake.fetch('http://fake/v1/chat/completions', {
				method: 'POST',
				headers: { authorization: KEYS[0], 'content-type': 'application/json' },
				body: JSON.stringify({ model, temperature: 0.5, top_p: 0.9, messages: [{ role: 'user', content: 'hi' }] }),
			})
		const refused = await send('claude-sonnet-4-6')
		expect(refused.status).toBe(400)
		expect(await refused.json()).toEqual({ message: MSG_SAMPLING_EXCLUSIVE })
		expect((await send('gpt-5')).status).toBe(200)
	})
})

describe('through amb2api', () => {
	let h: Harness
	let base: string
	beforeAll(async () => {
		h = await startHarness()
		base = await h.listen()
	})
	afterAll(() => h.close())

	test('an OpenAI SDK call with temperature and top_p on claude-sonnet-4-6 succeeds; temperature reaches upstream, top_p does not', async () => {
		const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: API_PASSWORD, maxRetries: 0 })
		const answer = await client.chat.completions.create({
			model: 'claude-sonnet-4-6',
			temperature: 0.4,
			top_p: 0.9,
			frequency_penalty: 0.3,
			messages: [{ role: 'user', content: 'hi' }],
		})
		expect(answer.choices[0]?.message.role).toBe('assistant')
		const sent = h.fake.requests.filter((r) => r.path === '/v1/chat/completions').at(-1)!
		expect(sent.body.temperature).toBe(0.4)
		expect('top_p' in sent.body).toBe(false)
		expect('frequency_penalty' in sent.body).toBe(false)
		// The access line is written after the answer went out.
		let line: string | undefined
		for (let i = 0; i < 50 && !line; i++, await Bun.sleep(10)) line = h.logs.find((l) => l.includes('"msg":"request"') && l.includes('provider_rules_dropped'))
		expect(line).toContain('"provider_rules_dropped":["top_p","frequency_penalty"]')
	})

	test('gpt-5 gets temperature, top_p and penalties as sent', async () => {
		const res = await h.chat({ model: 'gpt-5', temperature: 0.4, top_p: 0.9, presence_penalty: 0.2, messages: [{ role: 'user', content: 'hi' }] })
		expect(res.status).toBe(200)
		const sent = h.fake.requests.filter((r) => r.path === '/v1/chat/completions').at(-1)!
		expect(sent.body).toMatchObject({ temperature: 0.4, top_p: 0.9, presence_penalty: 0.2 })
	})
})
