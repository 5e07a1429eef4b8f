import { describe, expect, test } from 'bun:test'
import { ConfigError, mergeEnv, parseDotenv, resolveConfig, resolveSettings } from '../../core/config.ts'
import { deriveModelsUrl, plugin as assemblyClient } from '../../plugins/assembly-client/plugin.ts'
import { plugin as rateLimits } from '../../plugins/rate-limits/plugin.ts'
import { plugin as redis } from '../../plugins/storage-redis/plugin.ts'
import { plugin as file } from '../../plugins/storage-file/plugin.ts'

/** The settings of the key pool and the upstream client, resolved as the kernel does. */
const pool = (env: Record<string, string>, stored: Record<string, unknown> = {}, sources = {}) => ({
	...resolveSettings(rateLimits.settings!, env, stored, sources),
	...resolveSettings(assemblyClient.settings!, env, stored, sources),
})

describe('config', () => {
	test('defaults follow the documented contract', () => {
		const c = resolveConfig({})
		expect(c.host).toBe('0.0.0.0')
		expect(c.port).toBe(7861)
		expect(c.upstream).toEqual({ timeoutMs: 300_000, proxy: null })
		const p = pool({})
		expect(p.endpoint).toBe('https://llm-gateway.assemblyai.com/v1/chat/completions')
		expect(deriveModelsUrl(p.endpoint)).toBe('https://llm-gateway.assemblyai.com/v1/models')
		expect(resolveSettings(file.settings, {})).toEqual({ dir: './creds' })
		expect(resolveSettings(redis.settings, {})).toEqual({ uri: null, prefix: 'AMB2API' })
		expect(p).toMatchObject({ callsPerRotation: 100, retryEnabled: true, maxRetries: 5, retryInterval: 1, autoBan: false, autoBanCodes: [401, 403] })
		expect(c.log).toEqual({ level: 'info', file: 'log.txt', bodyMax: 8192, maxBytes: 20 * 1024 * 1024, backupCount: 3 })
		expect(c.secrets).toEqual({ apiPassword: null, panelPassword: null })
		expect(c.overrideEnv).toBe(true)
		expect(c.plugins).toEqual({ load: ['all'], disable: [] })
		expect(Object.isFrozen(c) && Object.isFrozen(c.upstream)).toBe(true)
	})

	test.each([
		['PORT', 'abc'],
		['PORT', '70000'],
		['RETRY_429_MAX_RETRIES', '-1'],
		['CALLS_PER_ROTATION', '1.5'],
		['RETRY_429_ENABLED', 'maybe'],
		['AUTO_BAN_ERROR_CODES', '401,abc'],
		['LOG_LEVEL', 'loud'],
		['ASSEMBLY_ENDPOINT', 'not a url'],
		['RETRY_429_INTERVAL', '-2'],
	])('%s=%s stops start-up with one line naming the variable', (name, value) => {
		let error: unknown
		try {
			resolveConfig({ [name]: value })
			pool({ [name]: value })
		} catch (err) {
			error = err
		}
		expect(error).toBeInstanceOf(ConfigError)
		const message = (error as Error).message
		expect(message.startsWith(name)).toBe(true)
		expect(message).not.toContain('\n')
	})

	test('the string "false" is false and typed values parse', () => {
		const env = { RETRY_429_ENABLED: 'false', AUTO_BAN: 'true', AUTO_BAN_ERROR_CODES: '401, 403, 402', RETRY_429_INTERVAL: '0.5', LOG_LEVEL: 'WARNING' }
		const c = resolveConfig(env)
		const p = pool(env)
		expect(p.retryEnabled).toBe(false)
		expect(p.autoBan).toBe(true)
		expect(p.autoBanCodes).toEqual([401, 403, 402])
		expect(p.retryInterval).toBe(0.5)
		expect(c.log.level).toBe('warning')
	})

	test('PASSWORD is the fallback for both passwords, never an override', () => {
		expect(resolveConfig({ PASSWORD: 'shared-secret' }).secrets).toEqual({ apiPassword: 'shared-secret', panelPassword: 'shared-secret' })
		expect(resolveConfig({ PASSWORD: 'shared-secret', API_PASSWORD: 'api-secret' }).secrets).toEqual({
			apiPassword: 'api-secret',
			panelPassword: 'shared-secret',
		})
	})

	test('CONFIG_OVERRIDE_ENV=true: environment beats stored, stored beats defaults', () => {
		const stored = { calls_per_rotation: 7, retry_429_max_retries: 2 }
		const sources = {}
		const c = pool({ CALLS_PER_ROTATION: '3' }, stored, sources)
		expect(c.callsPerRotation).toBe(3)
		expect(c.maxRetries).toBe(2)
		expect(c.retryEnabled).toBe(true)
		expect(sources).toMatchObject({ CALLS_PER_ROTATION: 'env', RETRY_429_MAX_RETRIES: 'stored', RETRY_429_ENABLED: 'default' })
	})

	test('CONFIG_OVERRIDE_ENV=false: stored beats environment', () => {
		const sources: Record<string, string> = {}
		const c = pool({ CONFIG_OVERRIDE_ENV: 'false', CALLS_PER_ROTATION: '3' }, { calls_per_rotation: 7 }, sources)
		expect(c.callsPerRotation).toBe(7)
		expect(sources.CALLS_PER_ROTATION).toBe('stored')
	})

	test('a malformed stored value is named as a stored setting', () => {
		expect(() => pool({}, { calls_per_rotation: 'lots' })).toThrow(/stored setting calls_per_rotation/)
	})

	test('a secret never appears in a config error', () => {
		expect(() => resolveConfig({ PORT: 'x', API_PASSWORD: 'hunter2-very-secret' })).toThrow(ConfigError)
		try {
			resolveConfig({ PORT: 'x', API_PASSWORD: 'hunter2-very-secret' })
		} catch (err) {
			expect(String(err)).not.toContain('hunter2')
		}
	})

	test('ASSEMBLY_API_KEYS: comma separated, trimmed, de-duplicated', () => {
		expect(pool({ ASSEMBLY_API_KEYS: ' k1,k2 , k1,,k3' }).keys).toEqual(['k1', 'k2', 'k3'])
	})

	test('.env parsing, real environment wins', () => {
		const dotenv = parseDotenv('# comment\nPORT=8000\nexport API_PASSWORD="quoted value"\nLOG_LEVEL=debug # trailing\nEMPTY=\n')
		expect(dotenv).toEqual({ PORT: '8000', API_PASSWORD: 'quoted value', LOG_LEVEL: 'debug', EMPTY: '' })
		expect(mergeEnv(dotenv, { PORT: '9000' }).PORT).toBe('9000')
	})

	test('models URL is derived from the chat endpoint', () => {
		expect(deriveModelsUrl('https://llm-gateway.eu.assemblyai.com/v1/chat/completions')).toBe('https://llm-gateway.eu.assemblyai.com/v1/models')
	})
})

describe('the .env file at start', () => {
	test('is read from the working directory, under the real environment', async () => {
		const { readEnvironment } = await import('../../core/env-file.ts')
		const dir = (await import('node:fs')).mkdtempSync(`${(await import('node:os')).tmpdir()}/amb2api-env-`)
		const file = `${dir}/.env`
		await Bun.write(file, 'PORT=8123\nLOG_LEVEL=debug\n')
		expect(readEnvironment({ LOG_LEVEL: 'error' }, file)).toMatchObject({ PORT: '8123', LOG_LEVEL: 'error' })
		expect(readEnvironment({ A: '1' }, `${dir}/missing.env`)).toEqual({ A: '1' })
	})
})
