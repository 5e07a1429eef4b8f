/** The whole repository type-checks under strict TypeScript (tsc --noEmit). */
import { expect, test } from 'bun:test'
import { resolve } from 'node:path'

test('tsc --noEmit passes', async () => {
	const root = resolve(import.meta.dir, '..')
	const proc = Bun.spawn([resolve(root, 'node_modules/.bin/tsc'), '--noEmit', '-p', root], { cwd: root, stdout: 'pipe', stderr: 'pipe' })
	const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited])
	if (code !== 0) console.error(out)
	expect(code).toBe(0)
}, 120_000)
