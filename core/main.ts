/**
 * Bun entry: environment (+ .env) -> buildApp -> listen. SIGTERM/SIGINT stop the server and flush
 * storage. A bad setting ends start-up with one line naming it.
 */
import { setPeerAddress } from './client-address.ts'
import { ConfigError, resolveConfig } from './config.ts'
import { readEnvironment } from './env-file.ts'
import { buildApp } from './kernel.ts'
import { liftIdleTimeoutForStreams } from './serve.ts'

/** Bun's fetch takes a `proxy` option; PROXY (env or stored, validated) applies to upstream calls only. */
function proxyFetch(proxy: string): typeof fetch {
	return ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, { ...init, proxy } as RequestInit)) as typeof fetch
}

/**
 * Bun's fetch lets at most BUN_CONFIG_MAX_HTTP_REQUESTS (default 256) requests run at once and
 * silently queues the rest, so 256 long streams delayed every other request by their length.
 * Bun reads the variable once, when its HTTP client starts, and only from the real environment
 * (setting process.env here is too late): `bun run start` and the Dockerfile set it to 65535. When
 * it is lower than MAX_CONCURRENT_REQUESTS plus room for the model catalog, the gateway's own
 * limit is lowered to fit (with a warning), so requests beyond it get 503 at once, never a queue.
 */
const FETCH_HEADROOM = 16
function fitConcurrencyToBun(env: Record<string, string | undefined>): string | null {
	const cap = Number(process.env.BUN_CONFIG_MAX_HTTP_REQUESTS ?? 256) || 256
	const wanted = resolveConfig(env).limits.maxConcurrent
	if (wanted + FETCH_HEADROOM <= cap) return null
	const fitted = Math.max(1, cap - FETCH_HEADROOM)
	env.MAX_CONCURRENT_REQUESTS = String(fitted)
	return `amb2api: BUN_CONFIG_MAX_HTTP_REQUESTS=${cap} lets Bun's fetch run only ${cap} requests at once; MAX_CONCURRENT_REQUESTS lowered from ${wanted} to ${fitted}. Start with BUN_CONFIG_MAX_HTTP_REQUESTS=65535 (bun run start does) to allow more.`
}

async function main(): Promise<void> {
	const env = readEnvironment(process.env)
	let fitted: string | null = null
	try {
		fitted = fitConcurrencyToBun(env)
	} catch {
		// A malformed setting: buildApp reports it with its name below.
	}
	let gateway: Awaited<ReturnType<typeof buildApp>>
	try {
		gateway = await buildApp(env, { proxyFetch })
	} catch (err) {
		if (err instanceof ConfigError) {
			console.error(`amb2api: invalid configuration: ${err.message}`)
		} else {
			console.error(`amb2api: cannot start: ${err instanceof Error ? err.message : String(err)}`)
		}
		process.exit(1)
	}
	const { config, log } = gateway
	if (fitted) {
		console.warn(fitted)
		log.warn(fitted)
	}
	// Long reasoning answers can be silent for minutes: keep idle connections up to Bun's cap, and
	// let SSE answers outlive it (core/serve.ts). The peer address feeds the per-address auth
	// throttle. Bodies: Bun's own cap (128 MB, answered with an empty 413) is lifted, because the
	// gateway enforces MAX_BODY_SIZE itself, while the body streams, with a 413 in OpenAI error JSON.
	const serveStreams = liftIdleTimeoutForStreams(gateway.fetch)
	const server = Bun.serve({
		hostname: config.host,
		port: config.port,
		fetch: (request, srv) => {
			setPeerAddress(request, srv.requestIP(request)?.address)
			return serveStreams(request, srv)
		},
		idleTimeout: 255,
		reusePort: false,
		maxRequestBodySize: Number.MAX_SAFE_INTEGER,
	})
	const shown = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host
	const base = `http://${shown}:${server.port}`
	const keys = gateway.services.pool?.size ?? 0
	const on = (plugin: string) => gateway.plugins.includes(plugin)
	console.log(`amb2api ${keys ? `serving ${keys} upstream key(s)` : 'started without upstream keys (set ASSEMBLY_API_KEYS)'}`)
	console.log(`  OpenAI base URL: ${base}/v1`)
	if (on('admin-panel')) console.log(`  Panel:           ${base}/ui`)
	if (on('docs')) console.log(`  API docs:        ${base}/swagger`)
	console.log(`  Storage:         ${gateway.storage.kind} (${gateway.storage.where})\n  Plugins:         ${gateway.plugins.join(', ')}`)
	log.info({ host: config.host, port: server.port, storage: gateway.storage.kind, keys, plugins: gateway.plugins }, 'amb2api listening')

	let stopping = false
	const stop = async (signal: string) => {
		if (stopping) return
		stopping = true
		log.info({ signal }, 'shutting down')
		await server.stop()
		await gateway.close()
		process.exit(0)
	}
	process.on('SIGTERM', () => void stop('SIGTERM'))
	process.on('SIGINT', () => void stop('SIGINT'))
	// Bun ends the process on an unhandled rejection. A storage driver's stray connection error
	// while its server restarts (postgres.js reconnecting) must not end a gateway whose storage
	// layer serves from memory meanwhile: logged at error, and the gateway keeps serving.
	process.on('unhandledRejection', (err) => {
		log.error(
			{ err: err instanceof Error ? { message: err.message, code: (err as { code?: unknown }).code } : String(err) },
			'unhandled rejection (kept serving)',
		)
	})
	// postgres.js 3.4 can write to a socket its server just closed from a deferred callback
	// (`socket.write` on null) while PostgreSQL restarts: a driver's fault the storage layer
	// already survives. Only such driver errors are logged and survived; anything else ends the
	// process as it would have.
	process.on('uncaughtException', (err) => {
		const driver = err instanceof Error && /node_modules[\\/](postgres|ioredis|mongodb)[\\/]/.test(err.stack ?? '')
		log.error({ err: { message: err instanceof Error ? err.message : String(err) }, kept_serving: driver }, 'uncaught exception')
		if (!driver) process.exit(1)
	})
}

await main()
