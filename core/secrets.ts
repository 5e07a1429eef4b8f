/**
 * Secrets: masking of upstream keys, password hashing and constant-time checks.
 * Passwords are stored only as salted SHA-256 hashes; upstream keys only ever leave masked.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

/** `abcd...wxyz`; keys of 12 characters or fewer show only their first 2. */
export function maskKey(key: string): string {
	if (key.length <= 12) return `${key.slice(0, 2)}***`
	return `${key.slice(0, 4)}...${key.slice(-4)}`
}

/** Stable identity of an upstream key or client key: never its position in a list. */
export function keyId(key: string): string {
	return createHash('sha256').update(key).digest('hex').slice(0, 24)
}

/** A strong random password: 32 URL-safe characters (192 bits). */
export function generatePassword(): string {
	return randomBytes(24).toString('base64url')
}

export function hashPassword(password: string, salt = randomBytes(16).toString('hex')): string {
	return `sha256$${salt}$${createHash('sha256').update(`${salt}:${password}`).digest('hex')}`
}

const digest = (value: string) => createHash('sha256').update(value).digest()

/** Constant-time equality of two strings (compares digests, so lengths leak nothing). */
export function safeEqual(a: string, b: string): boolean {
	return timingSafeEqual(digest(a), digest(b))
}

/** Checks a candidate against a password held in plain (from the environment) or as a stored hash. */
export class PasswordCheck {
	private constructor(
		private readonly plain: string | null,
		private readonly hashed: string | null,
		readonly source: 'env' | 'stored',
	) {}

	static plain(password: string, source: 'env' | 'stored' = 'env'): PasswordCheck {
		return new PasswordCheck(password, null, source)
	}

	static hashed(stored: string): PasswordCheck {
		return new PasswordCheck(null, stored, 'stored')
	}

	/** Changes whenever the password does (a digest, never the password): panel sessions are signed with it, so a new password ends them. */
	get fingerprint(): string {
		return createHash('sha256')
			.update(this.plain ?? (this.hashed as string))
			.digest('base64url')
	}

	/** The plain password's digest, computed once: verify runs on every /v1 request. */
	private plainDigest: Buffer | null = null

	/**
	 * Tokens this check accepted lately (a few at most: the password, as clients send it). A
	 * bearer token comes with every /v1 request; hashing it each time was ~2 % of the gateway's
	 * CPU. A lookup in a hash map reveals nothing by its timing that a compare would; a new
	 * password is a new check with an empty memory.
	 */
	private readonly accepted = new Set<string>()

	verify(candidate: string): boolean {
		if (this.accepted.has(candidate)) return true
		const ok = this.check(candidate)
		if (ok) {
			if (this.accepted.size >= 4) this.accepted.clear()
			this.accepted.add(candidate)
		}
		return ok
	}

	private check(candidate: string): boolean {
		if (this.plain !== null) {
			this.plainDigest ??= digest(this.plain)
			return timingSafeEqual(digest(candidate), this.plainDigest)
		}
		const [scheme, salt, expected] = (this.hashed as string).split('$')
		if (scheme !== 'sha256' || !salt || !expected) return false
		return safeEqual(hashPassword(candidate, salt), this.hashed as string)
	}
}

/** Reads `Authorization: Bearer <token>` (or a bare token). */
export function bearerToken(header: string | null | undefined): string | null {
	if (!header) return null
	const match = /^\s*Bearer\s+(.+?)\s*$/i.exec(header)
	return match?.[1] ?? (header.trim() || null)
}

/** A connection URL without its password, for messages and `where` (`label` when unparsable). */
export function redactUrl(url: string, label: string): string {
	try {
		const parsed = new URL(url)
		parsed.password = ''
		return parsed.toString()
	} catch {
		return `${label} (unparsable URL)`
	}
}

/** Removes a connection URL's password from a driver message, should a driver ever echo it. */
export function scrubUrlPassword(message: string, url: string): string {
	try {
		const password = decodeURIComponent(new URL(url).password)
		return password ? message.split(password).join('***') : message
	} catch {
		return message
	}
}
