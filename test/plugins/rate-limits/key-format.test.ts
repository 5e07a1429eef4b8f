/**
 * Keys with control characters (`\u0000`, `\r\n`) were accepted and only
 * failed later as a 502. They are refused when added: 400 naming the key's position, never the key.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import { keyList, keyProblem } from '../../../plugins/rate-limits/key-format.ts'
import { harnessSet, KEYS } from '../../support.ts'

const harnesses = harnessSet()
afterEach(() => harnesses.closeAll())

describe('upstream key format', () => {
	test('POST /admin/keys refuses control characters, spaces, non-ASCII, absurd lengths; nothing is added', async () => {
		const h = await harnesses.start({ keys: [KEYS[0]!] })
		const bad = ['abc\u0000defghijk', 'abcdef\r\nX-Evil: 1', 'key with space inside', 'ключ-ключ-ключ', 'short', 'k'.repeat(600), 'tab\there-and-more']
		for (const key of bad) {
			const response = await h.admin('/admin/keys', { method: 'POST', json: { keys: [KEYS[1], key] } })
			expect(response.status).toBe(400)
			const error = (await response.json()).error
			expect(error.param).toMatch(/^keys(\[1\]|\.1)$/)
			if (key.length > 8) expect(error.message).not.toContain(key.slice(0, 8))
		}
		const keys = (await (await h.admin('/admin/keys')).json()).keys as unknown[]
		expect(keys).toHaveLength(1)
		// A normal key is still added.
		expect((await h.admin('/admin/keys', { method: 'POST', json: { keys: [KEYS[1]] } })).status).toBe(200)
	})

	test('ASSEMBLY_API_KEYS with a control character stops start-up naming the position, not the key', () => {
		expect(() => keyList('good-key-1,bad\u0001key-2', 'ASSEMBLY_API_KEYS')).toThrow(
			'ASSEMBLY_API_KEYS: key 2 contains a space, a control character or a non-ASCII character',
		)
		expect(keyList('k1, k2', 'ASSEMBLY_API_KEYS')).toEqual(['k1', 'k2'])
		expect(keyProblem('0123456789abcdef0123456789abcdef')).toBeNull()
	})
})
