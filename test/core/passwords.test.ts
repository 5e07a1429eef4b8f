import { describe, expect, test } from 'bun:test'
import { resolveConfig } from '../../core/config.ts'
import { ensureSecrets, samePasswordWarning } from '../../core/passwords.ts'
import { hashPassword } from '../../core/secrets.ts'
import { MemoryStorage } from '../../core/storage.ts'

async function run(env: Record<string, string>, storage = new MemoryStorage()) {
	const printed: string[] = []
	const stored = await storage.loadSettings()
	const secrets = await ensureSecrets(resolveConfig(env, stored), storage, stored, (line) => printed.push(line))
	return { secrets, printed: printed.join('\n'), storage }
}

describe('password bootstrap', () => {
	test('none configured: generated, stored as hashes, printed once; the next start prints nothing', async () => {
		const first = await run({})
		const api = /API password[^:]*: (\S+)/.exec(first.printed)?.[1] as string
		const panel = /Panel password[^:]*: (\S+)/.exec(first.printed)?.[1] as string
		expect(first.secrets.api.verify(api)).toBe(true)
		expect(first.secrets.panel.verify(panel)).toBe(true)
		expect(first.secrets.api.verify(panel)).toBe(false)
		const settings = JSON.stringify(await first.storage.loadSettings())
		expect(settings).not.toContain(api)
		expect(settings).not.toContain(panel)
		const second = await run({}, first.storage)
		expect(second.printed).toBe('')
		expect(second.secrets.api.verify(api)).toBe(true)
	})

	test('an environment password always wins over a stored hash, with CONFIG_OVERRIDE_ENV=false too', async () => {
		const storage = new MemoryStorage()
		await storage.saveSettings({ api_password_hash: hashPassword('stored-api-password'), panel_password_hash: hashPassword('stored-panel-password') })
		for (const precedence of [{}, { CONFIG_OVERRIDE_ENV: 'false' }] as Record<string, string>[]) {
			const started = await run({ ...precedence, API_PASSWORD: 'env-api-password', PANEL_PASSWORD: 'env-panel-password' }, storage)
			expect(started.secrets.api.verify('env-api-password')).toBe(true)
			expect(started.secrets.api.verify('stored-api-password')).toBe(false)
			expect(started.secrets.panel.verify('env-panel-password')).toBe(true)
			expect(started.secrets.panel.verify('stored-panel-password')).toBe(false)
			expect(started.printed).toBe('')
		}
		// Without an environment password the stored hash serves.
		const storedOnly = await run({ CONFIG_OVERRIDE_ENV: 'false' }, storage)
		expect(storedOnly.secrets.api.verify('stored-api-password')).toBe(true)
	})

	test('PASSWORD alone (one value for both sides) is warned about; separate passwords are not', () => {
		expect(samePasswordWarning(resolveConfig({ PASSWORD: 'one-for-all' }))).toContain('admin side')
		expect(samePasswordWarning(resolveConfig({ API_PASSWORD: 'same-value', PANEL_PASSWORD: 'same-value' }))).toContain('PANEL_PASSWORD')
		expect(samePasswordWarning(resolveConfig({ PASSWORD: 'one-for-all', PANEL_PASSWORD: 'panel-only' }))).toBeNull()
		expect(samePasswordWarning(resolveConfig({}))).toBeNull()
	})

	test('two instances starting together on one backend end with one password that works on both', async () => {
		const storage = new MemoryStorage()
		const [a, b] = await Promise.all([run({}, storage), run({}, storage)])
		const printed = [a.printed, b.printed].join('\n')
		// Only the instance whose password landed prints it, and it opens both.
		const apis = [...printed.matchAll(/API password[^:]*: (\S+)/g)].map((m) => m[1])
		expect(apis).toHaveLength(1)
		expect(a.secrets.api.verify(apis[0]!) && b.secrets.api.verify(apis[0]!)).toBe(true)
	})

	test('a session secret is created once and shared', async () => {
		const storage = new MemoryStorage()
		const a = await run({ PASSWORD: 'shared-password' }, storage)
		const b = await run({ PASSWORD: 'shared-password' }, storage)
		expect(a.secrets.sessionSecret.length).toBeGreaterThanOrEqual(64)
		expect(b.secrets.sessionSecret).toBe(a.secrets.sessionSecret)
	})
})
