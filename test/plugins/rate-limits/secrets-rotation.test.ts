/**
 * Rotation of SECRETS_KEY with no downtime: two instances on one Redis serve a steady load while
 * they are restarted one by one with SECRETS_KEY=new, SECRETS_KEY_PREVIOUS=old, then without
 * the previous key. Not one request fails, and at the end every stored key is sealed by the new key.
 */
import { afterAll, expect, test } from 'bun:test'
import { generateSecretsKey, keyFingerprint, parseSecretsKey, sealedKid } from '../../../core/secret-box.ts'
import { keyId } from '../../../core/secrets.ts'
import { createRedisStorage } from '../../../plugins/storage-redis/redis-storage.ts'
import { createFakeGateway } from '../../fake-gateway.ts'
import { REDIS_URL, sharedBackends } from '../../shared-backends.ts'
import { assertNoSecrets, type Harness, startHarness } from '../../support.ts'

const shared = sharedBackends('rot')
const prefix = shared.redisPrefix()
const ADMIN_KEYS = ['aai-key-rotate-0000000000r1', 'aai-key-rotate-0000000000r2', 'aai-key-rotate-0000000000r3']
const LATE_KEY = 'aai-key-rotate-late-00000000r4'
const OLD = generateSecretsKey()
const NEW = generateSecretsKey()

afterAll(shared.cleanup)

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

test('rotate SECRETS_KEY on two instances under load: no failed request, every key resealed under the new key', async () => {
	const fake = createFakeGateway({ keys: Object.fromEntries([...ADMIN_KEYS, LATE_KEY].map((k) => [k, {}])), limit: 100_000 })
	fake.fault('*', { kind: 'delay', ms: 5 }, { persistent: true })
	const start = (env: Record<string, string>) =>
		startHarness({ storage: null, fake, keys: [], env: { REDIS_URI: REDIS_URL, REDIS_PREFIX: prefix, CALLS_PER_ROTATION: '1', ...env } })
	const everyLog: string[][] = []
	const track = async (h: Promise<Harness>) => {
		const harness = await h
		everyLog.push(harness.logs)
		return harness
	}

	const a = await track(start({ SECRETS_KEY: OLD }))
	const added = await a.admin('/admin/keys', { method: 'POST', json: { keys: ADMIN_KEYS } })
	expect(((await added.json()) as { added: string[] }).added).toHaveLength(3)
	const b = await track(start({ SECRETS_KEY: OLD }))

	// The load: 4 workers, each sending to the live instances in turn, until stopped.
	const live: Harness[] = [a, b]
	const statuses: { who: Harness; status: number; at: number }[] = []
	let stop = false
	let turn = 0
	const worker = async () => {
		while (!stop) {
			const who = live[turn++ % live.length] as Harness
			const response = await who.chat({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'load' }] })
			statuses.push({ who, status: response.status, at: Date.now() })
			await response.text()
		}
	}
	const workers = Array.from({ length: 4 }, worker)
	/** Swap an instance for a new one: the new one joins, the old one leaves and drains, then stops. */
	const replace = async (old: Harness, env: Record<string, string>) => {
		const next = await track(start(env))
		live.push(next)
		live.splice(live.indexOf(old), 1)
		await sleep(150)
		await old.close()
		return next
	}

	await sleep(400)
	// Step 1: B restarts with the new key and the old one as previous; it reseals every key.
	const b2 = await replace(b, { SECRETS_KEY: NEW, SECRETS_KEY_PREVIOUS: OLD })
	const rewrittenAt = Date.now()
	const storage = await createRedisStorage({ url: REDIS_URL, prefix })
	const newKid = await keyFingerprint(parseSecretsKey(NEW))
	const kids = async () => (await storage.listDocs('keys')).map((d) => sealedKid(String(d.sealed)))
	expect(await kids()).toEqual([newKid, newKid, newKid])
	// A key added now by B2 is sealed under the new key, which A does not hold yet.
	await b2.admin('/admin/keys', { method: 'POST', json: { keys: [LATE_KEY] } })
	// A still runs on the old key only, through its key list refreshes (every second).
	await sleep(1500)
	const fromOldA = statuses.filter((s) => s.who === a && s.at > rewrittenAt + 1100)
	expect(fromOldA.length).toBeGreaterThan(0)
	expect(fromOldA.every((s) => s.status === 200)).toBe(true)

	// Step 2: A restarts the same way. Step 3: both drop SECRETS_KEY_PREVIOUS.
	const a2 = await replace(a, { SECRETS_KEY: NEW, SECRETS_KEY_PREVIOUS: OLD })
	await sleep(300)
	const a3 = await replace(a2, { SECRETS_KEY: NEW })
	const b3 = await replace(b2, { SECRETS_KEY: NEW })
	await sleep(300)
	stop = true
	await Promise.all(workers)

	expect(statuses.length).toBeGreaterThan(50)
	expect(statuses.filter((s) => s.status !== 200).map((s) => `${s.status} from ${s.who === a ? 'a' : s.who === b ? 'b' : 'a later instance'}`)).toEqual([])
	expect(await kids()).toEqual([newKid, newKid, newKid, newKid])
	// Every key, the late one included, served under the new key alone.
	const servedLate = fake.requests.filter((r) => r.path === '/v1/chat/completions' && r.key === LATE_KEY)
	expect(servedLate.length).toBeGreaterThan(0)
	const report = (await (await a3.admin('/admin/keys')).json()) as { keys: { id: string }[] }
	expect(report.keys.map((k) => k.id).sort()).toEqual([...ADMIN_KEYS, LATE_KEY].map(keyId).sort())

	const raw = JSON.stringify(await storage.listDocs('keys'))
	for (const secret of [...ADMIN_KEYS, LATE_KEY, OLD, NEW]) expect(raw).not.toContain(secret)
	for (const logs of everyLog) assertNoSecrets(logs, [...ADMIN_KEYS, LATE_KEY, OLD, NEW])
	await storage.close()
	await a3.close()
	await b3.close()
	await fake.stop()
}, 60_000)
