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
 * reset; total: no Retry-After, it never comes back by itself); budget spent -> 429
 * `budget_exceeded` (Retry-After until the period ends; none for `total`); `rpm` or `tpm` reached
 * -> 429 `client_rate_limited` (Retry-After until the minute ends); a budgeted key asking for a
 * model without a price -> 403 `model_unpriced` (its cost could not be held to the budget).
 *
 * Quotas count accepted requests: `admit` reserves one request in the daily group
 * `client-quota:<day>:<id>` and in `client-quota:total:<id>` (field `requests`) with atomic
 * `reserveCounter`s, and the router releases them when the request failed on our side.
 * Budgets and `tpm` reserve an estimate (spend-ticket.ts) that the request's usage settles;
 * `rpm` reserves one request in the minute's group. All reservations of a request go out at
 * once (one round trip); whichever were granted are given back when one is refused.
 */
import { randomBytes } from 'node:crypto'
import { Elysia, t } from 'elysia'
import { AuthenticationError, BadRequestError, type GatewayError, NotFoundError, PermissionError, RateLimitError } from '../../core/errors.ts'
import type { Logger } from '../../core/log.ts'
import { keyId, type PasswordCheck } from '../../core/secrets.ts'
import type { Doc, Storage } from '../../core/storage.ts'
import { nextReset, usageDay } from '../../core/usage-day.ts'
import { type AdminAuth, requirePanelAuth } from '../admin-auth/admin-auth.ts'
import type { Admission, AdmissionRequest, ApiAuthenticator, Principal } from '../api-auth/api-auth.ts'
import { costAt, type ModelPrices } from '../pricing/prices.ts'
import { CounterBatch } from './counter-batch.ts'
import { type BudgetPeriod, clientRateCounter, clientSpendCounter, MINUTE_MS, periodOf } from './spend-periods.ts'
import { type CounterGroup, Ticket } from './spend-ticket.ts'

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
	/** USD per `budget_period`; null (or absent on older records) = no budget. */
	budget_usd?: number | null
	budget_period?: BudgetPeriod
	/** Requests per minute; null = unlimited. */
	rpm?: number | null
	/** Prompt + completion tokens per minute; null = unlimited. */
	tpm?: number | null
}

export interface ClientKeysDeps {
	storage: Storage
	log: Logger
	/** The API password, checked first (constant time). */
	api: PasswordCheck
	now?: () => number
	/** Called with every full client key this instance sees, so the logger can scrub it. */
	onSecret?: (key: string) => void
	/** Model prices, for budget estimates (absent: budgets cannot be held, budgeted keys are refused). */
	pricing?: { pricesOf(model: string): ModelPrices | null; ready(): Promise<void> }
}

export interface ClientKeysOptions {
	/** How stale the in-process copy of a client record may get (other instances' changes). @default 1000 */
	cacheMs?: number
}

const GRACE_MS = 3_600_000
const UNLIMITED = Number.MAX_SAFE_INTEGER
/** Unknown tokens are cached too (so guessing does not hammer storage), up to this many entries. */
const MAX_CACHE = 10_000
const PERIOD_WORD: Record<BudgetPeriod, string> = { day: 'daily', week: 'weekly', month: 'monthly', total: 'total' }
/** Spend groups outlive their period by a day, for the admin view of the period just ended. */
const SPEND_KEEP_MS = 86_400_000

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

export type ClientPatch = Partial<
	Pick<ClientRecord, 'name' | 'enabled' | 'expires_at' | 'daily_limit' | 'total_limit' | 'allowed_models' | 'budget_usd' | 'budget_period' | 'rpm' | 'tpm'>
>

/** A client key as the admin API and the panel show it (Pick, not Omit: Doc's index signature would erase the named fields). */
export interface ClientView extends Pick<ClientRecord, 'id' | 'name' | 'masked_key' | 'enabled' | 'daily_limit' | 'total_limit' | 'allowed_models'> {
	status: 'active' | 'disabled' | 'expired'
	created_at: string
	expires_at: string | null
	used_today: number
	used_total: number
	budget_usd: number | null
	budget_period: BudgetPeriod
	rpm: number | null
	tpm: number | null
	/** Cost of today's requests (usage day), USD. */
	spent_today_usd: number
	/** The budget's current period: spent (reservations of requests in flight included) and what is left. */
	budget: { period: BudgetPeriod; spent_usd: number; remaining_usd: number; resets_at: string | null } | null
}

/** One atomic reservation of an admission, and the error when it is refused. */
interface Reservation {
	name: string
	field: string
	limit: number
	by: number
	expireAt?: number
	refused: () => GatewayError
}

/** A request's tokens before it is sent: prompt from the messages' JSON size (about 4 characters a token), completion from its max_tokens. */
export function estimateTokens(request: AdmissionRequest | undefined): { prompt: number; completion: number } {
	if (!request) return { prompt: 0, completion: 0 }
	const max =
		typeof request.max_tokens === 'number' ? request.max_tokens : typeof request.max_completion_tokens === 'number' ? request.max_completion_tokens : 0
	let chars = 0
	try {
		chars = JSON.stringify(request.messages ?? '').length
	} catch {
		chars = 0
	}
	return { prompt: Math.ceil(chars / 4), completion: Math.max(0, Math.floor(max)) }
}

export class ClientKeys implements ApiAuthenticator {
	private readonly now: () => number
	private cache = new Map<string, { record: ClientRecord | null; at: number }>()
	private scrubbed = new Set<string>()
	private readonly batch: CounterBatch

	constructor(
		private readonly deps: ClientKeysDeps,
		private readonly options: ClientKeysOptions = {},
	) {
		this.now = deps.now ?? Date.now
		this.batch = new CounterBatch(deps.storage, deps.log)
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

	async admit(principal: Principal, model: string, fallbacks: readonly string[] = [], request?: AdmissionRequest): Promise<Admission | null> {
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
		const { storage } = this.deps
		// In the order their refusals take precedence.
		const plan: Reservation[] = [
			{
				name: clientTotalCounter(record.id),
				field: 'requests',
				limit: record.total_limit ?? UNLIMITED,
				by: 1,
				refused: () =>
					new RateLimitError(`This client key has used its total quota of ${record.total_limit} requests.`, null, 'quota_exceeded', { quota: 'total' }),
			},
			{
				name: clientDailyCounter(usageDay(now), record.id),
				field: 'requests',
				limit: record.daily_limit ?? UNLIMITED,
				by: 1,
				expireAt: reset + GRACE_MS,
				refused: () => {
					const at = new Date(reset).toISOString()
					return new RateLimitError(
						`This client key has used its daily quota of ${record.daily_limit} requests; it resets at ${at}.`,
						(reset - now) / 1000,
						'quota_exceeded',
						{
							quota: 'daily',
							reset_at: at,
						},
					)
				},
			},
		]
		// A budget prices its estimate: the catalog must have been read once.
		if (record.budget_usd != null) await this.deps.pricing?.ready()
		const spend = this.spendPlan(record, [model, ...fallbacks], request, now)
		plan.push(...spend.reservations)
		// Every reservation at once (one round trip); whichever were granted go back if one was not.
		const results = await Promise.all(plan.map((r) => storage.reserveCounter(r.name, r.field, r.limit, r.by, r.expireAt)))
		const giveBack = () => Promise.all(plan.map((r, i) => (results[i]?.granted && r.by ? storage.addCounters(r.name, { [r.field]: -r.by }, r.expireAt) : null)))
		const refused = plan.findIndex((_, i) => !results[i]?.granted)
		if (refused >= 0) {
			await giveBack()
			throw plan[refused]!.refused()
		}
		const ticket = spend.ticket
		let released = false
		return {
			// The quota and the minute's request go back; so does the estimate when nothing was settled.
			release: async () => {
				if (released) return
				released = true
				await Promise.all([
					Promise.all(plan.map((r, i) => (r.field === 'requests' && results[i]?.granted ? storage.addCounters(r.name, { requests: -1 }, r.expireAt) : null))),
					ticket.close(),
				])
			},
			close: () => ticket.close(),
			ticket,
		}
	}

	/** The largest estimated cost among the models a request can reach (at least one nano-USD); 403 when one has no price. */
	private estimateNusd(models: string[], estimate: { prompt: number; completion: number }): number {
		const pricing = this.deps.pricing
		const prices = models.map((m) => ({ model: m, prices: pricing?.pricesOf(m) ?? null }))
		const unpriced = prices.find((p) => p.prices === null)
		if (unpriced) {
			throw new PermissionError(
				`This client key has a budget, and model ${unpriced.model} has no price, so its cost could not be held to the budget.`,
				'model_unpriced',
			)
		}
		const usage = { prompt_tokens: estimate.prompt, completion_tokens: estimate.completion }
		return Math.max(1, ...prices.map((p) => costAt(p.prices as ModelPrices, usage, 'us').nusd))
	}

	/**
	 * What a request reserves of the key's budget and minute limits, and the ticket that settles
	 * it. Budget: the estimated cost (at least one nano-USD, so a spent budget refuses) in the
	 * period's group; tpm: the estimated tokens (at most tpm, so a large request can still run
	 * alone) in the minute's group; rpm: one request there.
	 */
	private spendPlan(
		record: ClientRecord,
		models: string[],
		request: AdmissionRequest | undefined,
		now: number,
	): { reservations: Reservation[]; ticket: Ticket } {
		const reservations: Reservation[] = []
		const today = periodOf('day', now)
		const todayGroup: CounterGroup = { name: clientSpendCounter(today.key, record.id), expireAt: (today.end ?? now) + SPEND_KEEP_MS }
		const budgetUsd = record.budget_usd ?? null
		const period = record.budget_period ?? 'total'
		const estimate = estimateTokens(request)
		let budget: CounterGroup | null = null
		let estimateNusd = 0
		if (budgetUsd !== null) {
			// Speech has its own per-hour prices: nothing to estimate from tokens, the settlement brings the cost.
			estimateNusd = request?.kind === 'audio' ? 1 : this.estimateNusd(models, estimate)
			const window = periodOf(period, now)
			budget = { name: clientSpendCounter(window.key, record.id), ...(window.end !== null ? { expireAt: window.end + SPEND_KEEP_MS } : {}) }
			const limit = Math.round(budgetUsd * 1e9)
			reservations.push({
				name: budget.name,
				field: 'nusd',
				limit,
				by: estimateNusd,
				expireAt: budget.expireAt,
				refused: () =>
					new RateLimitError(
						`This client key has used its ${PERIOD_WORD[period]} budget of $${budgetUsd}${window.end !== null ? `; it resets at ${new Date(window.end).toISOString()}` : ''}.`,
						window.end !== null ? (window.end - now) / 1000 : null,
						'budget_exceeded',
						{ budget_usd: budgetUsd, budget_period: period, ...(window.end !== null ? { reset_at: new Date(window.end).toISOString() } : {}) },
					),
			})
		}
		const minute = Math.floor(now / MINUTE_MS)
		const minuteEnd = (minute + 1) * MINUTE_MS
		const rateName = clientRateCounter(minute, record.id)
		const rateExpire = minuteEnd + MINUTE_MS
		const rateLimited = (what: string) => () =>
			new RateLimitError(`This client key has reached its limit of ${what} per minute.`, (minuteEnd - now) / 1000, 'client_rate_limited', {
				reset_at: new Date(minuteEnd).toISOString(),
			})
		if (record.rpm)
			reservations.push({ name: rateName, field: 'requests', limit: record.rpm, by: 1, expireAt: rateExpire, refused: rateLimited(`${record.rpm} requests`) })
		let estimateTokensReserved = 0
		if (record.tpm) {
			estimateTokensReserved = Math.min(record.tpm, estimate.prompt + estimate.completion)
			reservations.push({
				name: rateName,
				field: 'tokens',
				limit: record.tpm,
				by: estimateTokensReserved,
				expireAt: rateExpire,
				refused: rateLimited(`${record.tpm} tokens`),
			})
		}
		const ticket = new Ticket(
			{ storage: this.deps.storage, log: this.deps.log, later: (name, deltas, expireAt) => this.batch.add(name, deltas, expireAt) },
			{
				budget,
				estimateNusd,
				rate: record.tpm ? { name: rateName, expireAt: rateExpire } : null,
				estimateTokens: estimateTokensReserved,
				display: budget?.name === todayGroup.name ? [] : [todayGroup],
			},
		)
		return { reservations, ticket }
	}

	/** Writes the batched spend counters (shutdown). */
	flush(): Promise<void> {
		return this.batch.flush()
	}

	async allowedModels(principal: Principal): Promise<readonly string[] | null> {
		if (principal.kind !== 'client') return null
		const record = await this.lookup(principal.id)
		if (!record) throw new AuthenticationError('This client key no longer exists.', 'invalid_api_key')
		this.checkUsable(record)
		return record.allowed_models
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
			budget_usd: input.budget_usd ?? null,
			budget_period: input.budget_period ?? 'total',
			rpm: input.rpm ?? null,
			tpm: input.tpm ?? null,
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
			await this.resetUsed(id)
			this.deps.log.info({ client: id }, 'client key deleted')
		}
		return removed
	}

	/** Clears a key's quota, spend and minute counters (usage statistics stay). */
	async resetUsed(id: string): Promise<void> {
		await this.batch.flush()
		// Every group of a key ends in its id (ids have a fixed length and no ':').
		for (const prefix of ['client-quota:', 'client-spend:', 'client-rate:']) {
			for (const name of Object.keys(await this.deps.storage.readCounters(prefix))) {
				if (name.endsWith(`:${id}`)) await this.deps.storage.deleteCounters(name)
			}
		}
	}

	/** Records as the admin API shows them: masked, with status, today's and total use, spend and budget. */
	async views(records: ClientRecord[]): Promise<ClientView[]> {
		await this.batch.flush()
		const now = this.now()
		const periods = new Map<string, ReturnType<typeof periodOf>>()
		periods.set('day', periodOf('day', now))
		for (const r of records) if (r.budget_usd != null) periods.set(r.budget_period ?? 'total', periodOf(r.budget_period ?? 'total', now))
		const [today, totals, ...spendReads] = await Promise.all([
			this.deps.storage.readCounters(clientDailyCounter(usageDay(now), '')),
			this.deps.storage.readCounters(clientTotalCounter('')),
			...[...periods.values()].map((w) => this.deps.storage.readCounters(clientSpendCounter(w.key, ''))),
		])
		const spend: Record<string, { nusd?: number }> = Object.assign({}, ...spendReads)
		const spentUsd = (periodKey: string, id: string) => (spend[clientSpendCounter(periodKey, id)]?.nusd ?? 0) / 1e9
		return records.map((r) => {
			const budgetUsd = r.budget_usd ?? null
			const period = r.budget_period ?? 'total'
			const window = periods.get(period)
			const spent = window ? spentUsd(window.key, r.id) : 0
			return {
				...r,
				budget_usd: budgetUsd,
				budget_period: period,
				rpm: r.rpm ?? null,
				tpm: r.tpm ?? null,
				status: !r.enabled ? 'disabled' : r.expires_at !== null && now >= r.expires_at * 1000 ? 'expired' : 'active',
				created_at: new Date(r.created_at * 1000).toISOString(),
				expires_at: r.expires_at === null ? null : new Date(r.expires_at * 1000).toISOString(),
				used_today: today[clientDailyCounter(usageDay(now), r.id)]?.requests ?? 0,
				used_total: totals[clientTotalCounter(r.id)]?.requests ?? 0,
				spent_today_usd: spentUsd(periodOf('day', now).key, r.id),
				budget:
					budgetUsd === null || !window
						? null
						: {
								period,
								spent_usd: spent,
								remaining_usd: Math.max(0, Math.round((budgetUsd - spent) * 1e9) / 1e9),
								resets_at: window.end === null ? null : new Date(window.end).toISOString(),
							},
			}
		})
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
const budgetUsd = t.Union([t.Number({ exclusiveMinimum: 0, maximum: 1_000_000_000 }), t.Null()])
const budgetPeriod = t.Union([t.Literal('day'), t.Literal('week'), t.Literal('month'), t.Literal('total')])
const perMinute = t.Union([t.Integer({ minimum: 1, maximum: 1_000_000_000 }), t.Null()])
const spendFields = { budget_usd: t.Optional(budgetUsd), budget_period: t.Optional(budgetPeriod), rpm: t.Optional(perMinute), tpm: t.Optional(perMinute) }
const SPEND_DOC =
	' `budget_usd` (USD, null = none) per `budget_period` (`day`: the 07:00 UTC usage day; `week`: from Monday 07:00 UTC; `month`: from the 1st, 07:00 UTC; `total`; default `total`): past it, 429 `budget_exceeded`. `rpm`/`tpm`: requests / prompt+completion tokens per minute (null = unlimited): past them, 429 `client_rate_limited`.'

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
				description:
					"Each client key's settings, status, use (today and in total), spend today, and its budget's period (`budget`: spent, remaining, reset). Never the full key.",
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
					...spendFields,
				}),
				detail: {
					summary: 'Create a client key',
					description:
						'Answers 201 with the full key in `key`: it is shown this once and cannot be read again. `daily_limit`/`total_limit`: requests per usage day / in total (null = unlimited); `allowed_models`: null = every model, [] = none; `expires_at`: epoch seconds (null = never).' +
						SPEND_DOC,
					tags,
					security,
				},
			},
		)
		.get('/clients/:id', ({ params }) => one(params.id), { detail: { summary: 'One client key (masked)', tags, security } })
		.patch(
			'/clients/:id',
			async function updateClient({ params, body }) {
				const { reset_used: resetUsed, ...patch } = body
				if (!(await deps.clients.update(params.id, patch))) throw new NotFoundError(`No client key with id ${params.id}`, 'client_not_found')
				if (resetUsed) await deps.clients.resetUsed(params.id)
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
					...spendFields,
					reset_used: t.Optional(t.Boolean()),
				}),
				detail: {
					summary: 'Change a client key',
					description:
						'Name, enabled, limits, allowed models, expiry, budget, rpm/tpm; fields not sent keep their value. `reset_used: true` sets its request quotas, spend and minute counters back to 0 (its usage statistics stay).' +
						SPEND_DOC,
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
