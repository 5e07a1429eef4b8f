import { afterEach, describe, expect, test } from 'bun:test'
import { resolveSettings } from '../../../core/config.ts'
import { plugin } from '../../../plugins/assembly-client/plugin.ts'
import { applyPromptCache, cacheFamily, minCacheableTokens, type PromptCacheOptions } from '../../../plugins/assembly-client/prompt-cache.ts'
import { toGatewayBody } from '../../../plugins/assembly-client/request.ts'
import { parseChatRequest } from '../../../plugins/chat-core/chat-request.ts'
import { assertNoSecrets, type Harness, startHarness } from '../../support.ts'

const on: PromptCacheOptions = { mode: 'conservative', ttl: '5m' }
/** About 2,400 words: over every documented minimum (4,096 tokens at most). */
const LONG = Array.from({ length: 2400 }, (_, i) => `rule${i % 97}`).join(' ')
const body = (model: string, patch: Record<string, unknown> = {}) =>
	toGatewayBody(
		parseChatRequest({
			model,
			messages: [
				{ role: 'system', content: LONG },
				{ role: 'user', content: 'Hi' },
			],
			...patch,
		}),
		{
			model,
			stream: false,
			includeUsage: false,
		},
	)
const messagesOf = (b: Record<string, unknown>) => b.messages as Record<string, unknown>[]

describe('applyPromptCache: Claude', () => {
	test('a request without cache_control gets an ephemeral marker with the TTL on its last leading system message', () => {
		const b = toGatewayBody(
			parseChatRequest({
				model: 'claude-sonnet-4-6',
				messages: [
					{ role: 'system', content: LONG },
					{ role: 'developer', content: 'second system' },
					{ role: 'user', content: 'Hi' },
				],
			}),
			{ model: 'claude-sonnet-4-6', stream: false, includeUsage: false },
		)
		const result = applyPromptCache(b, { mode: 'conservative', ttl: '1h' })
		expect(result.marker).toBe('cache_control')
		expect(messagesOf(b)[0]!.cache_control).toBeUndefined()
		expect(messagesOf(b)[1]!.cache_control).toEqual({ type: 'ephemeral', ttl: '1h' })
		expect(messagesOf(b)[2]!.cache_control).toBeUndefined()
		expect(b.prompt_cache_key).toBeUndefined()
	})

	test("a client's own cache_control (top level, message, part or tool) stands: nothing is added", () => {
		for (const patch of [
			{ cache_control: { type: 'ephemeral' } },
			{
				messages: [
					{ role: 'system', content: LONG },
					{ role: 'user', content: 'Hi', cache_control: { type: 'ephemeral' } },
				],
			},
			{
				messages: [
					{ role: 'system', content: LONG },
					{
						role: 'user',
						content: [
							{ type: 'text', text: 'Hi' },
							{ type: 'image_url', image_url: { url: 'data:x' }, cache_control: { type: 'ephemeral' } },
						],
					},
				],
			},
			{ tools: [{ type: 'function', function: { name: 'f', parameters: {} }, cache_control: { type: 'ephemeral' } }] },
		]) {
			const b = body('claude-sonnet-4-6', patch)
			const before = JSON.stringify(b)
			expect(applyPromptCache(b, on).marker).toBeNull()
			expect(JSON.stringify(b)).toBe(before)
		}
	})

	test('no marker below the documented minimum (Sonnet 4.6: 2,048 tokens; Opus 4.7: 4,096), one above it', () => {
		const short = 'x '.repeat(3000) // about 1,500 tokens
		const b = body('claude-sonnet-4-6', {
			messages: [
				{ role: 'system', content: short },
				{ role: 'user', content: 'Hi' },
			],
		})
		expect(applyPromptCache(b, on).marker).toBeNull()
		expect(messagesOf(b)[0]!.cache_control).toBeUndefined()
		const mid = 'x '.repeat(6000) // about 3,000 tokens
		expect(applyPromptCache(body('claude-sonnet-4-6', { messages: [{ role: 'system', content: mid }] }), on).marker).toBe('cache_control')
		expect(applyPromptCache(body('claude-opus-4-7', { messages: [{ role: 'system', content: mid }] }), on).marker).toBeNull()
		// Undocumented minimum: the marker is added (a short prompt runs uncached without error).
		expect(applyPromptCache(body('claude-opus-5', { messages: [{ role: 'system', content: 'short' }] }), on).marker).toBe('cache_control')
	})

	test('no leading system message: no marker (tools alone have no message to carry it), but still an affinity key', () => {
		const b = body('claude-sonnet-4-6', { messages: [{ role: 'user', content: 'Hi' }], tools: [{ type: 'function', function: { name: 'f', parameters: {} } }] })
		const result = applyPromptCache(b, on)
		expect(result.marker).toBeNull()
		expect(result.affinity).toMatch(/^[0-9a-f]{32}$/)
	})

	test('mode off: nothing is added, the affinity key is the same', () => {
		const a = body('claude-sonnet-4-6')
		const b = body('claude-sonnet-4-6')
		const off = applyPromptCache(a, { mode: 'off', ttl: '5m' })
		expect(off.marker).toBeNull()
		expect(JSON.stringify(a)).not.toContain('cache_control')
		expect(applyPromptCache(b, on).affinity).toBe(off.affinity)
	})
})

describe('applyPromptCache: OpenAI family', () => {
	test('a request without prompt_cache_key gets amb2api: + 32 hex digits of the prefix hash, never the text', () => {
		const b = body('gpt-5')
		const result = applyPromptCache(b, on)
		expect(result.marker).toBe('prompt_cache_key')
		expect(b.prompt_cache_key).toBe(`amb2api:${result.affinity}`)
		expect(String(b.prompt_cache_key)).toMatch(/^amb2api:[0-9a-f]{32}$/)
		expect(JSON.stringify(b)).not.toContain('cache_control')
	})

	test('the key depends on the stable prefix only: later turns and key order do not change it; another system prompt does', () => {
		const first = body('gpt-5')
		const later = body('gpt-5', {
			messages: [
				{ role: 'system', content: LONG },
				{ role: 'user', content: 'Hi' },
				{ role: 'assistant', content: 'Hello' },
				{ role: 'user', content: 'More' },
			],
		})
		const other = body('gpt-5', {
			messages: [
				{ role: 'system', content: `${LONG} extra` },
				{ role: 'user', content: 'Hi' },
			],
		})
		const reordered = body('gpt-5', { response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object' } } } })
		const reordered2 = body('gpt-5', { response_format: { json_schema: { schema: { type: 'object' }, name: 'x' }, type: 'json_schema' } })
		applyPromptCache(first, on)
		applyPromptCache(later, on)
		applyPromptCache(other, on)
		expect(later.prompt_cache_key).toBe(first.prompt_cache_key)
		expect(other.prompt_cache_key).not.toBe(first.prompt_cache_key)
		expect(applyPromptCache(reordered, on).affinity).toBe(applyPromptCache(reordered2, on).affinity)
		expect(applyPromptCache(reordered, on).affinity).not.toBe(applyPromptCache(body('gpt-5'), on).affinity)
	})

	test("a client's prompt_cache_key stays and becomes the affinity key", () => {
		const b = body('gpt-5', { prompt_cache_key: 'mine' })
		const result = applyPromptCache(b, on)
		expect(b.prompt_cache_key).toBe('mine')
		expect(result).toEqual({ affinity: 'key:mine', marker: null })
	})

	test('below 1,024 tokens of prompt: no key added', () => {
		const b = body('gpt-5', {
			messages: [
				{ role: 'system', content: 'Be brief.' },
				{ role: 'user', content: 'Hi' },
			],
		})
		expect(applyPromptCache(b, on).marker).toBeNull()
		expect(b.prompt_cache_key).toBeUndefined()
	})

	test('other providers (Gemini, Qwen) get no marker; a request with no stable prefix has no affinity key', () => {
		const b = body('gemini-2.5-flash')
		expect(applyPromptCache(b, on).marker).toBeNull()
		expect(JSON.stringify(b)).not.toMatch(/cache_control|prompt_cache_key/)
		expect(applyPromptCache(body('gpt-5', { messages: [{ role: 'user', content: LONG }] }), on).affinity).toBeNull()
	})

	test('families and documented minimums', () => {
		expect(cacheFamily('claude-haiku-4-5-20251001')).toBe('claude')
		expect(cacheFamily('gpt-oss-120b')).toBe('openai')
		expect(cacheFamily('kimi-k2.5')).toBe('openai')
		expect(cacheFamily('o3-mini')).toBe('openai')
		expect(cacheFamily('qwen3-32B')).toBe('other')
		expect(minCacheableTokens('claude-haiku-4-5-20251001')).toBe(4096)
		expect(minCacheableTokens('claude-opus-4-5-20251101')).toBe(4096)
		expect(minCacheableTokens('claude-sonnet-4-5-20250929')).toBe(1024)
		expect(minCacheableTokens('claude-opus-4-20250514')).toBe(1024)
		expect(minCacheableTokens('gpt-5')).toBe(1024)
		expect(minCacheableTokens('claude-sonnet-5')).toBeNull()
		expect(minCacheableTokens('kimi-k2.5')).toBeNull()
	})
})

describe('prompt cache through the gateway', () => {
	let h: Harness
	afterEach(async () => {
		assertNoSecrets(h.logs)
		await h.close()
	})
	const sent = () => h.fake.requests.filter((r) => r.path === '/v1/chat/completions').map((r) => r.body as Record<string, unknown>)

	test('by default the upstream receives the marker; PROMPT_CACHE_MODE=off sends the body unmarked', async () => {
		h = await startHarness()
		const messages = [
			{ role: 'system', content: LONG },
			{ role: 'user', content: 'Hi' },
		]
		expect((await h.chat({ model: 'claude-sonnet-4-6', messages })).status).toBe(200)
		expect((await h.chat({ model: 'gpt-5', messages })).status).toBe(200)
		const [claude, gpt] = sent()
		expect((claude!.messages as Record<string, unknown>[])[0]!.cache_control).toEqual({ type: 'ephemeral', ttl: '5m' })
		expect(String(gpt!.prompt_cache_key)).toMatch(/^amb2api:[0-9a-f]{32}$/)
		await h.close()

		h = await startHarness({ env: { PROMPT_CACHE_MODE: 'off' } })
		expect((await h.chat({ model: 'claude-sonnet-4-6', messages })).status).toBe(200)
		expect(JSON.stringify(sent()[0])).not.toMatch(/cache_control|prompt_cache_key/)
	})
})

describe('settings', () => {
	test('an invalid PROMPT_CACHE_MODE or PROMPT_CACHE_TTL is refused with a clear message', () => {
		const settings = plugin.settings!
		expect(() => resolveSettings(settings, { PROMPT_CACHE_MODE: 'always' })).toThrow(/PROMPT_CACHE_MODE="always": must be "conservative" or "off"/)
		expect(() => resolveSettings(settings, { PROMPT_CACHE_TTL: '10m' })).toThrow(/PROMPT_CACHE_TTL="10m": must be "5m" or "1h"/)
		expect(resolveSettings(settings, { PROMPT_CACHE_MODE: 'OFF' }).promptCacheMode).toBe('off')
	})
})
