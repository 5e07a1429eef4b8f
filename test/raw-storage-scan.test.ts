/**
 * No full key or password at rest, on any backend: the gateway runs a full session on each one
 * (env keys, an admin-added key, a client key, passwords from the environment and generated
 * ones, bans, cooldowns, quotas, usage), then every byte it left is read raw (files, every Redis
 * key of its prefix, every PostgreSQL row of its schema, every MongoDB document of its
 * database) and searched for each secret used.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Redis from 'ioredis'
import { MongoClient } from 'mongodb'
import type { Env } from '../core/config.ts'
import { generateSecretsKey } from '../core/secret-box.ts'
import { keyId } from '../core/secrets.ts'
import { createFakeGateway } from './fake-gateway.ts'
import { sharedBackends } from './shared-backends.ts'
import { API_PASSWORD, assertNoSecrets, KEYS, PANEL_PASSWORD, startHarness } from './support.ts'

const REDIS_URL = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379'
const MONGODB_URI = process.env.MONGODB_URI
const run = `amb2api_scan_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`
const ADMIN_KEY = 'aai-key-scan-admin-added-000000a1'
const SECRETS_KEY = generateSecretsKey()
const cleanups: (() => Promise<void>)[] = []
const shared = sharedBackends('scan')

afterAll(async () => {
	for (const clean of cleanups) await clean().catch(() => {})
	await shared.cleanup()
})

interface Backend {
	env: Env
	/** Every stored byte of this run, as text. */
	dump(): Promise<string>
}

const backends: Record<string, () => Promise<Backend>> = {
	file: async () => {
		const dir = await mkdtemp(join(tmpdir(), 'amb2api-scan-'))
		cleanups.push(() => rm(dir, { recursive: true, force: true }))
		return {
			env: { CREDENTIALS_DIR: dir },
			async dump() {
				let out = ''
				for (const name of await readdir(dir, { recursive: true })) out += `${name}\n${await readFile(join(dir, name), 'utf8').catch(() => '')}\n`
				return out
			},
		}
	},
	redis: async () => {
		const prefix = `${run}_redis`
		const redis = new Redis(REDIS_URL)
		cleanups.push(async () => {
			const keys = await redis.keys(`${prefix}:*`)
			if (keys.length) await redis.del(...keys)
			redis.disconnect()
		})
		return {
			env: { REDIS_URI: REDIS_URL, REDIS_PREFIX: prefix },
			async dump() {
				let out = ''
				for (const key of await redis.keys(`${prefix}*`)) {
					const type = await redis.type(key)
					const value =
						type === 'string'
							? await redis.get(key)
							: type === 'hash'
								? await redis.hgetall(key)
								: type === 'list'
									? await redis.lrange(key, 0, -1)
									: type === 'set'
										? await redis.smembers(key)
										: type === 'zset'
											? await redis.zrange(key, 0, -1, 'WITHSCORES')
											: type === 'stream'
												? await redis.xrange(key, '-', '+')
												: `unknown type ${type}`
					out += `${key} ${JSON.stringify(value)}\n`
				}
				return out
			},
		}
	},
	postgres: async () => {
		const { schema, dsn, sql } = await shared.postgresSchema()
		return {
			env: { POSTGRES_DSN: dsn },
			async dump() {
				let out = ''
				const tables = await sql`SELECT table_name FROM information_schema.tables WHERE table_schema = ${schema}`
				expect(tables.length).toBeGreaterThan(0)
				for (const { table_name } of tables) {
					const rows = await sql.unsafe(`SELECT row_to_json(t)::text AS row FROM "${schema}"."${table_name}" t`)
					out += `${table_name}\n${rows.map((r) => r.row).join('\n')}\n`
				}
				return out
			},
		}
	},
	...(MONGODB_URI
		? {
				mongodb: async (): Promise<Backend> => {
					const database = `${run}_mongo`
					const client = new MongoClient(MONGODB_URI)
					cleanups.push(async () => {
						await client.db(database).dropDatabase()
						await client.close()
					})
					return {
						env: { MONGODB_URI, MONGODB_DATABASE: database },
						async dump() {
							let out = ''
							for (const { name } of await client.db(database).listCollections().toArray()) {
								out += `${name}\n${JSON.stringify(await client.db(database).collection(name).find().toArray())}\n`
							}
							return out
						},
					}
				},
			}
		: {}),
}

describe.each(Object.keys(backends))('raw %s storage after a full session', (name) => {
	test('holds no upstream key, client key, password or SECRETS_KEY', async () => {
		const backend = await (backends[name] as () => Promise<Backend>)()
		const keys = [...KEYS, ADMIN_KEY]
		const fake = createFakeGateway({ keys: Object.fromEntries(keys.map((k) => [k, {}])) })
		const model = 'claude-sonnet-4-6'
		const ask = { model, messages: [{ role: 'user', content: 'scan' }] }
		const env = { ...backend.env, SECRETS_KEY, CALLS_PER_ROTATION: '1', DAILY_REQUEST_LIMIT: '50', AUTO_BAN: 'true' }
		const secrets = [...keys, API_PASSWORD, PANEL_PASSWORD, SECRETS_KEY]

		// Session 1: passwords from the environment; every kind of stored state.
		const a = await startHarness({ storage: null, fake, env })
		expect(a.storage.kind as string).toBe(name)
		expect((await a.admin('/admin/keys', { method: 'POST', json: { keys: [ADMIN_KEY] } })).status).toBe(200)
		const created = await a.admin('/admin/clients', { method: 'POST', json: { name: 'scan client', daily_limit: 100 } })
		expect(created.status).toBe(201)
		const clientKey = ((await created.json()) as { key: string }).key
		secrets.push(clientKey)
		for (let i = 0; i < 6; i++) expect((await a.chat(ask)).status).toBe(200)
		expect((await a.chat(ask, clientKey)).status).toBe(200)
		fake.fault(KEYS[0] as string, { kind: 'rate-limit', retryAfter: 30 })
		fake.fault(KEYS[1] as string, { kind: 'status', status: 401, message: 'invalid key' })
		for (let i = 0; i < 4; i++) await a.chat(ask)
		expect((await a.admin(`/admin/quotas/${keyId(ADMIN_KEY)}`, { method: 'PUT', json: { daily_limit: 20 } })).status).toBe(200)
		expect((await a.admin(`/admin/keys/${keyId(KEYS[2] as string)}/disable`, { method: 'POST' })).status).toBe(200)
		await a.close()

		// Session 2: no password in the environment, so they are generated (and printed once).
		const b = await startHarness({ storage: null, fake, env: { ...env, API_PASSWORD: '', PANEL_PASSWORD: '' } })
		const printed = b.logs.filter((l) => l.startsWith('[print]')).join('\n')
		const generated = [...printed.matchAll(/password \([^)]*\): (\S+)/g)].map((m) => m[1] as string)
		expect(generated).toHaveLength(2)
		secrets.push(...generated)
		expect((await b.chat(ask, generated[0])).status).toBe(200)
		await b.close()

		const raw = await backend.dump()
		expect(raw).toContain(keyId(ADMIN_KEY))
		const labels = [
			'env key 1',
			'env key 2',
			'env key 3',
			'admin key',
			'API_PASSWORD',
			'PANEL_PASSWORD',
			'SECRETS_KEY',
			'client key',
			'generated API password',
			'generated panel password',
		]
		const found = secrets.flatMap((secret, i) => (raw.includes(secret) ? [labels[i]] : []))
		expect(found).toEqual([])
		assertNoSecrets(a.logs, [ADMIN_KEY, SECRETS_KEY, clientKey])
		assertNoSecrets(
			b.logs.filter((l) => !l.startsWith('[print]')),
			[ADMIN_KEY, SECRETS_KEY, clientKey, ...generated],
		)
		await fake.stop()
	}, 60_000)
})
