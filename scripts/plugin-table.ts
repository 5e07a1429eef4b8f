/**
 * The plugin table of docs/design.md, made from the plugins themselves (name, on/off, needs,
 * provides, settings). `bun run docs:plugins` rewrites it there; a test fails when it drifts.
 */
import { readFile, writeFile } from 'node:fs/promises'
import type { SettingSpec } from '../core/config.ts'
import { isStoragePlugin } from '../core/plugin.ts'
import { discoverPlugins } from '../core/plugin-registry.ts'

const START = '<!-- plugins:start -->'
const END = '<!-- plugins:end -->'
const code = (names: readonly string[]) => names.map((n) => `\`${n}\``).join(', ')

export async function pluginTable(): Promise<string> {
	const rows = ['| plugin | kind | needs (uses) | provides | settings | what it does |', '|---|---|---|---|---|---|']
	for (const p of await discoverPlugins()) {
		const settings = (Object.values(p.settings ?? {}) as SettingSpec<unknown>[]).map((s) => s.env)
		if (isStoragePlugin(p)) {
			rows.push(`| \`${p.name}\` | storage, priority ${p.priority} | — | \`storage\` | ${code(settings)} | ${p.description} |`)
			continue
		}
		const needs = [...code(p.needs ?? []).split(', '), ...(p.uses ?? []).map((u) => `(\`${u}\`)`)].filter(Boolean).join(', ')
		rows.push(
			`| \`${p.name}\` | ${p.optional ? 'optional' : 'required'} | ${needs || '—'} | ${code(p.provides ?? []) || '—'} | ${code(settings) || '—'} | ${p.description} |`,
		)
	}
	return rows.join('\n')
}

export function withTable(page: string, table: string): string {
	const start = page.indexOf(START)
	const end = page.indexOf(END)
	if (start < 0 || end < start) throw new Error(`docs/design.md has no ${START} ... ${END} block`)
	return `${page.slice(0, start + START.length)}\n${table}\n${page.slice(end)}`
}

if (import.meta.main) {
	const file = new URL('../docs/design.md', import.meta.url)
	await writeFile(file, withTable(await readFile(file, 'utf8'), await pluginTable()))
	console.log('docs/design.md plugin table rewritten')
}
