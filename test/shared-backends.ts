/**
 * Fresh, isolated namespaces on the shared backends the machine runs (Redis, PostgreSQL, and
 * MongoDB when MONGODB_URI names one), for tests that start several instances on one of them.
 * Each call of a backend's factory makes a new namespace (prefix, schema, database) and returns
 * an opener: every call of the opener is another connection (another instance) on that data.
 * `cleanup()` removes every namespace made; call it in afterAll.
 */
import Redis from 'ioredis'
import { MongoClient } from 'mongodb'
import postgres from 'postgres'
import type { Storage } from '../core/storage.ts'
import { createMongoStorage } from '../plugins/storage-mongodb/mongo-storage.ts'
import { createPostgresStorage } from '../plugins/storage-postgres/postgres-storage.ts'
import { createRedisStorage } from '../plugins/storage-redis/redis-storage.ts'

export const REDIS_URL = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379'
export const PG_DSN = process.env.POSTGRES_TEST_DSN ?? 'postgres://postgres@127.0.0.1:5432/test'
export const MONGODB_URI = process.env.MONGODB_URI

export type Opener = () => Promise<Storage>

export function sharedBackends(tag: string, options: { mongodb?: boolean } = {}) {
	const run = `amb2api_${tag}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`
	const cleanups: (() => Promise<void>)[] = []
	let next = 0

	/** A new PostgreSQL schema: its DSN (search_path set) and a connection to look inside. */
	const postgresSchema = async () => {
		const schema = `${run}_pg_${next++}`
		const sql = postgres(PG_DSN, { max: 1, onnotice: () => {} })
		await sql.unsafe(`CREATE SCHEMA "${schema}"`)
		cleanups.push(async () => {
			await sql.unsafe(`DROP SCHEMA "${schema}" CASCADE`)
			await sql.end()
		})
		const url = new URL(PG_DSN)
		url.searchParams.set('search_path', schema)
		return { schema, dsn: url.toString(), sql }
	}

	/** A new Redis key prefix, whose keys cleanup() deletes. */
	const redisPrefix = () => {
		const prefix = `${run}-redis-${next++}`
		cleanups.push(async () => {
			const redis = new Redis(REDIS_URL)
			const keys = await redis.keys(`${prefix}:*`)
			if (keys.length) await redis.del(...keys)
			redis.disconnect()
		})
		return prefix
	}

	const backends: Record<string, () => Promise<Opener>> = {
		redis: async () => {
			const prefix = redisPrefix()
			return () => createRedisStorage({ url: REDIS_URL, prefix })
		},
		postgres: async () => {
			const { dsn } = await postgresSchema()
			return () => createPostgresStorage({ dsn })
		},
	}
	const mongoUri = MONGODB_URI
	if (options.mongodb && mongoUri) {
		backends.mongodb = async () => {
			const database = `${run}_mongo_${next++}`
			cleanups.push(async () => {
				const client = new MongoClient(mongoUri)
				await client.db(database).dropDatabase()
				await client.close()
			})
			return () => createMongoStorage({ uri: mongoUri, database })
		}
	}

	return {
		backends,
		redisPrefix,
		postgresSchema,
		/** The factory of backend `name`; an unknown name fails the test. */
		backend(name: string): () => Promise<Opener> {
			const open = backends[name]
			if (!open) throw new Error(`no backend named ${name}`)
			return open
		},
		async cleanup(): Promise<void> {
			for (const clean of cleanups) await clean().catch(() => {})
		},
	}
}
