/**
 * The storage contract every backend implements (memory, file, Redis, PostgreSQL, MongoDB).
 *
 * It is shaped around what the features need, not as a generic key-value store:
 * - settings: the operator's stored configuration, written field by field;
 * - documents: small JSON records addressed by id (upstream keys, client keys, rate-limit
 *   windows), with an atomic compare-and-swap update for state that several instances share;
 * - counters: usage statistics and quotas, incremented atomically in the backend, with a
 *   bounded `reserveCounter` for "take one if below the limit";
 * - the request log: flat rows appended in batches, read newest first with equality filters,
 *   a time range and a cursor, and pruned by age and count.
 *
 * Every operation that several instances may run at once is atomic in the backend itself
 * (Lua / `UPDATE ... RETURNING` / `findOneAndUpdate`), never a read-modify-write of a blob.
 */

export type StorageKind = 'memory' | 'file' | 'redis' | 'postgres' | 'mongodb'

/**
 * Collections of documents. `keys`: upstream keys; `clients`: client API keys; `limits`: per
 * key+model rate-limit windows; `quotas`: per key daily quota limits; `prices`: model price overrides.
 */
export const DOC_KINDS = ['keys', 'clients', 'limits', 'quotas', 'prices'] as const
export type DocKind = (typeof DOC_KINDS)[number]

export type Doc = { id: string } & Record<string, unknown>

/** Return the new document, `null` to delete it, or `undefined` to leave it as it is. */
export type DocMutation<T extends Doc> = (current: T | null) => T | null | undefined

export type Counters = Record<string, number>

export interface ReserveResult {
	granted: boolean
	/** The field's value after the call (unchanged when not granted). */
	value: number
}

/** A request-log value: flat, so every backend can filter on it (no nested objects). */
export type LogValue = string | number | boolean | null

/** One row of the request log: `id` unique, `at` epoch ms; every other field flat. */
export type LogRow = { id: string; at: number } & { [field: string]: LogValue }

export interface LogQuery {
	/** Rows with `from <= at < to`. */
	from?: number
	to?: number
	/** Equality on top-level fields (type and value: `status: 200` does not match `"200"`). */
	where?: Record<string, string | number | boolean>
	/** Rows strictly after this cursor in the newest-first order (`at` descending, then `id` descending): paging. */
	after?: { at: number; id: string }
	/** At most this many rows (1 or more). */
	limit: number
}

export interface Storage {
	readonly kind: StorageKind
	/** Where the data lives, for operators, without credentials (e.g. `redis://127.0.0.1:6379/0 prefix AMB2API`). */
	readonly where: string

	/** Resolves when the backend answers, rejects otherwise. Used by /health and /admin/storage. */
	ping(): Promise<void>
	/** Flushes pending writes and closes what this backend opened (not an injected client). Safe to call twice. */
	close(): Promise<void>

	/** Every stored setting. */
	loadSettings(): Promise<Record<string, unknown>>
	/** Writes the given fields only; a field whose value is `null` or `undefined` is removed. */
	saveSettings(patch: Record<string, unknown>): Promise<void>
	/**
	 * Set-if-absent, atomically per field: writes each field that has no stored value yet and
	 * resolves to the value stored afterwards for every given field (the caller's own value
	 * where it landed, the earlier writer's where one was first). Instances starting together
	 * agree on one value.
	 */
	initSettings(fields: Record<string, unknown>): Promise<Record<string, unknown>>

	listDocs<T extends Doc>(kind: DocKind): Promise<T[]>
	getDoc<T extends Doc>(kind: DocKind, id: string): Promise<T | null>
	putDoc<T extends Doc>(kind: DocKind, doc: T): Promise<void>
	/** Resolves true when a document was removed. */
	deleteDoc(kind: DocKind, id: string): Promise<boolean>
	/**
	 * Atomic update of one document: `mutate` sees the current value and returns the next one.
	 * When another writer changed the document in between, `mutate` runs again on the fresh
	 * value (so it must be pure apart from recording its last result). Resolves to the stored
	 * value afterwards (`null` when absent).
	 */
	updateDoc<T extends Doc>(kind: DocKind, id: string, mutate: DocMutation<T>): Promise<T | null>

	/**
	 * Atomically adds each delta to its field of the counter group `name` (missing fields start
	 * at 0). `expireAt` (epoch ms) allows the backend to drop the group after that time; once
	 * past it, the group is gone for every read, and a later add starts it afresh from 0.
	 * Resolves to the new values of the touched fields.
	 * Counters are integers: the shared backends count in 64-bit integers (HINCRBY, bigint,
	 * `$inc`) and reject a delta that is not a safe integer with a RangeError.
	 */
	addCounters(name: string, deltas: Counters, expireAt?: number): Promise<Counters>
	/** Every live counter group whose name starts with `prefix` (literally: no wildcards), by name. */
	readCounters(prefix: string): Promise<Record<string, Counters>>
	/** Removes every counter group whose name starts with `prefix`; resolves to how many. */
	deleteCounters(prefix: string): Promise<number>
	/**
	 * Adds `by` (default 1, an integer) to `field` of group `name` only if the result stays
	 * <= `limit`. Atomic across instances: N concurrent calls against a limit L grant exactly
	 * min(N, L). `expireAt` is applied only when the reservation is granted.
	 */
	reserveCounter(name: string, field: string, limit: number, by?: number, expireAt?: number): Promise<ReserveResult>

	/** Appends rows to the request log (one round trip for the batch; a row whose id is present already is ignored). */
	appendLog(rows: LogRow[]): Promise<void>
	/** Request-log rows newest first (`at` descending, then `id` descending), filtered and paged. */
	queryLog(query: LogQuery): Promise<LogRow[]>
	/** One request-log row by id. */
	getLogRow(id: string): Promise<LogRow | null>
	/** Removes rows older than `before` (epoch ms), then the oldest beyond the newest `keep`; resolves to how many went. */
	pruneLog(before: number, keep: number): Promise<number>
}

/** `a` comes before `b` in the log's newest-first order. */
export const newerFirst = (a: { at: number; id: string }, b: { at: number; id: string }): number => b.at - a.at || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)

/** Whether a row passes a query's range, filters and cursor (the in-process reading every backend may use). */
export function matchesLog(row: LogRow, query: LogQuery): boolean {
	if (query.from !== undefined && row.at < query.from) return false
	if (query.to !== undefined && row.at >= query.to) return false
	if (query.after && newerFirst(query.after, row) >= 0) return false
	if (query.where) for (const [field, value] of Object.entries(query.where)) if (row[field] !== value) return false
	return true
}

/** Deep copy through JSON, so callers never share mutable state with a backend. */
export const cloneJson = <T>(value: T): T => (value === undefined ? value : JSON.parse(JSON.stringify(value)))

/** A request-log row as MemoryStorage keeps it. */
export interface LoggedRow {
	id: string
	at: number
	json: string
}

/**
 * In-process storage: the reference implementation of the contract, used by tests and as the
 * state engine behind the file backend (which persists `snapshot()`).
 */
export class MemoryStorage implements Storage {
	readonly kind: StorageKind = 'memory'
	readonly where: string = 'process memory'

	protected settings: Record<string, unknown> = {}
	protected docs = Object.fromEntries(DOC_KINDS.map((kind) => [kind, new Map<string, Doc>()])) as Record<DocKind, Map<string, Doc>>
	protected counters = new Map<string, { values: Counters; expireAt?: number }>()
	/** The request log by id, each row kept as its JSON text: a flat string per row keeps a large log cheap for the garbage collector. */
	protected log = new Map<string, LoggedRow>()
	/**
	 * Called after every change, and awaited before the change is acknowledged: the file
	 * backend resolves it once the change is on disk (or schedules a batched write for
	 * per-request bookkeeping). `operator` marks a counter change someone asked for (a reset).
	 */
	protected changed(_area: 'settings' | DocKind | 'counters' | 'log', _operator = false): Promise<void> | void {}
	/** Injectable for tests of counter expiry. */
	constructor(protected now: () => number = Date.now) {}

	async ping(): Promise<void> {}
	async close(): Promise<void> {}

	async loadSettings(): Promise<Record<string, unknown>> {
		return cloneJson(this.settings)
	}

	async saveSettings(patch: Record<string, unknown>): Promise<void> {
		for (const [field, value] of Object.entries(patch)) {
			if (value === null || value === undefined) delete this.settings[field]
			else this.settings[field] = cloneJson(value)
		}
		await this.changed('settings')
	}

	async initSettings(fields: Record<string, unknown>): Promise<Record<string, unknown>> {
		const out: Record<string, unknown> = {}
		let wrote = false
		for (const [field, value] of Object.entries(fields)) {
			if (this.settings[field] === undefined) {
				this.settings[field] = cloneJson(value)
				wrote = true
			}
			out[field] = cloneJson(this.settings[field])
		}
		if (wrote) await this.changed('settings')
		return out
	}

	async listDocs<T extends Doc>(kind: DocKind): Promise<T[]> {
		return [...this.docs[kind].values()].map((doc) => cloneJson(doc) as T)
	}

	async getDoc<T extends Doc>(kind: DocKind, id: string): Promise<T | null> {
		const doc = this.docs[kind].get(id)
		return doc ? (cloneJson(doc) as T) : null
	}

	async putDoc<T extends Doc>(kind: DocKind, doc: T): Promise<void> {
		this.docs[kind].set(doc.id, cloneJson(doc))
		await this.changed(kind)
	}

	async deleteDoc(kind: DocKind, id: string): Promise<boolean> {
		const removed = this.docs[kind].delete(id)
		if (removed) await this.changed(kind)
		return removed
	}

	async updateDoc<T extends Doc>(kind: DocKind, id: string, mutate: DocMutation<T>): Promise<T | null> {
		// No await between read and write: atomic within this process.
		const current = this.docs[kind].get(id)
		const next = mutate(current ? (cloneJson(current) as T) : null)
		if (next === undefined) return current ? (cloneJson(current) as T) : null
		if (next === null) {
			if (this.docs[kind].delete(id)) await this.changed(kind)
			return null
		}
		// `next` belongs to the caller (mutate got a copy): store a copy, hand `next` back.
		const result = { ...next, id }
		this.docs[kind].set(id, cloneJson(result))
		await this.changed(kind)
		return result
	}

	private liveGroup(name: string): { values: Counters; expireAt?: number } | undefined {
		const group = this.counters.get(name)
		if (group?.expireAt !== undefined && group.expireAt <= this.now()) {
			this.counters.delete(name)
			return undefined
		}
		return group
	}

	async addCounters(name: string, deltas: Counters, expireAt?: number): Promise<Counters> {
		let group = this.liveGroup(name)
		if (!group) {
			group = { values: {} }
			this.counters.set(name, group)
		}
		if (expireAt !== undefined) group.expireAt = expireAt
		const result: Counters = {}
		for (const [field, delta] of Object.entries(deltas)) {
			group.values[field] = (group.values[field] ?? 0) + delta
			result[field] = group.values[field]
		}
		await this.changed('counters')
		return result
	}

	async readCounters(prefix: string): Promise<Record<string, Counters>> {
		const out: Record<string, Counters> = {}
		for (const name of [...this.counters.keys()]) {
			if (!name.startsWith(prefix)) continue
			const group = this.liveGroup(name)
			if (group) out[name] = { ...group.values }
		}
		return out
	}

	async deleteCounters(prefix: string): Promise<number> {
		let removed = 0
		for (const name of [...this.counters.keys()]) {
			if (name.startsWith(prefix)) {
				this.counters.delete(name)
				removed++
			}
		}
		if (removed) await this.changed('counters', true)
		return removed
	}

	async reserveCounter(name: string, field: string, limit: number, by = 1, expireAt?: number): Promise<ReserveResult> {
		const current = this.liveGroup(name)?.values[field] ?? 0
		if (current + by > limit) return { granted: false, value: current }
		const after = await this.addCounters(name, { [field]: by }, expireAt)
		return { granted: true, value: after[field] ?? current + by }
	}

	async appendLog(rows: LogRow[]): Promise<void> {
		let added = false
		for (const row of rows) {
			if (this.log.has(row.id)) continue
			this.log.set(row.id, { id: row.id, at: row.at, json: JSON.stringify(row) })
			added = true
		}
		if (added) await this.changed('log')
	}

	async queryLog(query: LogQuery): Promise<LogRow[]> {
		const limit = Math.max(1, query.limit)
		const candidates: LoggedRow[] = []
		for (const entry of this.log.values()) {
			if (query.from !== undefined && entry.at < query.from) continue
			if (query.to !== undefined && entry.at >= query.to) continue
			if (query.after && newerFirst(query.after, entry) >= 0) continue
			candidates.push(entry)
		}
		candidates.sort(newerFirst)
		const out: LogRow[] = []
		for (const entry of candidates) {
			const row = JSON.parse(entry.json) as LogRow
			if (!matchesLog(row, query)) continue
			out.push(row)
			if (out.length >= limit) break
		}
		return out
	}

	async getLogRow(id: string): Promise<LogRow | null> {
		const entry = this.log.get(id)
		return entry ? (JSON.parse(entry.json) as LogRow) : null
	}

	async pruneLog(before: number, keep: number): Promise<number> {
		let removed = 0
		for (const entry of this.log.values()) {
			if (entry.at < before && this.log.delete(entry.id)) removed++
		}
		// Sorting is needed only when the count bound bites.
		if (this.log.size > keep) {
			for (const entry of [...this.log.values()].sort(newerFirst).slice(Math.max(0, keep))) {
				this.log.delete(entry.id)
				removed++
			}
		}
		if (removed) await this.changed('log')
		return removed
	}
}
