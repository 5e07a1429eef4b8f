/**
 * Client API keys: besides the API password, the operator issues `sk-amb-` keys, each with a
 * name, an optional daily and total request quota, an optional model allow-list and an optional
 * expiry. The full key is shown once, at creation; storage holds only its hash id (`keyId`) and
 * a masked form, so neither a leaked database nor the admin API can give it back.
 *
 * Refusals (OpenAI error JSON, `code` says which):
 * unknown or deleted key -> 401 `invalid_api_key`; disabled -> 403 `client_key_disabled`;
 * expired -> 403 `client_key_expired`; model not in the allow-list -> 403 `model_not_allowed`;
 * daily or total quota spent -> 429 `quota_exceeded` (daily: Retry-After until the 07:00 UTC
 * reset; total: no Retry-After, it never comes back by itself).
 *
 * Quotas count accepted requests: `admit` reserves one request in the daily group
 * `client-quota:<day>:<id>` and in `client-quota:total:<id>` (field `requests`) with atomic
 * `reserveCounter`s, and the router releases them when the request failed on our side.
 */
import { randomBytes } from 'node:crypto'
import { Elysia, t } from 'elysia'
import { AuthenticationError, BadRequestError, NotFoundError, PermissionError, RateLimitError } from '../../core/errors.ts'
import type { Logger } from '../../core/log.ts'
import { keyId, type PasswordCheck } from '../../core/secrets.ts'
import type { Doc, Storage } from '../../core/storage.ts'
import { nextReset, usageDay } from '../../core/usage-day.ts'
import { type AdminAuth, requirePanelAuth } from '../admin-auth/admin-auth.ts'
import type { Admission, ApiAuthenticator, Principal } from '../api-auth/api-auth.ts'

export const CLIENT_KEY_PREFIX = 'sk-amb-'

export interface ClientRecord extends Doc {
	name: string
	/** `sk-amb-abcd...wxyz`: all that is kept of the key besides its hash id. */
	masked_key: string
	enabled: boolean
	/** Epoch seconds. */
	created_at: number
	/** Epoch seconds; null = never. */
	expires_at: number | null
	/** Requests per usage day; null = unlimited. */
	daily_limit: number | null
	/** Requests over the key's life; null = unlimited. */
	total_limit: number | null
	/** null = every model, [] = none. */
	allowed_models: string[] | null
}

export interface ClientKeysDeps {
	storage: Storage
	log: Logger
	/** The API password, checked first (constant time). */
	api: PasswordCheck
	now?: () => number
	/** Called with every full client key this instance sees, so the logger can scrub it. */
	onSecret?: (key: string) => void
}

export interface ClientKeysOptions {
	/** How stale the in-process copy of a client record may get (other instances' changes). @default 1000 */
	cacheMs?: number
}

const GRACE_MS = 3_600_000
const UNLIMITED = Number.MAX_SAFE_INTEGER
/** Unknown tokens are cached too (so guessing does not hammer storage), up to this many entries. */
const MAX_CACHE = 10_000

export const clientDailyCounter = (day: string, id: string) => `client-quota:${day}:${id}`
export const clientTotalCounter = (id: string) => `client-quota:total:${id}`

/** A new client key: `sk-amb-` + 24 random bytes, URL-safe base64 (32 characters). */
export function generateClientKey(): string {
	return CLIENT_KEY_PREFIX + randomBytes(24).toString('base64url')
}

export function maskClientKey(key: string): string {
	const secret = key.slice(CLIENT_KEY_PREFIX.length)
	return `${CLIENT_KEY_PREFIX}${secret.slice(0, 4)}...${secret.slice(-4)}`
}

export type ClientPatch = Partial<Pick<ClientRecord, 'name' | 'enabled' | 'expires_at' | 'daily_limit' | 'total_limit' | 'allowed_models'>>

/** A client key as the admin API and the panel show it (Pick, not Omit: Doc's index signature would erase the named fields). */
export interface ClientView extends Pick<ClientRecord, 'id' | 'name' | 'masked_key' | 'enabled' | 'daily_limit' | 'total_limit' | 'allowed_models'> {
	status: 'active' | 'disabled' | 'expired'
	created_at: string
	expires_at: string | null
	used_today: number
	used_total: number
}

export class ClientKeys implements ApiAuthenticator {
	private readonly now: () => number
	private cache = new Map<string, { record: ClientRecord | null; at: number }>()
	private scrubbed = new Set<string>()

	constructor(
		private readonly deps: ClientKeysDeps,
		private readonly options: ClientKeysOptions = {},
	) {
		this.now = deps.now ?? Date.now
	}

	async authenticate(token: string): Promise<Principal | null> {
		if (this.deps.api.verify(token)) return { kind: 'password' }
		if (!token.startsWith(CLIENT_KEY_PREFIX)) return null
		const id = keyId(token)
		const record = await this.lookup(id)
		if (!record) return null
		if (!this.scrubbed.has(id)) {
			this.scrubbed.add(id)
			this.deps.onSecret?.(token)
		}
		this.checkUsable(record)
		return { kind: 'client', id: record.id, name: record.name }
	}

	async admit(principal: Principal, model: string, fallbacks: readonly string[] = []): Promise<Admission | null> {
		if (principal.kind !== 'client') return null
		const record = await this.lookup(principal.id)
		if (!record) throw new AuthenticationError('This client key no longer exists.', 'invalid_api_key')
		this.checkUsable(record)
		// Every model the request can reach: the model, then each `fallbacks[].model`.
		if (record.allowed_models !== null) {
			const allowed = record.allowed_models
			if (!allowed.includes(model)) throw new PermissionError(`This client key may not use model ${model}.`, 'model_not_allowed')
			const denied = fallbacks.find((m) => !allowed.includes(m))
			if (denied !== undefined) throw new PermissionError(`This client key may not use model ${denied} (named in fallbacks).`, 'model_not_allowed')
		}
		const now = this.now()
		const reset = nextReset(now)
		const daily = clientDailyCounter(usageDay(now), record.id)
		const total = clientTotalCounter(record.id)
		const { storage } = this.deps
		// Both reservations in parallel (one round trip); whichever was granted is given back if the other was not.
		const [dailyResult, totalResult] = await Promise.all([
			storage.reserveCounter(daily, 'requests', record.daily_limit ?? UNLIMITED, 1, reset + GRACE_MS),
			storage.reserveCounter(total, 'requests', record.total_limit ?? UNLIMITED),
		])
		const giveBack = () =>
			Promise.all([
				dailyResult.granted ? storage.addCounters(daily, { requests: -1 }, reset + GRACE_MS) : null,
				totalResult.granted ? storage.addCounters(total, { requests: -1 }) : null,
			])
		if (!totalResult.granted) {
			await giveBack()
			throw new RateLimitError(`This client key has used its total quota of ${record.total_limit} requests.`, null, 'quota_exceeded', { quota: 'total' })
		}
		if (!dailyResult.granted) {
			await giveBack()
			const at = new Date(reset).toISOString()
			throw new RateLimitError(
				`This client key has used its daily quota of ${record.daily_limit} requests; it resets at ${at}.`,
				(reset - now) / 1000,
				'quota_exceeded',
				{
					quota: 'daily',
					reset_at: at,
				},
			)
		}
		let released = false
		return {
			release: async () => {
				if (released) return
				released = true
				await giveBack()
			},
		}
	}

	private checkUsable(record: ClientRecord): void {
		if (!record.enabled) throw new PermissionError('This client key is disabled.', 'client_key_disabled')
		if (record.expires_at !== null && this.now() >= record.expires_at * 1000) {
			throw new PermissionError(`This client key expired at ${new Date(record.expires_at * 1000).toISOString()}.`, 'client_key_expired')
		}
	}

	private async lookup(id: string): Promise<ClientRecord | null> {
		const cached = this.cache.get(id)
		// Real time, not the injectable clock: this is about staleness, not about expiry.
		if (cached && Date.now() - cached.at < (this.options.cacheMs ?? 1000)) return cached.record
		const record = await this.deps.storage.getDoc<ClientRecord>('clients', id)
		if (this.cache.size >= MAX_CACHE) this.cache.clear()
		this.cache.set(id, { record, at: Date.now() })
		return record
	}

	// ---- operator actions ----

	/** A new client key; the full key is in the answer and nowhere else. */
	async create(input: Omit<ClientPatch, 'enabled'> & { name: string }): Promise<{ key: string; record: ClientRecord }> {
		// A key born expired is a mistake (seconds taken for milliseconds, a wrong year), not a wish.
		if (input.expires_at !== undefined && input.expires_at !== null && input.expires_at * 1000 <= this.now())
			throw new BadRequestError(`expires_at ${input.expires_at} (epoch seconds) is not in the future.`, 'expires_at', 'expires_at_in_past')
		const key = generateClientKey()
		this.deps.onSecret?.(key)
		const record: ClientRecord = {
			id: keyId(key),
			name: input.name,
			masked_key: maskClientKey(key),
			enabled: true,
			created_at: Math.floor(this.now() / 1000),
			expires_at: input.expires_at ?? null,
			daily_limit: input.daily_limit ?? null,
			total_limit: input.total_limit ?? null,
			allowed_models: input.allowed_models ?? null,
		}
		await this.deps.storage.putDoc('clients', record)
		this.cache.set(record.id, { record, at: Date.now() })
		this.deps.log.info({ client: record.id, name: record.name, key: record.masked_key }, 'client key created')
		return { key, record }
	}

	async list(): Promise<ClientRecord[]> {
		const records = await this.deps.storage.listDocs<ClientRecord>('clients')
		return records.sort((a, b) => a.created_at - b.created_at || a.id.localeCompare(b.id))
	}

	get(id: string): Promise<ClientRecord | null> {
		return this.deps.storage.getDoc<ClientRecord>('clients', id)
	}

	async update(id: string, patch: ClientPatch): Promise<ClientRecord | null> {
		const record = await this.deps.storage.updateDoc<ClientRecord>('clients', id, (current) => (current ? { ...current, ...patch, id } : undefined))
		this.cache.delete(id)
		if (record) this.deps.log.info({ client: id, changed: Object.keys(patch) }, 'client key changed')
		return record
	}

	/** Removes the key and its quota counters (its usage statistics stay). */
	async remove(id: string): Promise<boolean> {
		const removed = await this.deps.storage.deleteDoc('clients', id)
		this.cache.delete(id)
		if (removed) {
			// The daily groups and the total group all end in the id (ids have a fixed length).
			for (const name of Object.keys(await this.deps.storage.readCounters('client-quota:'))) {
				if (name.endsWith(`:${id}`)) await this.deps.storage.deleteCounters(name)
			}
			this.deps.log.info({ client: id }, 'client key deleted')
		}
		return removed
	}

	/** Records as the admin API shows them: masked, with status and today's and total use. */
	async views(records: ClientRecord[]): Promise<ClientView[]> {
		const now = this.now()
		const [today, totals] = await Promise.all([
			this.deps.storage.readCounters(clientDailyCounter(usageDay(now), '')),
			this.deps.storage.readCounters(clientTotalCounter('')),
		])
		return records.map((r) => ({
			...r,
			status: !r.enabled ? 'disabled' : r.expires_at !== null && now >= r.expires_at * 1000 ? 'expired' : 'active',
			created_at: new Date(r.created_at * 1000).toISOString(),
			expires_at: r.expires_at === null ? null : new Date(r.expires_at * 1000).toISOString(),
			used_today: today[clientDailyCounter(usageDay(now), r.id)]?.requests ?? 0,
			used_total: totals[clientTotalCounter(r.id)]?.requests ?? 0,
		}))
	}
}

export interface ClientAdminDeps {
	auth: AdminAuth
	clients: ClientKeys
}

const tags = ['Admin']
const security = [{ bearer: [] }]
const limit = t.Union([t.Integer({ minimum: 1, maximum: 1_000_000_000 }), t.Null()])
const models = t.Union([t.Array(t.String({ minLength: 1, maxLength: 200 }), { maxItems: 1000 }), t.Null()])
const expiry = t.Union([t.Integer({ minimum: 0, maximum: 100_000_000_000 }), t.Null()])
const name = t.String({ minLength: 1, maxLength: 200 })

export const clientAdmin = (deps: ClientAdminDeps) => {
	const one = async (id: string) => {
		const record = await deps.clients.get(id)
		if (!record) throw new NotFoundError(`No client key with id ${id}`, 'client_not_found')
		return (await deps.clients.views([record]))[0]
	}
	return new Elysia({ name: 'client-admin', prefix: '/admin' })
		.onTransform(requirePanelAuth(deps.auth))
		.get('/clients', async () => ({ clients: await deps.clients.views(await deps.clients.list()) }), {
			detail: {
				summary: 'List client keys (masked)',
				description: "Each client key's settings, status, and use (today and in total). Never the full key.",
				tags,
				security,
			},
		})
		.post(
			'/clients',
			async function createClient({ body, set }) {
				const { key, record } = await deps.clients.create(body)
				set.status = 201
				return { key, ...(await deps.clients.views([record]))[0] }
			},
			{
				body: t.Object({
					name,
					daily_limit: t.Optional(limit),
					total_limit: t.Optional(limit),
					allowed_models: t.Optional(models),
					expires_at: t.Optional(expiry),
				}),
				detail: {
					summary: 'Create a client key',
					description:
						'Answers 201 with the full key in `key`: it is shown this once and cannot be read again. `daily_limit`/`total_limit`: requests per usage day / in total (null = unlimited); `allowed_models`: null = every model, [] = none; `expires_at`: epoch seconds (null = never).',
					tags,
					security,
				},
			},
		)
		.get('/clients/:id', ({ params }) => one(params.id), { detail: { summary: 'One client key (masked)', tags, security } })
		.patch(
			'/clients/:id',
			async function updateClient({ params, body }) {
				if (!(await deps.clients.update(params.id, body))) throw new NotFoundError(`No client key with id ${params.id}`, 'client_not_found')
				return one(params.id)
			},
			{
				body: t.Object({
					name: t.Optional(name),
					enabled: t.Optional(t.Boolean()),
					daily_limit: t.Optional(limit),
					total_limit: t.Optional(limit),
					allowed_models: t.Optional(models),
					expires_at: t.Optional(expiry),
				}),
				detail: {
					summary: 'Change a client key',
					description: 'Name, enabled, limits, allowed models, expiry; fields not sent keep their value.',
					tags,
					security,
				},
			},
		)
		.delete(
			'/clients/:id',
			async function deleteClient({ params }) {
				if (!(await deps.clients.remove(params.id))) throw new NotFoundError(`No client key with id ${params.id}`, 'client_not_found')
				return { removed: params.id }
			},
			{
				detail: {
					summary: 'Delete a client key',
					description: 'Requests with it answer 401 from then on (within a second on other instances).',
					tags,
					security,
				},
			},
		)
}
