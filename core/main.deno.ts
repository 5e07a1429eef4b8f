/**
 * Deno entry: the same app, served by Deno.serve. Run with
 * `deno run -A --node-modules-dir=manual --unstable-no-legacy-abort core/main.deno.ts`
 * (npm packages come from node_modules, installed by `bun install`). The last flag makes
 * `request.signal` abort only when the client goes away: with Deno's legacy behaviour it also
 * aborts once a response is handed over, which would cancel the upstream request of a stream.
 */
import { setPeerAddress } from './client-address.ts'
import { ConfigError, type Env } from './config.ts'
import { readEnvironment } from './env-file.ts'
import { buildApp } from './kernel.ts'

declare const Deno: {
	env: { toObject(): Env }
	createHttpClient(options: { proxy: { url: string } }): unknown
	serve(
		options: { hostname: string; port: number; onListen?: (addr: { port: number }) => void },
		handler: (r: Request, info: { remoteAddr: { hostname?: string } }) => Response | Promise<Response>,
	): { shutdown(): Promise<void> }
	addSignalListener(signal: string, handler: () => void): void
	exit(code: number): never
}

/** PROXY applies to upstream calls only: Deno takes a proxy through an HTTP client. */
function proxyFetch(proxy: string): typeof fetch {
	const client = Deno.createHttpClient({ proxy: { url: proxy } })
	return ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, { ...init, client } as RequestInit)) as typeof fetch
}

try {
	const env = readEnvironment(Deno.env.toObject())
	const gateway = await buildApp(env, { proxyFetch })
	const server = Deno.serve(
		{ hostname: gateway.config.host, port: gateway.config.port, onListen: ({ port }) => console.log(`amb2api (Deno) listening on port ${port}`) },
		(request, info) => {
			setPeerAddress(request, info.remoteAddr.hostname)
			return gateway.fetch(request)
		},
	)
	const stop = async () => {
		await server.shutdown()
		await gateway.close()
		Deno.exit(0)
	}
	Deno.addSignalListener('SIGTERM', stop)
	Deno.addSignalListener('SIGINT', stop)
} catch (err) {
	console.error(`amb2api: ${err instanceof ConfigError ? 'invalid configuration: ' : 'cannot start: '}${err instanceof Error ? err.message : String(err)}`)
	Deno.exit(1)
}
