/**
 * The kernel: reads configuration, finds the plugins (plugins/<name>/plugin.ts), opens the
 * configured storage plugin, orders the others by what they need, calls each one's setup once
 * and composes the routes and services they return. It never listens (core/main.ts does, for
 * Bun; main.deno.ts for Deno), imports no plugin and holds no feature logic.
 *
 * `buildApp` takes the environment rather than a finished config because stored settings take
 * part in the precedence rule, and they can only be read once storage is open.
 */
import { type AnyElysia, Elysia } from 'elysia'
import { type Config, ConfigError, CORE_SETTINGS, type Env, resolveConfig, resolveSettings, type SettingSource } from './config.ts'
import { bodyLimit, limitRequestBodies } from './body-limit.ts'
import { errorHandler } from './error-handler.ts'
import { createLogger, type Logger, type LogRing, type SecretRegistry } from './log.ts'
import { ensureSecrets, samePasswordWarning } from './passwords.ts'
import { type AnyPlugin, isStoragePlugin, type Plugin, type Services, type StoragePlugin } from './plugin.ts'
import { discoverPlugins } from './plugin-registry.ts'
import { requestIds } from './request-id.ts'
import { RequestObservers, requestLog } from './request-log.ts'
import { type SettingEntry, SettingsCatalog } from './settings-catalog.ts'
import { SettingsWatch } from './settings-watch.ts'
import type { Storage } from './storage.ts'
import { withResilience } from './storage-resilient.ts'

export const VERSION = '0.1.0'

export interface AppDeps {
	/** An already open storage backend (tests); otherwise the configured storage plugin opens one. */
	storage?: Storage
	/** The upstream `fetch` (tests hand in the fake gateway's). Default: fetch, through PROXY when set. */
	fetch?: typeof fetch
	/** Wraps fetch with a proxy (the Bun entry knows how; web-standard fetch has no proxy option). */
	proxyFetch?: (proxy: string) => typeof fetch
	now?: () => number
	/** Where generated passwords are printed, once. @default console.log */
	print?: (line: string) => void
	/** Logger options for tests: no stdout, no file, extra capture. */
	log?: { stdout?: boolean; file?: string | null; extra?: { write(line: string): void } }
	/** The plugins to choose from. Default: every plugin under plugins/. Tests add their own. */
	plugins?: readonly AnyPlugin[]
}

export interface Gateway {
	/** The composed app: `app.handle(request)` for tests. */
	app: AnyElysia
	/** What a server calls: `app.fetch` with bodies without Content-Length counted against MAX_BODY_SIZE. */
	fetch: (request: Request) => Response | Promise<Response>
	config: Config
	storage: Storage
	/** Every service the loaded plugins provide (`services.pool`, `services.usage`, ...). */
	services: Partial<Services>
	/** Names of the loaded plugins, in load order. */
	plugins: string[]
	log: Logger
	secrets: SecretRegistry
	ring: LogRing
	/** Closes plugins in reverse order, then flushes and closes storage. */
	close(): Promise<void>
}

/** Which plugins the configuration turns on: PLUGINS (default all), less DISABLE_PLUGINS. */
export function selectPlugins(all: readonly AnyPlugin[], config: Config): AnyPlugin[] {
	const byName = new Map(all.map((p) => [p.name, p]))
	for (const name of [...config.plugins.load, ...config.plugins.disable]) {
		if (name !== 'all' && !byName.has(name)) throw new ConfigError(`PLUGINS/DISABLE_PLUGINS: unknown plugin ${name} (known: ${[...byName.keys()].join(', ')})`)
	}
	const wanted = config.plugins.load.includes('all') ? new Set(byName.keys()) : new Set(config.plugins.load)
	for (const name of config.plugins.disable) {
		const plugin = byName.get(name) as AnyPlugin
		if (!isStoragePlugin(plugin) && !plugin.optional) throw new ConfigError(`DISABLE_PLUGINS: ${name} cannot be turned off (${plugin.description})`)
		wanted.delete(name)
	}
	// Required plugins are always on; storage plugins are chosen by their own settings.
	for (const plugin of all) if (isStoragePlugin(plugin) || !plugin.optional) wanted.add(plugin.name)
	return all.filter((p) => wanted.has(p.name))
}

/** Plugins ordered so each comes after the providers of what it needs and uses; a missing need is one line. */
export function orderPlugins(plugins: readonly Plugin[], known: readonly AnyPlugin[], present: ReadonlySet<string>): Plugin[] {
	const provider = new Map<string, Plugin>()
	for (const p of plugins) for (const s of p.provides ?? []) provider.set(s, p)
	const ordered: Plugin[] = []
	const state = new Map<Plugin, 'visiting' | 'done'>()
	const visit = (p: Plugin, chain: string[]) => {
		if (state.get(p) === 'done') return
		if (state.get(p) === 'visiting') throw new ConfigError(`plugins need each other in a cycle: ${[...chain, p.name].join(' -> ')}`)
		state.set(p, 'visiting')
		for (const need of p.needs ?? []) {
			if (present.has(need)) continue
			const from = provider.get(need)
			if (!from) {
				const off = known.find((k) => !isStoragePlugin(k) && (k.provides ?? []).includes(need as never))
				throw new ConfigError(
					off
						? `plugin ${p.name} needs "${need}", which plugin ${off.name} provides, but ${off.name} is turned off (PLUGINS / DISABLE_PLUGINS)`
						: `plugin ${p.name} needs "${need}", which no plugin provides`,
				)
			}
			visit(from, [...chain, p.name])
		}
		for (const use of p.uses ?? []) {
			const from = provider.get(use)
			if (from) visit(from, [...chain, p.name])
		}
		state.set(p, 'done')
		ordered.push(p)
	}
	for (const p of plugins) visit(p, [])
	return ordered
}

/** The configured storage plugin: the first, by priority, that its settings say is configured. */
function chooseStorage(storagePlugins: StoragePlugin[], env: Env) {
	for (const plugin of [...storagePlugins].sort((a, b) => a.priority - b.priority)) {
		const settings = resolveSettings(plugin.settings, env)
		if (plugin.configured(settings)) return { plugin, settings }
	}
	throw new ConfigError('no storage plugin is configured (the file backend should always be)')
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
		rotation: { maxBytes: bootConfig.log.maxBytes, backupCount: bootConfig.log.backupCount },
	})

	const all = deps.plugins ?? (await discoverPlugins())
	const selected = selectPlugins(all, bootConfig)
	const chosen = chooseStorage(selected.filter(isStoragePlugin), env)
	let storage: Storage
	if (deps.storage) storage = deps.storage
	else {
		const backend = await chosen.plugin.open(chosen.settings, { now, env })
		storage = chosen.plugin.shared
			? withResilience(backend, {
					onDown: (err: Error) => log.error({ backend: backend.kind, err: err.message }, 'storage backend unreachable; serving from memory until it returns'),
					onUp: () => log.warn({ backend: backend.kind }, 'storage backend is back; pending changes replayed'),
					onEmpty: (restored) =>
						log.error(
							{ backend: backend.kind, restored },
							'storage backend came back without its data; this instance wrote what it held in memory back (see docs/storage-recovery.md)',
						),
					now,
					timeoutMs: resolveSettings(CORE_SETTINGS, env).storageTimeout,
				})
			: backend
	}

	const closers: (() => Promise<void> | void)[] = []
	try {
		const stored = await storage.loadSettings()
		const config = resolveConfig(env, stored)
		if (config.log.level !== bootConfig.log.level) log.level = config.log.level === 'warning' ? 'warn' : config.log.level
		for (const secret of [config.secrets.apiPassword, config.secrets.panelPassword]) secrets.add(secret, '[redacted]')
		const print = deps.print ?? ((line: string) => console.log(line))
		const passwords = await ensureSecrets(config, storage, stored, print)
		const shared = samePasswordWarning(config)
		if (shared) log.warn(shared)

		const upstreamFetch = deps.fetch ?? (config.upstream.proxy && deps.proxyFetch ? deps.proxyFetch(config.upstream.proxy) : fetch)
		const requests = new RequestObservers()
		const services: Partial<Services> = { storage, log, secrets, ring, now, upstreamFetch, passwords, version: VERSION, requests, print }
		const plugins = orderPlugins(
			selected.filter((p): p is Plugin => !isStoragePlugin(p)),
			all,
			new Set([...Object.keys(services), 'settings', 'settingsWatch']),
		)
		const loaded = [chosen.plugin.name, ...plugins.map((p) => p.name)]

		// Every loaded plugin's settings, resolved by the one precedence rule; the catalog serves the panel.
		const sources: Record<string, SettingSource> = { ...config.sources }
		const entries: SettingEntry[] = []
		const core = resolveSettings(CORE_SETTINGS, env, stored) as Record<string, unknown>
		for (const [key, spec] of Object.entries(CORE_SETTINGS)) entries.push({ owner: 'core', spec, value: core[key] })
		const settingsOf = new Map<string, Record<string, unknown>>()
		for (const p of [chosen.plugin, ...plugins]) {
			const table = p.settings ?? {}
			const values = resolveSettings(table, env, stored, sources) as Record<string, unknown>
			settingsOf.set(p.name, values)
			for (const [key, spec] of Object.entries(table)) entries.push({ owner: p.name, spec, value: values[key] })
		}
		services.settings = new SettingsCatalog(entries, sources, config)
		// Stored settings changed by any instance: re-resolved here, every plugin's settings object updated in place.
		const watch = new SettingsWatch({ storage, catalog: services.settings, env, sources, log }, stored)
		watch.onChange((fresh) => {
			for (const p of [chosen.plugin, ...plugins]) Object.assign(settingsOf.get(p.name) ?? {}, resolveSettings(p.settings ?? {}, env, fresh))
			const level = resolveSettings(CORE_SETTINGS, env, fresh).logLevel
			log.level = level === 'warning' ? 'warn' : level
		})
		services.settingsWatch = watch
		closers.push(() => watch.stop())

		// Route on the path alone: Elysia's default fast path assumes a host of at least 4
		// characters and cut `http://gw/v1/admin/keys` to `/admin/keys`.
		// Our servers (core/main.ts, main.deno.ts) speak plain http, so the path starts after `http://`.
		// Paths whose routes bound their own bodies (plugins name them in setup, before any request).
		const ownBodyLimit = new Set<string>()
		let app: AnyElysia = new Elysia({ name: 'amb2api', handler: { standardHostname: false } })
			.use(requestIds())
			.use(errorHandler(log, secrets))
			.use(bodyLimit(config.limits.maxBodyBytes, ownBodyLimit))
			.use(requestLog(log, requests))
		for (const plugin of plugins) {
			const parts = await plugin.setup({ services: services as Services, settings: settingsOf.get(plugin.name) ?? {}, config, env, loaded })
			for (const name of plugin.provides ?? []) {
				const service = (parts.services as Record<string, unknown> | undefined)?.[name]
				if (service === undefined) throw new Error(`plugin ${plugin.name} promised "${name}" but its setup did not return it`)
				;(services as Record<string, unknown>)[name] = service
			}
			if (parts.close) closers.push(parts.close)
			for (const path of parts.ownBodyLimit ?? []) ownBodyLimit.add(path)
			if (parts.routes) app = app.use(parts.routes)
		}

		watch.start()
		let closed = false
		const close = async () => {
			if (closed) return
			closed = true
			for (const closer of closers.reverse()) await closer()
			await storage.close()
			flush()
		}
		const serverFetch = limitRequestBodies(app.fetch as (request: Request) => Response | Promise<Response>, config.limits.maxBodyBytes, ownBodyLimit)
		return { app, fetch: serverFetch, config, storage, services, plugins: loaded, log, secrets, ring, close }
	} catch (err) {
		for (const closer of closers.reverse()) await closer()
		if (!deps.storage) await storage.close().catch(() => {})
		flush()
		throw err
	}
}
