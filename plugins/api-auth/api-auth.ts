/**
 * Who may call `/v1/*`: the API password, or a client key the operator issued (with its own
 * quota, model allow-list and expiry). The router authenticates before reading the body, then
 * admits the request for its model once the body is parsed.
 */
import type { PasswordCheck } from '../../core/secrets.ts'

/** The caller of a `/v1` request. */
export type Principal = { kind: 'password' } | { kind: 'client'; id: string; name: string }

/** A request admitted against a client key's quota; released when it failed on our side. */
export interface Admission {
	release(): Promise<void>
}

export interface ApiAuthenticator {
	/**
	 * The caller of a bearer token, or null when it opens nothing (the router answers 401). May
	 * throw 401/403 with a reason, or 429 while the request's address is throttled for failures.
	 */
	authenticate(token: string, request?: Request): Promise<Principal | null>
	/**
	 * Admits one request for `model`: allow-list, expiry and quota checks, with the quota taken
	 * atomically. `fallbacks` are the other models the request can reach (`fallbacks[].model`);
	 * the allow-list must cover them too. Throws 403/429 catalogue errors. Absent = nothing to check.
	 */
	admit?(principal: Principal, model: string, fallbacks?: readonly string[]): Promise<Admission | null>
}

/** Only the API password. */
export function passwordAuthenticator(api: PasswordCheck): ApiAuthenticator {
	return {
		async authenticate(token) {
			return api.verify(token) ? { kind: 'password' } : null
		},
	}
}

/** Where failed attempts are counted per client address (the panel's throttle, see admin-auth). */
export interface AttemptThrottle {
	attempt<T>(request: Request, check: () => T | null | Promise<T | null>): Promise<T | null>
}

/**
 * `inner` behind the per-address failure throttle: guessing the API password or a client key
 * slows down like guessing the panel password does; another address is never affected.
 */
export function throttledAuthenticator(inner: ApiAuthenticator, throttle: AttemptThrottle): ApiAuthenticator {
	return {
		authenticate: (token, request) => (request ? throttle.attempt(request, () => inner.authenticate(token, request)) : inner.authenticate(token)),
		...(inner.admit ? { admit: inner.admit.bind(inner) } : {}),
	}
}
