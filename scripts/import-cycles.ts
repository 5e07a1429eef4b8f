/**
 * `bun scripts/import-cycles.ts [dir ...]`: every import cycle among the TypeScript files under
 * the given folders (default: core and plugins), type-only imports included, since a cycle of
 * types still ties the files into one unit. Exit 1 with each cycle listed, 0 when there is none.
 * Uses the TypeScript compiler's own import scanner (already a dev dependency), nothing else.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import ts from 'typescript'

function filesUnder(dir: string): string[] {
	const out: string[] = []
	for (const name of readdirSync(dir)) {
		const path = join(dir, name)
		if (statSync(path).isDirectory()) out.push(...filesUnder(path))
		else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path)
	}
	return out
}

/** file -> the files it imports (relative specifiers only; packages are not ours). */
export function importGraph(roots: string[]): Map<string, string[]> {
	const files = roots.flatMap((root) => filesUnder(resolve(root)))
	const known = new Set(files)
	const graph = new Map<string, string[]>()
	for (const file of files) {
		const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true)
		const targets = importedFiles
			.map((i) => i.fileName)
			.filter((spec) => spec.startsWith('.'))
			.map((spec) => resolve(dirname(file), spec))
			.filter((target) => known.has(target))
		graph.set(file, [...new Set(targets)])
	}
	return graph
}

/** The strongly connected components with more than one file (or a file importing itself): Tarjan. */
export function cycles(graph: Map<string, string[]>): string[][] {
	let index = 0
	const indices = new Map<string, number>()
	const low = new Map<string, number>()
	const stack: string[] = []
	const onStack = new Set<string>()
	const found: string[][] = []
	const visit = (v: string) => {
		indices.set(v, index)
		low.set(v, index)
		index++
		stack.push(v)
		onStack.add(v)
		for (const w of graph.get(v) ?? []) {
			if (!indices.has(w)) {
				visit(w)
				low.set(v, Math.min(low.get(v)!, low.get(w)!))
			} else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, indices.get(w)!))
		}
		if (low.get(v) === indices.get(v)) {
			const component: string[] = []
			let w: string
			do {
				w = stack.pop()!
				onStack.delete(w)
				component.push(w)
			} while (w !== v)
			if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort())
		}
	}
	for (const v of graph.keys()) if (!indices.has(v)) visit(v)
	return found
}

if (import.meta.main) {
	const roots = process.argv.slice(2)
	const graph = importGraph(roots.length > 0 ? roots : ['core', 'plugins'])
	const found = cycles(graph)
	for (const component of found) console.log(`import cycle: ${component.map((f) => relative(process.cwd(), f)).join(' <-> ')}`)
	console.log(found.length === 0 ? `no import cycle among ${graph.size} files` : `${found.length} import cycle(s)`)
	process.exit(found.length === 0 ? 0 : 1)
}
