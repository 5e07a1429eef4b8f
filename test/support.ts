/**
 * Test harness: builds the real gateway (buildApp) against the fake AssemblyAI gateway, with
 * in-memory storage unless a test hands in another backend, and captures every log line so
 * tests can assert that no secret was written.
 */
import { createServer } from 'node:net'
import { setPeerAddress } from '../core/client-address.ts'
import type { Env } from '../core/config.ts'
import { buildApp, type Gateway } from '../core/kernel.ts'
import { MemoryStorage, type Storage } from '../core/storage.ts'
import { createFakeGateway, type FakeGateway, type FakeGatewayOptions } from './fake-gateway.ts'

export const API_PASSWORD = 'test-api-password-7c1f2e'
export const PANEL_PASSWORD = 'test-panel-password-9b3d4a'
export const KEYS: [string, string, string] = ['aai-key-alpha-000000000001', 'aai-key-bravo-000000000002', 'aai-key-charlie-00000000003']

export interface Harness {
	gateway: Gateway
	fake: FakeGateway
	storage: Storage
	/** Every log line written, raw. */
	logs: string[]
	/** app.handle shortcut with the API password. */
	call(path: string, init?: RequestInit & { json?: unknown; auth?: string | null; peer?: string }): Promise<Response>
	chat(body: unknown, auth?: string | null): Promise<Response>
	admin(path: string, init?: RequestInit & { json?: unknown }): Promise<Response>
	/** Starts a real HTTP server for the gateway (fake stays in-process unless `listenFake`). */
	listen(): Promise<string>
	/** Stops the HTTP server started by listen (the gateway stays up for app.handle). */
	stopListening(): Promise<void>
	close(): Promise<void>
}

export interface HarnessOptions {
	env?: Env
	keys?: string[]
	fake?: FakeGateway
	fakeOptions?: FakeGatewayOptions
	/** A backend to use; `null` lets the kernel open the one the env configures (REDIS_URI, ...). Default: memory. */
	storage?: Storage | null
	/** Make the fake listen on a real port and point the gateway at its URL. */
	listenFake?: boolean
	now?: () => number
	/** Write the log to this file too (LOG_FILE); default: no file. */
	logFile?: string
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
	const keys = options.keys ?? KEYS
	const fake = options.fake ?? createFakeGateway({ keys: Object.fromEntries(keys.map((k) => [k, {}])), now: options.now, ...options.fakeOptions })
	const base = options.listenFake ? await fake.listen() : 'http://fake-gateway.test'
	const storage = options.storage === null ? undefined : (options.storage ?? new MemoryStorage(options.now))
	const logs: string[] = []
	const env: Env = {
		API_PASSWORD,
		PANEL_PASSWORD,
		ASSEMBLY_API_KEYS: keys.join(','),
		ASSEMBLY_ENDPOINT: `${base}/v1/chat/completions`,
		RETRY_429_INTERVAL: '0',
		LOG_LEVEL: 'debug',
		...options.env,
	}
	const gateway = await buildApp(env, {
		storage,
		fetch: options.listenFake ? fetch : (((input: RequestInfo | URL, init?: RequestInit) => fake.fetch(new Request(input, init))) as typeof fetch),
		now: options.now,
		print: (line) => logs.push(`[print] ${line}`),
		log: { stdout: false, file: options.logFile ?? null, extra: { write: (line: string) => void logs.push(line) } },
	})
	let server: ReturnType<typeof Bun.serve> | null = null

	const call = (path: string, init: RequestInit & { json?: unknown; auth?: string | null; peer?: string } = {}) => {
		const headers = new Headers(init.headers)
		const auth = init.auth === undefined ? API_PASSWORD : init.auth
		if (auth !== null && !headers.has('authorization')) headers.set('authorization', `Bearer ${auth}`)
		let body = init.body
		if (init.json !== undefined) {
			body = typeof init.json === 'string' ? init.json : JSON.stringify(init.json)
			headers.set('content-type', 'application/json')
		}
		const request = new Request(`http://localhost${path}`, { ...init, headers, body })
		setPeerAddress(request, init.peer)
		return gateway.app.handle(request)
	}

	return {
		gateway,
		fake,
		storage: gateway.storage,
		logs,
		call,
		chat: (body, auth) => call('/v1/chat/completions', { method: 'POST', json: body, auth }),
		admin: (path, init = {}) => call(path, { ...init, auth: PANEL_PASSWORD }),
		async listen() {
			server = Bun.serve({
				hostname: '127.0.0.1',
				port: 0,
				fetch: (request, srv) => {
					setPeerAddress(request, srv.requestIP(request)?.address)
					return gateway.app.fetch(request)
				},
				idleTimeout: 60,
			})
			return `http://127.0.0.1:${server.port}`
		},
		async stopListening() {
			await server?.stop(true)
			server = null
		},
		async close() {
			await server?.stop(true)
			if (options.listenFake || !options.fake) await fake.stop().catch(() => {})
			await gateway.close()
		},
	}
}

/** Every secret the harness configured; none may appear in any log line. */
export function assertNoSecrets(lines: string[], extra: string[] = []): void {
	for (const secret of [API_PASSWORD, PANEL_PASSWORD, ...KEYS, ...extra]) {
		const leak = lines.find((line) => line.includes(secret))
		if (leak) throw new Error(`secret leaked into the log: ${leak.slice(0, 200)}`)
	}
}

/** Reads an SSE body into its `data:` payloads. */
export async function readSse(response: Response): Promise<string[]> {
	const text = await response.text()
	return text
		.split('\n\n')
		.map((frame) =>
			frame
				.split('\n')
				.filter((l) => l.startsWith('data:'))
				.map((l) => l.slice(5).trimStart())
				.join('\n'),
		)
		.filter(Boolean)
}

/** A clock tests can move; hand `now` to both the fake gateway and amb2api. */
export function testClock(start = Date.UTC(2026, 10, 26, 12, 0, 0)) {
	let t = start
	return { now: () => t, set: (ms: number) => void (t = ms), advance: (ms: number) => void (t += ms) }
}

/** A TCP port nothing listens on right now (for servers a test starts itself). */
export async function sparePort(): Promise<number> {
	const server = createServer()
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
	const { port } = server.address() as { port: number }
	await new Promise((resolve) => server.close(resolve))
	return port
}

/**
 * Harnesses a test file starts, all checked for leaked secrets and closed after each test:
 * `const harnesses = harnessSet(); afterEach(() => harnesses.closeAll())`, then `harnesses.start(...)`.
 */
export function harnessSet(extraSecrets: () => string[] = () => []) {
	let open: Harness[] = []
	return {
		async start(options?: HarnessOptions): Promise<Harness> {
			const h = await startHarness(options)
			open.push(h)
			return h
		},
		async closeAll(): Promise<void> {
			const closing = open
			open = []
			for (const h of closing) {
				try {
					assertNoSecrets(h.logs, extraSecrets())
				} finally {
					await h.close()
				}
			}
		},
	}
}
