/**
 * Bun entry: environment (+ .env) -> buildApp -> listen. SIGTERM/SIGINT stop the server and flush
 * storage. A bad setting ends start-up with one line naming it.
 */
import { setPeerAddress } from './client-address.ts'
import { ConfigError } from './config.ts'
import { readEnvironment } from './env-file.ts'
import { buildApp } from './kernel.ts'
import { liftIdleTimeoutForStreams } from './serve.ts'

/** Bun's fetch takes a `proxy` option; PROXY (env or stored, validated) applies to upstream calls only. */
function proxyFetch(proxy: string): typeof fetch {
	return ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, { ...init, proxy } as RequestInit)) as typeof fetch
}

async function main(): Promise<void> {
	const env = readEnvironment(process.env)
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
	const { app, config, log } = gateway
	// Long reasoning answers can be silent for minutes: keep idle connections up to Bun's cap, and
	// let SSE answers outlive it (core/serve.ts). The peer address feeds the per-address auth throttle.
	const serveStreams = liftIdleTimeoutForStreams(app.fetch)
	const server = Bun.serve({
		hostname: config.host,
		port: config.port,
		fetch: (request, srv) => {
			setPeerAddress(request, srv.requestIP(request)?.address)
			return serveStreams(request, srv)
		},
		idleTimeout: 255,
		reusePort: false,
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
}

await main()
