import { afterAll, describe, expect, test } from 'bun:test'
import postgres from 'postgres'
import type { Storage } from '../../../core/storage.ts'
import { createPostgresStorage, firstSchema } from '../../../plugins/storage-postgres/postgres-storage.ts'
import { storageContract } from '../../storage.contract.ts'

const base = process.env.POSTGRES_TEST_DSN ?? 'postgres://postgres@127.0.0.1:5432/test'
/** Each store gets its own schema (via search_path); afterAll drops only these. */
const run = `amb2api_test_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`
const admin = postgres(base, { max: 2, onnotice: () => {} })
const schemas: string[] = []
let next = 0
const dsnOf = new WeakMap<Storage, string>()

async function newSchema(): Promise<string> {
	const schema = `${run}_${next++}`
	await admin.unsafe(`CREATE SCHEMA "${schema}"`)
	schemas.push(schema)
	const url = new URL(base)
	url.searchParams.set('search_path', schema)
	return url.toString()
}

async function open(dsn?: string): Promise<Storage> {
	const target = dsn ?? (await newSchema())
	const storage = await createPostgresStorage({ dsn: target })
	dsnOf.set(storage, target)
	return storage
}

storageContract('postgres', () => open(), {
	reopen: (closed) => open(dsnOf.get(closed)),
	secondConnection: (of) => open(dsnOf.get(of)),
})

describe('postgres storage specifics', () => {
	test('concurrent first starts on an empty schema both migrate cleanly, once', async () => {
		const dsn = await newSchema()
		const [a, b] = await Promise.all([createPostgresStorage({ dsn }), createPostgresStorage({ dsn })])
		try {
			const schema = new URL(dsn).searchParams.get('search_path')!
			const versions = await admin.unsafe(`SELECT version FROM "${schema}".amb2api_schema`)
			expect(versions.map((row) => row.version)).toEqual([1, 2])
			const tables = await admin`SELECT table_name FROM information_schema.tables WHERE table_schema = ${schema} ORDER BY table_name`
			expect(tables.map((row) => row.table_name)).toEqual(['amb2api_counters', 'amb2api_docs', 'amb2api_request_log', 'amb2api_schema', 'amb2api_settings'])
			expect(a.where).toBe(`${new URL(base).hostname}:${new URL(base).port || 5432}${new URL(base).pathname} search_path ${schema}`)
			await a.addCounters('x', { n: 1 })
			expect(await b.readCounters('x')).toEqual({ x: { n: 1 } })
		} finally {
			await a.close()
			await b.close()
		}
	})

	test('expired groups are deleted lazily by the next read of their prefix', async () => {
		const dsn = await newSchema()
		let now = 1_000_000
		const storage = await createPostgresStorage({ dsn, now: () => now })
		try {
			await storage.addCounters('lazy:a', { n: 1 }, now + 1000)
			await storage.addCounters('lazy:b', { n: 1 })
			now += 5000
			const schema = new URL(dsn).searchParams.get('search_path')!
			const count = async () => Number((await admin.unsafe(`SELECT count(*) AS c FROM "${schema}".amb2api_counters`))[0]!.c)
			expect(await count()).toBe(2)
			expect(await storage.readCounters('lazy:')).toEqual({ 'lazy:b': { n: 1 } })
			expect(await count()).toBe(1)
		} finally {
			await storage.close()
		}
	})

	test('an injected pool is used and not closed', async () => {
		const dsn = await newSchema()
		const sql = postgres(dsn, { max: 2, onnotice: () => {} })
		const storage = await createPostgresStorage({ dsn, sql })
		await storage.saveSettings({ a: 1 })
		await storage.close()
		expect((await sql`SELECT value FROM amb2api_settings WHERE field = 'a'`)[0]!.value).toBe(1)
		await sql.end()
	})

	test('an unreachable PostgreSQL fails start-up with a clear error, without the password', async () => {
		const started = Date.now()
		const error = await createPostgresStorage({ dsn: 'postgres://user:s3cret-pw@127.0.0.1:1/db' }).catch((err: Error) => err)
		expect(error).toBeInstanceOf(Error)
		const message = (error as Error).message
		expect(message).toContain('PostgreSQL at 127.0.0.1:1/db')
		expect(message).not.toContain('s3cret-pw')
		expect(Date.now() - started).toBeLessThan(8000)
	}, 15_000)
})

afterAll(async () => {
	for (const schema of schemas) await admin.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
	await admin.end()
})

describe('a search_path schema that does not exist yet', () => {
	test('is created on start (two instances at once), with the tables inside it', async () => {
		const schema = `${run}_missing`
		schemas.push(schema)
		const url = new URL(base)
		url.searchParams.set('search_path', schema)
		const before = await admin`SELECT 1 FROM information_schema.schemata WHERE schema_name = ${schema}`
		expect(before).toHaveLength(0)
		const [a, b] = await Promise.all([createPostgresStorage({ dsn: url.toString() }), createPostgresStorage({ dsn: url.toString() })])
		try {
			await a.saveSettings({ probe: 'yes' })
			expect((await b.loadSettings()).probe).toBe('yes')
			const tables = await admin`SELECT table_name FROM information_schema.tables WHERE table_schema = ${schema} ORDER BY table_name`
			expect(tables.map((row) => row.table_name)).toEqual(['amb2api_counters', 'amb2api_docs', 'amb2api_request_log', 'amb2api_schema', 'amb2api_settings'])
		} finally {
			await a.close()
			await b.close()
		}
	})

	test('firstSchema reads the first entry, quoted or not, and ignores $user', () => {
		expect(firstSchema('tenant_a')).toBe('tenant_a')
		expect(firstSchema('"Tenant ""B""", public')).toBe('Tenant "B"')
		expect(firstSchema('"$user", public')).toBeNull()
		expect(firstSchema('')).toBeNull()
	})
})
