/**
 * Secrets at rest: AES-256-GCM with Web Crypto only (runs on Bun and Deno alike).
 *
 * - A sealed value is one string, `v1.<kid>.<nonce>.<ciphertext>` (base64url), so it fits in any
 *   backend's document as it is.
 * - Every value gets a fresh 96-bit random nonce.
 * - The caller's `context` (for upstream keys: the key record's id) is the additional
 *   authenticated data: a ciphertext copied into another record does not open there.
 * - `kid` names the encryption key that sealed a value: the first 8 bytes of a SHA-256 of the
 *   key, which tells keys apart and says nothing about them. It lets a box hold the current key
 *   and previous ones (rotation), and tell a value it cannot open from a tampered one.
 */

export class SecretBoxError extends Error {
	override readonly name = 'SecretBoxError'
}

const KEY_BYTES = 32
const NONCE_BYTES = 12
const VERSION = 'v1'

const toBase64Url = (bytes: Uint8Array): string => {
	let binary = ''
	for (const byte of bytes) binary += String.fromCharCode(byte)
	return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

const fromBase64 = (text: string): Uint8Array<ArrayBuffer> => {
	const normal = text.replace(/-/g, '+').replace(/_/g, '/')
	const binary = atob(normal + '='.repeat((4 - (normal.length % 4)) % 4))
	return Uint8Array.from(binary, (c) => c.charCodeAt(0))
}

/**
 * A 32-byte key from its text: 64 hex digits, or base64 / base64url (with or without padding).
 * The message of the error never contains the value.
 */
export function parseSecretsKey(raw: string, name = 'SECRETS_KEY'): Uint8Array<ArrayBuffer> {
	const text = raw.trim()
	if (/^[0-9a-fA-F]{64}$/.test(text)) return Uint8Array.from(text.match(/../g) ?? [], (h) => Number.parseInt(h, 16))
	if (/^[A-Za-z0-9+/_-]{43}={0,1}$/.test(text)) {
		const bytes = fromBase64(text.replace(/=+$/, ''))
		if (bytes.length === KEY_BYTES) return bytes
	}
	throw new SecretBoxError(`${name}: must be 32 random bytes, written as 64 hex digits or base64 (e.g. the output of \`openssl rand -base64 32\`)`)
}

/** A fresh random key, as base64 (what SECRETS_KEY accepts). */
export function generateSecretsKey(): string {
	const bytes = crypto.getRandomValues(new Uint8Array(KEY_BYTES))
	let binary = ''
	for (const byte of bytes) binary += String.fromCharCode(byte)
	return btoa(binary)
}

/** The name of a key: first 8 bytes of SHA-256("amb2api secrets key" + key), hex. */
export async function keyFingerprint(key: Uint8Array): Promise<string> {
	const label = new TextEncoder().encode('amb2api secrets key\0')
	const input = new Uint8Array(label.length + key.length)
	input.set(label)
	input.set(key, label.length)
	const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', input))
	return [...digest.slice(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join('')
}

/** What a sealed string says about itself, without opening it; null when it is not one. */
export function sealedKid(sealed: string): string | null {
	const parts = sealed.split('.')
	return parts.length === 4 && parts[0] === VERSION && /^[0-9a-f]{16}$/.test(parts[1] ?? '') ? (parts[1] as string) : null
}

interface BoxKey {
	kid: string
	key: CryptoKey
}

async function importKey(raw: Uint8Array<ArrayBuffer>): Promise<BoxKey> {
	if (raw.length !== KEY_BYTES) throw new SecretBoxError(`an encryption key must be ${KEY_BYTES} bytes`)
	const key = await crypto.subtle.importKey('raw', raw, { name: 'AES-GCM' }, false, ['encrypt', 'decrypt'])
	return { kid: await keyFingerprint(raw), key }
}

export class SecretBox {
	private constructor(
		private readonly current: BoxKey,
		private readonly previous: readonly BoxKey[],
	) {}

	/** `current` seals; `current` and every `previous` key open. */
	static async create(current: Uint8Array<ArrayBuffer>, previous: readonly Uint8Array<ArrayBuffer>[] = []): Promise<SecretBox> {
		const main = await importKey(current)
		const older: BoxKey[] = []
		for (const raw of previous) {
			const k = await importKey(raw)
			if (k.kid !== main.kid && !older.some((o) => o.kid === k.kid)) older.push(k)
		}
		return new SecretBox(main, older)
	}

	/** The id of the key that seals. */
	get kid(): string {
		return this.current.kid
	}

	/** Whether this box holds the key named `kid`. */
	knows(kid: string): boolean {
		return kid === this.current.kid || this.previous.some((k) => k.kid === kid)
	}

	/** True when `sealed` was sealed by another key than the current one (rotation rewrites it). */
	isStale(sealed: string): boolean {
		return sealedKid(sealed) !== this.current.kid
	}

	async seal(plain: string, context: string): Promise<string> {
		const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES))
		const data = new TextEncoder().encode(plain)
		const additionalData = new TextEncoder().encode(context)
		const cipher = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv: nonce, additionalData }, this.current.key, data))
		return [VERSION, this.current.kid, toBase64Url(nonce), toBase64Url(cipher)].join('.')
	}

	/**
	 * The plain text of a value sealed with `context`. Throws SecretBoxError when the value was
	 * sealed by a key this box does not hold, or is damaged, or belongs to another context.
	 */
	async open(sealed: string, context: string): Promise<string> {
		const kid = sealedKid(sealed)
		if (kid === null) throw new SecretBoxError('not a sealed value')
		const key = kid === this.current.kid ? this.current : this.previous.find((k) => k.kid === kid)
		if (!key) throw new SecretBoxError(`sealed under another encryption key (kid ${kid})`)
		const [, , nonceText, cipherText] = sealed.split('.') as [string, string, string, string]
		try {
			const plain = await crypto.subtle.decrypt(
				{ name: 'AES-GCM', iv: fromBase64(nonceText), additionalData: new TextEncoder().encode(context) },
				key.key,
				fromBase64(cipherText),
			)
			return new TextDecoder().decode(plain)
		} catch {
			throw new SecretBoxError(`sealed value does not open (damaged, or moved from another record; kid ${kid})`)
		}
	}
}
