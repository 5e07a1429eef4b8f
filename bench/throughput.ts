/**
 * `bun bench/throughput.ts [seconds] [concurrency]`: the gateway's cost against a bare Bun fetch
 * proxy, both in front of the same fake upstream, measured in one run (alternating rounds, so
 * machine noise hits both alike). Design goal: amb2api >= 85 % of the bare proxy's throughput.
 * BENCH_CLIENT_KEY=1 adds two rows in the same alternating rounds: the same gateway called with a
 * plain client key, and with a client key that has a budget and an rpm set (both far above what
 * the run spends), so the budget's own cost is the difference between those two.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { BENCH_PASSWORD } from './constants.ts'

const seconds = Number(process.argv[2] ?? 5)
const concurrency = Number(process.argv[3] ?? 32)
const here = import.meta.dir
const dir = mkdtempSync(join(tmpdir(), 'amb2api-bench-'))
const children: ReturnType<typeof Bun.spawn>[] = []

const pids: Record<string, number> = {}
const cleanups: (() => Promise<void>)[] = []

/**
 * The shared backends under load: for Redis, PostgreSQL (and MongoDB when MONGODB_URI is set),
 * non-streamed chats at concurrency 16, 64 and 256 against the bare proxy, alternating, one
 * gateway per backend in a namespace of its own (dropped afterwards).
 * BENCH_REDIS_URI / BENCH_POSTGRES_DSN override the local defaults; BENCH_STORAGE=0 skips this.
 */
async function storageRows(fake: string, bare: string): Promise<void> {
	if (process.env.BENCH_STORAGE === '0') return
	const ms = Number(process.env.BENCH_STORAGE_SECONDS ?? 2) * 1000
	const backends: [string, string][] = [['file', 'file']]
	backends.push(['redis', process.env.BENCH_REDIS_URI ?? 'redis://127.0.0.1:6379'])
	const pgBase = process.env.BENCH_POSTGRES_DSN ?? 'postgres://postgres@127.0.0.1:5432/test'
	const schema = `amb2api_bench_${process.pid}`
	// The gateways' Redis prefix and MongoDB database (servers.ts reads it), removed afterwards.
	process.env.BENCH_NAMESPACE = schema
	cleanups.push(async () => {
		const { default: Redis } = await import('ioredis')
		const redis = new Redis(process.env.BENCH_REDIS_URI ?? 'redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 1 })
		await redis.connect()
		const keys = await redis.keys(`${schema}*`)
		if (keys.length) await redis.del(...keys)
		await redis.quit()
	})
	try {
		const { default: postgres } = await import('postgres')
		const admin = postgres(pgBase, { max: 1, onnotice: () => {} })
		await admin.unsafe(`CREATE SCHEMA IF NOT EXISTS "${schema}"`)
		cleanups.push(async () => {
			await admin.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
			await admin.end()
		})
		const url = new URL(pgBase)
		url.searchParams.set('search_path', schema)
		backends.push(['postgres', url.toString()])
	} catch (err) {
		console.log(`postgres row skipped: ${String(err)}`)
	}
	if (process.env.MONGODB_URI) backends.push(['mongodb', process.env.MONGODB_URI])
	console.log(`\nshared storage, non-streamed, ${ms / 1000} s per cell: ratio to the bare proxy, p50/p99 (ms) amb2api/bare, gateway CPU per request, non-2xx`)
	for (const [name, storage] of backends) {
		let gateway: string
		try {
			gateway = await start(['gateway', fake, dir, storage], `gateway-${name}`)
		} catch (err) {
			console.log(`${name.padEnd(8)} could not start: ${String(err)}`)
			continue
		}
		await load(gateway, false, 1000, undefined, 16)
		const cells: string[] = []
		for (const c of [16, 64, 256]) {
			const b = await load(bare, false, ms, undefined, c)
			const g = await load(gateway, false, ms, pids[`gateway-${name}`], c)
			cells.push(
				`c=${c}: ${(g.rps / b.rps).toFixed(2)} x (${g.rps.toFixed(0)} vs ${b.rps.toFixed(0)} req/s) p50 ${g.p50.toFixed(1)}/${b.p50.toFixed(1)} p99 ${g.p99.toFixed(1)}/${b.p99.toFixed(1)} ${g.cpuUs.toFixed(0)} µs CPU/req non-2xx ${g.errors}`,
			)
		}
		console.log(`${name.padEnd(8)} ${cells.join(' | ')}`)
	}
}

/** CPU time (user + system, ms) a server process has used so far, from /proc (Linux). */
function cpuMs(pid: number): number {
	try {
		const fields = (readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1] ?? '').split(' ')
		return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100
	} catch {
		return Number.NaN
	}
}

async function start(args: string[], name = args[0] ?? ''): Promise<string> {
	const proc = Bun.spawn(['bun', resolve(here, 'servers.ts'), ...args], { stdout: 'pipe', stderr: 'inherit' })
	children.push(proc)
	pids[name] = proc.pid
	const reader = proc.stdout.getReader()
	// The server prints its URL on a line of its own (anything else it prints is not the URL).
	let text = ''
	for (;;) {
		const url = /^http:\/\/\S+$/m.exec(text)?.[0]
		if (url) return url
		const { value, done } = await reader.read()
		if (done) throw new Error(`server ${args[0]} exited`)
		text += new TextDecoder().decode(value)
	}
}

const body = (stream: boolean) =>
	JSON.stringify({ model: 'claude-sonnet-4-6', stream, messages: [{ role: 'user', content: 'benchmark request with a few words' }] })

async function load(
	url: string,
	stream: boolean,
	ms: number,
	pid?: number,
	workers = concurrency,
	token = BENCH_PASSWORD,
): Promise<{ rps: number; errors: number; p50: number; p99: number; cpuUs: number }> {
	const cpuBefore = pid ? cpuMs(pid) : Number.NaN
	const deadline = performance.now() + ms
	let done = 0
	let errors = 0
	const latencies: number[] = []
	const payload = body(stream)
	const worker = async () => {
		while (performance.now() < deadline) {
			const t = performance.now()
			try {
				const response = await fetch(`${url}/v1/chat/completions`, {
					method: 'POST',
					headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
					body: payload,
				})
				await response.arrayBuffer()
				if (response.ok) done++
				else errors++
			} catch {
				errors++
			}
			latencies.push(performance.now() - t)
		}
	}
	await Promise.all(Array.from({ length: workers }, worker))
	latencies.sort((a, b) => a - b)
	const cpuUs = pid ? ((cpuMs(pid) - cpuBefore) * 1000) / Math.max(1, done + errors) : Number.NaN
	return {
		rps: done / (ms / 1000),
		errors,
		p50: latencies[Math.floor(latencies.length / 2)] ?? Number.NaN,
		p99: latencies[Math.floor(latencies.length * 0.99)] ?? Number.NaN,
		cpuUs,
	}
}

try {
	const fake = await start(['fake'])
	const bare = await start(['bare', fake])
	const bareJson = await start(['bare-json', fake])
	const elysiaBare = await start(['elysia-bare', fake])
	const gateway = await start(['gateway', fake, dir])
	if (process.env.BENCH_STORAGE_ONLY !== '1') await mainRows(bare, bareJson, elysiaBare, gateway)
	await storageRows(fake, bare)
} finally {
	for (const child of children) child.kill()
	for (const cleanup of cleanups) await cleanup().catch(() => {})
	rmSync(dir, { recursive: true, force: true })
}

async function mainRows(bare: string, bareJson: string, elysiaBare: string, gateway: string): Promise<void> {
	// Warm up both (JIT, connection pools, the gateway's catalog and key windows).
	await load(bare, false, 1000)
	await load(bareJson, false, 1000)
	await load(elysiaBare, false, 1000)
	await load(gateway, false, 1000)
	const clientKey = process.env.BENCH_CLIENT_KEY === '1' ? await benchKey(gateway, { budget_usd: 1_000_000, budget_period: 'month', rpm: 100_000_000 }) : null
	const plainKey = clientKey ? await benchKey(gateway, {}) : null
	if (clientKey && plainKey) {
		await load(gateway, false, 1000, undefined, concurrency, clientKey)
		await load(gateway, false, 1000, undefined, concurrency, plainKey)
	}
	const rounds = 2
	const results: Record<string, { rps: number; errors: number; p50: number; p99: number; cpuUs: number }[]> = {}
	for (const stream of [false, true]) {
		for (let round = 0; round < rounds; round++) {
			for (const [name, url, pid] of [
				['bare', bare, pids.bare],
				['bare+json', bareJson, pids['bare-json']],
				['elysia', elysiaBare, pids['elysia-bare']],
				['amb2api', gateway, pids.gateway],
			] as const) {
				const key = `${name} ${stream ? 'stream' : 'json'}`
				;(results[key] ??= []).push(await load(url, stream, (seconds * 1000) / rounds, pid))
			}
			if (clientKey && plainKey) {
				const mode = stream ? 'stream' : 'json'
				;(results[`amb2api+key ${mode}`] ??= []).push(await load(gateway, stream, (seconds * 1000) / rounds, pids.gateway, concurrency, plainKey))
				;(results[`amb2api+budget ${mode}`] ??= []).push(await load(gateway, stream, (seconds * 1000) / rounds, pids.gateway, concurrency, clientKey))
			}
		}
	}
	const summary = (key: string) => {
		const runs = results[key] ?? []
		const last = runs[runs.length - 1]
		return {
			rps: runs.reduce((s, r) => s + r.rps, 0) / runs.length,
			errors: runs.reduce((s, r) => s + r.errors, 0),
			p50: last?.p50 ?? Number.NaN,
			p99: last?.p99 ?? Number.NaN,
			cpuUs: runs.reduce((s, r) => s + r.cpuUs, 0) / runs.length,
		}
	}
	console.log(`concurrency ${concurrency}, ${seconds} s per configuration, ${rounds} alternating rounds`)
	for (const mode of ['json', 'stream']) {
		const b = summary(`bare ${mode}`)
		const j = summary(`bare+json ${mode}`)
		const e = summary(`elysia ${mode}`)
		const g = summary(`amb2api ${mode}`)
		console.log(
			`${mode.padEnd(6)} bare+json (parses and re-encodes both bodies): ${j.rps.toFixed(0)} req/s, ${j.cpuUs.toFixed(0)} µs CPU/req, ratio ${((j.rps / b.rps) * 100).toFixed(1)} %`,
		)
		console.log(
			`${mode.padEnd(6)} elysia proxy with amb2api's global hooks: ${e.rps.toFixed(0)} req/s, ${e.cpuUs.toFixed(0)} µs CPU/req, ratio ${((e.rps / b.rps) * 100).toFixed(1)} %`,
		)
		console.log(
			`${mode.padEnd(6)} bare ${b.rps.toFixed(0)} req/s (p50 ${b.p50.toFixed(1)} ms, ${b.cpuUs.toFixed(0)} µs CPU/req) | amb2api ${g.rps.toFixed(0)} req/s (p50 ${g.p50.toFixed(1)} ms, p99 ${g.p99.toFixed(1)} ms, ${g.cpuUs.toFixed(0)} µs CPU/req, errors ${g.errors}) | ratio ${((g.rps / b.rps) * 100).toFixed(1)} %`,
		)
		if (clientKey) {
			const k = summary(`amb2api+key ${mode}`)
			const m = summary(`amb2api+budget ${mode}`)
			console.log(
				`${mode.padEnd(6)} amb2api with a plain client key: ${k.rps.toFixed(0)} req/s (p50 ${k.p50.toFixed(1)} ms, p99 ${k.p99.toFixed(1)} ms, ${k.cpuUs.toFixed(0)} µs CPU/req, errors ${k.errors}) | ratio to amb2api with the password ${((k.rps / g.rps) * 100).toFixed(1)} %`,
			)
			console.log(
				`${mode.padEnd(6)} amb2api with a client key with budget + rpm: ${m.rps.toFixed(0)} req/s (p50 ${m.p50.toFixed(1)} ms, p99 ${m.p99.toFixed(1)} ms, ${m.cpuUs.toFixed(0)} µs CPU/req, errors ${m.errors}) | ratio to the plain client key ${((m.rps / k.rps) * 100).toFixed(1)} %, to the password ${((m.rps / g.rps) * 100).toFixed(1)} %`,
			)
		}
	}
}

/** A client key on the gateway with these fields (a budget and rpm far above what the run can spend, or none). */
async function benchKey(gateway: string, fields: Record<string, unknown>): Promise<string> {
	const response = await fetch(`${gateway}/admin/clients`, {
		method: 'POST',
		headers: { authorization: 'Bearer bench-panel-password', 'content-type': 'application/json' },
		body: JSON.stringify({ name: 'bench', ...fields }),
	})
	if (response.status !== 201) throw new Error(`could not create the bench client key: ${response.status} ${await response.text()}`)
	return ((await response.json()) as { key: string }).key
}
