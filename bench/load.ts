/** The benchmark's load generator and server launcher, shared by throughput.ts and compare.ts. */
import { readFileSync } from 'node:fs'
import { BENCH_PASSWORD } from './constants.ts'

export interface LoadResult {
	rps: number
	errors: number
	p50: number
	p99: number
	cpuUs: number
	/** Median time to the first body byte, ms. */
	ttfb: number
}

/** CPU time (user + system, ms) a server process has used so far, from /proc (Linux). */
export function cpuMs(pid: number): number {
	try {
		const fields = (readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1] ?? '').split(' ')
		return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100
	} catch {
		return Number.NaN
	}
}

/** Resident memory of a process, MiB, from /proc (Linux). */
export function rssMiB(pid: number): number {
	try {
		const line = readFileSync(`/proc/${pid}/status`, 'utf8')
			.split('\n')
			.find((l) => l.startsWith('VmRSS:'))
		return Number(line?.split(/\s+/)[1]) / 1024
	} catch {
		return Number.NaN
	}
}

export class Servers {
	readonly children: ReturnType<typeof Bun.spawn>[] = []
	readonly pids: Record<string, number> = {}

	/** Starts `bun <script> ...args` and resolves with the URL it prints on a line of its own. */
	async start(script: string, args: string[], name = args[0] ?? '', env?: Record<string, string>): Promise<string> {
		const proc = Bun.spawn(['bun', script, ...args], { stdout: 'pipe', stderr: 'inherit', env: { ...process.env, ...env } })
		this.children.push(proc)
		this.pids[name] = proc.pid
		const reader = proc.stdout.getReader()
		let text = ''
		for (;;) {
			const url = /^http:\/\/\S+$/m.exec(text)?.[0]
			if (url) {
				reader.releaseLock()
				return url
			}
			const { value, done } = await reader.read()
			if (done) throw new Error(`server ${name} exited`)
			text += new TextDecoder().decode(value)
		}
	}

	stopAll(): void {
		for (const child of this.children) child.kill()
	}
}

export const chatBody = (stream: boolean) =>
	JSON.stringify({ model: 'claude-sonnet-4-6', stream, messages: [{ role: 'user', content: 'benchmark request with a few words' }] })

/** `workers` clients sending tiny chats back to back for `ms`; CPU per request of `pid` when given; `token`: the bearer (API password by default). */
export async function load(url: string, stream: boolean, ms: number, pid: number | undefined, workers: number, token = BENCH_PASSWORD): Promise<LoadResult> {
	const cpuBefore = pid ? cpuMs(pid) : Number.NaN
	const deadline = performance.now() + ms
	let done = 0
	let errors = 0
	const latencies: number[] = []
	const firstBytes: number[] = []
	const payload = chatBody(stream)
	const worker = async () => {
		while (performance.now() < deadline) {
			const t = performance.now()
			try {
				const response = await fetch(`${url}/v1/chat/completions`, {
					method: 'POST',
					headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
					body: payload,
				})
				const reader = response.body?.getReader()
				if (reader) {
					let first = true
					for (;;) {
						const next = await reader.read()
						if (first) {
							firstBytes.push(performance.now() - t)
							first = false
						}
						if (next.done) break
					}
				}
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
	firstBytes.sort((a, b) => a - b)
	const cpuUs = pid ? ((cpuMs(pid) - cpuBefore) * 1000) / Math.max(1, done + errors) : Number.NaN
	return {
		rps: done / (ms / 1000),
		errors,
		p50: latencies[Math.floor(latencies.length / 2)] ?? Number.NaN,
		p99: latencies[Math.floor(latencies.length * 0.99)] ?? Number.NaN,
		cpuUs,
		ttfb: firstBytes[Math.floor(firstBytes.length / 2)] ?? Number.NaN,
	}
}

/** The mean of several rounds (rps, CPU) with the last round's percentiles. */
export function summarise(runs: LoadResult[]): LoadResult {
	const mean = (f: (r: LoadResult) => number) => runs.reduce((s, r) => s + f(r), 0) / Math.max(1, runs.length)
	const sorted = (f: (r: LoadResult) => number) => runs.map(f).sort((a, b) => a - b)
	const median = (f: (r: LoadResult) => number) => sorted(f)[Math.floor(runs.length / 2)] ?? Number.NaN
	return {
		rps: mean((r) => r.rps),
		errors: runs.reduce((s, r) => s + r.errors, 0),
		p50: median((r) => r.p50),
		p99: median((r) => r.p99),
		cpuUs: mean((r) => r.cpuUs),
		ttfb: median((r) => r.ttfb),
	}
}
