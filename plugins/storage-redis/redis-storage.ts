/**
 * Redis storage, shared by every instance on the same Redis and prefix.
 *
 * Layout (every key under `<prefix>:`):
 * - `<prefix>:settings`        hash: setting -> JSON value
 * - `<prefix>:docs:<kind>`     hash: id -> JSON document (one hash per kind: listDocs is one HVALS)
 * - `<prefix>:counter:<name>`  hash: field -> integer, with PEXPIREAT when the group has an expiry
 * - `<prefix>:counters`        sorted set of group names, all scored 0, so a name prefix is a
 *                              ZRANGEBYLEX range; names whose hash expired are pruned lazily
 * - `<prefix>:log`             hash: request-log row id -> JSON row
 * - `<prefix>:log:at`          sorted set of row ids scored by time (equal times in id order),
 *                              read newest first by rank; filters are applied in process
 *
 * Every shared change is one atomic server-side step: Lua for document compare-and-swap, counter
 * increments and reservations, MULTI for settings patches and prefix deletes. No WATCH: the
 * connection is multiplexed, so WATCH would mix up concurrent callers.
 *
 * Lua scripts build no key names of their own, but the counter index and the groups are separate
 * keys, so Redis Cluster is not supported (a single Redis, or Sentinel/replicas behind one URL).
 */
import { createHash } from 'node:crypto'
import { Buffer } from 'node:buffer'
import { Redis } from 'ioredis'
import { redactUrl, scrubUrlPassword } from '../../core/secrets.ts'
import {
	type Counters,
	type Doc,
	type DocKind,
	type DocMutation,
	type LogQuery,
	type LogRow,
	matchesLog,
	type ReserveResult,
	type Storage,
	type StorageKind,
} from '../../core/storage.ts'
import { checkInteger, clampLimit } from '../../core/storage-values.ts'

export interface RedisStorageOptions {
	/** `redis://[user:password@]host:port/db` or `rediss://` (TLS, certificates verified). */
	url: string
	/** Namespace of every key. @default 'AMB2API' */
	prefix?: string
	/** An existing connection; it is used as configured, and not closed by `close()`. */
	client?: Redis
	/** Not used for expiry: Redis expires counter groups on its own clock (PEXPIREAT). */
	now?: () => number
}

/** How long start-up may try to reach Redis before giving up with a clear error. */
const CONNECT_BUDGET_MS = 5000
/** Names fetched or deleted per round trip. */
const BATCH = 500
/** A document that changes under us this many times in a row is a bug, not contention. */
const MAX_CAS_ATTEMPTS = 1000

// KEYS[1] docs hash. ARGV: id, '1' if a previous value is expected, previous, next ('' deletes).
// Returns {1} when written, else {0, current} so the caller can retry without another read.
const CAS_DOC = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
local same
if ARGV[2] == '1' then same = (cur == ARGV[3]) else same = (cur == false) end
if not same then
	if cur == false then return {0} end
	return {0, cur}
end
if ARGV[4] == '' then redis.call('HDEL', KEYS[1], ARGV[1]) else redis.call('HSET', KEYS[1], ARGV[1], ARGV[4]) end
return {1}
`

// KEYS[1] group hash, KEYS[2] index. ARGV: name, expireAt ms or '', then field, delta pairs.
const ADD_COUNTERS = `
local out = {}
for i = 3, #ARGV, 2 do
	out[#out + 1] = redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])
end
if ARGV[2] ~= '' then redis.call('PEXPIREAT', KEYS[1], ARGV[2]) end
redis.call('ZADD', KEYS[2], 0, ARGV[1])
return out
`

// KEYS[1] group hash, KEYS[2] index. ARGV: name, field, limit, by, expireAt ms or ''.
// Check and increment in one step: N concurrent calls against limit L grant exactly min(N, L).
const RESERVE = `
local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[2]) or '0')
if cur + tonumber(ARGV[4]) > tonumber(ARGV[3]) then return {0, cur} end
local value = redis.call('HINCRBY', KEYS[1], ARGV[2], ARGV[4])
if ARGV[5] ~= '' then redis.call('PEXPIREAT', KEYS[1], ARGV[5]) end
redis.call('ZADD', KEYS[2], 0, ARGV[1])
return {1, value}
`

// KEYS[1] group hash, KEYS[2] index. ARGV: name. Drops the name only if the group is really
// gone, so a group another instance re-created meanwhile stays listed.
const PRUNE = `
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('ZREM', KEYS[2], ARGV[1]) end
return 0
`

// KEYS[1] log hash, KEYS[2] time index. ARGV: before (ms), keep. Oldest first: by time, then id.
const PRUNE_LOG = `
local removed = 0
while true do
	local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[1], 'LIMIT', 0, 500)
	if #ids == 0 then break end
	redis.call('HDEL', KEYS[1], unpack(ids))
	redis.call('ZREM', KEYS[2], unpack(ids))
	removed = removed + #ids
end
local extra = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[2])
while extra > 0 do
	local ids = redis.call('ZRANGE', KEYS[2], 0, math.min(extra, 500) - 1)
	redis.call('HDEL', KEYS[1], unpack(ids))
	redis.call('ZREM', KEYS[2], unpack(ids))
	removed = removed + #ids
	extra = extra - #ids
end
return removed
`

/** Request-log ids read per round trip while a query walks the time index. */
const LOG_PAGE = 1000

/** A Lua script run by EVALSHA, loaded with EVAL the first time a server does not know it. */
class Script {
	private readonly sha: string
	constructor(private readonly source: string) {
		this.sha = createHash('sha1').update(source).digest('hex')
	}
	async run(client: Redis, keys: string[], args: (string | number)[]): Promise<unknown> {
		try {
			return await client.evalsha(this.sha, keys.length, ...keys, ...args)
		} catch (err) {
			if (!String((err as Error).message).startsWith('NOSCRIPT')) throw err
			return client.eval(this.source, keys.length, ...keys, ...args)
		}
	}
}

const scripts = {
	casDoc: new Script(CAS_DOC),
	addCounters: new Script(ADD_COUNTERS),
	reserve: new Script(RESERVE),
	prune: new Script(PRUNE),
	pruneLog: new Script(PRUNE_LOG),
}

class RedisStorage implements Storage {
	readonly kind: StorageKind = 'redis'
	readonly where: string
	private closed = false
	private readonly settingsKey: string
	private readonly indexKey: string

	constructor(
		private readonly client: Redis,
		private readonly prefix: string,
		safeUrl: string,
		private readonly owned: boolean,
	) {
		this.where = `${safeUrl} prefix ${prefix}`
		this.settingsKey = `${prefix}:settings`
		this.indexKey = `${prefix}:counters`
	}

	private docsKey(kind: DocKind): string {
		return `${this.prefix}:docs:${kind}`
	}

	private get logKey(): string {
		return `${this.prefix}:log`
	}

	private get logIndexKey(): string {
		return `${this.prefix}:log:at`
	}

	private groupKey(name: string): string {
		return `${this.prefix}:counter:${name}`
	}

	async ping(): Promise<void> {
		await this.client.ping()
	}

	async close(): Promise<void> {
		if (this.closed || !this.owned) return
		this.closed = true
		try {
			await this.client.quit()
		} catch {
			this.client.disconnect()
		}
	}

	async loadSettings(): Promise<Record<string, unknown>> {
		const raw = await this.client.hgetall(this.settingsKey)
		const out: Record<string, unknown> = {}
		for (const [field, json] of Object.entries(raw)) out[field] = JSON.parse(json)
		return out
	}

	async saveSettings(patch: Record<string, unknown>): Promise<void> {
		const set: string[] = []
		const remove: string[] = []
		for (const [field, value] of Object.entries(patch)) {
			if (value === null || value === undefined) remove.push(field)
			else set.push(field, JSON.stringify(value))
		}
		if (!set.length && !remove.length) return
		const tx = this.client.multi()
		if (set.length) tx.hset(this.settingsKey, ...set)
		if (remove.length) tx.hdel(this.settingsKey, ...remove)
		await execOrThrow(tx.exec())
	}

	async initSettings(fields: Record<string, unknown>): Promise<Record<string, unknown>> {
		const names = Object.keys(fields)
		if (!names.length) return {}
		// HSETNX per field, then HMGET, in one MULTI: what landed is what every instance reads.
		const tx = this.client.multi()
		for (const name of names) tx.hsetnx(this.settingsKey, name, JSON.stringify(fields[name]))
		tx.hmget(this.settingsKey, ...names)
		const results = await execOrThrow(tx.exec())
		const stored = results[results.length - 1] as (string | null)[]
		return Object.fromEntries(names.map((name, i) => [name, JSON.parse(stored[i] ?? 'null')]))
	}

	async listDocs<T extends Doc>(kind: DocKind): Promise<T[]> {
		const values = await this.client.hvals(this.docsKey(kind))
		return values.map((json) => JSON.parse(json) as T)
	}

	async getDoc<T extends Doc>(kind: DocKind, id: string): Promise<T | null> {
		const json = await this.client.hget(this.docsKey(kind), id)
		return json === null ? null : (JSON.parse(json) as T)
	}

	async putDoc<T extends Doc>(kind: DocKind, doc: T): Promise<void> {
		await this.client.hset(this.docsKey(kind), doc.id, JSON.stringify(doc))
	}

	async deleteDoc(kind: DocKind, id: string): Promise<boolean> {
		return (await this.client.hdel(this.docsKey(kind), id)) > 0
	}

	async updateDoc<T extends Doc>(kind: DocKind, id: string, mutate: DocMutation<T>): Promise<T | null> {
		const key = this.docsKey(kind)
		let raw: string | null = await this.client.hget(key, id)
		for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
			const current = raw === null ? null : (JSON.parse(raw) as T)
			const next = mutate(current)
			if (next === undefined) return current
			if (next === null && raw === null) return null
			const stored = next === null ? null : ({ ...next, id } as T)
			const reply = (await scripts.casDoc.run(
				this.client,
				[key],
				[id, raw === null ? '0' : '1', raw ?? '', stored === null ? '' : JSON.stringify(stored)],
			)) as [number, string?]
			if (reply[0] === 1) return stored
			raw = reply[1] ?? null
		}
		throw new Error(`Redis updateDoc ${kind}/${id}: still conflicting after ${MAX_CAS_ATTEMPTS} attempts`)
	}

	async addCounters(name: string, deltas: Counters, expireAt?: number): Promise<Counters> {
		const fields = Object.keys(deltas)
		const args: (string | number)[] = [name, expireAt === undefined ? '' : Math.floor(expireAt)]
		for (const [field, delta] of Object.entries(deltas)) {
			checkInteger(`counter delta ${field}`, delta)
			args.push(field, delta)
		}
		const values = (await scripts.addCounters.run(this.client, [this.groupKey(name), this.indexKey], args)) as number[]
		const out: Counters = {}
		for (const [i, field] of fields.entries()) out[field] = Number(values[i])
		return out
	}

	/** Group names starting with `prefix`, from the index (no keyspace SCAN). */
	private async names(prefix: string): Promise<string[]> {
		if (!prefix) return this.client.zrangebylex(this.indexKey, '-', '+')
		// Every UTF-8 byte is below 0xff, so `[prefix` .. `[prefix\xff` is exactly the names with that prefix.
		const low = Buffer.from(`[${prefix}`)
		const high = Buffer.concat([low, Buffer.from([0xff])])
		return this.client.zrangebylex(this.indexKey, low, high)
	}

	async readCounters(prefix: string): Promise<Record<string, Counters>> {
		const names = await this.names(prefix)
		const out: Record<string, Counters> = {}
		for (let i = 0; i < names.length; i += BATCH) {
			const batch = names.slice(i, i + BATCH)
			const pipeline = this.client.pipeline()
			for (const name of batch) pipeline.hgetall(this.groupKey(name))
			const results = await execOrThrow(pipeline.exec())
			const gone: string[] = []
			for (const [j, name] of batch.entries()) {
				const raw = results[j] as Record<string, string>
				const fields = Object.keys(raw)
				if (!fields.length) {
					gone.push(name)
					continue
				}
				const values: Counters = {}
				for (const field of fields) values[field] = Number(raw[field])
				out[name] = values
			}
			for (const name of gone) await scripts.prune.run(this.client, [this.groupKey(name), this.indexKey], [name])
		}
		return out
	}

	async deleteCounters(prefix: string): Promise<number> {
		const names = await this.names(prefix)
		let removed = 0
		for (let i = 0; i < names.length; i += BATCH) {
			const batch = names.slice(i, i + BATCH)
			const results = await execOrThrow(
				this.client
					.multi()
					.del(...batch.map((name) => this.groupKey(name)))
					.zrem(this.indexKey, ...batch)
					.exec(),
			)
			removed += Number(results[0])
		}
		return removed
	}

	async reserveCounter(name: string, field: string, limit: number, by = 1, expireAt?: number): Promise<ReserveResult> {
		checkInteger('reserve step', by)
		const reply = (await scripts.reserve.run(
			this.client,
			[this.groupKey(name), this.indexKey],
			[name, field, clampLimit(limit), by, expireAt === undefined ? '' : Math.floor(expireAt)],
		)) as [number, number]
		return { granted: reply[0] === 1, value: Number(reply[1]) }
	}

	async appendLog(rows: LogRow[]): Promise<void> {
		if (!rows.length) return
		const tx = this.client.multi()
		for (const row of rows) {
			tx.hsetnx(this.logKey, row.id, JSON.stringify(row))
			tx.zadd(this.logIndexKey, 'NX', row.at, row.id)
		}
		await execOrThrow(tx.exec())
	}

	async queryLog(query: LogQuery): Promise<LogRow[]> {
		const limit = Math.max(1, query.limit)
		// Start at the rank of the newest row the range and the cursor allow; then page by rank.
		let rank = 0
		if (query.to !== undefined) rank = await this.client.zcount(this.logIndexKey, query.to, '+inf')
		if (query.after) rank = Math.max(rank, await this.client.zcount(this.logIndexKey, `(${query.after.at}`, '+inf'))
		const out: LogRow[] = []
		let last: LogRow | undefined
		for (;;) {
			const page = await this.client.zrevrange(this.logIndexKey, rank, rank + LOG_PAGE - 1, 'WITHSCORES')
			if (!page.length) break
			rank += page.length / 2
			const ids: string[] = []
			let belowRange = false
			for (let i = 0; i < page.length; i += 2) {
				if (query.from !== undefined && Number(page[i + 1]) < query.from) {
					belowRange = true
					break
				}
				ids.push(page[i] as string)
			}
			const rows = ids.length ? await this.client.hmget(this.logKey, ...ids) : []
			for (const json of rows) {
				if (json === null) continue
				const row = JSON.parse(json) as LogRow
				// Rows added or pruned meanwhile shift ranks: never return one out of order twice.
				if (last && !(row.at < last.at || (row.at === last.at && row.id < last.id))) continue
				if (!matchesLog(row, query)) continue
				out.push(row)
				last = row
				if (out.length >= limit) return out
			}
			if (belowRange || page.length < LOG_PAGE * 2) break
		}
		return out
	}

	async getLogRow(id: string): Promise<LogRow | null> {
		const json = await this.client.hget(this.logKey, id)
		return json === null ? null : (JSON.parse(json) as LogRow)
	}

	async pruneLog(before: number, keep: number): Promise<number> {
		return Number(await scripts.pruneLog.run(this.client, [this.logKey, this.logIndexKey], [before, Math.max(0, keep)]))
	}
}

/** Unwraps a MULTI/pipeline reply, throwing the first command error. */
async function execOrThrow(pending: Promise<[Error | null, unknown][] | null>): Promise<unknown[]> {
	const results = await pending
	if (!results) throw new Error('Redis transaction was aborted')
	return results.map(([err, value]) => {
		if (err) throw err
		return value
	})
}

/** Resolves when `client` is ready; rejects with the last connection error after `ms`. */
function waitReady(client: Redis, ms: number): Promise<void> {
	if (client.status === 'ready') return Promise.resolve()
	return new Promise((resolve, reject) => {
		let lastError: Error | undefined
		const done = (err?: Error) => {
			clearTimeout(timer)
			client.off('ready', onReady)
			client.off('error', onError)
			client.off('end', onEnd)
			if (err) reject(err)
			else resolve()
		}
		const onReady = () => done()
		const onError = (err: Error) => (lastError = err)
		const onEnd = () => done(lastError ?? new Error('connection closed'))
		const timer = setTimeout(() => done(lastError ?? new Error(`no answer within ${ms} ms`)), ms)
		client.on('ready', onReady)
		client.on('error', onError)
		client.on('end', onEnd)
	})
}

export async function createRedisStorage(options: RedisStorageOptions): Promise<Storage> {
	const safeUrl = redactUrl(options.url, 'redis')
	const prefix = options.prefix ?? 'AMB2API'
	let client = options.client
	const owned = !client
	if (!client) {
		const started = Date.now()
		let ready = false
		client = new Redis(options.url, {
			connectTimeout: 2000,
			// Fail fast while disconnected, so the resilient wrapper can answer from memory:
			// no offline queue, and commands in flight when the connection drops are rejected at
			// once instead of being re-sent later (which would apply a counter delta twice).
			enableOfflineQueue: false,
			maxRetriesPerRequest: 0,
			autoResendUnfulfilledCommands: false,
			// A few retries within the start-up budget; after the first `ready`, reconnect forever.
			retryStrategy: (times) => {
				if (ready) return Math.min(times * 100, 1000)
				return Date.now() - started < CONNECT_BUDGET_MS ? Math.min(times * 200, 1000) : null
			},
		})
		client.once('ready', () => (ready = true))
		// Connection errors surface as rejected commands (and ping); without a listener ioredis
		// would print each reconnect attempt.
		client.on('error', () => {})
	}
	// An injected client created with lazyConnect has not been asked to connect yet.
	if (client.status === 'wait') client.connect().catch(() => {})
	try {
		await waitReady(client, CONNECT_BUDGET_MS + 500)
	} catch (err) {
		if (owned) client.disconnect()
		throw new Error(`Redis at ${safeUrl} is unreachable: ${scrubUrlPassword((err as Error).message, options.url)}`)
	}
	return new RedisStorage(client, prefix, safeUrl, owned)
}
