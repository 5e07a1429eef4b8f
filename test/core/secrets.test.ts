import { describe, expect, test } from 'bun:test'
import { bearerToken, generatePassword, hashPassword, keyId, maskKey, PasswordCheck, redactUrl, scrubUrlPassword } from '../../core/secrets.ts'

describe('secrets', () => {
	test('masking shows at most the first and last four characters', () => {
		expect(maskKey('abcd1234567890wxyz')).toBe('abcd...wxyz')
		expect(maskKey('short-key')).toBe('sh***')
	})

	test('key identity is a stable hash, different for keys that mask alike', () => {
		expect(keyId('abcd-one-wxyz-0000')).toBe(keyId('abcd-one-wxyz-0000'))
		const a = 'abcd111111111111wxyz'
		const b = 'abcd222222222222wxyz'
		expect(maskKey(a)).toBe(maskKey(b))
		expect(keyId(a)).not.toBe(keyId(b))
		expect(keyId(a)).not.toContain(a.slice(4, 12))
	})

	test('generated passwords are strong and distinct', () => {
		const seen = new Set(Array.from({ length: 100 }, generatePassword))
		expect(seen.size).toBe(100)
		for (const p of seen) expect(p).toMatch(/^[A-Za-z0-9_-]{32}$/)
	})

	test('password checks: plain (environment) and stored salted hash', () => {
		const plain = PasswordCheck.plain('correct horse')
		expect(plain.verify('correct horse')).toBe(true)
		expect(plain.verify('correct horse ')).toBe(false)
		expect(plain.verify('')).toBe(false)
		const stored = hashPassword('battery staple')
		expect(stored).not.toContain('battery')
		expect(hashPassword('battery staple')).not.toBe(stored)
		const hashed = PasswordCheck.hashed(stored)
		expect(hashed.verify('battery staple')).toBe(true)
		expect(hashed.verify('battery stapl')).toBe(false)
		expect(PasswordCheck.hashed('garbage').verify('garbage')).toBe(false)
	})

	test('bearer tokens', () => {
		expect(bearerToken('Bearer abc')).toBe('abc')
		expect(bearerToken('bearer   abc  ')).toBe('abc')
		expect(bearerToken('abc')).toBe('abc')
		expect(bearerToken('')).toBeNull()
		expect(bearerToken(undefined)).toBeNull()
	})

	test('connection URLs lose their password in messages', () => {
		expect(redactUrl('redis://user:s3cret@host:6379/0', 'redis')).toBe('redis://user@host:6379/0')
		expect(redactUrl('not a url', 'redis')).toBe('redis (unparsable URL)')
		expect(scrubUrlPassword('auth failed for s3cret', 'postgres://u:s3cret@h/db')).toBe('auth failed for ***')
	})
})
