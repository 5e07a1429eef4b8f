/**
 * PostgreSQL storage, shared by every instance on the same database (and search_path).
 *
 * Tables (in the first schema of the connection's search_path; `?search_path=x` in the DSN works):
 * - `amb2api_schema(version)`                       applied migrations, so columns can be added later
 * - `amb2api_settings(field, value jsonb)`
 * - `amb2api_docs(kind, id, data jsonb, version)`   `version` is the compare-and-swap token
 * - `amb2api_counters(name, fields jsonb, expire_at)` one row per counter group: a group changes
 *   atomically as one row, like a Redis hash or a MongoDB document
 * - `amb2api_request_log(id, at, data jsonb)`      the request log, indexed by (at, id); filters
 *   are `data @> {...}` (equality of type and value)
 *
 * Every shared change is one statement: `INSERT ... ON CONFLICT DO UPDATE ... RETURNING` for
 * counters (the conflicting row is locked and re-checked, so two first writers on an absent row
 * are both counted), a conditional upsert for reservations, and a version check for documents.
 * Expired counter groups are ignored on read and deleted lazily by the next read of their prefix.
 */
import postgres from 'postgres'
import { scrubUrlPassword } from '../../core/secrets.ts'
import type { Counters, Doc, DocKind, DocMutation, LogQuery, LogRow, ReserveResult, Storage, StorageKind } from '../../core/storage.ts'
import { checkInteger, clampLimit } from '../../core/storage-values.ts'

export interface PostgresStorageOptions {
	/** `postgres://user[:password]@host:port/db[?search_path=schema&sslmode=...]` */
	dsn: string
	/** An existing pool; used as configured, and not closed by `close()`. */
	sql?: postgres.Sql
	/** Clock for counter expiry (compared in SQL against `expire_at`). @default Date.now */
	now?: () => number
}

/** How long start-up may try to reach PostgreSQL before giving up with a clear error. */
const CONNECT_BUDGET_MS = 5000
const MAX_CAS_ATTEMPTS = 1000

/** Append-only: each entry runs once per schema, in order, inside the start-up transaction. */
const MIGRATIONS: readonly string[] = [
	`CREATE TABLE IF NOT EXISTS amb2api_settings (
		field text PRIMARY KEY,
		value jsonb NOT NULL
	);
	CREATE TABLE IF NOT EXISTS amb2api_docs (
		kind text NOT NULL,
		id text NOT NULL,
		data jsonb NOT NULL,
		version bigint NOT NULL DEFAULT 1,
		PRIMARY KEY (kind, id)
	);
	-- "C" collation: LIKE 'prefix%' can then use the primary key index.
	CREATE TABLE IF NOT EXISTS amb2api_counters (
		name text COLLATE "C" PRIMARY KEY,
		fields jsonb NOT NULL DEFAULT '{}',
		expire_at timestamptz
	);
	CREATE INDEX IF NOT EXISTS amb2api_counters_expire_at ON amb2api_counters (expire_at) WHERE expire_at IS NOT NULL;`,
	// "C" collation: equal times are ordered by id as every other backend orders them.
	`CREATE TABLE IF NOT EXISTS amb2api_request_log (
		id text COLLATE "C" PRIMARY KEY,
		at bigint NOT NULL,
		data jsonb NOT NULL
	);
	CREATE INDEX IF NOT EXISTS amb2api_request_log_at ON amb2api_request_log (at DESC, id DESC);`,
]

/** `host:port/db` (and the search_path when set), never credentials. */
function location(sql: postgres.Sql): string {
	const { host, port, database, connection } = sql.options
	const hosts = host.map((h, i) => `${h}:${port[i] ?? port[0]}`).join(',')
	const schema = (connection as Record<string, unknown> | undefined)?.search_path
	return `${hosts}/${database}${schema ? ` search_path ${schema}` : ''}`
}

/** A SQLSTATE means the server answered: retrying will not help, except while it starts up. */
function isRetryable(err: unknown): boolean {
	const code = (err as { code?: unknown }).code
	return !(typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) || code === '57P03'
}

function likePrefix(prefix: string): string {
	return prefix.replace(/[\\%_]/g, '\\$&') + '%'
}

function numbers(fields: Record<string, unknown>): Counters {
	const out: Counters = {}
	for (const [field, value] of Object.entries(fields)) out[field] = Number(value)
	return out
}

class PostgresStorage implements Storage {
	readonly kind: StorageKind = 'postgres'
	readonly where: string
	private closed = false

	constructor(
		private readonly sql: postgres.Sql,
		private readonly owned: boolean,
		private readonly now: () => number,
	) {
		this.where = location(sql)
	}

	async ping(): Promise<void> {
		await this.sql`SELECT 1`
	}

	async close(): Promise<void> {
		if (this.closed || !this.owned) return
		this.closed = true
		await this.sql.end({ timeout: 5 })
	}

	async loadSettings(): Promise<Record<string, unknown>> {
		const rows = await this.sql<{ field: string; value: unknown }[]>`SELECT field, value FROM amb2api_settings`
		const out: Record<string, unknown> = {}
		for (const row of rows) out[row.field] = row.value
		return out
	}

	async initSettings(fields: Record<string, unknown>): Promise<Record<string, unknown>> {
		if (!Object.keys(fields).length) return {}
		// Insert what is missing, then read every given field back; the unique key decides who was first.
		const rows = await this.sql.begin(async (tx) => {
			await tx`
				INSERT INTO amb2api_settings (field, value)
				SELECT key, value FROM jsonb_each(${JSON.stringify(fields)}::text::jsonb)
				ON CONFLICT (field) DO NOTHING`
			return tx<{ field: string; value: unknown }[]>`SELECT field, value FROM amb2api_settings WHERE field = ANY(${Object.keys(fields)})`
		})
		return Object.fromEntries(rows.map((row) => [row.field, row.value]))
	}

	async saveSettings(patch: Record<string, unknown>): Promise<void> {
		const set: Record<string, unknown> = {}
		const remove: string[] = []
		for (const [field, value] of Object.entries(patch)) {
			if (value === null || value === undefined) remove.push(field)
			else set[field] = value
		}
		if (!remove.length && !Object.keys(set).length) return
		await this.sql.begin(async (tx) => {
			if (Object.keys(set).length) {
				await tx`
					INSERT INTO amb2api_settings (field, value)
					SELECT key, value FROM jsonb_each(${JSON.stringify(set)}::text::jsonb)
					ON CONFLICT (field) DO UPDATE SET value = excluded.value`
			}
			if (remove.length) {
				await tx`
					DELETE FROM amb2api_settings
					WHERE field IN (SELECT jsonb_array_elements_text(${JSON.stringify(remove)}::text::jsonb))`
			}
		})
	}

	async listDocs<T extends Doc>(kind: DocKind): Promise<T[]> {
		const rows = await this.sql<{ data: T }[]>`SELECT data FROM amb2api_docs WHERE kind = ${kind} ORDER BY id`
		return rows.map((row) => row.data)
	}

	async getDoc<T extends Doc>(kind: DocKind, id: string): Promise<T | null> {
		const [row] = await this.sql<{ data: T }[]>`SELECT data FROM amb2api_docs WHERE kind = ${kind} AND id = ${id}`
		return row ? row.data : null
	}

	async putDoc<T extends Doc>(kind: DocKind, doc: T): Promise<void> {
		await this.sql`
			INSERT INTO amb2api_docs (kind, id, data) VALUES (${kind}, ${doc.id}, ${JSON.stringify(doc)}::text::jsonb)
			ON CONFLICT (kind, id) DO UPDATE SET data = excluded.data, version = amb2api_docs.version + 1`
	}

	async deleteDoc(kind: DocKind, id: string): Promise<boolean> {
		const result = await this.sql`DELETE FROM amb2api_docs WHERE kind = ${kind} AND id = ${id}`
		return result.count > 0
	}

	async updateDoc<T extends Doc>(kind: DocKind, id: string, mutate: DocMutation<T>): Promise<T | null> {
		for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
			const [row] = await this.sql<{ data: T; version: string }[]>`
				SELECT data, version FROM amb2api_docs WHERE kind = ${kind} AND id = ${id}`
			const current = row ? row.data : null
			const next = mutate(current)
			if (next === undefined) return current
			if (next === null) {
				if (!row) return null
				const result = await this.sql`
					DELETE FROM amb2api_docs WHERE kind = ${kind} AND id = ${id} AND version = ${row.version}::bigint`
				if (result.count > 0) return null
				continue
			}
			const stored = { ...next, id } as T
			const json = JSON.stringify(stored)
			const result = row
				? await this.sql`
					UPDATE amb2api_docs SET data = ${json}::text::jsonb, version = version + 1
					WHERE kind = ${kind} AND id = ${id} AND version = ${row.version}::bigint`
				: await this.sql`
					INSERT INTO amb2api_docs (kind, id, data) VALUES (${kind}, ${id}, ${json}::text::jsonb)
					ON CONFLICT (kind, id) DO NOTHING`
			if (result.count > 0) return stored
		}
		throw new Error(`PostgreSQL updateDoc ${kind}/${id}: still conflicting after ${MAX_CAS_ATTEMPTS} attempts`)
	}

	async addCounters(name: string, deltas: Counters, expireAt?: number): Promise<Counters> {
		for (const [field, delta] of Object.entries(deltas)) checkInteger(`counter delta ${field}`, delta)
		const now = new Date(this.now())
		const expire = expireAt === undefined ? null : new Date(expireAt)
		// An expired group that was not deleted yet restarts from zero, with the new expiry.
		const [row] = await this.sql<{ fields: Record<string, unknown> }[]>`
			INSERT INTO amb2api_counters AS t (name, fields, expire_at)
			VALUES (${name}, ${JSON.stringify(deltas)}::text::jsonb, ${expire}::timestamptz)
			ON CONFLICT (name) DO UPDATE SET
				fields = (CASE WHEN t.expire_at <= ${now}::timestamptz THEN '{}'::jsonb ELSE t.fields END) || COALESCE((
					SELECT jsonb_object_agg(d.key, d.value::bigint + CASE
						WHEN t.expire_at <= ${now}::timestamptz THEN 0
						ELSE COALESCE((t.fields ->> d.key)::bigint, 0) END)
					FROM jsonb_each_text(excluded.fields) AS d), '{}'::jsonb),
				expire_at = CASE WHEN t.expire_at <= ${now}::timestamptz THEN excluded.expire_at
					ELSE COALESCE(excluded.expire_at, t.expire_at) END
			RETURNING fields`
		const out: Counters = {}
		if (!row) throw new Error('PostgreSQL returned no row for a counter upsert')
		for (const field of Object.keys(deltas)) out[field] = Number(row.fields[field])
		return out
	}

	async readCounters(prefix: string): Promise<Record<string, Counters>> {
		const now = new Date(this.now())
		const pattern = likePrefix(prefix)
		// The DELETE is the lazy clean-up; the SELECT filters by expiry itself (it sees the
		// snapshot from before the DELETE).
		const rows = await this.sql<{ name: string; fields: Record<string, unknown> }[]>`
			WITH expired AS (
				DELETE FROM amb2api_counters WHERE name LIKE ${pattern} AND expire_at <= ${now}::timestamptz
			)
			SELECT name, fields FROM amb2api_counters
			WHERE name LIKE ${pattern} AND (expire_at IS NULL OR expire_at > ${now}::timestamptz)`
		const out: Record<string, Counters> = {}
		for (const row of rows) out[row.name] = numbers(row.fields)
		return out
	}

	async deleteCounters(prefix: string): Promise<number> {
		const result = await this.sql`DELETE FROM amb2api_counters WHERE name LIKE ${likePrefix(prefix)}`
		return result.count
	}

	async reserveCounter(name: string, field: string, limit: number, by = 1, expireAt?: number): Promise<ReserveResult> {
		checkInteger('reserve step', by)
		const cap = clampLimit(limit)
		const now = new Date(this.now())
		const expire = expireAt === undefined ? null : new Date(expireAt)
		// One statement: insert when absent (only if `by` fits), else increment only while the
		// result stays within the limit. Concurrent first reservations on an absent row: one
		// inserts, the others wait for its row lock and take the DO UPDATE path on the new row.
		const [row] = await this.sql<{ value: string }[]>`
			INSERT INTO amb2api_counters AS t (name, fields, expire_at)
			SELECT ${name}, jsonb_build_object(${field}::text, ${by}::bigint), ${expire}::timestamptz
			WHERE ${by}::bigint <= ${cap}::bigint
			ON CONFLICT (name) DO UPDATE SET
				fields = (CASE WHEN t.expire_at <= ${now}::timestamptz THEN '{}'::jsonb ELSE t.fields END)
					|| jsonb_build_object(${field}::text, ${by}::bigint + CASE
						WHEN t.expire_at <= ${now}::timestamptz THEN 0
						ELSE COALESCE((t.fields ->> ${field}::text)::bigint, 0) END),
				expire_at = CASE WHEN t.expire_at <= ${now}::timestamptz THEN excluded.expire_at
					ELSE COALESCE(excluded.expire_at, t.expire_at) END
			WHERE ${by}::bigint + CASE
				WHEN t.expire_at <= ${now}::timestamptz THEN 0
				ELSE COALESCE((t.fields ->> ${field}::text)::bigint, 0) END <= ${cap}::bigint
			RETURNING (fields ->> ${field}::text)::bigint AS value`
		if (row) return { granted: true, value: Number(row.value) }
		const [current] = await this.sql<{ value: string | null }[]>`
			SELECT (fields ->> ${field}::text)::bigint AS value FROM amb2api_counters
			WHERE name = ${name} AND (expire_at IS NULL OR expire_at > ${now}::timestamptz)`
		return { granted: false, value: Number(current?.value ?? 0) }
	}

	async appendLog(rows: LogRow[]): Promise<void> {
		if (!rows.length) return
		await this.sql`
			INSERT INTO amb2api_request_log (id, at, data)
			SELECT r->>'id', (r->>'at')::bigint, r FROM jsonb_array_elements(${JSON.stringify(rows)}::text::jsonb) AS r
			ON CONFLICT (id) DO NOTHING`
	}

	async queryLog(query: LogQuery): Promise<LogRow[]> {
		const sql = this.sql
		const conditions = [sql`TRUE`]
		if (query.from !== undefined) conditions.push(sql`at >= ${query.from}`)
		if (query.to !== undefined) conditions.push(sql`at < ${query.to}`)
		if (query.after) conditions.push(sql`(at, id) < (${query.after.at}::bigint, ${query.after.id}::text COLLATE "C")`)
		if (query.where && Object.keys(query.where).length) conditions.push(sql`data @> ${JSON.stringify(query.where)}::text::jsonb`)
		const where = conditions.reduce((all, condition) => sql`${all} AND ${condition}`)
		const rows = await sql<{ data: LogRow }[]>`
			SELECT data FROM amb2api_request_log WHERE ${where} ORDER BY at DESC, id DESC LIMIT ${Math.max(1, query.limit)}`
		return rows.map((row) => row.data)
	}

	async getLogRow(id: string): Promise<LogRow | null> {
		const [row] = await this.sql<{ data: LogRow }[]>`SELECT data FROM amb2api_request_log WHERE id = ${id}`
		return row?.data ?? null
	}

	async pruneLog(before: number, keep: number): Promise<number> {
		const old = await this.sql`DELETE FROM amb2api_request_log WHERE at < ${before}`
		// The newest `keep` stay: the row at that offset and every older one go.
		const extra = await this.sql`
			DELETE FROM amb2api_request_log
			WHERE (at, id) <= (SELECT at, id FROM amb2api_request_log ORDER BY at DESC, id DESC OFFSET ${Math.max(0, keep)} LIMIT 1)`
		return old.count + extra.count
	}
}

/** The first schema of a search_path setting (`"a b", public` -> `a b`), unless it is `$user`. */
export function firstSchema(searchPath: string): string | null {
	const first = searchPath.split(',')[0]?.trim() ?? ''
	const name = first.startsWith('"') && first.endsWith('"') && first.length >= 2 ? first.slice(1, -1).replace(/""/g, '"') : first
	return name && name !== '$user' ? name : null
}

/**
 * `?search_path=<schema>` naming a schema that does not exist yet: create it (under the caller's
 * advisory lock), or say exactly what to run when the role may not.
 */
async function ensureSchema(tx: postgres.TransactionSql, sql: postgres.Sql): Promise<void> {
	const [row] = await tx<{ schema: string | null }[]>`SELECT current_schema() AS schema`
	if (row?.schema) return
	const wanted = firstSchema(String((sql.options.connection as Record<string, unknown> | undefined)?.search_path ?? ''))
	if (!wanted) return
	try {
		await tx`CREATE SCHEMA IF NOT EXISTS ${tx(wanted)}`
	} catch (err) {
		throw new Error(
			`schema "${wanted}" of search_path does not exist and could not be created (${(err as Error).message}); run: CREATE SCHEMA "${wanted.replace(/"/g, '""')}";`,
		)
	}
}

async function migrate(sql: postgres.Sql): Promise<void> {
	await sql.begin(async (tx) => {
		await tx`SET LOCAL client_min_messages = warning`
		// Serialises concurrent start-ups on the same schema (CREATE IF NOT EXISTS can race).
		await tx`SELECT pg_advisory_xact_lock(hashtext('amb2api schema ' || coalesce(current_schema(), '')))`
		await ensureSchema(tx, sql)
		await tx.unsafe(`CREATE TABLE IF NOT EXISTS amb2api_schema (
			version integer PRIMARY KEY,
			applied_at timestamptz NOT NULL DEFAULT now()
		)`)
		const [current] = await tx<{ version: number }[]>`SELECT coalesce(max(version), 0)::int AS version FROM amb2api_schema`
		for (let i = current?.version ?? 0; i < MIGRATIONS.length; i++) {
			await tx.unsafe(MIGRATIONS[i] as string)
			await tx`INSERT INTO amb2api_schema (version) VALUES (${i + 1})`
		}
	})
}

export async function createPostgresStorage(options: PostgresStorageOptions): Promise<Storage> {
	const owned = !options.sql
	const sql =
		options.sql ??
		postgres(options.dsn, {
			max: 10,
			connect_timeout: 5,
			idle_timeout: 60,
			// postgres.js backs off up to 20 s between reconnects, and queries wait meanwhile;
			// a short cap keeps calls failing fast while the server is down and recovery quick.
			backoff: (retries: number) => Math.min(0.05 * retries, 0.5),
			onnotice: () => {},
		})
	const where = location(sql)
	const started = Date.now()
	try {
		for (;;) {
			try {
				await sql`SELECT 1`
				break
			} catch (err) {
				if (!isRetryable(err) || Date.now() - started > CONNECT_BUDGET_MS) throw err
				await new Promise((resolve) => setTimeout(resolve, 250))
			}
		}
		await migrate(sql)
	} catch (err) {
		if (owned) await sql.end({ timeout: 0 }).catch(() => {})
		throw new Error(`PostgreSQL at ${where} is unreachable or unusable: ${scrubUrlPassword((err as Error).message, options.dsn)}`)
	}
	return new PostgresStorage(sql, owned, options.now ?? Date.now)
}
