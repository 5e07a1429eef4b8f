/**
 * Who may use `/admin/*` and the panel: the panel password as a bearer token, or the panel's
 * session cookie. The API password never opens the admin side.
 *
 * Sessions are stateless signed cookies (HMAC-SHA256 with a secret kept in storage), so every
 * instance behind a load balancer accepts them. Failed logins are throttled.
 */
import { createHmac, randomBytes } from 'node:crypto'
import { AuthenticationError, RateLimitError } from '../../core/errors.ts'
import { bearerToken, type PasswordCheck, safeEqual } from '../../core/secrets.ts'

export const SESSION_COOKIE = 'amb2api_session'

export interface AdminAuthOptions {
	panel: PasswordCheck
	/** Secret for signing session cookies (stored, shared by instances). */
	sessionSecret: string
	/** @default 12 h */
	sessionTtlMs?: number
	/** Failed logins allowed per minute before logins answer 429. @default 10 */
	maxFailuresPerMinute?: number
	now?: () => number
}

export class AdminAuth {
	private failures: number[] = []
	private readonly now: () => number

	constructor(private readonly options: AdminAuthOptions) {
		this.now = options.now ?? Date.now
	}

	get ttlMs(): number {
		return this.options.sessionTtlMs ?? 12 * 3600_000
	}

	private sign(payload: string): string {
		return createHmac('sha256', this.options.sessionSecret).update(payload).digest('base64url')
	}

	/** A new session token: expiry, random nonce, signature. */
	issue(): string {
		const payload = `${this.now() + this.ttlMs}.${randomBytes(12).toString('base64url')}`
		return `${payload}.${this.sign(payload)}`
	}

	verifySession(token: string | undefined | null): boolean {
		if (!token) return false
		const last = token.lastIndexOf('.')
		if (last < 0) return false
		const payload = token.slice(0, last)
		if (!safeEqual(token.slice(last + 1), this.sign(payload))) return false
		const expires = Number(payload.split('.')[0])
		return Number.isFinite(expires) && expires > this.now()
	}

	/** Checks a login attempt; throttles repeated failures. */
	login(password: string): boolean {
		const now = this.now()
		this.failures = this.failures.filter((t) => now - t < 60_000)
		if (this.failures.length >= (this.options.maxFailuresPerMinute ?? 10)) {
			throw new RateLimitError('Too many failed logins. Wait a minute.', 60, 'login_throttled')
		}
		if (this.options.panel.verify(password)) return true
		this.failures.push(now)
		return false
	}

	/** Bearer panel password or a valid session cookie; anything else is 401. */
	check(authorization: string | undefined, sessionCookie: string | undefined): void {
		if (this.verifySession(sessionCookie)) return
		const token = bearerToken(authorization)
		if (token && this.options.panel.verify(token)) return
		throw new AuthenticationError('Admin access needs the panel password ("Authorization: Bearer <PANEL_PASSWORD>") or a panel session.', 'admin_auth_required')
	}
}

/** Reads one cookie from a Cookie header. */
export function readCookie(header: string | null | undefined, name: string): string | undefined {
	if (!header) return undefined
	for (const part of header.split(';')) {
		const [k, ...rest] = part.trim().split('=')
		if (k === name) return decodeURIComponent(rest.join('='))
	}
	return undefined
}

/**
 * The hook every admin plugin registers with `.onTransform(...)`: transform runs before body
 * validation, so a caller without credentials gets 401 and learns nothing, not even a schema.
 * A plain function, not a shared plugin: a deduplicated plugin would leave the second group open.
 */
export function requirePanelAuth(auth: AdminAuth) {
	return function requirePanelAuth({ headers }: { headers: Record<string, string | undefined> }) {
		auth.check(headers.authorization, readCookie(headers.cookie, SESSION_COOKIE))
	}
}
