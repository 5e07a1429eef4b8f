/**
 * The kernel: reads configuration, opens storage, creates the services, and composes the
 * plugins into one Elysia app. It never listens (core/main.ts does, for Bun; main.deno.ts for
 * Deno) and holds no feature logic.
 *
 * `buildApp` takes the environment rather than a finished config because stored settings take
 * part in the precedence rule, and they can only be read once storage is open.
 */
import { Elysia } from 'elysia'
import { AdminAuth } from '../plugins/admin-auth/admin-auth.ts'
import { admin } from '../plugins/rate-limits/admin-routes.ts'
import { AssemblyClient } from '../plugins/assembly-client/client.ts'
import { clientAdmin, ClientKeys } from '../plugins/client-keys/client-keys.ts'
import { DailyQuota, quotaAdmin } from '../plugins/daily-quota/daily-quota.ts'
import { docs } from '../plugins/docs/docs.ts'
import { health } from '../plugins/health/health.ts'
import { KeyPool } from '../plugins/rate-limits/key-pool.ts'
import { ModelCatalog } from '../plugins/assembly-client/model-catalog.ts'
import { openaiRouter } from '../plugins/openai-router/routes.ts'
import { panel } from '../plugins/admin-panel/routes.ts'
import { UsageStats, usageAdmin } from '../plugins/usage-stats/usage-stats.ts'
import { type Config, type Env, resolveConfig } from './config.ts'
import { errorHandler } from './error-handler.ts'
import { createLogger, type Logger, type LogRing, type SecretRegistry } from './log.ts'
import { openStorage } from './registry.ts'
import { requestLog } from './request-log.ts'
import { ensureSecrets } from './passwords.ts'
import type { Storage } from './storage.ts'
import { withResilience } from './storage-resilient.ts'

export const VERSION = '0.1.0'

export interface AppDeps {
	/** An already open storage backend (tests); otherwise the configured one is opened. */
	storage?: Storage
	/** The upstream `fetch` (tests hand in the fake gateway's). */
	fetch?: typeof fetch
	now?: () => number
	/** Where generated passwords are printed, once. @default console.log */
	print?: (line: string) => void
	/** Logger options for tests: no stdout, no file, extra capture. */
	log?: { stdout?: boolean; file?: string | null; extra?: { write(line: string): void } }
}

export interface Gateway {
	app: Elysia
	config: Config
	storage: Storage
	pool: KeyPool
	log: Logger
	secrets: SecretRegistry
	ring: LogRing
	/** Flushes and closes storage. */
	close(): Promise<void>
}

/** The configured backend; shared backends get the resilience layer (serve on while they restart). */
async function openConfiguredStorage(config: Config, log: Logger, now: () => number): Promise<Storage> {
	const backend = await openStorage(config.storage, now)
	if (backend.kind === 'file' || backend.kind === 'memory') return backend
	return withResilience(backend, {
		onDown: (err: Error) => log.error({ backend: backend.kind, err: err.message }, 'storage backend unreachable; serving from memory until it returns'),
		onUp: () => log.warn({ backend: backend.kind }, 'storage backend is back; pending changes replayed'),
		now,
	})
}

export async function buildApp(env: Env, deps: AppDeps = {}): Promise<Gateway> {
	const now = deps.now ?? Date.now
	// Environment first: storage location and log settings cannot come from storage.
	const bootConfig = resolveConfig(env)
	const { log, secrets, ring, flush } = createLogger({
		level: bootConfig.log.level,
		file: deps.log?.file !== undefined ? deps.log.file : bootConfig.log.file,
		stdout: deps.log?.stdout,
		extra: deps.log?.extra,
	})

	const storage: Storage = deps.storage ?? (await openConfiguredStorage(bootConfig, log, now))
	const stored = await storage.loadSettings()
	const config = resolveConfig(env, stored)
	if (config.log.level !== bootConfig.log.level) log.level = config.log.level === 'warning' ? 'warn' : config.log.level

	for (const secret of [config.secrets.apiPassword, config.secrets.panelPassword]) secrets.add(secret, '[redacted]')
	for (const key of config.envKeys) secrets.add(key)
	const passwords = await ensureSecrets(config, storage, stored, deps.print ?? ((line) => console.log(line)))

	const upstreamFetch = deps.fetch ?? fetch
	const usageStats = new UsageStats({ storage, log, now })
	const dailyQuota = new DailyQuota({ storage, now }, { defaultDailyLimit: config.quotas.dailyRequestLimit })
	const clientKeys = new ClientKeys({ storage, log, now, api: passwords.api, onSecret: (key) => secrets.add(key) })
	const catalog = new ModelCatalog({ fetch: upstreamFetch, log, now }, { modelsUrl: config.upstream.modelsUrl, ttlMs: config.upstream.modelsCacheTtlMs })
	const pool = new KeyPool(
		{ storage, log, now, gate: dailyQuota, onSecret: (key) => secrets.add(key) },
		{
			callsPerRotation: config.pool.callsPerRotation,
			autoBan: config.pool.autoBan,
			autoBanCodes: config.pool.autoBanCodes,
			maxWaitMs: config.pool.maxWaitMs,
			probeTtlMs: config.upstream.timeoutMs,
		},
	)
	await pool.init(config.envKeys)

	const client = new AssemblyClient(
		{ fetch: upstreamFetch, pool, catalog, log, recorder: usageStats, now },
		{
			endpoint: config.upstream.endpoint,
			timeoutMs: config.upstream.timeoutMs,
			retryEnabled: config.pool.retryEnabled,
			maxRetries: config.pool.maxRetries,
			retryIntervalMs: config.pool.retryIntervalMs,
			modelRegion: config.upstream.modelRegion,
		},
	)
	const adminAuth = new AdminAuth({ panel: passwords.panel, sessionSecret: passwords.sessionSecret, now })
	const selectedModels = async () => {
		const selection = (await storage.loadSettings()).available_models_selected
		return Array.isArray(selection) && selection.length ? selection.filter((m): m is string => typeof m === 'string') : null
	}

	const app = new Elysia({ name: 'amb2api' })
		.use(errorHandler(log))
		.use(requestLog(log))
		.get('/', ({ redirect }) => redirect('/ui'), { detail: { hide: true } })
		.use(health({ storage, version: VERSION }))
		.use(docs({ version: VERSION }))
		.use(openaiRouter({ client, catalog, auth: clientKeys, selectedModels }))
		.use(admin({ auth: adminAuth, pool, storage }))
		.use(usageAdmin({ auth: adminAuth, stats: usageStats, pool, now, clients: () => clientKeys.list() }))
		.use(quotaAdmin({ auth: adminAuth, quota: dailyQuota, pool, now }))
		.use(clientAdmin({ auth: adminAuth, clients: clientKeys }))
		.use(panel({ auth: adminAuth, pool, storage }))

	let closed = false
	const close = async () => {
		if (closed) return
		closed = true
		// Usage counters are written in the background: let the last ones land first.
		await usageStats.flush()
		await storage.close()
		flush()
	}
	return { app: app as unknown as Elysia, config, storage, pool, log, secrets, ring, close }
}
