/** The key pool: which key serves a request, learned rate windows, rotation, bans; /admin/keys and /admin/rate-limits. */
import { bool, codeList, ConfigError, int, type Parser, seconds, secret, spec } from '../../core/config.ts'
import { definePlugin } from '../../core/plugin.ts'
import { keysAdmin } from './admin-routes.ts'
import { keyList } from './key-format.ts'
import { KeyPool } from './key-pool.ts'
import type { KeySelection } from './key-ranking.ts'
import { KeyRecords } from './key-records.ts'
import { loadSecretsKey } from './secrets-key.ts'

declare module '../../core/plugin.ts' {
	interface Services {
		pool: KeyPool
	}
}

const keySelection: Parser<KeySelection> = (raw, name) => {
	const value = raw.trim().toLowerCase()
	if (value === 'round_robin' || value === 'fill_first' || value === 'random') return value
	throw new ConfigError(`${name}=${JSON.stringify(raw)}: must be round_robin, fill_first or random`)
}

export const plugin = definePlugin({
	name: 'rate-limits',
	description: 'the key pool: per-key, per-model rate windows from X-RateLimit-*, rotation, cooldowns and bans',
	optional: false,
	needs: ['storage', 'log', 'now', 'secrets', 'adminAuth', 'settingsWatch', 'print'],
	provides: ['pool'],
	settings: {
		keys: spec<string[]>('ASSEMBLY_API_KEYS', keyList, [], 'upstream keys, comma separated; one pool with keys added through /admin/keys', undefined, {
			secret: true,
		}),
		callsPerRotation: spec(
			'CALLS_PER_ROTATION',
			int(1, 1_000_000),
			100,
			'consecutive requests one key serves before round robin moves on',
			'calls_per_rotation',
		),
		keySelection: spec<KeySelection>(
			'KEY_SELECTION',
			keySelection,
			'round_robin',
			'order for requests without a stable prompt prefix: round_robin (CALLS_PER_ROTATION each), fill_first or random',
			'key_selection',
		),
		promptCacheAffinity: spec(
			'PROMPT_CACHE_AFFINITY',
			bool,
			true,
			"requests with the same stable prompt prefix (or prompt_cache_key) prefer the same key while it has headroom, so the provider's prompt cache stays warm",
			'prompt_cache_affinity',
		),
		autoBan: spec('AUTO_BAN', bool, false, 'ban a key the upstream refuses with one of AUTO_BAN_ERROR_CODES', 'auto_ban_enabled'),
		autoBanCodes: spec<number[]>(
			'AUTO_BAN_ERROR_CODES',
			codeList,
			[401, 403],
			"upstream statuses that ban a key when AUTO_BAN is on (never the client's own 4xx, nor one model's missing access)",
			'auto_ban_error_codes',
		),
		secretsKey: spec<string | null>(
			'SECRETS_KEY',
			secret,
			null,
			'encrypts stored upstream keys (AES-256-GCM): 32 bytes, base64 or hex; generated into CREDENTIALS_DIR/secrets.key when unset with file storage; required on every instance with a shared backend',
			undefined,
			{ secret: true },
		),
		secretsKeyPrevious: spec<string | null>(
			'SECRETS_KEY_PREVIOUS',
			secret,
			null,
			'the SECRETS_KEY before a rotation: keys it encrypted are read and rewritten under SECRETS_KEY',
			undefined,
			{ secret: true },
		),
		maxWait: spec(
			'RATE_LIMIT_MAX_WAIT',
			seconds(0, 600),
			5,
			'when every key is at its limit, wait for a reset at most this many seconds, else 429',
			'rate_limit_max_wait',
		),
	},
	setup: async ({ services, settings, config }) => {
		for (const key of settings.keys) services.secrets.add(key)
		for (const key of [settings.secretsKey, settings.secretsKeyPrevious]) if (key) services.secrets.add(key.trim(), '[redacted]')
		const box = await loadSecretsKey({ current: settings.secretsKey, previous: settings.secretsKeyPrevious, storage: services.storage, print: services.print })
		const records = new KeyRecords(box, services.log)
		const options = {
			callsPerRotation: settings.callsPerRotation,
			selection: settings.keySelection,
			affinity: settings.promptCacheAffinity,
			autoBan: settings.autoBan,
			autoBanCodes: settings.autoBanCodes,
			maxWaitMs: settings.maxWait * 1000,
			probeTtlMs: config.upstream.timeoutMs,
		}
		const pool = new KeyPool(
			{ storage: services.storage, log: services.log, now: services.now, onSecret: (key) => services.secrets.add(key), records },
			options,
		)
		// Stored settings changed (any instance): `settings` is already updated in place.
		services.settingsWatch.onChange(() =>
			Object.assign(options, {
				callsPerRotation: settings.callsPerRotation,
				selection: settings.keySelection,
				affinity: settings.promptCacheAffinity,
				autoBan: settings.autoBan,
				autoBanCodes: settings.autoBanCodes,
				maxWaitMs: settings.maxWait * 1000,
			}),
		)
		await pool.init(settings.keys)
		return { services: { pool }, routes: keysAdmin({ auth: services.adminAuth, pool }), close: () => pool.close() }
	},
})
