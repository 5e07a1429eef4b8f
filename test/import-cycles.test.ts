/** Dependencies point one way: no import cycle among the files of core/ and plugins/ (type imports included). */
import { describe, expect, test } from 'bun:test'
import { resolve } from 'node:path'
import { cycles, importGraph } from '../scripts/import-cycles.ts'

const ROOT = resolve(import.meta.dir, '..')

describe('import cycles', () => {
	test('the finder sees a cycle, a self-import, and none in a chain', () => {
		const graph = new Map([
			['a', ['b']],
			['b', ['c']],
			['c', ['a']],
			['d', ['d']],
			['e', ['f']],
			['f', []],
		])
		expect(cycles(graph).map((c) => c.join(','))).toEqual(['a,b,c', 'd'])
	})

	test('core/ and plugins/ have none', () => {
		const graph = importGraph([resolve(ROOT, 'core'), resolve(ROOT, 'plugins')])
		expect(graph.size).toBeGreaterThan(100)
		const found = cycles(graph).map((component) => component.map((f) => f.slice(ROOT.length + 1)).join(' <-> '))
		expect(found).toEqual([])
	})
})
