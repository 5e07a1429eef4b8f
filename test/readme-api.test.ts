/**
 * The README's API table is one table that names every route of the OpenAPI document exactly
 * once, and only routes the app really mounts.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { type Harness, startHarness } from './support.ts'

const readme = readFileSync(resolve(import.meta.dir, '..', 'README.md'), 'utf8')

/** The lines of the `## API` section, up to the next `## ` heading. */
function apiSection(markdown: string): string[] {
	const lines = markdown.split('\n')
	const start = lines.findIndex((line) => line.trim() === '## API')
	if (start < 0) throw new Error('README.md has no "## API" section')
	const end = lines.findIndex((line, i) => i > start && line.startsWith('## '))
	return lines.slice(start + 1, end < 0 ? undefined : end)
}

/** `METHOD /path` of every route named in the first column (`GET/POST /admin/keys` names two). */
function tableRoutes(section: string[]): string[] {
	const routes: string[] = []
	for (const row of section.filter((line) => line.startsWith('| `'))) {
		const first = row.split('|')[1] ?? ''
		for (const m of first.matchAll(/`([A-Z]+(?:\/[A-Z]+)*) (\/[^`]*)`/g)) {
			for (const method of (m[1] as string).split('/')) routes.push(`${method} ${m[2]}`)
		}
	}
	return routes
}

let h: Harness
beforeAll(async () => {
	h = await startHarness()
})
afterAll(async () => {
	await h.close()
})

describe("README's API table", () => {
	test('is one table: one header, its rows unbroken by a blank line', () => {
		const section = apiSection(readme)
		const tableLines = section.map((line, i) => [line, i] as const).filter(([line]) => line.startsWith('|'))
		expect(section.filter((line) => line.startsWith('| Route |')).length).toBe(1)
		expect(tableLines.length).toBeGreaterThan(20)
		const first = tableLines[0]?.[1] ?? 0
		expect(tableLines.every(([, i], n) => i === first + n)).toBe(true)
	})

	test('names every route of the OpenAPI document once, and nothing the app does not mount', async () => {
		const document = (await (await h.call('/swagger/json', { auth: null })).json()) as { paths: Record<string, Record<string, unknown>> }
		const documented = Object.entries(document.paths).flatMap(([path, operations]) => Object.keys(operations).map((m) => `${m.toUpperCase()} ${path}`))
		expect(documented.length).toBeGreaterThan(20)
		const named = tableRoutes(apiSection(readme))
		const missing = documented.filter((route) => !named.includes(route))
		const twice = named.filter((route, i) => named.indexOf(route) !== i)
		expect({ missing, twice }).toEqual({ missing: [], twice: [] })

		const app = h.gateway.app as unknown as { routes: { method: string; path: string }[] }
		const mounted = new Set(app.routes.map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`))
		expect(named.filter((route) => !mounted.has(route))).toEqual([])
	})

	test('the parser finds a route that is missing or named twice', () => {
		const section = ['| Route | Auth | |', '|---|---|---|', '| `GET/POST /a` | x | y |', '| `GET /b`, `GET /a` | x | y |']
		expect(tableRoutes(section)).toEqual(['GET /a', 'POST /a', 'GET /b', 'GET /a'])
	})
})
