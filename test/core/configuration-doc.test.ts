/** docs/configuration.md is generated from the settings tables like .env.example; the committed file must be what they render. */
import { describe, expect, test } from 'bun:test'
import { resolve } from 'node:path'
import { CORE_SETTINGS, type SettingSpec } from '../../core/config.ts'
import { settingsGroups } from '../../core/env-example.ts'
import { discoverPlugins } from '../../core/plugin-registry.ts'
import { cell, renderConfigurationDoc } from '../../scripts/configuration-doc.ts'

const committedDoc = () => Bun.file(resolve(import.meta.dir, '../../docs/configuration.md')).text()

describe('docs/configuration.md', () => {
	test('matches the settings tables (regenerate with `bun run docs:config`)', async () => {
		expect(await committedDoc()).toBe(renderConfigurationDoc(settingsGroups(await discoverPlugins())))
	})

	test('every setting of the kernel and of every plugin is one row of one table, secrets without a value', async () => {
		const plugins = await discoverPlugins()
		const text = renderConfigurationDoc(settingsGroups(plugins))
		const specs: SettingSpec<unknown>[] = [
			...Object.values(CORE_SETTINGS),
			...plugins.flatMap((p) => Object.values(p.settings ?? {}) as SettingSpec<unknown>[]),
		]
		const rows = text.split('\n').filter((line) => line.startsWith('| `'))
		expect(specs.length).toBeGreaterThan(20)
		expect(rows.length).toBe(new Set(specs.map((s) => s.env)).size)
		for (const spec of specs) {
			const row = rows.filter((r) => r.startsWith(`| \`${spec.env}\` |`))
			expect(row.length).toBe(1)
			expect(row[0]).toContain(cell(spec.doc))
			if (spec.stored) expect(row[0]).toContain(`\`${spec.stored}\``)
		}
		expect(rows.find((r) => r.startsWith('| `AUTO_BAN_ERROR_CODES` |'))).toContain('| `401,403` |')
		expect(rows.find((r) => r.startsWith('| `API_PASSWORD` |'))).toMatch(/^\| `API_PASSWORD` \| — \|/)
		// One table: the header appears once, and no blank line interrupts the rows.
		expect(text.split('| Variable | Default |').length).toBe(2)
		const first = text.indexOf('| Variable')
		expect(
			text
				.slice(first)
				.trimEnd()
				.split('\n')
				.every((line) => line.startsWith('|')),
		).toBe(true)
	})
})
