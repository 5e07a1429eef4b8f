/** .env.example is generated from the settings tables; the committed file must be exactly what they render. */
import { describe, expect, test } from 'bun:test'
import { resolve } from 'node:path'
import { CORE_SETTINGS, parseDotenv, type SettingSpec } from '../../core/config.ts'
import { envValue, renderEnvExample, settingsGroups } from '../../core/env-example.ts'
import { discoverPlugins } from '../../core/plugin-registry.ts'

describe('.env.example', () => {
	test('matches the settings tables (regenerate with `bun run env:example`)', async () => {
		const committed = await Bun.file(resolve(import.meta.dir, '../../.env.example')).text()
		expect(committed).toBe(renderEnvExample(settingsGroups(await discoverPlugins())))
	})

	test('every variable of every plugin is there once, with its default, commented out, secrets blank', async () => {
		const plugins = await discoverPlugins()
		const text = renderEnvExample(settingsGroups(plugins))
		const uncommented = parseDotenv(text.replace(/^#([A-Z])/gm, '$1'))
		const specs: SettingSpec<unknown>[] = [
			...Object.values(CORE_SETTINGS),
			...plugins.flatMap((p) => Object.values(p.settings ?? {}) as SettingSpec<unknown>[]),
		]
		expect(specs.length).toBeGreaterThan(20)
		for (const spec of specs) {
			expect(spec.env in uncommented).toBe(true)
			expect(uncommented[spec.env]).toBe(spec.secret ? '' : envValue(spec.fallback))
		}
		expect(uncommented.AUTO_BAN_ERROR_CODES).toBe('401,403')
		expect(uncommented.API_PASSWORD).toBe('')
		// Nothing is active: copying the file as .env changes no setting.
		expect(Object.keys(parseDotenv(text))).toEqual([])
	})
})
