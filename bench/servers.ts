/**
 * Servers for the throughput benchmark, one per process so each gets its own event loop:
 *   bun bench/servers.ts fake            the fake AssemblyAI gateway (no rate limit in the way)
 *   bun bench/servers.ts bare <fakeUrl>  a bare Bun fetch proxy: the baseline
 *   bun bench/servers.ts bare-json <fakeUrl>    the same, parsing and re-encoding both bodies
 *   bun bench/servers.ts elysia-bare <fakeUrl>  the same inside Elysia with amb2api's global hooks
 *   bun bench/servers.ts gateway <fakeUrl> <dir> [storage] [disabled]  amb2api, every feature on
 *       (but the comma-separated plugins in `disabled`); storage is file (default) or a shared
 *       backend's URI: redis://... (own REDIS_PREFIX), postgres://... (its schema in search_path),
 *       mongodb://... (own database)
 * Each prints its base URL on the first line of stdout.
 */
import { join } from 'node:path'
import { buildApp } from '../core/kernel.ts'
import { createFakeGateway } from '../test/fake-gateway.ts'
import { BENCH_KEYS, BENCH_PASSWORD } from './constants.ts'

const [mode, fakeUrl, dir = '.'] = process.argv.slice(2)

/** The environment that points the gateway at one storage backend, in a namespace of its own. */
function storageEnv(storage: string): Record<string, string> {
	const unique = process.env.BENCH_NAMESPACE ?? `bench_${process.pid}`
	if (storage.startsWith('redis')) return { REDIS_URI: storage, REDIS_PREFIX: unique }
	if (storage.startsWith('postgres')) return { POSTGRES_DSN: storage }
	if (storage.startsWith('mongodb')) return { MONGODB_URI: storage, MONGODB_DATABASE: unique }
	return {}
}

if (mode === 'fake') {
	const fake = createFakeGateway({ keys: Object.fromEntries(BENCH_KEYS.map((k) => [k, {}])), limit: 100_000_000 })
	console.log(await fake.listen())
	// The fake keeps a log of every request; the benchmark must not grow it without bound.
	setInterval(() => fake.requests.splice(0, fake.requests.length), 1000)
} else if (mode === 'bare' || mode === 'bare-json' || mode === 'elysia-bare') {
	const upstream = `${fakeUrl}/v1/chat/completions`
	/** The upstream call every baseline makes: the request body as it is, with the first key. */
	const forward = (body: string, signal: AbortSignal) =>
		fetch(upstream, { method: 'POST', headers: { authorization: BENCH_KEYS[0] as string, 'content-type': 'application/json' }, body, signal })
	// Every baseline answers with an x-request-id as the gateway does, so that cost cannot hide.
	const passThrough = (response: Response) =>
		new Response(response.body, {
			status: response.status,
			headers: { 'content-type': response.headers.get('content-type') ?? 'application/json', 'x-request-id': crypto.randomUUID() },
		})

	let handler: (request: Request) => Promise<Response>
	if (mode === 'bare') {
		handler = async (request) => passThrough(await forward(await request.text(), request.signal))
	} else if (mode === 'bare-json') {
		// The bare proxy plus the one thing any translating gateway must do: parse and re-encode both bodies.
		handler = async (request) => {
			const body = JSON.parse(await request.text())
			const response = await forward(JSON.stringify(body), request.signal)
			if (body.stream) return passThrough(response)
			return Response.json(JSON.parse(await response.text()), { status: response.status, headers: { 'x-request-id': crypto.randomUUID() } })
		}
	} else {
		// The bare proxy inside Elysia with amb2api's global hooks (errors, request log) and a resolve.
		const { Elysia } = await import('elysia')
		const { errorHandler } = await import('../core/error-handler.ts')
		const { requestLog } = await import('../core/request-log.ts')
		const { silentLogger } = await import('../core/log.ts')
		const app = new Elysia()
			.use(errorHandler(silentLogger()))
			.use(requestLog(silentLogger()))
			.resolve(({ headers }) => ({ who: headers.authorization }))
			.post('/v1/chat/completions', async ({ request }) => passThrough(await forward(await request.text(), request.signal)), { parse: 'none' })
		handler = async (request) => app.fetch(request)
	}
	const server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: handler })
	console.log(`http://127.0.0.1:${server.port}`)
} else if (mode === 'gateway') {
	const gateway = await buildApp(
		{
			API_PASSWORD: BENCH_PASSWORD,
			PANEL_PASSWORD: 'bench-panel-password',
			ASSEMBLY_API_KEYS: BENCH_KEYS.join(','),
			// A fixed key: the benchmark's gateways print no generated-key notice.
			SECRETS_KEY: 'YmVuY2gtc2VjcmV0cy1rZXktMzItYnl0ZXMtbG9uZyE=',
			ASSEMBLY_ENDPOINT: `${fakeUrl}/v1/chat/completions`,
			CREDENTIALS_DIR: join(dir, 'creds'),
			LOG_FILE: join(dir, 'log.txt'),
			LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
			// Quotas stay on (counted, checked) but must not be what limits the benchmark.
			DAILY_REQUEST_LIMIT: '0',
			...storageEnv(process.argv[5] ?? 'file'),
			...(process.argv[6] ? { DISABLE_PLUGINS: process.argv[6] } : {}),
		},
		// stdout carries only the URL the driver reads; a generated secret's notice goes to stderr.
		{ log: { stdout: false }, print: (line) => console.error(line) },
	)
	const server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: gateway.fetch })
	console.log(`http://127.0.0.1:${server.port}`)
} else {
	console.error('usage: bun bench/servers.ts fake | bare|bare-json|elysia-bare <fakeUrl> | gateway <fakeUrl> <dir>')
	process.exit(2)
}

// A clean exit on SIGINT/SIGTERM (lets `bun --cpu-prof` write its profile).
process.on('SIGINT', () => process.exit(0))
process.on('SIGTERM', () => process.exit(0))
