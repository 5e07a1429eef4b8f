/**
 * `bun bench/throughput.ts [seconds] [concurrency]`: the gateway's cost against a bare Bun fetch
 * proxy, both in front of the same fake upstream, measured in one run (alternating rounds, so
 * machine noise hits both alike). Design goal: amb2api >= 95 % of the bare proxy's throughput.
 *
 * `bun bench/throughput.ts --compare <git ref> [seconds]`: the same load against this tree and
 * <ref> (checked out in a worktree), alternating both builds and the bare proxy in one run, on
 * every storage backend (compare.ts).
 *
 * BENCH_COMPARE_DISABLE=<plugins> adds a second amb2api with those plugins off to the same
 * alternating rounds (what they cost), e.g. BENCH_COMPARE_DISABLE=request-log.
 *
 * BENCH_CLIENT_KEY=1 adds two rows in the same alternating rounds: the same gateway called with a
 * plain client key, and with a client key that has a budget and an rpm set (both far above what
 * the run spends), so the budget's own cost is the difference between those two.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { type LoadResult, load, rssMiB, Servers, summarise } from './load.ts'
import { sharedBackends } from './backends.ts'

const compareAt = process.argv.indexOf('--compare')
if (compareAt >= 0) {
	const { compare } = await import('./compare.ts')
	const ref = process.argv[compareAt + 1]
	if (!ref) {
		console.error('usage: bun bench/throughput.ts --compare <git ref> [seconds]')
		process.exit(2)
	}
	await compare(ref, Number(process.argv[compareAt + 2] ?? 2))
	process.exit(0)
}

const seconds = Number(process.argv[2] ?? 5)
const concurrency = Number(process.argv[3] ?? 32)
const servers = resolve(import.meta.dir, 'servers.ts')
const dir = mkdtempSync(join(tmpdir(), 'amb2api-bench-'))
const run = new Servers()
const cleanups: (() => Promise<void>)[] = []

/**
 * The shared backends under load: non-streamed chats at concurrency 16, 64 and 256 against the
 * bare proxy, alternating, one gateway per backend in a namespace of its own (dropped afterwards).
 * BENCH_REDIS_URI / BENCH_POSTGRES_DSN override the local defaults; BENCH_STORAGE=0 skips this.
 */
async function storageRows(fake: string, bare: string): Promise<void> {
	if (process.env.BENCH_STORAGE === '0') return
	const ms = Number(process.env.BENCH_STORAGE_SECONDS ?? 2) * 1000
	const backends = await sharedBackends(`amb2api_bench_${process.pid}`, cleanups)
	console.log(
		`\nstorage backends, non-streamed, ${ms / 1000} s per cell: ratio to the bare proxy, p50/p99 (ms) amb2api/bare, gateway CPU per request, RSS, non-2xx`,
	)
	for (const backend of backends) {
		let gateway: string
		try {
			gateway = await run.start(servers, ['gateway', fake, dir, backend.storage], `gateway-${backend.name}`, backend.env)
		} catch (err) {
			console.log(`${backend.name.padEnd(8)} could not start: ${String(err)}`)
			continue
		}
		const pid = run.pids[`gateway-${backend.name}`]
		await load(gateway, false, 1000, undefined, 16)
		const cells: string[] = []
		for (const c of [16, 64, 256]) {
			const b = await load(bare, false, ms, undefined, c)
			const g = await load(gateway, false, ms, pid, c)
			cells.push(
				`c=${c}: ${(g.rps / b.rps).toFixed(2)} x (${g.rps.toFixed(0)} vs ${b.rps.toFixed(0)} req/s) p50 ${g.p50.toFixed(1)}/${b.p50.toFixed(1)} p99 ${g.p99.toFixed(1)}/${b.p99.toFixed(1)} ${g.cpuUs.toFixed(0)} µs CPU/req non-2xx ${g.errors}`,
			)
		}
		console.log(`${backend.name.padEnd(8)} ${cells.join(' | ')} | RSS ${rssMiB(pid ?? 0).toFixed(0)} MiB`)
	}
}

async function mainRows(bare: string, bareJson: string, elysiaBare: string, gateway: string, without: string | null): Promise<void> {
	// Warm up every server (JIT, connection pools, the gateway's catalog and key windows).
	for (const url of [bare, bareJson, elysiaBare, gateway, ...(without ? [without] : [])]) await load(url, false, 1000, undefined, concurrency)
	const budgetKey = process.env.BENCH_CLIENT_KEY === '1' ? await benchKey(gateway, { budget_usd: 1_000_000, budget_period: 'month', rpm: 100_000_000 }) : null
	const plainKey = budgetKey ? await benchKey(gateway, {}) : null
	if (budgetKey && plainKey) for (const token of [budgetKey, plainKey]) await load(gateway, false, 1000, undefined, concurrency, token)
	const rounds = 2
	const results: Record<string, LoadResult[]> = {}
	for (const stream of [false, true]) {
		for (let round = 0; round < rounds; round++) {
			for (const [name, url, pid] of [
				['bare', bare, run.pids.bare],
				['bare+json', bareJson, run.pids['bare-json']],
				['elysia', elysiaBare, run.pids['elysia-bare']],
				['amb2api', gateway, run.pids.gateway],
				...(without ? [['amb2api-without', without, run.pids['gateway-without']] as const] : []),
			] as const) {
				;(results[`${name} ${stream ? 'stream' : 'json'}`] ??= []).push(await load(url, stream, (seconds * 1000) / rounds, pid, concurrency))
			}
			if (budgetKey && plainKey) {
				const mode = stream ? 'stream' : 'json'
				;(results[`amb2api+key ${mode}`] ??= []).push(await load(gateway, stream, (seconds * 1000) / rounds, run.pids.gateway, concurrency, plainKey))
				;(results[`amb2api+budget ${mode}`] ??= []).push(await load(gateway, stream, (seconds * 1000) / rounds, run.pids.gateway, concurrency, budgetKey))
			}
		}
	}
	console.log(`concurrency ${concurrency}, ${seconds} s per configuration, ${rounds} alternating rounds`)
	for (const mode of ['json', 'stream']) {
		if (without) {
			const g = summarise(results[`amb2api ${mode}`] ?? [])
			const w = summarise(results[`amb2api-without ${mode}`] ?? [])
			console.log(
				`${mode.padEnd(6)} without ${process.env.BENCH_COMPARE_DISABLE}: ${w.rps.toFixed(0)} req/s, ${w.cpuUs.toFixed(0)} µs CPU/req; with them ${g.rps.toFixed(0)} req/s, ${g.cpuUs.toFixed(0)} µs CPU/req: with / without ${((g.rps / w.rps) * 100).toFixed(1)} %`,
			)
		}
		const b = summarise(results[`bare ${mode}`] ?? [])
		const j = summarise(results[`bare+json ${mode}`] ?? [])
		const e = summarise(results[`elysia ${mode}`] ?? [])
		const g = summarise(results[`amb2api ${mode}`] ?? [])
		console.log(
			`${mode.padEnd(6)} bare+json (parses and re-encodes both bodies): ${j.rps.toFixed(0)} req/s, ${j.cpuUs.toFixed(0)} µs CPU/req, ratio ${((j.rps / b.rps) * 100).toFixed(1)} %`,
		)
		console.log(
			`${mode.padEnd(6)} elysia proxy with amb2api's global hooks: ${e.rps.toFixed(0)} req/s, ${e.cpuUs.toFixed(0)} µs CPU/req, ratio ${((e.rps / b.rps) * 100).toFixed(1)} %`,
		)
		console.log(
			`${mode.padEnd(6)} bare ${b.rps.toFixed(0)} req/s (p50 ${b.p50.toFixed(1)} ms, TTFB ${b.ttfb.toFixed(2)} ms, ${b.cpuUs.toFixed(0)} µs CPU/req) | amb2api ${g.rps.toFixed(0)} req/s (p50 ${g.p50.toFixed(1)} ms, p99 ${g.p99.toFixed(1)} ms, TTFB ${g.ttfb.toFixed(2)} ms, ${g.cpuUs.toFixed(0)} µs CPU/req, errors ${g.errors}) | ratio ${((g.rps / b.rps) * 100).toFixed(1)} %`,
		)
		if (budgetKey) {
			const k = summarise(results[`amb2api+key ${mode}`] ?? [])
			const m = summarise(results[`amb2api+budget ${mode}`] ?? [])
			console.log(
				`${mode.padEnd(6)} amb2api with a plain client key: ${k.rps.toFixed(0)} req/s (p50 ${k.p50.toFixed(1)} ms, p99 ${k.p99.toFixed(1)} ms, ${k.cpuUs.toFixed(0)} µs CPU/req, errors ${k.errors}) | ratio to the password ${((k.rps / g.rps) * 100).toFixed(1)} %`,
			)
			console.log(
				`${mode.padEnd(6)} amb2api with a client key with budget + rpm: ${m.rps.toFixed(0)} req/s (p50 ${m.p50.toFixed(1)} ms, p99 ${m.p99.toFixed(1)} ms, ${m.cpuUs.toFixed(0)} µs CPU/req, errors ${m.errors}) | ratio to the plain client key ${((m.rps / k.rps) * 100).toFixed(1)} %`,
			)
		}
	}
}

try {
	const fake = await run.start(servers, ['fake'])
	const bare = await run.start(servers, ['bare', fake])
	const bareJson = await run.start(servers, ['bare-json', fake])
	const elysiaBare = await run.start(servers, ['elysia-bare', fake])
	const gateway = await run.start(servers, ['gateway', fake, dir])
	const disable = process.env.BENCH_COMPARE_DISABLE
	const without = disable ? await run.start(servers, ['gateway', fake, join(dir, 'without'), 'file', disable], 'gateway-without') : null
	if (process.env.BENCH_STORAGE_ONLY !== '1') await mainRows(bare, bareJson, elysiaBare, gateway, without)
	await storageRows(fake, bare)
} finally {
	run.stopAll()
	for (const cleanup of cleanups) await cleanup().catch(() => {})
	rmSync(dir, { recursive: true, force: true })
}

/** A client key on the bench gateway (through the admin API), with `fields` such as a budget. */
async function benchKey(gateway: string, fields: Record<string, unknown>): Promise<string> {
	const response = await fetch(`${gateway}/admin/clients`, {
		method: 'POST',
		headers: { authorization: 'Bearer bench-panel-password', 'content-type': 'application/json' },
		body: JSON.stringify({ name: 'bench', ...fields }),
	})
	if (response.status !== 201) throw new Error(`could not create the bench client key: ${response.status} ${await response.text()}`)
	return ((await response.json()) as { key: string }).key
}
