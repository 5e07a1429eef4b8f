/**
 * The plugin contract. A plugin says what it is, what it needs, what it provides and which
 * settings it reads; the kernel loads the configured ones, orders them by their needs, calls
 * `setup` once each, and composes the routes and services they return.
 *
 * Services are typed by declaration merging: a plugin that provides `pool` adds
 *
 *   declare module '../../core/plugin.ts' { interface Services { pool: KeyPool } }
 *
 * so every plugin that names `pool` in `needs` gets it with its real type, and the kernel stays
 * ignorant of what a key pool is.
 */
import type { AnyElysia } from 'elysia'
import type { Config, Env, SettingSpec } from './config.ts'
import type { Logger, LogRing, SecretRegistry } from './log.ts'
import type { PanelSecrets } from './passwords.ts'
import type { RequestObservers } from './request-log.ts'
import type { Storage } from './storage.ts'

/** What every plugin can need: the kernel's own services. Plugins add theirs by declaration merging. */
export interface Services {
	storage: Storage
	log: Logger
	/** Every secret registered here is scrubbed from every log line. */
	secrets: SecretRegistry
	/** The last log lines, newest last (the panel's log view). */
	ring: LogRing
	/** The clock (tests move it). */
	now: () => number
	/** `fetch` for upstream calls (honours PROXY; tests hand in the fake gateway's). */
	upstreamFetch: typeof fetch
	/** The API and panel password checks and the session secret. */
	passwords: PanelSecrets
	version: string
	/** Every finished request (method, route, status, latency), for whoever counts them. */
	requests: RequestObservers
	/** Prints to the console, never to the log: for a generated secret shown once (tests capture it). */
	print: (line: string) => void
}

export type ServiceName = keyof Services

// biome-ignore lint/suspicious/noExplicitAny: a table of specs of any value type
export type SettingsTable = Record<string, SettingSpec<any>>
export type ResolvedSettings<T extends SettingsTable> = { readonly [K in keyof T]: T[K] extends SettingSpec<infer V> ? V : never }

export interface PluginContext<N extends ServiceName, U extends ServiceName, S extends SettingsTable> {
	/** What the plugin needs (always present) and what it may use (present when its provider is loaded). */
	services: Pick<Services, N> & Partial<Pick<Services, U>>
	/** The plugin's own settings, resolved by the same precedence rule as every other. */
	settings: ResolvedSettings<S>
	/** The kernel's settings (listen address, log, passwords, upstream timeout, ...). */
	config: Config
	env: Env
	/** The plugins loaded in this app, so a plugin can say what is on (the panel shows it). */
	loaded: readonly string[]
}

export interface PluginParts<P extends ServiceName> {
	/** Routes to mount, in load order. */
	routes?: AnyElysia
	/** The services named in `provides`. */
	services?: Pick<Services, P>
	/** Called on shutdown, in reverse load order. */
	close?: () => Promise<void> | void
	/**
	 * Paths whose routes bound their request bodies themselves (an audio upload larger than
	 * MAX_BODY_SIZE): the kernel's MAX_BODY_SIZE checks leave them alone.
	 */
	ownBodyLimit?: readonly string[]
}

export interface Plugin<
	N extends ServiceName = ServiceName,
	U extends ServiceName = ServiceName,
	P extends ServiceName = ServiceName,
	S extends SettingsTable = SettingsTable,
> {
	name: string
	/** One line: what the plugin does (README, panel, start-up errors). */
	description: string
	/** May be turned off with DISABLE_PLUGINS. Required plugins refuse to be. */
	optional: boolean
	needs?: readonly N[]
	/** Optional needs: used when a loaded plugin provides them, ignored otherwise. */
	uses?: readonly U[]
	provides?: readonly P[]
	/** The plugin's part of the configuration table. */
	settings?: S
	setup(ctx: PluginContext<N, U, S>): PluginParts<P> | Promise<PluginParts<P>>
}

/** Identity with inference: `export const plugin = definePlugin({ ... })`. */
export function definePlugin<
	N extends ServiceName = never,
	U extends ServiceName = never,
	P extends ServiceName = never,
	S extends SettingsTable = Record<never, never>,
>(plugin: Plugin<N, U, P, S>): Plugin<N, U, P, S> {
	return plugin
}

/**
 * A storage backend. Exactly one is loaded: the first, by `priority`, whose settings say it is
 * configured (the file backend always is). Its settings come from the environment only, since
 * stored settings live in it.
 */
export interface StoragePlugin<S extends SettingsTable = SettingsTable> {
	name: string
	description: string
	kind: 'storage'
	/** Lower is tried first: Redis 10, PostgreSQL 20, MongoDB 30, files 100. */
	priority: number
	/** Shared backends get the resilience layer (serve from memory through an outage). */
	shared: boolean
	settings: S
	configured(settings: ResolvedSettings<S>): boolean
	open(settings: ResolvedSettings<S>, ctx: { now: () => number; env: Env }): Promise<Storage>
}

export function defineStorage<S extends SettingsTable>(plugin: Omit<StoragePlugin<S>, 'kind'>): StoragePlugin<S> {
	return { ...plugin, kind: 'storage' }
}

// biome-ignore lint/suspicious/noExplicitAny: the kernel handles plugins of every shape
export type AnyPlugin = Plugin<any, any, any, any> | StoragePlugin<any>

// biome-ignore lint/suspicious/noExplicitAny: narrows every storage plugin, whatever its settings
export const isStoragePlugin = (p: AnyPlugin): p is StoragePlugin<any> => 'kind' in p && p.kind === 'storage'
