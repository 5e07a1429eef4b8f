/**
 * Configuration: environment + `.env` + stored settings -> one validated, frozen object.
 *
 * Precedence is decided by one function for every setting (`pick`): with
 * `CONFIG_OVERRIDE_ENV=true` (the default) the environment beats stored config, and stored
 * config beats the defaults; with `false`, stored config beats the environment. Settings that
 * choose where config is stored (storage URLs, CREDENTIALS_DIR) and the precedence switch itself
 * come from the environment only. A malformed value stops start-up with one line naming the
 * variable; a secret's value is never part of that line.
 */
import { capText } from './log-fields.ts'

export class ConfigError extends Error {
	override readonly name = 'ConfigError'
}

export type Env = Record<string, string | undefined>

export type LogLevel = 'debug' | 'info' | 'warning' | 'error'
export type SettingSource = 'env' | 'stored' | 'default'

/** Parses `.env` text: `KEY=value`, optional `export `, quotes, `#` comments. */
export function parseDotenv(text: string): Env {
	const out: Env = {}
	for (const rawLine of text.split(/\r?\n/)) {
		const line = rawLine.trim()
		if (!line || line.startsWith('#')) continue
		const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line)
		const name = match?.[1]
		if (!match || name === undefined) continue
		let value = match[2] ?? ''
		const quote = value[0]
		if ((quote === '"' || quote === "'") && value.length >= 2 && value.endsWith(quote)) {
			value = value.slice(1, -1)
			if (quote === '"') value = value.replace(/\\n/g, '\n').replace(/\\"/g, '"')
		} else {
			value = value.replace(/\s+#.*$/, '')
		}
		out[name] = value
	}
	return out
}

/** Real environment variables win over the `.env` file. */
export function mergeEnv(dotenv: Env, real: Env): Env {
	return { ...dotenv, ...real }
}

// ---- typed parsers: each throws a message without the value when the value is secret ----

export type Parser<T> = (raw: string, name: string) => T

const fail = (name: string, raw: string, expected: string, secret = false): never => {
	// The value is quoted, but capped: a 10,000-character value is not worth an error that long.
	throw new ConfigError(`${name}${secret ? '' : `=${capText(JSON.stringify(raw), 100)}`}: ${expected}`)
}

/** One of a fixed set of values (after trimming), exactly as written. */
export const oneOf =
	<T extends string>(values: readonly T[]): Parser<T> =>
	(raw, name) => {
		// Case-insensitive: the values are lower case, OFF and Global are what people type.
		const value = raw.trim().toLowerCase()
		return (values as readonly string[]).includes(value) ? (value as T) : fail(name, raw, `must be ${values.map((v) => JSON.stringify(v)).join(' or ')}`)
	}

export const str: Parser<string> = (raw) => raw.trim()
export const secret: Parser<string> = (raw, name) => (raw.length ? raw : fail(name, raw, 'must not be empty', true))

export const int =
	(min: number, max: number): Parser<number> =>
	(raw, name) => {
		const trimmed = raw.trim()
		if (!/^-?\d+$/.test(trimmed)) return fail(name, raw, `must be an integer between ${min} and ${max}`)
		const value = Number(trimmed)
		return value < min || value > max ? fail(name, raw, `must be an integer between ${min} and ${max}`) : value
	}

export const seconds =
	(min: number, max: number): Parser<number> =>
	(raw, name) => {
		const value = Number(raw.trim())
		if (!raw.trim() || !Number.isFinite(value) || value < min || value > max) {
			return fail(name, raw, `must be a number of seconds between ${min} and ${max}`)
		}
		return value
	}

export const bool: Parser<boolean> = (raw, name) => {
	const value = raw.trim().toLowerCase()
	if (['true', '1', 'yes', 'on'].includes(value)) return true
	if (['false', '0', 'no', 'off'].includes(value)) return false
	return fail(name, raw, 'must be true or false')
}

export const url: Parser<string> = (raw, name) => {
	try {
		const parsed = new URL(raw.trim())
		if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error()
		return raw.trim()
	} catch {
		return fail(name, raw, 'must be an http(s) URL')
	}
}

/** Comma or space separated, trimmed, de-duplicated. */
export const list: Parser<string[]> = (raw) => [
	...new Set(
		raw
			.split(/[,\s]+/)
			.map((k) => k.trim())
			.filter(Boolean),
	),
]

export const codeList: Parser<number[]> = (raw, name) =>
	raw
		.split(',')
		.map((part) => part.trim())
		.filter(Boolean)
		.map((part) => int(100, 599)(part, name))

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3 }

/** A size: `16mb`, `512kb`, `1048576` (bytes); between 1 KB and 1 GB. */
export const bodySize: Parser<number> = (raw, name) => {
	const match = /^(\d+(?:\.\d+)?)\s*([kmg]?b?)$/i.exec(raw.trim())
	const unit = match ? SIZE_UNITS[(match[2] ?? '').toLowerCase()] : undefined
	const bytes = match && unit !== undefined ? Math.floor(Number(match[1]) * unit) : Number.NaN
	return Number.isFinite(bytes) && bytes >= 1024 && bytes <= 1024 ** 3 ? bytes : fail(name, raw, 'must be a size between 1kb and 1gb, e.g. 16mb')
}

const logLevel: Parser<LogLevel> = (raw, name) => {
	const value = raw.trim().toLowerCase()
	if (value === 'warn') return 'warning'
	if (value === 'debug' || value === 'info' || value === 'warning' || value === 'error') return value
	return fail(name, raw, 'must be one of debug, info, warning, error')
}

// ---- the settings table: env name, stored field, parser, default, one line of documentation ----

export interface SettingSpec<T> {
	env: string
	/** Field in stored settings; absent = environment only (bootstrap settings). */
	stored?: string
	parse: Parser<T>
	fallback: T
	/** One line for the README, .env.example and the panel. */
	doc: string
	/** Never shown: the panel and .env.example show only whether it is set. */
	secret?: boolean
}

export const spec = <T>(env: string, parse: Parser<T>, fallback: T, doc: string, stored?: string, extra: { secret?: boolean } = {}): SettingSpec<T> => ({
	env,
	parse,
	fallback,
	doc,
	stored,
	...extra,
})

/** The kernel's own settings. Each plugin declares the rest in its `settings`. */
export const CORE_SETTINGS = {
	host: spec('HOST', str, '0.0.0.0', 'listen address'),
	port: spec('PORT', int(1, 65535), 7861, 'listen port'),
	apiPassword: spec<string | null>('API_PASSWORD', secret, null, 'bearer token for /v1/* (generated and printed once when unset)', undefined, { secret: true }),
	panelPassword: spec<string | null>('PANEL_PASSWORD', secret, null, 'panel login and bearer token for /admin/* (generated when unset)', undefined, {
		secret: true,
	}),
	password: spec<string | null>('PASSWORD', secret, null, 'fallback for both passwords', undefined, { secret: true }),
	upstreamTimeout: spec(
		'UPSTREAM_TIMEOUT',
		seconds(1, 3600),
		300,
		'seconds to wait for the upstream answer headers (then 504), and the longest silence inside a stream',
		'upstream_timeout',
	),
	requestTimeout: spec(
		'REQUEST_TIMEOUT',
		seconds(1, 3600),
		300,
		'seconds one client request may take, every retry included, until its answer starts (then 504)',
		'request_timeout',
	),
	maxBodySize: spec('MAX_BODY_SIZE', bodySize, 16 * 1024 * 1024, 'largest request body accepted (e.g. 16mb); larger bodies get 413'),
	maxConcurrentRequests: spec(
		'MAX_CONCURRENT_REQUESTS',
		int(1, 60_000),
		2000,
		'upstream requests (streams included) in flight at once; beyond it new chat requests get 503 with Retry-After',
	),
	storageTimeout: spec(
		'STORAGE_TIMEOUT_MS',
		int(50, 60_000),
		800,
		'milliseconds one call to a shared storage backend may take; past it the backend counts as down and the gateway serves from memory until it answers again',
	),
	logLevel: spec<LogLevel>('LOG_LEVEL', logLevel, 'info', 'debug, info, warning or error', 'log_level'),
	logFile: spec('LOG_FILE', str, 'log.txt', 'NDJSON log file (also written to stdout)'),
	logMaxBytes: spec(
		'LOG_MAX_BYTES',
		(raw, name) => (raw.trim() === '0' ? 0 : bodySize(raw, name)),
		20 * 1024 * 1024,
		'size at which LOG_FILE is rotated (renamed to LOG_FILE.1), e.g. 20mb; 0 = never',
	),
	logBackupCount: spec('LOG_BACKUP_COUNT', int(0, 100), 3, 'rotated log files kept (LOG_FILE.1 newest ... LOG_FILE.N oldest)'),
	logBodyMax: spec(
		'LOG_BODY_MAX',
		int(0, 10_000_000),
		8192,
		'characters of each request/upstream/answer body written at LOG_LEVEL=debug, scrubbed of secrets (0: no bodies)',
		'log_body_max',
	),
	proxy: spec<string | null>('PROXY', url, null, 'HTTP(S) proxy for upstream calls', 'proxy'),
	overrideEnv: spec('CONFIG_OVERRIDE_ENV', bool, true, 'true: environment variables win over stored settings; false: stored settings win'),
	plugins: spec<string[]>('PLUGINS', list, ['all'], 'plugins to load: "all" (default) or a list of names'),
	disablePlugins: spec<string[]>('DISABLE_PLUGINS', list, [], 'optional plugins to turn off, e.g. admin-panel,docs'),
} as const

export interface Config {
	host: string
	port: number
	/** Plain passwords from env or stored config, null when none is configured yet. */
	secrets: { apiPassword: string | null; panelPassword: string | null }
	upstream: { timeoutMs: number; proxy: string | null }
	/**
	 * Hardening limits: the largest request body in bytes (MAX_BODY_SIZE), chat requests in
	 * flight at once (MAX_CONCURRENT_REQUESTS), and one client request's total time until its
	 * answer starts, every retry included (REQUEST_TIMEOUT).
	 */
	limits: { maxBodyBytes: number; maxConcurrent: number; requestTimeoutMs: number }
	/** `bodyMax`: characters of each body logged at debug (0: none). */
	log: { level: LogLevel; file: string; bodyMax: number; maxBytes: number; backupCount: number }
	overrideEnv: boolean
	plugins: { load: string[]; disable: string[] }
	/** Where each setting came from (by env name), so the panel can show which ones the environment locks. */
	sources: Record<string, SettingSource>
}

function raw(env: Env, name: string): string | undefined {
	const value = env[name]
	return value === undefined || value === '' ? undefined : value
}

/** CONFIG_OVERRIDE_ENV, from the environment only (it decides the precedence itself). */
export function overridesEnv(env: Env): boolean {
	return raw(env, 'CONFIG_OVERRIDE_ENV') === undefined ? true : bool(env.CONFIG_OVERRIDE_ENV as string, 'CONFIG_OVERRIDE_ENV')
}

type Resolved<T extends Record<string, SettingSpec<unknown>>> = { -readonly [K in keyof T]: T[K] extends SettingSpec<infer V> ? V : never }

/**
 * Resolves one table of settings by the one precedence rule: with CONFIG_OVERRIDE_ENV=true the
 * environment beats stored config and stored config beats the default; with false, stored
 * beats the environment. `sources` records where each value came from.
 */
export function resolveSettings<T extends Record<string, SettingSpec<unknown>>>(
	table: T,
	env: Env,
	stored: Record<string, unknown> = {},
	sources: Record<string, SettingSource> = {},
): Resolved<T> {
	const overrideEnv = overridesEnv(env)
	const out: Record<string, unknown> = {}
	for (const [name, s] of Object.entries(table)) {
		const envRaw = raw(env, s.env)
		const fromEnv = envRaw === undefined ? undefined : s.parse(envRaw, s.env)
		let fromStored: unknown
		if (s.stored && stored[s.stored] !== undefined && stored[s.stored] !== null) {
			const value = stored[s.stored]
			// Stored values are typed JSON; strings go through the same parser as the environment.
			fromStored = typeof value === 'string' ? s.parse(value, `stored setting ${s.stored}`) : value
		}
		const order: [SettingSource, unknown][] = overrideEnv
			? [
					['env', fromEnv],
					['stored', fromStored],
				]
			: [
					['stored', fromStored],
					['env', fromEnv],
				]
		const hit = order.find(([, value]) => value !== undefined)
		sources[s.env] = hit ? hit[0] : 'default'
		out[name] = hit ? hit[1] : s.fallback
	}
	return out as Resolved<T>
}

/**
 * The kernel's settings. `stored` is the stored settings document (empty on first start or
 * before the storage backend is open).
 */
export function resolveConfig(env: Env, stored: Record<string, unknown> = {}): Config {
	const sources: Record<string, SettingSource> = {}
	const s = resolveSettings(CORE_SETTINGS, env, stored, sources)
	const config: Config = {
		host: s.host,
		port: s.port,
		secrets: { apiPassword: s.apiPassword ?? s.password, panelPassword: s.panelPassword ?? s.password },
		upstream: { timeoutMs: s.upstreamTimeout * 1000, proxy: s.proxy },
		limits: { maxBodyBytes: s.maxBodySize, maxConcurrent: s.maxConcurrentRequests, requestTimeoutMs: s.requestTimeout * 1000 },
		log: { level: s.logLevel, file: s.logFile, bodyMax: s.logBodyMax, maxBytes: s.logMaxBytes, backupCount: s.logBackupCount },
		overrideEnv: overridesEnv(env),
		plugins: { load: s.plugins, disable: s.disablePlugins },
		sources,
	}
	return deepFreeze(config)
}

export function deepFreeze<T>(value: T): T {
	if (value && typeof value === 'object') {
		for (const inner of Object.values(value)) deepFreeze(inner)
		Object.freeze(value)
	}
	return value
}
