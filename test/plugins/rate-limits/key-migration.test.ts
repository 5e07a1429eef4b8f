/**
 * Migration of plain-text key records (earlier versions) is safe to interrupt: the process is
 * killed while it encrypts them, and the next start finishes the job with nothing lost.
 */
import { afterAll, expect, test } from 'bun:test'
import { generateSecretsKey, sealedKid } from '../../../core/secret-box.ts'
import { keyId } from '../../../core/secrets.ts'
import type { Doc } from '../../../core/storage.ts'
import { createRedisStorage } from '../../../plugins/storage-redis/redis-storage.ts'
import { createFakeGateway } from '../../fake-gateway.ts'
import { REDIS_URL, sharedBackends } from '../../shared-backends.ts'
import { API_PASSWORD, assertNoSecrets, PANEL_PASSWORD, startHarness } from '../../support.ts'

const shared = sharedBackends('mig')
const prefix = shared.redisPrefix()
const ADMIN = Array.from({ length: 30 }, (_, i) => `aai-key-legacy-admin-${String(i).padStart(8, '0')}`)
const ENV = Array.from({ length: 10 }, (_, i) => `aai-key-legacy-env-${String(i).padStart(10, '0')}`)
const SECRETS_KEY = generateSecretsKey()

afterAll(shared.cleanup)

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

test('killed halfway through encrypting plain-text keys, the next start finishes; no record lost, none left in plain text', async () => {
	const storage = await createRedisStorage({ url: REDIS_URL, prefix })
	const state = { status: 'active', reason: null, changedAt: null, cooldownUntil: null }
	// What an earlier version left: every key in plain text.
	for (const [i, key] of ADMIN.entries()) await storage.putDoc('keys', { id: keyId(key), key, source: 'admin', addedAt: i, ...state })
	for (const [i, key] of ENV.entries()) await storage.putDoc('keys', { id: keyId(key), key, source: 'env', addedAt: 100 + i, ...state })
	const env = { REDIS_URI: REDIS_URL, REDIS_PREFIX: prefix, SECRETS_KEY, ASSEMBLY_API_KEYS: ENV.join(','), API_PASSWORD, PANEL_PASSWORD }

	const child = Bun.spawn(['bun', 'test/fixtures/slow-start.ts'], { env: { ...process.env, ...env, SLOW_KEY_WRITE_MS: '25' }, stdout: 'pipe', stderr: 'pipe' })
	const count = (docs: Doc[]) => ({
		plain: docs.filter((d) => typeof d.key === 'string').length,
		sealed: docs.filter((d) => typeof d.sealed === 'string').length,
	})
	let seen = { plain: 40, sealed: 0 }
	const deadline = Date.now() + 20_000
	while (Date.now() < deadline) {
		seen = count(await storage.listDocs('keys'))
		if (seen.sealed >= 5) break
		await sleep(5)
	}
	child.kill('SIGKILL')
	await child.exited
	expect(child.signalCode).toBe('SIGKILL')
	const atKill = await storage.listDocs('keys')
	// Killed midway: some records encrypted, some still plain, none lost or half-written.
	expect(atKill).toHaveLength(40)
	expect(count(atKill).sealed).toBeGreaterThanOrEqual(5)
	expect(count(atKill).plain).toBeGreaterThan(0)
	// Each record is whole: an admin key plain or sealed, an env key plain or reduced to its state.
	for (const doc of atKill) {
		if (doc.source === 'admin') expect(typeof doc.key === 'string' || sealedKid(String(doc.sealed)) !== null).toBe(true)
		else expect(doc.sealed).toBeUndefined()
	}

	// The restart finishes the migration and serves every key.
	const fake = createFakeGateway({ keys: Object.fromEntries([...ADMIN, ...ENV].map((k) => [k, {}])) })
	const h = await startHarness({ storage: null, fake, keys: ENV, env: { ...env, CALLS_PER_ROTATION: '1' } })
	const after = await storage.listDocs('keys')
	expect(after).toHaveLength(40)
	const raw = JSON.stringify(after)
	for (const key of [...ADMIN, ...ENV]) expect(raw).not.toContain(key)
	expect(after.filter((d) => d.source === 'admin').every((d) => sealedKid(String(d.sealed)) !== null)).toBe(true)
	expect(after.filter((d) => d.source === 'env').every((d) => d.sealed === undefined && d.key === undefined)).toBe(true)
	const report = (await (await h.admin('/admin/keys')).json()) as { keys: { id: string }[] }
	expect(report.keys.map((k) => k.id).sort()).toEqual([...ADMIN, ...ENV].map(keyId).sort())
	for (let i = 0; i < 40; i++) expect((await h.chat({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: `${i}` }] })).status).toBe(200)
	const served = new Set(fake.requests.filter((r) => r.path === '/v1/chat/completions').map((r) => r.key))
	expect(served).toEqual(new Set([...ADMIN, ...ENV]))
	assertNoSecrets(h.logs, [...ADMIN, ...ENV, SECRETS_KEY])
	await h.close()
	await fake.stop()
	await storage.close()
}, 60_000)
