/**
 * Who may call `/v1/*`: the API password, or a client key the operator issued (with its own
 * quota, model allow-list and expiry). The router authenticates before reading the body, then
 * admits the request for its model once the body is parsed.
 */
import type { PasswordCheck } from '../../core/secrets.ts'

/**
 * The caller of a `/v1` request. `ticket`: the admitted request's reservation, settled by its usage.
 * `panel`: the operator's playground, behind the panel login; no client key, so nothing to admit.
 */
export type Principal = { kind: 'password' } | { kind: 'panel' } | { kind: 'client'; id: string; name: string; ticket?: SpendTicket }

/**
 * What an admitted request reserved of a client key's budget and tokens-per-minute, settled with
 * the real cost and tokens of each upstream answer it gets (anti-truncation continuations add up).
 */
export interface SpendTicket {
	/** A budget or a tokens-per-minute limit depends on the settlement: the answer ends only once it is stored. */
	readonly binding: boolean
	/** One upstream answer's tokens (prompt + completion) and cost in nano-USD (0 when unpriced or unknown). */
	settle(actual: { tokens: number; nusd: number }): void
	/** Resolves once every settlement made so far is stored. */
	settled(): Promise<void>
}

/** A request admitted against a client key's quota; released when it failed on our side. */
export interface Admission {
	release(): Promise<void>
	/** Gives back what was reserved and never settled (a request refused before any answer). */
	close?(): Promise<void>
	/** The reservation to settle; the principal carries it down to the usage events. */
	ticket?: SpendTicket
}

/** What admission estimates a request's tokens from, before it is sent. */
export interface AdmissionRequest {
	messages?: unknown
	max_tokens?: unknown
	max_completion_tokens?: unknown
	/**
	 * `audio`: a transcription, priced per hour of audio by its own plugin, not by tokens: a budget
	 * reserves the least amount (so a spent budget refuses) and settles the audio's cost.
	 */
	kind?: 'chat' | 'audio'
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
	admit?(principal: Principal, model: string, fallbacks?: readonly string[], request?: AdmissionRequest): Promise<Admission | null>
	/** The models this caller may use (null = every model); throws 401/403 when its key no longer may call. Absent = every model. */
	allowedModels?(principal: Principal): Promise<readonly string[] | null>
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
		...(inner.allowedModels ? { allowedModels: inner.allowedModels.bind(inner) } : {}),
	}
}
