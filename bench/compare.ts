/**
 * `bun run bench --compare <git ref> [seconds]`: this tree (A) against <ref> (B), checked out in
 * a temporary worktree with its own pinned dependencies, both in front of the same fake
 * upstream and beside the same bare proxy, alternating bare -> A -> B in every round so machine
 * noise hits all three alike. On every storage backend: non-streamed throughput at c=16, 64 and
 * 256 as a ratio to the bare proxy, added p99, CPU per request, RSS after the load, non-2xx;
 * on file storage also streamed throughput and time to first byte. One run, one table: this is
 * how a regression is caught in the commit that makes it.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { sharedBackends } from './backends.ts'
import { type LoadResult, load, rssMiB, Servers, summarise } from './load.ts'

const ROUNDS = 3

const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : '-')

export async function compare(ref: string, seconds: number): Promise<void> {
	const root = resolve(import.meta.dir, '..')
	const dir = mkdtempSync(join(tmpdir(), 'amb2api-compare-'))
	const tree = join(dir, 'ref')
	const sha = execFileSync('git', ['rev-parse', '--short', ref], { cwd: root, encoding: 'utf8' }).trim()
	execFileSync('git', ['worktree', 'add', '--detach', tree, ref], { cwd: root, stdio: 'ignore' })
	const run = new Servers()
	const cleanups: (() => Promise<void>)[] = []
	try {
		execFileSync('bun', ['install', '--frozen-lockfile', '--silent'], { cwd: tree, stdio: 'inherit' })
		const here = resolve(root, 'bench/servers.ts')
		const there = resolve(tree, 'bench/servers.ts')
		if (!existsSync(there)) throw new Error(`${ref} has no bench/servers.ts to compare with`)
		const fake = await run.start(here, ['fake'])
		const bare = await run.start(here, ['bare', fake])
		const ms = seconds * 1000
		const namespace = `amb2api_cmp_${process.pid}`
		const mine = await sharedBackends(`${namespace}_a`, cleanups)
		const theirs = await sharedBackends(`${namespace}_b`, cleanups)
		console.log(
			`A = this tree, B = ${ref} (${sha}); ${ROUNDS} alternating rounds of ${seconds} s per cell; ratio = req/s over the bare proxy's in the same round`,
		)
		console.log('backend   c    A ratio  B ratio  A-B     A p99+ms B p99+ms  A µs/req B µs/req  bare µs/req  non-2xx A/B')
		for (let i = 0; i < mine.length; i++) {
			const a = mine[i]!
			const b = theirs[i]!
			let urlA: string
			let urlB: string
			try {
				urlA = await run.start(here, ['gateway', fake, join(dir, `a-${a.name}`), a.storage], `a-${a.name}`, a.env)
				urlB = await run.start(there, ['gateway', fake, join(dir, `b-${b.name}`), b.storage], `b-${b.name}`, b.env)
			} catch (err) {
				console.log(`${a.name.padEnd(9)} could not start: ${String(err)}`)
				continue
			}
			const pidA = run.pids[`a-${a.name}`]
			const pidB = run.pids[`b-${b.name}`]
			for (const url of [bare, urlA, urlB]) await load(url, false, 1000, undefined, 32)
			for (const c of [16, 64, 256]) {
				const runs: Record<'bare' | 'a' | 'b', LoadResult[]> = { bare: [], a: [], b: [] }
				for (let round = 0; round < ROUNDS; round++) {
					runs.bare.push(await load(bare, false, ms, run.pids.bare, c))
					runs.a.push(await load(urlA, false, ms, pidA, c))
					runs.b.push(await load(urlB, false, ms, pidB, c))
				}
				const ratio = (x: LoadResult[]) => summarise(x.map((r, k) => ({ ...r, rps: r.rps / (runs.bare[k]?.rps ?? Number.NaN) }))).rps
				const sb = summarise(runs.bare)
				const sa = summarise(runs.a)
				const sB = summarise(runs.b)
				const ra = ratio(runs.a)
				const rb = ratio(runs.b)
				console.log(
					`${a.name.padEnd(9)} ${String(c).padEnd(4)} ${fmt(ra).padEnd(8)} ${fmt(rb).padEnd(8)} ${(ra - rb >= 0 ? '+' : '') + fmt(ra - rb)}   ${fmt(sa.p99 - sb.p99, 1).padEnd(8)} ${fmt(sB.p99 - sb.p99, 1).padEnd(9)} ${fmt(sa.cpuUs, 0).padEnd(8)} ${fmt(sB.cpuUs, 0).padEnd(8)} ${fmt(sb.cpuUs, 0).padEnd(12)} ${sa.errors}/${sB.errors}`,
				)
			}
			console.log(`${a.name.padEnd(9)} RSS after load: A ${fmt(rssMiB(pidA ?? 0), 0)} MiB, B ${fmt(rssMiB(pidB ?? 0), 0)} MiB`)
			if (a.name === 'file') {
				// Streams: throughput at c=64 and time to first byte, one client at a time.
				const runs: Record<'bare' | 'a' | 'b', LoadResult[]> = { bare: [], a: [], b: [] }
				const ttfb: Record<'bare' | 'a' | 'b', LoadResult[]> = { bare: [], a: [], b: [] }
				for (let round = 0; round < ROUNDS; round++) {
					runs.bare.push(await load(bare, true, ms, run.pids.bare, 64))
					runs.a.push(await load(urlA, true, ms, pidA, 64))
					runs.b.push(await load(urlB, true, ms, pidB, 64))
					ttfb.bare.push(await load(bare, true, ms / 2, undefined, 1))
					ttfb.a.push(await load(urlA, true, ms / 2, undefined, 1))
					ttfb.b.push(await load(urlB, true, ms / 2, undefined, 1))
				}
				const [sb, sa, sB] = [summarise(runs.bare), summarise(runs.a), summarise(runs.b)]
				const [tb, ta, tB] = [summarise(ttfb.bare), summarise(ttfb.a), summarise(ttfb.b)]
				console.log(
					`file      streamed c=64: A ${fmt(sa.rps / sb.rps)} B ${fmt(sB.rps / sb.rps)} of bare; TTFB (c=1, median) bare ${fmt(tb.ttfb)} ms, A +${fmt(ta.ttfb - tb.ttfb)} ms, B +${fmt(tB.ttfb - tb.ttfb)} ms`,
				)
			}
		}
	} finally {
		run.stopAll()
		for (const cleanup of cleanups) await cleanup().catch(() => {})
		try {
			execFileSync('git', ['worktree', 'remove', '--force', tree], { cwd: root, stdio: 'ignore' })
		} catch {}
		rmSync(dir, { recursive: true, force: true })
	}
}
