/**
 * Who may use `/admin/*` and the panel: the panel password as a bearer token, or the panel's
 * session cookie. The API password never opens the admin side.
 *
 * - Sessions are signed cookies (HMAC-SHA256 with a secret kept in storage, keyed also by the
 *   panel password's fingerprint), so every instance accepts them and a new panel password ends
 *   every session. Logout revokes the session in storage, so it ends on every instance too.
 * - Failed logins and failed bearer tokens are throttled per client address (a slowdown, see
 *   throttle.ts); X-Forwarded-For counts only from a trusted proxy (TRUSTED_PROXY).
 * - A state-changing request that a cookie authenticates must be same-origin (Origin /
 *   Sec-Fetch-Site) and carry the session's CSRF token (`X-CSRF-Token` header or `_csrf` field).
 *   A bearer token is not sent by browsers on their own, so it needs neither.
 */
import { createHmac, randomBytes } from 'node:crypto'
import { clientAddress, isHttps } from '../../core/client-address.ts'
import { AuthenticationError, PermissionError, RateLimitError } from '../../core/errors.ts'
import { bearerToken, type PasswordCheck, PasswordCheck as Check, safeEqual } from '../../core/secrets.ts'
import type { Storage } from '../../core/storage.ts'
import { FailureThrottle, type ThrottleOptions } from './throttle.ts'

export const SESSION_COOKIE = 'amb2api_session'
export const CSRF_HEADER = 'x-csrf-token'
export const CSRF_FIELD = '_csrf'
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])
/** How stale this instance's view of revocations and of a stored panel password may get. */
const SYNC_MS = 1000

export interface AdminAuthOptions {
	panel: PasswordCheck
	/** Secret for signing session cookies (stored, shared by instances). */
	sessionSecret: string
	/** Where revoked sessions and a stored panel password live (shared by instances). */
	storage?: Storage
	/** Peer addresses whose X-Forwarded-For / X-Forwarded-Proto are believed. */
	trustedProxies?: readonly string[]
	/** @default 12 h */
	sessionTtlMs?: number
	throttle?: ThrottleOptions
	now?: () => number
}

export interface Session {
	token: string
	nonce: string
	expires: number
}

export type Caller = { kind: 'bearer' } | { kind: 'session'; session: Session }

const revokedCounter = (nonce: string) => `session-revoked:${nonce}`

export class AdminAuth {
	private readonly now: () => number
	readonly throttle: FailureThrottle
	readonly trusted: ReadonlySet<string>
	private panel: PasswordCheck
	private revoked = new Map<string, { revoked: boolean; at: number }>()
	private syncedAt = -Infinity

	constructor(private readonly options: AdminAuthOptions) {
		this.now = options.now ?? Date.now
		this.panel = options.panel
		this.throttle = new FailureThrottle(options.throttle, this.now)
		this.trusted = new Set(options.trustedProxies ?? [])
	}

	get ttlMs(): number {
		return this.options.sessionTtlMs ?? 12 * 3600_000
	}

	/** The panel password is stored (not from the environment): the panel may change it. */
	get passwordChangeable(): boolean {
		return this.panel.source === 'stored' && this.options.storage !== undefined
	}

	address(request: Request): string {
		return clientAddress(request, this.trusted)
	}

	https(request: Request): boolean {
		return isHttps(request, this.trusted)
	}

	private sign(payload: string): string {
		return createHmac('sha256', `${this.options.sessionSecret}.${this.panel.fingerprint}`).update(payload).digest('base64url')
	}

	/** A new session token: expiry, random nonce, signature. */
	issue(): string {
		const payload = `${this.now() + this.ttlMs}.${randomBytes(12).toString('base64url')}`
		return `${payload}.${this.sign(payload)}`
	}

	/** Reads a stored panel password now (at start: sessions are signed with the stored hash's fingerprint on every instance). */
	async init(): Promise<void> {
		this.syncedAt = -Infinity
		await this.sync()
	}

	/** A stored panel password another instance changed: picked up within a second. */
	private async sync(): Promise<void> {
		const storage = this.options.storage
		if (!storage || this.panel.source !== 'stored' || this.now() - this.syncedAt < SYNC_MS) return
		this.syncedAt = this.now()
		const hash = (await storage.loadSettings()).panel_password_hash
		if (typeof hash === 'string') this.panel = Check.hashed(hash)
	}

	private async isRevoked(nonce: string): Promise<boolean> {
		const storage = this.options.storage
		if (!storage) return false
		const known = this.revoked.get(nonce)
		if (known && (known.revoked || this.now() - known.at < SYNC_MS)) return known.revoked
		const revoked = Object.keys(await storage.readCounters(revokedCounter(nonce))).length > 0
		if (this.revoked.size > 10_000) this.revoked.clear()
		this.revoked.set(nonce, { revoked, at: this.now() })
		return revoked
	}

	/** The session a token stands for, or null: malformed, forged, expired, revoked, or signed under an old password. */
	async session(token: string | undefined | null): Promise<Session | null> {
		if (!token || token.length > 512) return null
		await this.sync()
		const [expiresText, nonce, signature, ...rest] = token.split('.')
		if (rest.length || !expiresText || !nonce || !signature) return null
		if (!safeEqual(signature, this.sign(`${expiresText}.${nonce}`))) return null
		const expires = Number(expiresText)
		if (!Number.isFinite(expires) || expires <= this.now()) return null
		if (await this.isRevoked(nonce)) return null
		return { token, nonce, expires }
	}

	/** Ends a session on every instance sharing the storage. */
	async revoke(session: Session): Promise<void> {
		this.revoked.set(session.nonce, { revoked: true, at: this.now() })
		await this.options.storage?.addCounters(revokedCounter(session.nonce), { revoked: 1 }, session.expires)
	}

	/** Changes a stored panel password: every session (on every instance) ends. */
	async changePassword(current: string, next: string, hash: (password: string) => string): Promise<void> {
		if (!this.passwordChangeable)
			throw new PermissionError('The panel password comes from PANEL_PASSWORD/PASSWORD in the environment: change it there.', 'password_from_env')
		if (!this.panel.verify(current)) throw new AuthenticationError('The current panel password is wrong.', 'wrong_password')
		const stored = hash(next)
		await this.options.storage?.saveSettings({ panel_password_hash: stored })
		this.panel = Check.hashed(stored)
	}

	/** Milliseconds this address must still wait, or 0. */
	private throttled(address: string): void {
		const wait = this.throttle.waitMs(address)
		if (wait > 0) throw new RateLimitError('Too many failed attempts from your address. Wait and try again.', wait / 1000, 'auth_throttled')
	}

	/**
	 * One credential check from the request's address under the same throttle as the panel login
	 * (for `/metrics` and `/v1` bearer tokens): a RateLimitError while the address must wait, and a
	 * failure (`check` gives null) counts. A success does not clear the address: a caller holding
	 * one valid credential (a client key, the scrape token) must not reset its guesses at another.
	 */
	async attempt<T>(request: Request, check: () => T | null | Promise<T | null>): Promise<T | null> {
		const address = this.address(request)
		this.throttled(address)
		const result = await check()
		if (result === null) this.throttle.fail(address)
		return result
	}

	/** A login attempt from `address`: true, false, or a RateLimitError when the address must wait. */
	login(password: string, address: string): boolean {
		this.throttled(address)
		if (this.panel.verify(password)) {
			this.throttle.succeed(address)
			return true
		}
		this.throttle.fail(address)
		return false
	}

	/** The session's CSRF token: bound to it, useless with any other session. */
	csrfToken(session: Session): string {
		return createHmac('sha256', this.options.sessionSecret).update(`csrf.${session.nonce}`).digest('base64url')
	}

	/**
	 * A cookie-authenticated state change must come from our own pages: same origin, and the
	 * session's token. Safe methods pass.
	 */
	checkCsrf(request: Request, session: Session, submitted: string | null | undefined): void {
		if (SAFE_METHODS.has(request.method)) return
		const site = request.headers.get('sec-fetch-site')
		if (site && site !== 'same-origin' && site !== 'none') throw new PermissionError('Cross-site request refused.', 'csrf_failed')
		const origin = request.headers.get('origin')
		if (origin && origin !== 'null') {
			let host: string | null = null
			try {
				host = new URL(origin).host
			} catch {}
			const expected = request.headers.get('host') ?? new URL(request.url).host
			if (host !== expected) throw new PermissionError('Cross-origin request refused.', 'csrf_failed')
		} else if (origin === 'null') throw new PermissionError('Cross-origin request refused.', 'csrf_failed')
		if (!submitted || !safeEqual(submitted, this.csrfToken(session))) throw new PermissionError('Missing or wrong CSRF token: reload the panel.', 'csrf_failed')
	}

	/** Bearer panel password or a valid session cookie (plus CSRF for changes); anything else is 401. */
	async check(request: Request): Promise<Caller> {
		const session = await this.session(readCookie(request.headers.get('cookie'), SESSION_COOKIE))
		const token = bearerToken(request.headers.get('authorization'))
		if (session && !token) {
			this.checkCsrf(request, session, request.headers.get(CSRF_HEADER))
			return { kind: 'session', session }
		}
		if (token) {
			const address = this.address(request)
			this.throttled(address)
			await this.sync()
			if (this.panel.verify(token)) {
				this.throttle.succeed(address)
				return { kind: 'bearer' }
			}
			this.throttle.fail(address)
		}
		throw new AuthenticationError('Admin access needs the panel password ("Authorization: Bearer <PANEL_PASSWORD>") or a panel session.', 'admin_auth_required')
	}
}

/** Reads one cookie from a Cookie header; a malformed value is no value. */
export function readCookie(header: string | null | undefined, name: string): string | undefined {
	if (!header) return undefined
	for (const part of header.split(';')) {
		const [k, ...rest] = part.trim().split('=')
		if (k !== name) continue
		try {
			return decodeURIComponent(rest.join('='))
		} catch {
			return undefined
		}
	}
	return undefined
}

/**
 * The hook every admin plugin registers with `.onTransform(...)`: transform runs before body
 * validation, so a caller without credentials gets 401 and learns nothing, not even a schema.
 * A plain function, not a shared plugin: a deduplicated plugin would leave the second group open.
 */
export function requirePanelAuth(auth: AdminAuth) {
	return async function requirePanelAuth({ request }: { request: Request }) {
		await auth.check(request)
	}
}
