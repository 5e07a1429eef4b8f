import { describe, expect, test } from 'bun:test'
import { generateSecretsKey, keyFingerprint, parseSecretsKey, SecretBox, SecretBoxError, sealedKid } from '../../core/secret-box.ts'

const KEY_A = parseSecretsKey(generateSecretsKey())
const KEY_B = parseSecretsKey(generateSecretsKey())
const SECRET = 'aai-key-secret-box-000000000001'

describe('parseSecretsKey', () => {
	test('accepts 32 bytes as hex, base64 and base64url; the same bytes either way', () => {
		const bytes = crypto.getRandomValues(new Uint8Array(32))
		const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('')
		const b64 = btoa(String.fromCharCode(...bytes))
		const b64url = b64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
		expect([...parseSecretsKey(hex)]).toEqual([...bytes])
		expect([...parseSecretsKey(b64)]).toEqual([...bytes])
		expect([...parseSecretsKey(` ${b64url}\n`)]).toEqual([...bytes])
	})

	test('refuses other lengths and text, without repeating the value', () => {
		const short = btoa('sixteen-bytes-xx')
		for (const bad of [short, 'not a key', 'ab'.repeat(31), 'zz'.repeat(32), btoa('x'.repeat(33))]) {
			let error: unknown
			try {
				parseSecretsKey(bad, 'SECRETS_KEY')
			} catch (err) {
				error = err
			}
			expect(error).toBeInstanceOf(SecretBoxError)
			expect((error as Error).message).toStartWith('SECRETS_KEY: must be 32 random bytes')
			expect((error as Error).message).not.toContain(bad)
		}
	})

	test('a generated key is 32 random bytes, different each time', () => {
		expect(parseSecretsKey(generateSecretsKey())).toHaveLength(32)
		expect(generateSecretsKey()).not.toBe(generateSecretsKey())
	})
})

describe('SecretBox', () => {
	test('seal then open gives the value back; the sealed text does not contain it', async () => {
		const box = await SecretBox.create(KEY_A)
		const sealed = await box.seal(SECRET, 'record-1')
		expect(sealed).not.toContain(SECRET)
		expect(sealed).not.toContain(btoa(SECRET).slice(0, 12))
		expect(sealedKid(sealed)).toBe(box.kid)
		expect(box.kid).toBe(await keyFingerprint(KEY_A))
		expect(await box.open(sealed, 'record-1')).toBe(SECRET)
	})

	test('a fresh nonce per value: sealing twice gives two different texts', async () => {
		const box = await SecretBox.create(KEY_A)
		const one = await box.seal(SECRET, 'record-1')
		const two = await box.seal(SECRET, 'record-1')
		expect(one).not.toBe(two)
		expect(one.split('.')[2]).not.toBe(two.split('.')[2])
	})

	test('the context is authenticated: a value moved to another record does not open', async () => {
		const box = await SecretBox.create(KEY_A)
		const sealed = await box.seal(SECRET, 'record-1')
		await expect(box.open(sealed, 'record-2')).rejects.toThrow('moved from another record')
	})

	test('a changed byte of the ciphertext does not open', async () => {
		const box = await SecretBox.create(KEY_A)
		const sealed = await box.seal(SECRET, 'record-1')
		const parts = sealed.split('.')
		const cipher = parts[3] as string
		parts[3] = (cipher[0] === 'A' ? 'B' : 'A') + cipher.slice(1)
		await expect(box.open(parts.join('.'), 'record-1')).rejects.toBeInstanceOf(SecretBoxError)
	})

	test('another key does not open it and says which key sealed it; a previous key does', async () => {
		const a = await SecretBox.create(KEY_A)
		const b = await SecretBox.create(KEY_B)
		const sealed = await a.seal(SECRET, 'record-1')
		await expect(b.open(sealed, 'record-1')).rejects.toThrow(`another encryption key (kid ${a.kid})`)
		expect(b.knows(a.kid)).toBe(false)

		const rotated = await SecretBox.create(KEY_B, [KEY_A])
		expect(rotated.kid).toBe(b.kid)
		expect(rotated.knows(a.kid)).toBe(true)
		expect(rotated.isStale(sealed)).toBe(true)
		expect(await rotated.open(sealed, 'record-1')).toBe(SECRET)
		const resealed = await rotated.seal(SECRET, 'record-1')
		expect(rotated.isStale(resealed)).toBe(false)
		expect(await b.open(resealed, 'record-1')).toBe(SECRET)
	})

	test('plain text is not a sealed value', async () => {
		const box = await SecretBox.create(KEY_A)
		expect(sealedKid(SECRET)).toBeNull()
		await expect(box.open(SECRET, 'record-1')).rejects.toThrow('not a sealed value')
	})
})
