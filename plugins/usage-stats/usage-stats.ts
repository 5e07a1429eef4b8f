/**
 * Usage statistics: per usage day (07:00 UTC to 07:00 UTC), per upstream key and model, and per
 * client key and model, counted in the storage backend's atomic counters so several instances
 * add up and nothing is lost on restart.
 *
 * What is counted (one `finished` event per client request, on the key that answered it):
 * - `requests` = `successes` + `failures_rate_limited` + `failures_upstream` + `failures_client`
 *   + `aborted` (the client went away: neither a success nor a failure of ours);
 * - tokens from the upstream's usage (streams too: amb2api always asks upstream for it), with
 *   the cache writes by kind;
 * - spend: `cost_nusd`, the cost in nano-USD (1e-9, an integer like every counter) of the
 *   requests whose model had a price, and `unpriced_requests`, those whose model had none (their
 *   tokens count, their cost is unknown: never $0). A request is counted under the model that
 *   answered it (a fallback, when the upstream names one);
 * - `attempts`: every upstream attempt made on that key (from `attempt` events), so a retried
 *   request shows one request on the key that answered and one attempt on each key it tried;
 * - `failed_attempts`: the attempts on that key the upstream failed (5xx, network, 429, a refused
 *   key or model): a retry that succeeded elsewhere hides them from `failures_upstream`.
 * A request no key answered (every attempt failed, or no key could be leased) is counted in the
 * `-` key bucket, shown as `no_key`. A /v1 request refused before it reached the upstream client
 * (401, 403, 404, a malformed body, a client key's quota 429) has no `finished` event: it is
 * counted from the finished HTTP request, in the `-` key bucket under the model `-`, as a
 * client failure.
 *
 * Counter groups: `usage:<day>:key:<keyId|->:<model>`, `usage:<day>:client:<clientId>:<model>`, and
 * for the CSV export `usage:<day>:row:<keyId|->:<clientId|->:<model>` (day x key x client x model).
 * Writes never block or fail a request: they are batched for 100 ms (deltas to the same group are
 * merged) and written in the background; a failing backend is logged once per failure streak.
 */
import { Elysia, t } from 'elysia'
import { BadRequestError, NotFoundError } from '../../core/errors.ts'
import type { Logger } from '../../core/log.ts'
import type { Counters, Storage } from '../../core/storage.ts'
import { DAY_MS, nextReset, parseUsageDay, usageDay } from '../../core/usage-day.ts'
import { type AdminAuth, requirePanelAuth } from '../admin-auth/admin-auth.ts'
import type { AttemptEvent, RequestEvent, UsageRecorder } from './events.ts'
import type { KeyPool } from '../rate-limits/key-pool.ts'
import { tokensByKind } from '../pricing/prices.ts'
import { usageCsv } from './usage-csv.ts'
import { addInto, costUsd, emptyCounts, NO_KEY, type UsageCounts, type UsageField, type UsageRow, USAGE_FIELDS } from './usage-counts.ts'

export { addInto, costUsd, emptyCounts, NO_KEY, type UsageCounts, type UsageField, type UsageRow, USAGE_FIELDS }

/** How long counter changes are gathered before they are written. */
const BATCH_MS = 100

export interface UsageStatsDeps {
	storage: Storage
	log: Logger
	now?: () => number
}

export interface UsageStatsOptions {
	/** Days a day's counters are kept after it ended. @default 90 */
	retentionDays?: number
}

/** One usage day as read from storage: per key id (or NO_KEY) and per client id, per model. */
export interface UsageDayData {
	keys: Map<string, Map<string, UsageCounts>>
	clients: Map<string, Map<string, UsageCounts>>
}

/** Token counts are integers in every backend; anything else from upstream is not a count. */
const tokens = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.round(value) : 0)

/** Which counter a finished request increments besides `requests`. */
export function outcomeField(event: Pick<RequestEvent, 'ok' | 'failure' | 'status'>): UsageField {
	if (event.ok) return 'successes'
	if (event.failure === 'aborted') return 'aborted'
	// A 429 of our own (every key at its rate limit or daily quota) is a rate limit too.
	if (event.failure === 'rate-limit' || event.status === 429) return 'failures_rate_limited'
	if (event.failure === 'client') return 'failures_client'
	// transient, key, no-model-access, no-key
	return 'failures_upstream'
}

/** The counter deltas of one finished request. */
export function requestDeltas(event: RequestEvent): Counters {
	const deltas: Counters = { requests: 1, [outcomeField(event)]: 1 }
	if (event.usage) {
		const prompt = tokens(event.usage.prompt_tokens)
		const completion = tokens(event.usage.completion_tokens)
		const kinds = tokensByKind(event.usage)
		if (prompt) deltas.prompt_tokens = prompt
		if (completion) deltas.completion_tokens = completion
		if (kinds.cache_read) deltas.cached_tokens = kinds.cache_read
		if (kinds.cache_write) deltas.cache_write_tokens = kinds.cache_write
		if (kinds.cache_write_1h) deltas.cache_write_1h_tokens = kinds.cache_write_1h
		// Priced (a cost, possibly 0 for a request without tokens) or unpriced; neither when pricing is off.
		if (event.cost) {
			if (event.cost.nusd) deltas.cost_nusd = event.cost.nusd
		} else if (event.cost === null) deltas.unpriced_requests = 1
	}
	if (event.audio) {
		const seconds = tokens(event.audio.seconds)
		if (seconds) deltas.audio_seconds = seconds
		if (seconds && event.audio.costMicroUsd === null) deltas.audio_seconds_unpriced = seconds
		if (event.audio.costMicroUsd) deltas.audio_cost_micro_usd = tokens(event.audio.costMicroUsd)
	}
	return deltas
}

export class UsageStats implements UsageRecorder {
	private readonly now: () => number
	private buffer = new Map<string, { deltas: Counters; expireAt: number }>()
	private draining: Promise<void> | null = null
	/** Ends the current batching wait early (flush). */
	private wake: (() => void) | null = null
	private failing = false

	constructor(
		private readonly deps: UsageStatsDeps,
		private readonly options: UsageStatsOptions = {},
	) {
		this.now = deps.now ?? Date.now
	}

	/** Ids of requests whose failure `finished` already counted, until their HTTP answer is seen. */
	private readonly counted = new Map<string, number>()

	attempt(event: AttemptEvent): void {
		const now = this.now()
		const failed = event.outcome !== 'success' && event.outcome !== 'aborted' && event.outcome !== 'client'
		this.add(`usage:${usageDay(now)}:key:${event.keyId}:${event.model}`, failed ? { attempts: 1, failed_attempts: 1 } : { attempts: 1 }, now)
	}

	finished(event: RequestEvent): void {
		const now = this.now()
		const day = usageDay(now)
		const deltas = requestDeltas(event)
		if (!event.ok && event.requestId) this.rememberCounted(event.requestId, now)
		const model = event.answeredModel ?? event.model
		const key = event.keyId ?? NO_KEY
		const client = event.principal?.kind === 'client' ? event.principal.id : NO_KEY
		this.add(`usage:${day}:key:${key}:${model}`, deltas, now)
		if (client !== NO_KEY) this.add(`usage:${day}:client:${client}:${model}`, { ...deltas, attempts: event.attempts }, now)
		this.add(`usage:${day}:row:${key}:${client}:${model}`, deltas, now)
	}

	/**
	 * A finished HTTP request: a /v1 client error the pipeline never saw (refused by
	 * authentication, validation, the catalog or a client key's limits) is a client failure.
	 */
	answered(request: { route: string; status: number; requestId: string }): void {
		const seen = this.counted.delete(request.requestId)
		if (seen || request.status < 400 || request.status >= 500 || !request.route.startsWith('/v1/')) return
		const now = this.now()
		const day = usageDay(now)
		this.add(`usage:${day}:key:${NO_KEY}:${NO_KEY}`, { requests: 1, failures_client: 1 }, now)
		// The export's rows add up to the same totals.
		this.add(`usage:${day}:row:${NO_KEY}:${NO_KEY}:${NO_KEY}`, { requests: 1, failures_client: 1 }, now)
	}

	/** Remembered briefly: a stream that failed after its 200 never comes back as a 4xx. */
	private rememberCounted(requestId: string, now: number): void {
		this.counted.set(requestId, now)
		if (this.counted.size > 10_000) for (const [id, at] of this.counted) if (now - at > 60_000 || this.counted.size > 10_000) this.counted.delete(id)
	}

	/** Resolves once every counter change recorded so far is written (or failed). */
	flush(): Promise<void> {
		this.wake?.()
		return this.draining ?? Promise.resolve()
	}

	private add(name: string, deltas: Counters, now: number): void {
		const pending = this.buffer.get(name)
		if (pending) {
			for (const field in deltas) pending.deltas[field] = (pending.deltas[field] ?? 0) + (deltas[field] ?? 0)
		} else {
			this.buffer.set(name, { deltas: { ...deltas }, expireAt: nextReset(now) + (this.options.retentionDays ?? 90) * DAY_MS })
		}
		this.draining ??= this.drain()
	}

	private async drain(): Promise<void> {
		try {
			// Gather a short while: under load, hundreds of requests share one write per counter
			// group instead of one each (flush() and shutdown do not wait for the timer's end).
			await new Promise<void>((resolve) => {
				this.wake = resolve
				setTimeout(resolve, BATCH_MS)
			})
			this.wake = null
			while (this.buffer.size) {
				const batch = [...this.buffer]
				this.buffer.clear()
				await Promise.all(batch.map(([name, { deltas, expireAt }]) => this.write(name, deltas, expireAt)))
			}
		} finally {
			this.draining = null
		}
	}

	private async write(name: string, deltas: Counters, expireAt: number): Promise<void> {
		try {
			await this.deps.storage.addCounters(name, deltas, expireAt)
			this.failing = false
		} catch (err) {
			if (!this.failing)
				this.deps.log.warn({ counter: name, err: String(err) }, 'usage counters could not be written; counts are lost until the backend answers')
			this.failing = true
		}
	}

	/** Every counter of one usage day. */
	async read(day: string): Promise<UsageDayData> {
		await this.flush()
		const data: UsageDayData = { keys: new Map(), clients: new Map() }
		const prefix = `usage:${day}:`
		for (const [name, values] of Object.entries(await this.deps.storage.readCounters(prefix))) {
			// `<kind>:<id>:<model>`; ids never contain ':', models may.
			const rest = name.slice(prefix.length)
			const first = rest.indexOf(':')
			const second = rest.indexOf(':', first + 1)
			if (first < 0 || second < 0) continue
			const kind = rest.slice(0, first)
			const target = kind === 'key' ? data.keys : kind === 'client' ? data.clients : null
			if (!target) continue
			const id = rest.slice(first + 1, second)
			const model = rest.slice(second + 1)
			let models = target.get(id)
			if (!models) target.set(id, (models = new Map()))
			models.set(model, addInto(models.get(model) ?? emptyCounts(), values))
		}
		return data
	}

	/** The export rows of one usage day: day x upstream key x client key x model. */
	async rows(day: string): Promise<UsageRow[]> {
		await this.flush()
		const prefix = `usage:${day}:row:`
		const out: UsageRow[] = []
		for (const [name, values] of Object.entries(await this.deps.storage.readCounters(prefix))) {
			// `<keyId>:<clientId>:<model>`; ids never contain ':', models may.
			const rest = name.slice(prefix.length)
			const first = rest.indexOf(':')
			const second = rest.indexOf(':', first + 1)
			if (first < 0 || second < 0) continue
			out.push({ day, key: rest.slice(0, first), client: rest.slice(first + 1, second), model: rest.slice(second + 1), counts: addInto(emptyCounts(), values) })
		}
		return out.sort((a, b) => a.key.localeCompare(b.key) || a.client.localeCompare(b.client) || a.model.localeCompare(b.model))
	}

	/**
	 * Removes usage counters of every day: one upstream key's, one client's, or all of them.
	 * Resolves to the number of counter groups removed.
	 */
	async reset(target: { key?: string; client?: string } = {}): Promise<number> {
		await this.flush()
		if (target.key === undefined && target.client === undefined) return this.deps.storage.deleteCounters('usage:')
		const wanted = [target.key !== undefined ? `key:${target.key}:` : null, target.client !== undefined ? `client:${target.client}:` : null].filter(
			(s): s is string => s !== null,
		)
		// Day first in the name: find the days that hold this id, then delete per day by prefix.
		const prefixes = new Set<string>()
		for (const name of Object.keys(await this.deps.storage.readCounters('usage:'))) {
			const day = name.slice('usage:'.length, name.indexOf(':', 'usage:'.length))
			const rest = name.slice(`usage:${day}:`.length)
			for (const w of wanted) if (rest.startsWith(w)) prefixes.add(`usage:${day}:${w}`)
			// Export rows `row:<key>:<client>:<model>`: one prefix per key and client pair.
			const row = rest.startsWith('row:') ? rest.split(':') : null
			if (row && row.length >= 4 && ((target.key !== undefined && row[1] === target.key) || (target.client !== undefined && row[2] === target.client))) {
				prefixes.add(`usage:${day}:row:${row[1]}:${row[2]}:`)
			}
		}
		let removed = 0
		for (const prefix of prefixes) removed += await this.deps.storage.deleteCounters(prefix)
		return removed
	}
}

// ---- the admin view ----

/** Counts as the report shows them: with the cost in USD, null when every priced request was unpriced. */
export type ReportCounts = UsageCounts & { cost_usd: number | null }

const withCost = (counts: UsageCounts): ReportCounts => ({ ...counts, cost_usd: costUsd(counts) })

interface Breakdown {
	totals: ReportCounts
	models: Record<string, ReportCounts>
}

function breakdown(models: Map<string, UsageCounts> | undefined): Breakdown {
	const totals = emptyCounts()
	const out: Record<string, ReportCounts> = {}
	for (const [model, counts] of [...(models ?? new Map<string, UsageCounts>())].sort(([a], [b]) => a.localeCompare(b))) {
		out[model] = withCost(counts)
		addInto(totals, counts)
	}
	return { totals: withCost(totals), models: out }
}

export interface ClientSummary {
	id: string
	name: string
	masked_key: string
}

export interface UsageReport {
	day: string
	starts_at: string
	ends_at: string
	/** Every client request of the day (the sum over keys and no_key). */
	totals: ReportCounts
	models: Record<string, ReportCounts>
	keys: ({ id: string; key: string | null; removed: boolean } & Breakdown)[]
	/** Requests no key answered. */
	no_key: Breakdown
	/** The same requests seen per client key (API-password requests are not in here). */
	clients: ({ id: string; name: string | null; masked_key: string | null } & Breakdown)[]
}

/** The day's data joined with the pool's masked keys and the client names. */
export function usageReport(day: string, data: UsageDayData, keys: { id: string; key: string }[], clients: ClientSummary[]): UsageReport {
	const start = parseUsageDay(day)
	if (start === null) throw new BadRequestError(`day must be a date as YYYY-MM-DD, got ${JSON.stringify(day).slice(0, 40)}`, 'day', 'invalid_day')
	const totals = emptyCounts()
	const models = new Map<string, UsageCounts>()
	for (const perModel of data.keys.values()) {
		for (const [model, counts] of perModel) {
			addInto(totals, counts)
			models.set(model, addInto(models.get(model) ?? emptyCounts(), counts))
		}
	}
	const known = new Set(keys.map((k) => k.id))
	const keyRows = [
		...keys.map((k) => ({ id: k.id, key: k.key, removed: false, ...breakdown(data.keys.get(k.id)) })),
		...[...data.keys.keys()].filter((id) => id !== NO_KEY && !known.has(id)).map((id) => ({ id, key: null, removed: true, ...breakdown(data.keys.get(id)) })),
	]
	const clientById = new Map(clients.map((c) => [c.id, c]))
	const clientIds = [...new Set([...clients.map((c) => c.id), ...data.clients.keys()])]
	return {
		day,
		starts_at: new Date(start).toISOString(),
		ends_at: new Date(start + DAY_MS).toISOString(),
		totals: withCost(totals),
		models: breakdown(models).models,
		keys: keyRows,
		no_key: breakdown(data.keys.get(NO_KEY)),
		clients: clientIds.map((id) => ({
			id,
			name: clientById.get(id)?.name ?? null,
			masked_key: clientById.get(id)?.masked_key ?? null,
			...breakdown(data.clients.get(id)),
		})),
	}
}

export interface UsageAdminDeps {
	auth: AdminAuth
	stats: UsageStats
	pool: KeyPool
	/** Client keys (id, name, masked key), to name the per-client rows. */
	clients?: () => Promise<ClientSummary[]>
	now?: () => number
}

const tags = ['Admin']
const MAX_EXPORT_DAYS = 366

/** The usage days `from`..`to` of a query (default: today only); 400 for bad dates or ranges. */
function dayRange(query: { from?: string; to?: string }, today: string): { from: string; to: string; days: string[] } {
	const to = query.to ?? today
	const from = query.from ?? to
	const start = parseUsageDay(from)
	const end = parseUsageDay(to)
	if (start === null) throw new BadRequestError(`from must be a date as YYYY-MM-DD, got ${JSON.stringify(from).slice(0, 40)}`, 'from', 'invalid_day')
	if (end === null) throw new BadRequestError(`to must be a date as YYYY-MM-DD, got ${JSON.stringify(to).slice(0, 40)}`, 'to', 'invalid_day')
	if (end < start) throw new BadRequestError('from must not be after to', 'from', 'invalid_range')
	if ((end - start) / DAY_MS >= MAX_EXPORT_DAYS) throw new BadRequestError(`At most ${MAX_EXPORT_DAYS} days per request`, 'from', 'invalid_range')
	const days: string[] = []
	for (let at = start; at <= end; at += DAY_MS) days.push(usageDay(at))
	return { from, to, days }
}

export interface SpendReport {
	from: string
	to: string
	totals: ReportCounts
	models: Record<string, ReportCounts>
	keys: { id: string; key: string | null; totals: ReportCounts }[]
	clients: { id: string; name: string | null; totals: ReportCounts }[]
	days: { day: string; requests: number; cost_usd: number | null; unpriced_requests: number }[]
}

/** Spend over several usage days from their export rows: totals, per model, key and client, and per day. */
export function spendReport(
	from: string,
	to: string,
	days: { day: string; rows: UsageRow[] }[],
	keyNames: Map<string, string>,
	clientNames: Map<string, string>,
): SpendReport {
	const totals = emptyCounts()
	const models = new Map<string, UsageCounts>()
	const keys = new Map<string, UsageCounts>()
	const clients = new Map<string, UsageCounts>()
	const sum = (into: Map<string, UsageCounts>, id: string, counts: UsageCounts) => {
		const current = into.get(id) ?? emptyCounts()
		into.set(id, addInto(current, counts))
	}
	const trend = days.map(({ day, rows }) => {
		const daily = emptyCounts()
		for (const row of rows) {
			addInto(daily, row.counts)
			sum(models, row.model, row.counts)
			sum(keys, row.key, row.counts)
			if (row.client !== NO_KEY) sum(clients, row.client, row.counts)
		}
		addInto(totals, daily)
		return { day, requests: daily.requests, cost_usd: costUsd(daily), unpriced_requests: daily.unpriced_requests }
	})
	const byCost = (a: [string, UsageCounts], b: [string, UsageCounts]) => b[1].cost_nusd - a[1].cost_nusd || a[0].localeCompare(b[0])
	return {
		from,
		to,
		totals: withCost(totals),
		models: Object.fromEntries([...models].sort(byCost).map(([m, c]) => [m, withCost(c)])),
		keys: [...keys].sort(byCost).map(([id, c]) => ({ id, key: id === NO_KEY ? null : (keyNames.get(id) ?? null), totals: withCost(c) })),
		clients: [...clients].sort(byCost).map(([id, c]) => ({ id, name: clientNames.get(id) ?? null, totals: withCost(c) })),
		days: trend,
	}
}
const security = [{ bearer: [] }]

export const usageAdmin = (deps: UsageAdminDeps) =>
	new Elysia({ name: 'usage-admin', prefix: '/admin' })
		.onTransform(requirePanelAuth(deps.auth))
		.get(
			'/usage',
			async function readUsage({ query }) {
				const day = query.day ?? usageDay((deps.now ?? Date.now)())
				if (parseUsageDay(day) === null)
					throw new BadRequestError(`day must be a date as YYYY-MM-DD, got ${JSON.stringify(day).slice(0, 40)}`, 'day', 'invalid_day')
				const [data, keys, clients] = await Promise.all([deps.stats.read(day), deps.pool.report(), deps.clients?.() ?? []])
				return usageReport(
					day,
					data,
					keys.map((k) => ({ id: k.id, key: k.key })),
					clients,
				)
			},
			{
				query: t.Object({ day: t.Optional(t.String()) }),
				detail: {
					summary: 'Usage per key, model and client key',
					description:
						'Counts of one usage day (07:00 UTC to 07:00 UTC; default: today): totals, per model, per upstream key (masked; `id` is the stable handle), requests no key answered (`no_key`), and per client key. `requests` = `successes` + `failures_rate_limited` + `failures_upstream` + `failures_client` + `aborted`; `attempts` counts every upstream attempt on a key, retries included, and `failed_attempts` those the upstream failed; tokens come from the upstream usage. Transcriptions: `audio_seconds` of audio transcribed, their cost in `audio_cost_micro_usd` (micro-USD), and `audio_seconds_unpriced`: the part of those seconds whose model has no price (not in the cost).',
					tags,
					security,
				},
			},
		)
		.get(
			'/usage/export',
			async function exportUsage({ query, set }) {
				const { from, to, days } = dayRange(query, usageDay((deps.now ?? Date.now)()))
				const [perDay, keys, clients] = await Promise.all([Promise.all(days.map((d) => deps.stats.rows(d))), deps.pool.report(), deps.clients?.() ?? []])
				const keyNames = new Map(keys.map((k) => [k.id, k.key]))
				const clientNames = new Map(clients.map((c) => [c.id, c.name]))
				set.headers['content-type'] = 'text/csv; charset=utf-8'
				set.headers['content-disposition'] = `attachment; filename="amb2api-usage-${from}-${to}.csv"`
				return usageCsv(perDay.flat(), { key: (id) => keyNames.get(id) ?? null, client: (id) => clientNames.get(id) ?? null })
			},
			{
				query: t.Object({ from: t.Optional(t.String({ maxLength: 20 })), to: t.Optional(t.String({ maxLength: 20 })) }),
				detail: {
					summary: 'Usage and spend as CSV',
					description:
						'One row per usage day x upstream key (masked) x client key x model, for the usage days `from`..`to` (YYYY-MM-DD, inclusive; default today; at most 366 days): requests, successes, failures, tokens by kind (prompt without cached reads and cache writes, cached reads, 5-minute and 1-hour cache writes, completion) and `cost_usd` (empty when the model had no price; `unpriced_requests` counts those).',
					tags,
					security,
				},
			},
		)
		.get(
			'/usage/spend',
			async function readSpend({ query }) {
				const { from, to, days } = dayRange(query, usageDay((deps.now ?? Date.now)()))
				const [perDay, keys, clients] = await Promise.all([Promise.all(days.map((d) => deps.stats.rows(d))), deps.pool.report(), deps.clients?.() ?? []])
				return spendReport(
					from,
					to,
					days.map((day, i) => ({ day, rows: perDay[i] ?? [] })),
					new Map(keys.map((k) => [k.id, k.key])),
					new Map(clients.map((c) => [c.id, c.name])),
				)
			},
			{
				query: t.Object({ from: t.Optional(t.String({ maxLength: 20 })), to: t.Optional(t.String({ maxLength: 20 })) }),
				detail: {
					summary: 'Spend over a date range',
					description:
						"For the usage days `from`..`to` (YYYY-MM-DD, inclusive; default today; at most 366 days): the totals, and the counts with `cost_usd` per model, per upstream key (masked) and per client key, plus `days`: each day's requests and cost (a trend). `cost_usd` is null where every request with usage was unpriced.",
					tags,
					security,
				},
			},
		)
		.post(
			'/usage/reset',
			async function resetUsage({ body }) {
				const key = body?.key
				const client = body?.client
				const removed = await deps.stats.reset({ key, client })
				// An id that has no counters and is no pool key is most likely a typo.
				if (key !== undefined && removed === 0 && !(await deps.pool.report()).some((k) => k.id === key)) {
					throw new NotFoundError(`No key with id ${key}`, 'key_not_found')
				}
				return { reset: key !== undefined || client !== undefined ? { key: key ?? null, client: client ?? null } : 'all', removed }
			},
			{
				body: t.Optional(
					t.Object({
						key: t.Optional(t.String({ minLength: 1, maxLength: 200 })),
						client: t.Optional(t.String({ minLength: 1, maxLength: 200 })),
					}),
				),
				detail: {
					summary: 'Reset usage statistics',
					description:
						'Deletes the usage counters of every day: of one upstream key (`key`: its id), of one client key (`client`: its id), or all of them (empty body). Daily quotas are not affected (see /admin/quotas).',
					tags,
					security,
				},
			},
		)
