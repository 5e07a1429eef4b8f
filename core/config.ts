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

export class ConfigError extends Error {
	override readonly name = 'ConfigError'
}

export type Env = Record<string, string | undefined>

export type LogLevel = 'debug' | 'info' | 'warning' | 'error'
export type StorageChoice = 'redis' | 'postgres' | 'mongodb' | 'file'
export type SettingSource = 'env' | 'stored' | 'default'

const DEFAULT_ENDPOINT = 'https://llm-gateway.assemblyai.com/v1/chat/completions'

/** Parses `.env` text: `KEY=value`, optional `export `, quotes, `#` comments. */
export function parseDotenv(text: string): Env {
	const out: Env = {}
	for (const rawLine of text.split(/\r?\n/)) {
		const line = rawLine.trim()
		if (!line || line.startsWith('#')) continue
		const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line)
		if (!match) continue
		let value = match[2]
		const quote = value[0]
		if ((quote === '"' || quote === "'") && value.length >= 2 && value.endsWith(quote)) {
			value = value.slice(1, -1)
			if (quote === '"') value = value.replace(/\\n/g, '\n').replace(/\\"/g, '"')
		} else {
			value = value.replace(/\s+#.*$/, '')
		}
		out[match[1]] = value
	}
	return out
}

/** Real environment variables win over the `.env` file. */
export function mergeEnv(dotenv: Env, real: Env): Env {
	return { ...dotenv, ...real }
}

// ---- typed parsers: each throws a message without the value when the value is secret ----

type Parser<T> = (raw: string, name: string) => T

const fail = (name: string, raw: string, expected: string, secret = false): never => {
	throw new ConfigError(`${name}${secret ? '' : `=${JSON.stringify(raw)}`}: ${expected}`)
}

const str: Parser<string> = (raw) => raw.trim()
const secret: Parser<string> = (raw, name) => (raw.length ? raw : fail(name, raw, 'must not be empty', true))

const int =
	(min: number, max: number): Parser<number> =>
	(raw, name) => {
		const trimmed = raw.trim()
		if (!/^-?\d+$/.test(trimmed)) return fail(name, raw, `must be an integer between ${min} and ${max}`)
		const value = Number(trimmed)
		return value < min || value > max ? fail(name, raw, `must be an integer between ${min} and ${max}`) : value
	}

const seconds =
	(min: number, max: number): Parser<number> =>
	(raw, name) => {
		const value = Number(raw.trim())
		if (!raw.trim() || !Number.isFinite(value) || value < min || value > max) {
			return fail(name, raw, `must be a number of seconds between ${min} and ${max}`)
		}
		return value
	}

const bool: Parser<boolean> = (raw, name) => {
	const value = raw.trim().toLowerCase()
	if (['true', '1', 'yes', 'on'].includes(value)) return true
	if (['false', '0', 'no', 'off'].includes(value)) return false
	return fail(name, raw, 'must be true or false')
}

const url: Parser<string> = (raw, name) => {
	try {
		const parsed = new URL(raw.trim())
		if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error()
		return raw.trim()
	} catch {
		return fail(name, raw, 'must be an http(s) URL')
	}
}

const keyList: Parser<string[]> = (raw) => [...new Set(raw.split(/[,\s]+/).map((k) => k.trim()).filter(Boolean))]

const codeList: Parser<number[]> = (raw, name) =>
	raw
		.split(',')
		.map((part) => part.trim())
		.filter(Boolean)
		.map((part) => int(100, 599)(part, name))

const logLevel: Parser<LogLevel> = (raw, name) => {
	const value = raw.trim().toLowerCase()
	if (value === 'warn') return 'warning'
	if (value === 'debug' || value === 'info' || value === 'warning' || value === 'error') return value
	return fail(name, raw, 'must be one of debug, info, warning, error')
}

// ---- the settings table: env name, stored field, parser, default ----

interface SettingSpec<T> {
	env: string
	/** Field in stored settings; absent = environment only (bootstrap settings). */
	stored?: string
	parse: Parser<T>
	fallback: T
}

const spec = <T>(env: string, parse: Parser<T>, fallback: T, stored?: string): SettingSpec<T> => ({ env, parse, fallback, stored })

export const SETTINGS = {
	host: spec('HOST', str, '0.0.0.0'),
	port: spec('PORT', int(1, 65535), 7861),
	apiPassword: spec<string | null>('API_PASSWORD', secret, null),
	panelPassword: spec<string | null>('PANEL_PASSWORD', secret, null),
	password: spec<string | null>('PASSWORD', secret, null),
	endpoint: spec('ASSEMBLY_ENDPOINT', url, DEFAULT_ENDPOINT, 'assembly_endpoint'),
	keys: spec<string[]>('ASSEMBLY_API_KEYS', keyList, []),
	redisUri: spec<string | null>('REDIS_URI', str, null),
	redisPrefix: spec('REDIS_PREFIX', str, 'AMB2API'),
	postgresDsn: spec<string | null>('POSTGRES_DSN', str, null),
	mongoUri: spec<string | null>('MONGODB_URI', str, null),
	mongoDatabase: spec('MONGODB_DATABASE', str, 'amb2api'),
	credentialsDir: spec('CREDENTIALS_DIR', str, './creds'),
	callsPerRotation: spec('CALLS_PER_ROTATION', int(1, 1_000_000), 100, 'calls_per_rotation'),
	retryEnabled: spec('RETRY_429_ENABLED', bool, true, 'retry_429_enabled'),
	maxRetries: spec('RETRY_429_MAX_RETRIES', int(0, 100), 5, 'retry_429_max_retries'),
	retryInterval: spec('RETRY_429_INTERVAL', seconds(0, 600), 1, 'retry_429_interval'),
	autoBan: spec('AUTO_BAN', bool, false, 'auto_ban_enabled'),
	autoBanCodes: spec<number[]>('AUTO_BAN_ERROR_CODES', codeList, [401, 403], 'auto_ban_error_codes'),
	rateLimitWait: spec('RATE_LIMIT_MAX_WAIT', seconds(0, 600), 5, 'rate_limit_max_wait'),
	dailyRequestLimit: spec('DAILY_REQUEST_LIMIT', int(0, 1_000_000_000), 1000, 'daily_request_limit'),
	upstreamTimeout: spec('UPSTREAM_TIMEOUT', seconds(1, 3600), 300, 'upstream_timeout'),
	modelsCacheTtl: spec('MODELS_CACHE_TTL', seconds(0, 86_400), 600, 'models_cache_ttl'),
	modelRegion: spec<string | null>('MODEL_REGION', str, null, 'model_region'),
	logLevel: spec<LogLevel>('LOG_LEVEL', logLevel, 'info', 'log_level'),
	logFile: spec('LOG_FILE', str, 'log.txt'),
	proxy: spec<string | null>('PROXY', url, null, 'proxy'),
	overrideEnv: spec('CONFIG_OVERRIDE_ENV', bool, true),
} as const

type SettingName = keyof typeof SETTINGS
type SettingValue<N extends SettingName> = (typeof SETTINGS)[N] extends SettingSpec<infer T> ? T : never

/** Settings the panel and admin API may store (field -> setting). */
export const STORABLE_FIELDS: Record<string, SettingName> = Object.fromEntries(
	(Object.entries(SETTINGS) as [SettingName, SettingSpec<unknown>][])
		.filter(([, s]) => s.stored)
		.map(([name, s]) => [s.stored as string, name]),
)

export interface Config {
	host: string
	port: number
	/** Plain passwords from env or stored config, null when none is configured yet. */
	secrets: { apiPassword: string | null; panelPassword: string | null }
	upstream: {
		endpoint: string
		modelsUrl: string
		timeoutMs: number
		proxy: string | null
		modelRegion: string | null
		modelsCacheTtlMs: number
	}
	/** Upstream keys from ASSEMBLY_API_KEYS. */
	envKeys: string[]
	storage: {
		kind: StorageChoice
		redisUri: string | null
		redisPrefix: string
		postgresDsn: string | null
		mongoUri: string | null
		mongoDatabase: string
		credentialsDir: string
	}
	pool: {
		callsPerRotation: number
		retryEnabled: boolean
		maxRetries: number
		retryIntervalMs: number
		autoBan: boolean
		autoBanCodes: number[]
		maxWaitMs: number
	}
	/** Daily quotas of upstream keys. */
	quotas: {
		/** Requests per key and usage day (07:00 UTC to 07:00 UTC) unless the key has its own limit; 0 = unlimited. */
		dailyRequestLimit: number
	}
	log: { level: LogLevel; file: string }
	overrideEnv: boolean
	/** Where each setting came from, so the panel can show which ones the environment locks. */
	sources: Record<string, SettingSource>
}

function raw(env: Env, name: string): string | undefined {
	const value = env[name]
	return value === undefined || value === '' ? undefined : value
}

/**
 * Resolves every setting. `stored` is the stored settings document (may be empty on first start
 * or before the storage backend is open).
 */
export function resolveConfig(env: Env, stored: Record<string, unknown> = {}): Config {
	const overrideEnv = raw(env, 'CONFIG_OVERRIDE_ENV') === undefined ? true : bool(env.CONFIG_OVERRIDE_ENV as string, 'CONFIG_OVERRIDE_ENV')
	const sources: Record<string, SettingSource> = {}

	const pick = <N extends SettingName>(name: N): SettingValue<N> => {
		const s = SETTINGS[name] as SettingSpec<SettingValue<N>>
		const envRaw = raw(env, s.env)
		const fromEnv = envRaw === undefined ? undefined : s.parse(envRaw, s.env)
		let fromStored: SettingValue<N> | undefined
		if (s.stored && stored[s.stored] !== undefined && stored[s.stored] !== null) {
			const value = stored[s.stored]
			// Stored values are typed JSON; strings go through the same parser as the environment.
			fromStored = (typeof value === 'string' ? s.parse(value, `stored setting ${s.stored}`) : value) as SettingValue<N>
		}
		const order: [SettingSource, SettingValue<N> | undefined][] = overrideEnv
			? [['env', fromEnv], ['stored', fromStored]]
			: [['stored', fromStored], ['env', fromEnv]]
		for (const [source, value] of order) {
			if (value !== undefined) {
				sources[s.env] = source
				return value
			}
		}
		sources[s.env] = 'default'
		return s.fallback
	}

	const password = pick('password')
	const endpoint = pick('endpoint')
	const redisUri = pick('redisUri')
	const postgresDsn = pick('postgresDsn')
	const mongoUri = pick('mongoUri')
	const kind: StorageChoice = redisUri ? 'redis' : postgresDsn ? 'postgres' : mongoUri ? 'mongodb' : 'file'

	const config: Config = {
		host: pick('host'),
		port: pick('port'),
		secrets: {
			apiPassword: pick('apiPassword') ?? password,
			panelPassword: pick('panelPassword') ?? password,
		},
		upstream: {
			endpoint,
			modelsUrl: deriveModelsUrl(endpoint),
			timeoutMs: pick('upstreamTimeout') * 1000,
			proxy: pick('proxy'),
			modelRegion: pick('modelRegion'),
			modelsCacheTtlMs: pick('modelsCacheTtl') * 1000,
		},
		envKeys: pick('keys'),
		storage: {
			kind,
			redisUri,
			redisPrefix: pick('redisPrefix'),
			postgresDsn,
			mongoUri,
			mongoDatabase: pick('mongoDatabase'),
			credentialsDir: pick('credentialsDir'),
		},
		pool: {
			callsPerRotation: pick('callsPerRotation'),
			retryEnabled: pick('retryEnabled'),
			maxRetries: pick('maxRetries'),
			retryIntervalMs: pick('retryInterval') * 1000,
			autoBan: pick('autoBan'),
			autoBanCodes: pick('autoBanCodes'),
			maxWaitMs: pick('rateLimitWait') * 1000,
		},
		quotas: { dailyRequestLimit: pick('dailyRequestLimit') },
		log: { level: pick('logLevel'), file: pick('logFile') },
		overrideEnv,
		sources,
	}
	return deepFreeze(config)
}

/** The catalog URL: `/chat/completions` replaced by `/models`. */
export function deriveModelsUrl(endpoint: string): string {
	return endpoint.replace(/\/chat\/completions\/?$/, '/models')
}

function deepFreeze<T>(value: T): T {
	if (value && typeof value === 'object') {
		for (const inner of Object.values(value)) deepFreeze(inner)
		Object.freeze(value)
	}
	return value
}
