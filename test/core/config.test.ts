import { describe, expect, test } from 'bun:test'
import { ConfigError, deriveModelsUrl, mergeEnv, parseDotenv, resolveConfig } from '../../core/config.ts'

describe('config', () => {
	test('defaults follow the documented contract', () => {
		const c = resolveConfig({})
		expect(c.host).toBe('0.0.0.0')
		expect(c.port).toBe(7861)
		expect(c.upstream.endpoint).toBe('https://llm-gateway.assemblyai.com/v1/chat/completions')
		expect(c.upstream.modelsUrl).toBe('https://llm-gateway.assemblyai.com/v1/models')
		expect(c.storage).toMatchObject({ kind: 'file', credentialsDir: './creds', redisPrefix: 'AMB2API', mongoDatabase: 'amb2api' })
		expect(c.pool).toMatchObject({ callsPerRotation: 100, retryEnabled: true, maxRetries: 5, retryIntervalMs: 1000, autoBan: false, autoBanCodes: [401, 403] })
		expect(c.log).toEqual({ level: 'info', file: 'log.txt' })
		expect(c.secrets).toEqual({ apiPassword: null, panelPassword: null })
		expect(c.overrideEnv).toBe(true)
		expect(Object.isFrozen(c) && Object.isFrozen(c.pool)).toBe(true)
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
		} catch (err) {
			error = err
		}
		expect(error).toBeInstanceOf(ConfigError)
		const message = (error as Error).message
		expect(message.startsWith(name)).toBe(true)
		expect(message).not.toContain('\n')
	})

	test('the string "false" is false and typed values parse', () => {
		const c = resolveConfig({ RETRY_429_ENABLED: 'false', AUTO_BAN: 'true', AUTO_BAN_ERROR_CODES: '401, 403, 402', RETRY_429_INTERVAL: '0.5', LOG_LEVEL: 'WARNING' })
		expect(c.pool.retryEnabled).toBe(false)
		expect(c.pool.autoBan).toBe(true)
		expect(c.pool.autoBanCodes).toEqual([401, 403, 402])
		expect(c.pool.retryIntervalMs).toBe(500)
		expect(c.log.level).toBe('warning')
	})

	test('PASSWORD is the fallback for both passwords, never an override', () => {
		expect(resolveConfig({ PASSWORD: 'shared-secret' }).secrets).toEqual({ apiPassword: 'shared-secret', panelPassword: 'shared-secret' })
		expect(resolveConfig({ PASSWORD: 'shared-secret', API_PASSWORD: 'api-secret' }).secrets).toEqual({ apiPassword: 'api-secret', panelPassword: 'shared-secret' })
	})

	test('CONFIG_OVERRIDE_ENV=true: environment beats stored, stored beats defaults', () => {
		const stored = { calls_per_rotation: 7, retry_429_max_retries: 2 }
		const c = resolveConfig({ CALLS_PER_ROTATION: '3' }, stored)
		expect(c.pool.callsPerRotation).toBe(3)
		expect(c.pool.maxRetries).toBe(2)
		expect(c.pool.retryEnabled).toBe(true)
		expect(c.sources).toMatchObject({ CALLS_PER_ROTATION: 'env', RETRY_429_MAX_RETRIES: 'stored', RETRY_429_ENABLED: 'default' })
	})

	test('CONFIG_OVERRIDE_ENV=false: stored beats environment', () => {
		const c = resolveConfig({ CONFIG_OVERRIDE_ENV: 'false', CALLS_PER_ROTATION: '3' }, { calls_per_rotation: 7 })
		expect(c.pool.callsPerRotation).toBe(7)
		expect(c.sources.CALLS_PER_ROTATION).toBe('stored')
	})

	test('a malformed stored value is named as a stored setting', () => {
		expect(() => resolveConfig({}, { calls_per_rotation: 'lots' })).toThrow(/stored setting calls_per_rotation/)
	})

	test('storage backend priority: Redis > PostgreSQL > MongoDB > files', () => {
		expect(resolveConfig({ REDIS_URI: 'redis://r', POSTGRES_DSN: 'postgres://p', MONGODB_URI: 'mongodb://m' }).storage.kind).toBe('redis')
		expect(resolveConfig({ POSTGRES_DSN: 'postgres://p', MONGODB_URI: 'mongodb://m' }).storage.kind).toBe('postgres')
		expect(resolveConfig({ MONGODB_URI: 'mongodb://m' }).storage.kind).toBe('mongodb')
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
		expect(resolveConfig({ ASSEMBLY_API_KEYS: ' k1,k2 , k1,,k3' }).envKeys).toEqual(['k1', 'k2', 'k3'])
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
