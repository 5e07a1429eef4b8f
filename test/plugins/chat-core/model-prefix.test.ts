import { afterEach, describe, expect, test } from 'bun:test'
import { readModelPrefixes, withPrefixedVariants } from '../../../plugins/chat-core/model-prefix.ts'
import { harnessSet } from '../../support.ts'

const harnesses = harnessSet((): string[] => created)
const created: string[] = []
afterEach(() => harnesses.closeAll())

describe('model prefixes', () => {
	test.each([
		['gpt-5', { model: 'gpt-5', fakeStream: false, antiTruncation: false }],
		['假流式/gpt-5', { model: 'gpt-5', fakeStream: true, antiTruncation: false }],
		['fake-stream/gpt-5', { model: 'gpt-5', fakeStream: true, antiTruncation: false }],
		['流式抗截断/gpt-5', { model: 'gpt-5', fakeStream: false, antiTruncation: true }],
		['anti-truncation/假流式/gpt-5', { model: 'gpt-5', fakeStream: true, antiTruncation: true }],
		['假流式/流式抗截断/gpt-5', { model: 'gpt-5', fakeStream: true, antiTruncation: true }],
		// Only at the front: a model id that merely contains one is left alone.
		['vendor/fake-stream/x', { model: 'vendor/fake-stream/x', fakeStream: false, antiTruncation: false }],
	])('%s', (name, expected) => {
		expect(readModelPrefixes(name)).toEqual(expected)
	})

	test('listed variants', () => {
		expect(withPrefixedVariants(['a', 'b'], { fakeStream: true, antiTruncation: false })).toEqual(['a', 'b', '假流式/a', '假流式/b'])
		expect(withPrefixedVariants(['a'], { fakeStream: false, antiTruncation: false })).toEqual(['a'])
	})

	test('a client key allowed a model may use its prefixed variants, and no other model through them', async () => {
		const h = await harnesses.start()
		const response = await h.admin('/admin/clients', { method: 'POST', json: { name: 'prefixes', allowed_models: ['gpt-5'] } })
		expect(response.status).toBe(201)
		const { key } = (await response.json()) as { key: string }
		created.push(key)
		const ok = await h.chat({ model: '假流式/gpt-5', stream: true, messages: [{ role: 'user', content: 'hi' }] }, key)
		expect(ok.status).toBe(200)
		expect(await ok.text()).toContain('data: [DONE]')
		const denied = await h.chat({ model: '假流式/claude-sonnet-4-6', stream: true, messages: [{ role: 'user', content: 'hi' }] }, key)
		expect(denied.status).toBe(403)
	})
})
