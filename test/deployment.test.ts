/**
 * The multi-instance recipe, for real where it can be: two `bun core/main.ts` processes on one
 * Redis behind a small round-robin proxy started here (no container engine on this machine; the
 * compose file and nginx.conf are checked in deploy-files.test.ts). Nothing is sticky: every
 * request goes to the next instance.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import Redis from 'ioredis'
import { maskKey } from '../core/secrets.ts'
import { createFakeGateway, type FakeGateway } from './fake-gateway.ts'
import { KEYS, readSse, sparePort } from './support.ts'

/** 32 bytes, hex: every instance of the deployment gets the same one. */
const SHARED_SECRETS_KEY = 'a1'.repeat(32)

const REDIS_URL = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379'
const MAIN = resolve(import.meta.dir, '../core/main.ts')
const PREFIX = `amb2api_deploy_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`
const METRICS_TOKEN = 'deploy-metrics-token-77aa'
const LIMIT = 4
const model = 'claude-sonnet-4-6'
const dir = mkdtempSync(join(tmpdir(), 'amb2api-deploy-'))

interface Instance {
	proc: ReturnType<typeof Bun.spawn>
	base: string
	out: () => string
}

let fake: FakeGateway
let instances: Instance[] = []
let proxy: ReturnType<typeof Bun.serve>
let front = ''
let apiPassword = ''
let panelPassword = ''

async function startInstance(name: string, fakeUrl: string): Promise<Instance> {
	const port = await sparePort()
	const proc = Bun.spawn(['bun', MAIN], {
		cwd: dir,
		env: {
			PATH: process.env.PATH ?? '',
			HOME: process.env.HOME ?? dir,
			HOST: '127.0.0.1',
			PORT: String(port),
			REDIS_URI: REDIS_URL,
			REDIS_PREFIX: PREFIX,
			ASSEMBLY_API_KEYS: KEYS[0] as string,
			ASSEMBLY_ENDPOINT: `${fakeUrl}/v1/chat/completions`,
			RETRY_429_INTERVAL: '0',
			LOG_FILE: join(dir, `${name}.log`),
			CREDENTIALS_DIR: join(dir, `creds-${name}`),
			METRICS_TOKEN,
			// Several instances on one backend share one SECRETS_KEY (docs/security.md, Secrets at rest): keys one seals, the other opens.
			SECRETS_KEY: SHARED_SECRETS_KEY,
		},
		stdout: 'pipe',
		stderr: 'pipe',
	})
	let out = ''
	const decoder = new TextDecoder()
	void (async () => {
		for await (const chunk of proc.stdout as ReadableStream<Uint8Array>) out += decoder.decode(chunk)
	})()
	void (async () => {
		for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) out += decoder.decode(chunk)
	})()
	const base = `http://127.0.0.1:${port}`
	const deadline = Date.now() + 30_000
	for (;;) {
		const ok = await fetch(`${base}/health`).then(
			(r) => r.ok,
			() => false,
		)
		if (ok) break
		if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`instance ${name} did not start:\n${out}`)
		await Bun.sleep(100)
	}
	return { proc, base, out: () => out }
}

beforeAll(async () => {
	fake = createFakeGateway({ keys: { [KEYS[0] as string]: {}, [KEYS[1] as string]: {} }, limit: LIMIT })
	const fakeUrl = await fake.listen()
	// Both start together with no password configured: one generates, stores and prints them.
	instances = await Promise.all([startInstance('a', fakeUrl), startInstance('b', fakeUrl)])
	let next = 0
	proxy = Bun.serve({
		hostname: '127.0.0.1',
		port: 0,
		idleTimeout: 60,
		async fetch(request, server) {
			const target = instances[next++ % instances.length] as Instance
			const url = new URL(request.url)
			const headers = new Headers(request.headers)
			headers.set('x-forwarded-for', server.requestIP(request)?.address ?? '')
			headers.set('x-forwarded-proto', 'http')
			const hasBody = request.method !== 'GET' && request.method !== 'HEAD'
			return fetch(`${target.base}${url.pathname}${url.search}`, {
				method: request.method,
				headers,
				body: hasBody ? await request.arrayBuffer() : undefined,
				redirect: 'manual',
				signal: request.signal,
			})
		},
	})
	front = `http://127.0.0.1:${proxy.port}`
	const printed = instances.map((i) => i.out()).join('\n')
	apiPassword = /API password[^:]*: (\S+)/.exec(printed)?.[1] ?? ''
	panelPassword = /Panel password[^:]*: (\S+)/.exec(printed)?.[1] ?? ''
}, 60_000)

afterAll(async () => {
	for (const i of instances) i.proc.kill('SIGTERM')
	await Promise.all(instances.map((i) => i.proc.exited))
	proxy?.stop(true)
	await fake?.stop()
	const redis = new Redis(REDIS_URL)
	const keys = await redis.keys(`${PREFIX}:*`)
	if (keys.length) await redis.del(...keys)
	redis.disconnect()
	rmSync(dir, { recursive: true, force: true })
})

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

describe('two instances on one Redis behind a round-robin proxy', () => {
	test('exactly one instance printed the generated passwords, and they open both', async () => {
		const printers = instances.filter((i) => /API password/.test(i.out()))
		expect(printers).toHaveLength(1)
		expect(apiPassword.length).toBeGreaterThan(16)
		for (const i of instances) {
			expect((await fetch(`${i.base}/v1/models`, { headers: bearer(apiPassword) })).status).toBe(200)
			expect((await fetch(`${i.base}/admin/keys`, { headers: bearer(panelPassword) })).status).toBe(200)
		}
	})

	test('headroom is shared: the key limit holds across both instances, a stream flows through the proxy, x-request-id survives it', async () => {
		const statuses: number[] = []
		for (let i = 0; i < LIMIT - 1; i++) {
			const res = await fetch(`${front}/v1/chat/completions`, {
				method: 'POST',
				headers: { ...bearer(apiPassword), 'content-type': 'application/json', 'x-request-id': `deploy-${i}` },
				body: JSON.stringify({ model, messages: [{ role: 'user', content: `hello ${i}` }] }),
			})
			expect(res.headers.get('x-request-id')).toBe(`deploy-${i}`)
			statuses.push(res.status)
		}
		const stream = await fetch(`${front}/v1/chat/completions`, {
			method: 'POST',
			headers: { ...bearer(apiPassword), 'content-type': 'application/json' },
			body: JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: 'stream please' }] }),
		})
		statuses.push(stream.status)
		expect((await readSse(stream)).at(-1)).toBe('[DONE]')
		expect(statuses).toEqual(Array(LIMIT).fill(200))
		// The fifth, on whichever instance, is refused by the gateway, not sent upstream.
		const over = await fetch(`${front}/v1/chat/completions`, {
			method: 'POST',
			headers: { ...bearer(apiPassword), 'content-type': 'application/json' },
			body: JSON.stringify({ model, messages: [{ role: 'user', content: 'one too many' }] }),
		})
		expect(over.status).toBe(429)
		const chats = fake.requests.filter((r) => r.path === '/v1/chat/completions')
		expect(chats).toHaveLength(LIMIT)
		expect(chats.filter((r) => r.status === 429)).toHaveLength(0)
		// Both instances served chats (round robin), as each one's /metrics says.
		for (const i of instances) {
			const text = await (await fetch(`${i.base}/metrics`, { headers: bearer(METRICS_TOKEN) })).text()
			const served = /amb2api_http_requests_total\{method="POST",route="\/v1\/chat\/completions",status="200"\} (\d+)/.exec(text)?.[1]
			expect(Number(served)).toBeGreaterThan(0)
		}
	})

	test('the panel needs no sticky sessions; an admin write on one instance is seen by the other', async () => {
		const [a, b] = instances as [Instance, Instance]
		const login = await fetch(`${a.base}/ui/login`, { method: 'POST', body: new URLSearchParams({ password: panelPassword }), redirect: 'manual' })
		expect(login.status).toBe(303)
		const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string
		expect(cookie).toContain('=')
		// The session made on A opens B, and every request through the proxy.
		expect((await fetch(`${b.base}/admin/keys`, { headers: { cookie } })).status).toBe(200)
		for (let i = 0; i < 4; i++) expect((await fetch(`${front}/admin/keys`, { headers: { cookie } })).status).toBe(200)

		const added = await fetch(`${a.base}/admin/keys`, {
			method: 'POST',
			headers: { ...bearer(panelPassword), 'content-type': 'application/json' },
			body: JSON.stringify({ keys: [KEYS[1]] }),
		})
		expect(added.status).toBe(200)
		const answer = (await added.json()) as { added: string[]; duplicates: string[] }
		expect(answer.added).toHaveLength(1)
		expect(answer.duplicates).toEqual([])
		// Each instance re-reads the shared key list at most a second after it changed.
		let listed = ''
		const until = Date.now() + 3000
		do {
			await Bun.sleep(200)
			listed = JSON.stringify(await (await fetch(`${b.base}/admin/keys`, { headers: bearer(panelPassword) })).json())
		} while (!listed.includes(maskKey(KEYS[1] as string)) && Date.now() < until)
		expect(listed).toContain(maskKey(KEYS[1] as string))
		expect(listed).toContain(answer.added[0] as string)
		expect(listed).not.toContain(KEYS[1] as string)
	})
})
