/**
 * Upstream keys at rest: admin keys sealed (AES-256-GCM), env keys never stored, SECRETS_KEY
 * from the environment or generated into CREDENTIALS_DIR/secrets.key, shared backends refusing
 * to start without it once sealed keys exist, plain-text records of earlier versions migrated.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Redis from 'ioredis'
import { ConfigError } from '../../../core/config.ts'
import { buildApp } from '../../../core/kernel.ts'
import { generateSecretsKey, sealedKid } from '../../../core/secret-box.ts'
import { keyId } from '../../../core/secrets.ts'
import { type Doc, MemoryStorage } from '../../../core/storage.ts'
import { createRedisStorage } from '../../../plugins/storage-redis/redis-storage.ts'
import { createFakeGateway } from '../../fake-gateway.ts'
import { API_PASSWORD, assertNoSecrets, KEYS, PANEL_PASSWORD, startHarness } from '../../support.ts'

const REDIS_URL = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379'
const run = `amb2api_i15_rest_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`
const ADMIN_KEY = 'aai-key-admin-added-0000000000a1'
const ALL_KEYS = [...KEYS, ADMIN_KEY]
const model = 'claude-sonnet-4-6'
const ask = { model, messages: [{ role: 'user', content: 'hi' }] }

const dirs: string[] = []
const prefixes: string[] = []
afterAll(async () => {
	for (const dir of dirs) await rm(dir, { recursive: true, force: true })
	const redis = new Redis(REDIS_URL)
	for (const prefix of prefixes) {
		const keys = await redis.keys(`${prefix}:*`)
		if (keys.length) await redis.del(...keys)
	}
	redis.disconnect()
})

async function tempDir(): Promise<string> {
	const dir = await mkdtemp(join(tmpdir(), 'amb2api-i15-'))
	dirs.push(dir)
	return dir
}

async function rawFiles(dir: string): Promise<string> {
	let out = ''
	for (const name of await readdir(dir)) out += `${name}\n${await readFile(join(dir, name), 'utf8')}\n`
	return out
}

const chatKeys = (f: { requests: { path: string; key: string | null }[] }) => f.requests.filter((r) => r.path === '/v1/chat/completions').map((r) => r.key)
const fake = () => createFakeGateway({ keys: Object.fromEntries(ALL_KEYS.map((k) => [k, {}])) })

describe('file backend', () => {
	test('no SECRETS_KEY: one is generated into secrets.key (0600) and printed once; admin key sealed, env keys not stored', async () => {
		const dir = await tempDir()
		const env = { CREDENTIALS_DIR: dir }
		const a = await startHarness({ storage: null, env, fake: fake() })
		const printed = a.logs.filter((l) => l.startsWith('[print]') && l.includes('SECRETS_KEY='))
		expect(printed).toHaveLength(1)
		const keyFile = join(dir, 'secrets.key')
		expect((await stat(keyFile)).mode & 0o777).toBe(0o600)
		const generated = (await readFile(keyFile, 'utf8')).trim()
		expect(printed[0]).toContain(`SECRETS_KEY=${generated}`)
		expect(printed[0]).toContain('every instance')

		const added = await a.admin('/admin/keys', { method: 'POST', json: { keys: [ADMIN_KEY] } })
		expect(await added.json()).toEqual({ added: [keyId(ADMIN_KEY)], duplicates: [] })
		await a.close()

		const raw = await rawFiles(dir)
		for (const key of ALL_KEYS) expect(raw).not.toContain(key)
		const docs = JSON.parse(await readFile(join(dir, 'keys.json'), 'utf8')) as Doc[]
		const admin = docs.find((d) => d.id === keyId(ADMIN_KEY))
		expect(typeof admin?.sealed).toBe('string')
		expect(admin?.key).toBeUndefined()
		for (const key of KEYS) {
			const record = docs.find((d) => d.id === keyId(key))
			expect(record?.source).toBe('env')
			expect(Object.keys(record ?? {}).sort()).toEqual(['addedAt', 'changedAt', 'cooldownUntil', 'id', 'reason', 'source', 'status'])
		}

		// Restart: the key file is read (nothing printed), the sealed key opens and serves.
		const b = await startHarness({ storage: null, env, fake: fake(), keys: [] })
		expect(b.logs.some((l) => l.includes('SECRETS_KEY='))).toBe(false)
		expect((await b.chat(ask)).status).toBe(200)
		expect(chatKeys(b.fake)).toEqual([ADMIN_KEY])
		assertNoSecrets(a.logs, [ADMIN_KEY])
		assertNoSecrets(b.logs, [ADMIN_KEY])
		await b.close()
	})

	test('SECRETS_KEY set: no key file; another SECRETS_KEY cannot open the keys, and says so without the key', async () => {
		const dir = await tempDir()
		const secretsKey = generateSecretsKey()
		const a = await startHarness({ storage: null, env: { CREDENTIALS_DIR: dir, SECRETS_KEY: secretsKey }, fake: fake(), keys: [] })
		await a.admin('/admin/keys', { method: 'POST', json: { keys: [ADMIN_KEY] } })
		await a.close()
		expect(await readdir(dir)).not.toContain('secrets.key')
		expect(await rawFiles(dir)).not.toContain(secretsKey)

		const wrong = generateSecretsKey()
		const b = await startHarness({ storage: null, env: { CREDENTIALS_DIR: dir, SECRETS_KEY: wrong }, fake: fake(), keys: [] })
		const line = b.logs.find((l) => l.includes('cannot be decrypted'))
		expect(line).toContain(keyId(ADMIN_KEY))
		const chat = await b.chat(ask)
		expect(chat.status).toBe(503)
		assertNoSecrets(b.logs, [ADMIN_KEY, secretsKey, wrong])
		await b.close()

		// A malformed SECRETS_KEY stops the start with one line naming the variable, not the value.
		const bad = 'not-a-key-at-all'
		const refused = await startHarness({ storage: null, env: { CREDENTIALS_DIR: dir, SECRETS_KEY: bad }, fake: fake(), keys: [] }).catch((err: unknown) => err)
		expect(refused).toBeInstanceOf(ConfigError)
		expect((refused as Error).message).toStartWith('SECRETS_KEY: must be 32 random bytes')
		expect((refused as Error).message).not.toContain(bad)
	})
})

describe('file backend, SECRETS_KEY set after a generated key file', () => {
	test('the file key still opens what it sealed; the keys are resealed under SECRETS_KEY at start', async () => {
		const dir = await tempDir()
		const a = await startHarness({ storage: null, env: { CREDENTIALS_DIR: dir }, fake: fake(), keys: [] })
		await a.admin('/admin/keys', { method: 'POST', json: { keys: [ADMIN_KEY] } })
		await a.close()
		const fileKid = sealedKid(String((JSON.parse(await readFile(join(dir, 'keys.json'), 'utf8')) as Doc[])[0]?.sealed))

		const secretsKey = generateSecretsKey()
		const b = await startHarness({ storage: null, env: { CREDENTIALS_DIR: dir, SECRETS_KEY: secretsKey }, fake: fake(), keys: [] })
		expect((await b.chat(ask)).status).toBe(200)
		expect(chatKeys(b.fake)).toEqual([ADMIN_KEY])
		expect(b.logs.some((l) => l.includes('"resealed":1'))).toBe(true)
		await b.close()
		const kid = sealedKid(String((JSON.parse(await readFile(join(dir, 'keys.json'), 'utf8')) as Doc[])[0]?.sealed))
		expect(kid).not.toBeNull()
		expect(kid).not.toBe(fileKid)

		// With the key file gone, SECRETS_KEY alone opens it.
		await rm(join(dir, 'secrets.key'))
		const c = await startHarness({ storage: null, env: { CREDENTIALS_DIR: dir, SECRETS_KEY: secretsKey }, fake: fake(), keys: [] })
		expect((await c.chat(ask)).status).toBe(200)
		assertNoSecrets(c.logs, [ADMIN_KEY, secretsKey])
		await c.close()
	})
})

describe('a ciphertext belongs to its record', () => {
	test('copied into another admin record, it does not open there: that record is left out, with one error line', async () => {
		const storage = new MemoryStorage()
		const other = 'aai-key-admin-added-0000000000b2'
		const a = await startHarness({ storage, keys: [], fake: fake() })
		await a.admin('/admin/keys', { method: 'POST', json: { keys: [ADMIN_KEY, other] } })
		await a.close()
		const source = await storage.getDoc('keys', keyId(ADMIN_KEY))
		await storage.updateDoc('keys', keyId(other), (d) => (d ? { ...d, sealed: source?.sealed } : undefined))

		const b = await startHarness({ storage, keys: [], fake: createFakeGateway({ keys: { [ADMIN_KEY]: {}, [other]: {} } }) })
		const errors = b.logs.filter((l) => l.includes('cannot be decrypted'))
		expect(errors).toHaveLength(1)
		expect(errors[0]).toContain(keyId(other))
		for (let i = 0; i < 3; i++) expect((await b.chat(ask)).status).toBe(200)
		expect(chatKeys(b.fake)).toEqual([ADMIN_KEY, ADMIN_KEY, ADMIN_KEY])
		assertNoSecrets(b.logs, [ADMIN_KEY, other])
		await b.close()
	})
})

describe('env keys stay in the environment', () => {
	test('storage holds their id and state; a key removed from the environment is gone, with its ban', async () => {
		const storage = new MemoryStorage()
		const a = await startHarness({ storage, keys: KEYS })
		const ban = await a.admin(`/admin/keys/${keyId(KEYS[1] as string)}/disable`, { method: 'POST' })
		expect(ban.status).toBe(200)
		await a.close()
		const stored = await storage.listDocs('keys')
		expect(stored.map((d) => d.id).sort()).toEqual(KEYS.map(keyId).sort())
		expect(JSON.stringify(stored)).not.toContain('aai-key')
		expect(stored.find((d) => d.id === keyId(KEYS[1] as string))?.status).toBe('disabled')

		// KEYS[1] leaves ASSEMBLY_API_KEYS: its record and state go; the others keep theirs.
		const b = await startHarness({ storage, keys: [KEYS[0] as string, KEYS[2] as string] })
		const report = (await (await b.admin('/admin/keys')).json()) as { keys: { id: string }[] }
		expect(report.keys.map((k) => k.id).sort()).toEqual([keyId(KEYS[0] as string), keyId(KEYS[2] as string)].sort())
		expect(await storage.getDoc('keys', keyId(KEYS[1] as string))).toBeNull()
		await b.close()

		// An instance whose environment lacks a key another instance has cannot use it from storage.
		const c = await startHarness({ storage, keys: [KEYS[0] as string] })
		await c.chat(ask)
		await c.chat(ask)
		expect(chatKeys(c.fake)).toEqual([KEYS[0], KEYS[0]])
		await c.close()
	})
})

describe('migration of plain-text records', () => {
	test('keys stored in plain text by an earlier version are sealed (admin) or dropped (env) on start, and still serve', async () => {
		const storage = new MemoryStorage()
		const base = { status: 'active', reason: null, changedAt: null, cooldownUntil: null }
		await storage.putDoc('keys', { id: keyId(KEYS[0] as string), key: KEYS[0], source: 'env', addedAt: 1, ...base })
		await storage.putDoc('keys', { id: keyId(ADMIN_KEY), key: ADMIN_KEY, source: 'admin', addedAt: 2, ...base, status: 'disabled', reason: 'kept' })
		const h = await startHarness({ storage, keys: [KEYS[0] as string], fake: fake(), env: { CALLS_PER_ROTATION: '1' } })
		const docs = await storage.listDocs('keys')
		expect(JSON.stringify(docs)).not.toContain('aai-key')
		const admin = docs.find((d) => d.id === keyId(ADMIN_KEY))
		expect(sealedKid(String(admin?.sealed))).not.toBeNull()
		expect(admin?.status).toBe('disabled')
		expect(admin?.reason).toBe('kept')
		expect(h.logs.some((l) => l.includes('"sealed":1') && l.includes('"envStripped":1'))).toBe(true)

		expect((await h.admin(`/admin/keys/${keyId(ADMIN_KEY)}/enable`, { method: 'POST' })).status).toBe(200)
		for (let i = 0; i < 4; i++) expect((await h.chat(ask)).status).toBe(200)
		expect(new Set(chatKeys(h.fake))).toEqual(new Set([KEYS[0], ADMIN_KEY]))
		await h.close()
	})
})

describe('shared backend (Redis)', () => {
	test('without SECRETS_KEY: starts and warns while no sealed key exists; refuses once one does, in one line', async () => {
		const prefix = `${run}-shared`
		prefixes.push(prefix)
		const env = { REDIS_URI: REDIS_URL, REDIS_PREFIX: prefix }
		const a = await startHarness({ storage: null, env, fake: fake(), keys: [KEYS[0] as string] })
		const warning = a.logs.find((l) => l.startsWith('[print]') && l.includes('SECRETS_KEY='))
		expect(warning).toContain('WARNING: SECRETS_KEY is not set')
		const printedKey = /SECRETS_KEY=(\S+)/.exec(warning ?? '')?.[1] as string
		await a.admin('/admin/keys', { method: 'POST', json: { keys: [ADMIN_KEY] } })
		await a.close()

		let error: unknown
		try {
			await buildApp({ ...env, API_PASSWORD, PANEL_PASSWORD, ASSEMBLY_API_KEYS: KEYS[0] }, { log: { stdout: false, file: null }, print: () => {} })
		} catch (err) {
			error = err
		}
		expect(error).toBeInstanceOf(ConfigError)
		const message = (error as Error).message
		expect(message).toContain('SECRETS_KEY is not set, but the upstream keys stored in redis are encrypted with it')
		expect(message.split('\n')).toHaveLength(1)

		// With the printed key set, it starts and serves the admin key.
		const b = await startHarness({ storage: null, env: { ...env, SECRETS_KEY: printedKey }, fake: fake(), keys: [] })
		expect((await b.chat(ask)).status).toBe(200)
		expect(chatKeys(b.fake)).toEqual([ADMIN_KEY])
		assertNoSecrets(b.logs, [ADMIN_KEY, printedKey])
		await b.close()

		const redis = await createRedisStorage({ url: REDIS_URL, prefix })
		const raw = JSON.stringify(await redis.listDocs('keys'))
		await redis.close()
		for (const key of [ADMIN_KEY, KEYS[0] as string, printedKey]) expect(raw).not.toContain(key)
	})
})
