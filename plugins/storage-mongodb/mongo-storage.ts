/**
 * MongoDB storage (server 5.0 or newer), shared by every instance on the same database.
 *
 * Collections:
 * - `settings`  `{ _id: field, value }`
 * - `docs`      `{ _id: kind + ':' + id, kind, data, v }`; `v` is the compare-and-swap token
 * - `counters`  `{ _id: name, values: { field: n }, expireAt? }`, a TTL index on `expireAt`
 *   (the TTL monitor runs about once a minute, so reads also filter expired groups out)
 * - `requests`  the request log: `{ _id: id, at, ...row }`, indexed by `{ at: -1, _id: -1 }`
 *
 * Counter field names become paths (`values.<field>`), so `%`, `.` and `$` in them are
 * percent-encoded: model names such as `gpt-4.1` are common field names.
 * Shared changes are single-document atomic operations: `findOneAndUpdate` with `$inc` for
 * counters, a filtered upsert for reservations, a `v` check for documents.
 */
import { type Collection, type Filter, MongoClient, type UpdateFilter } from 'mongodb'
import { redactUrl, scrubUrlPassword } from '../../core/secrets.ts'
import type { Counters, Doc, DocKind, DocMutation, LogQuery, LogRow, LogValue, ReserveResult, Storage, StorageKind } from '../../core/storage.ts'
import { checkInteger, clampLimit } from '../../core/storage-values.ts'

export interface MongoStorageOptions {
	/** `mongodb://` or `mongodb+srv://` connection string. */
	uri: string
	/** @default 'amb2api' */
	database?: string
	/** An existing client; used as configured, and not closed by `close()`. */
	client?: MongoClient
	/** Clock for counter expiry. @default Date.now */
	now?: () => number
}

interface SettingRecord {
	_id: string
	value: unknown
}

interface DocRecord {
	_id: string
	kind: DocKind
	data: Doc
	v: number
}

interface CounterRecord {
	_id: string
	values: Record<string, number>
	expireAt?: Date | null
}

type LogRecord = { _id: string; at: number } & { [field: string]: LogValue }

function toLogRow({ _id, ...fields }: LogRecord): LogRow {
	return { id: _id, ...fields } as LogRow
}

const CONNECT_BUDGET_MS = 5000
const MAX_ATTEMPTS = 1000

function encodeField(field: string): string {
	if (field === '') return '%'
	return field.replace(/[%.$]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase())
}

function decodeField(encoded: string): string {
	if (encoded === '%') return ''
	return encoded.replace(/%(25|2E|24)/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))
}

function escapeRegex(text: string): string {
	return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

function isDuplicateKey(err: unknown): boolean {
	return (err as { code?: unknown }).code === 11000
}

function decodeValues(values: Record<string, number> | undefined): Counters {
	const out: Counters = {}
	for (const [field, value] of Object.entries(values ?? {})) out[decodeField(field)] = Number(value)
	return out
}

class MongoStorage implements Storage {
	readonly kind: StorageKind = 'mongodb'
	readonly where: string
	private closed = false
	private readonly settings: Collection<SettingRecord>
	private readonly docs: Collection<DocRecord>
	private readonly counters: Collection<CounterRecord>
	private readonly requests: Collection<LogRecord>

	constructor(
		private readonly client: MongoClient,
		database: string,
		safeUri: string,
		private readonly owned: boolean,
		private readonly now: () => number,
	) {
		const db = client.db(database)
		this.settings = db.collection<SettingRecord>('settings')
		this.docs = db.collection<DocRecord>('docs')
		this.counters = db.collection<CounterRecord>('counters')
		this.requests = db.collection<LogRecord>('requests')
		this.where = `${safeUri} database ${database}`
	}

	async ping(): Promise<void> {
		await this.client.db('admin').command({ ping: 1 })
	}

	async close(): Promise<void> {
		if (this.closed || !this.owned) return
		this.closed = true
		await this.client.close()
	}

	async loadSettings(): Promise<Record<string, unknown>> {
		const out: Record<string, unknown> = {}
		for (const record of await this.settings.find({}).toArray()) out[record._id] = record.value
		return out
	}

	async saveSettings(patch: Record<string, unknown>): Promise<void> {
		const ops = Object.entries(patch).map(([field, value]) =>
			value === null || value === undefined
				? { deleteOne: { filter: { _id: field } } }
				: { replaceOne: { filter: { _id: field }, replacement: { value }, upsert: true } },
		)
		if (ops.length) await this.settings.bulkWrite(ops, { ordered: true })
	}

	async initSettings(fields: Record<string, unknown>): Promise<Record<string, unknown>> {
		const names = Object.keys(fields)
		if (!names.length) return {}
		// An upsert with $setOnInsert writes only when the field is new; a racing insert's
		// duplicate-key error means another instance was first, which is as good.
		await this.settings
			.bulkWrite(
				names.map((name) => ({ updateOne: { filter: { _id: name }, update: { $setOnInsert: { value: fields[name] } }, upsert: true } })),
				{ ordered: false },
			)
			.catch((err: { code?: number }) => {
				if (err.code !== 11000) throw err
			})
		const out: Record<string, unknown> = {}
		for (const record of await this.settings.find({ _id: { $in: names } }).toArray()) out[record._id] = record.value
		return out
	}

	async listDocs<T extends Doc>(kind: DocKind): Promise<T[]> {
		const records = await this.docs.find({ kind }).sort({ _id: 1 }).toArray()
		return records.map((record) => record.data as T)
	}

	async getDoc<T extends Doc>(kind: DocKind, id: string): Promise<T | null> {
		const record = await this.docs.findOne({ _id: `${kind}:${id}` })
		return record ? (record.data as T) : null
	}

	async putDoc<T extends Doc>(kind: DocKind, doc: T): Promise<void> {
		// A pipeline update so `v` still moves on, and any concurrent compare-and-swap fails.
		await this.docs.updateOne({ _id: `${kind}:${doc.id}` }, [{ $set: { kind, data: { $literal: doc }, v: { $add: [{ $ifNull: ['$v', 0] }, 1] } } }], {
			upsert: true,
		})
	}

	async deleteDoc(kind: DocKind, id: string): Promise<boolean> {
		const result = await this.docs.deleteOne({ _id: `${kind}:${id}` })
		return result.deletedCount > 0
	}

	async updateDoc<T extends Doc>(kind: DocKind, id: string, mutate: DocMutation<T>): Promise<T | null> {
		const _id = `${kind}:${id}`
		for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
			const record = await this.docs.findOne({ _id })
			const current = record ? (record.data as T) : null
			const next = mutate(current)
			if (next === undefined) return current
			if (next === null) {
				if (!record) return null
				const result = await this.docs.deleteOne({ _id, v: record.v })
				if (result.deletedCount > 0) return null
				continue
			}
			const stored = { ...next, id } as T
			if (record) {
				const result = await this.docs.replaceOne({ _id, v: record.v }, { kind, data: stored, v: record.v + 1 })
				if (result.matchedCount > 0) return stored
				continue
			}
			try {
				await this.docs.insertOne({ _id, kind, data: stored, v: 1 })
				return stored
			} catch (err) {
				if (!isDuplicateKey(err)) throw err
			}
		}
		throw new Error(`MongoDB updateDoc ${kind}/${id}: still conflicting after ${MAX_ATTEMPTS} attempts`)
	}

	/** An expired group the TTL monitor has not removed yet must not be incremented. */
	private async dropIfExpired(name: string): Promise<void> {
		await this.counters.deleteOne({ _id: name, expireAt: { $lte: new Date(this.now()) } })
	}

	private liveFilter(): Filter<CounterRecord> {
		return { $or: [{ expireAt: null }, { expireAt: { $gt: new Date(this.now()) } }] }
	}

	async addCounters(name: string, deltas: Counters, expireAt?: number): Promise<Counters> {
		const inc: Record<string, number> = {}
		for (const [field, delta] of Object.entries(deltas)) {
			checkInteger(`counter delta ${field}`, delta)
			inc[`values.${encodeField(field)}`] = delta
		}
		const update: UpdateFilter<CounterRecord> = {}
		if (Object.keys(inc).length) update.$inc = inc
		else update.$setOnInsert = { values: {} }
		if (expireAt !== undefined) update.$set = { expireAt: new Date(expireAt) }
		await this.dropIfExpired(name)
		for (let attempt = 0; ; attempt++) {
			try {
				const record = await this.counters.findOneAndUpdate({ _id: name }, update, { upsert: true, returnDocument: 'after' })
				const values = decodeValues(record?.values)
				const out: Counters = {}
				for (const field of Object.keys(deltas)) out[field] = values[field] ?? 0
				return out
			} catch (err) {
				// Two upserts of an absent group: one inserts, the other retries as an update.
				if (!isDuplicateKey(err) || attempt >= MAX_ATTEMPTS) throw err
			}
		}
	}

	async readCounters(prefix: string): Promise<Record<string, Counters>> {
		const records = await this.counters.find({ $and: [{ _id: { $regex: `^${escapeRegex(prefix)}` } }, this.liveFilter()] }).toArray()
		const out: Record<string, Counters> = {}
		for (const record of records) out[record._id] = decodeValues(record.values)
		return out
	}

	async deleteCounters(prefix: string): Promise<number> {
		const result = await this.counters.deleteMany({ _id: { $regex: `^${escapeRegex(prefix)}` } })
		return result.deletedCount
	}

	private async currentValue(name: string, path: string): Promise<{ exists: boolean; value: number }> {
		const record = await this.counters.findOne({ $and: [{ _id: name }, this.liveFilter()] })
		if (!record) return { exists: false, value: 0 }
		return { exists: true, value: Number(record.values?.[path] ?? 0) }
	}

	async reserveCounter(name: string, field: string, limit: number, by = 1, expireAt?: number): Promise<ReserveResult> {
		checkInteger('reserve step', by)
		const cap = clampLimit(limit)
		const encoded = encodeField(field)
		const path = `values.${encoded}`
		if (by > cap) return { granted: false, value: (await this.currentValue(name, encoded)).value }
		await this.dropIfExpired(name)
		const filter = {
			_id: name,
			$or: [{ [path]: { $lte: cap - by } }, { [path]: { $exists: false } }],
		} as Filter<CounterRecord>
		const update: UpdateFilter<CounterRecord> = { $inc: { [path]: by } }
		if (expireAt !== undefined) update.$set = { expireAt: new Date(expireAt) }
		for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
			try {
				const record = await this.counters.findOneAndUpdate(filter, update, { upsert: true, returnDocument: 'after' })
				if (record) return { granted: true, value: Number(record.values?.[encoded] ?? 0) }
			} catch (err) {
				// The group exists but did not match (value too high), or a concurrent first
				// reservation inserted it: decide on the current value, and retry if it fits now.
				if (!isDuplicateKey(err)) throw err
			}
			const current = await this.currentValue(name, encoded)
			if (current.exists && current.value + by > cap) return { granted: false, value: current.value }
		}
		throw new Error(`MongoDB reserveCounter ${name}: still conflicting after ${MAX_ATTEMPTS} attempts`)
	}

	async appendLog(rows: LogRow[]): Promise<void> {
		if (!rows.length) return
		const records = rows.map(({ id, ...fields }) => ({ _id: id, ...fields }) as LogRecord)
		try {
			await this.requests.insertMany(records, { ordered: false })
		} catch (err) {
			// Rows already present are ignored; any other failure is real.
			const errors = (err as { writeErrors?: { code?: number }[] | { code?: number } }).writeErrors
			const list = Array.isArray(errors) ? errors : errors ? [errors] : []
			if (!(isDuplicateKey(err) || (list.length && list.every((e) => e.code === 11000)))) throw err
		}
	}

	async queryLog(query: LogQuery): Promise<LogRow[]> {
		const and: Filter<LogRecord>[] = []
		if (query.from !== undefined) and.push({ at: { $gte: query.from } })
		if (query.to !== undefined) and.push({ at: { $lt: query.to } })
		if (query.after) and.push({ $or: [{ at: { $lt: query.after.at } }, { at: query.after.at, _id: { $lt: query.after.id } }] })
		for (const [field, value] of Object.entries(query.where ?? {})) and.push({ [field === 'id' ? '_id' : field]: value } as Filter<LogRecord>)
		const records = await this.requests
			.find(and.length ? { $and: and } : {})
			.sort({ at: -1, _id: -1 })
			.limit(Math.max(1, query.limit))
			.toArray()
		return records.map(toLogRow)
	}

	async getLogRow(id: string): Promise<LogRow | null> {
		const record = await this.requests.findOne({ _id: id })
		return record ? toLogRow(record) : null
	}

	async pruneLog(before: number, keep: number): Promise<number> {
		let removed = (await this.requests.deleteMany({ at: { $lt: before } })).deletedCount
		// The newest `keep` stay: the row at that position and every older one go.
		const [edge] = await this.requests
			.find({}, { projection: { at: 1 } })
			.sort({ at: -1, _id: -1 })
			.skip(Math.max(0, keep))
			.limit(1)
			.toArray()
		if (edge) removed += (await this.requests.deleteMany({ $or: [{ at: { $lt: edge.at } }, { at: edge.at, _id: { $lte: edge._id } }] })).deletedCount
		return removed
	}
}

export async function createMongoStorage(options: MongoStorageOptions): Promise<Storage> {
	const safeUri = redactUrl(options.uri, 'mongodb')
	const database = options.database ?? 'amb2api'
	const owned = !options.client
	// Short server selection: while the server is down, calls fail within 2 s rather than
	// hanging, so the resilient wrapper can answer from memory.
	const client = options.client ?? new MongoClient(options.uri, { serverSelectionTimeoutMS: 2000, maxPoolSize: 10 })
	const started = Date.now()
	try {
		for (;;) {
			try {
				await client.connect()
				await client.db('admin').command({ ping: 1 })
				break
			} catch (err) {
				if (Date.now() - started > CONNECT_BUDGET_MS - 2000) throw err
				await new Promise((resolve) => setTimeout(resolve, 250))
			}
		}
		const db = client.db(database)
		await db.collection('counters').createIndex({ expireAt: 1 }, { expireAfterSeconds: 0, name: 'expireAt_ttl' })
		await db.collection('docs').createIndex({ kind: 1 }, { name: 'kind' })
		await db.collection('requests').createIndex({ at: -1, _id: -1 }, { name: 'at_id' })
	} catch (err) {
		if (owned) await client.close().catch(() => {})
		throw new Error(`MongoDB at ${safeUri} is unreachable or unusable: ${scrubUrlPassword((err as Error).message, options.uri)}`)
	}
	return new MongoStorage(client, database, safeUri, owned, options.now ?? Date.now)
}
