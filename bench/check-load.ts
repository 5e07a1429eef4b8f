/**
 * `bun run check:load`: the soak check. The real gateway (`bun core/main.ts`, as
 * `bun run start` runs it) in front of the fake AssemblyAI gateway, each in its own process,
 * holds STREAMS long streams (default 1,000; each trickles a chunk every STREAM_INTERVAL_MS, about
 * 20 chunks with STREAM_REPEAT=3, and
 * is replaced by a new one when it ends) plus steady short non-streamed requests (SHORT_RPS per
 * second) for DURATION seconds (default 600). It reports:
 *   - the short requests' latency before the streams opened and while they are open (added ms);
 *   - errors: any non-200, any stream that ended without `data: [DONE]`;
 *   - the gateway's RSS after warm-up and at the end (drift must stay within 10 %).
 * Exit code 1 when errors > 0 or the RSS drift is over 10 %. Not part of `.ci/run`.
 *
 *   DURATION=60 STREAMS=1000 bun run check:load
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createFakeGateway } from '../test/fake-gateway.ts'
import { startGatewayProcess } from '../test/gateway-process.ts'
import { rawPost, type RawStream } from '../test/raw-http.ts'
import { API_PASSWORD } from '../test/support.ts'

const KEY = 'check-load-key-000000000000000001'
const MODEL = 'claude-sonnet-4-6'
const num = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : fallback)

if (process.argv[2] === 'fake') {
	// The fake upstream, in its own process: streams trickle, short requests answer at once.
	const fake = createFakeGateway({ keys: { [KEY]: {} }, limit: 1_000_000_000 })
	fake.fault('*', { kind: 'trickle', intervalMs: num('STREAM_INTERVAL_MS', 1000), repeat: num('STREAM_REPEAT', 3) }, { persistent: true })
	console.log(await fake.listen())
	setInterval(() => fake.requests.splice(0, fake.requests.length), 1000)
} else {
	await main()
}

async function main() {
	const STREAMS = num('STREAMS', 1000)
	const DURATION_S = num('DURATION', 600)
	const SHORT_RPS = num('SHORT_RPS', 20)
	const WARMUP_S = Math.min(30, Math.max(5, DURATION_S / 10))

	const fakeProc = Bun.spawn(['bun', import.meta.path, 'fake'], { stdout: 'pipe', stderr: 'inherit', env: { ...process.env } })
	const reader = fakeProc.stdout.getReader()
	const first = new TextDecoder().decode((await reader.read()).value)
	const fakeUrl = first.trim().split('\n')[0]!
	const dir = mkdtempSync(join(tmpdir(), 'amb2api-load-'))
	const gw = await startGatewayProcess({
		ASSEMBLY_API_KEYS: KEY,
		ASSEMBLY_ENDPOINT: `${fakeUrl}/v1/chat/completions`,
		UPSTREAM_TIMEOUT: '120',
		LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
		LOG_FILE: join(dir, 'log.txt'),
	})
	const auth = { authorization: `Bearer ${API_PASSWORD}` }
	const shortBody = JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'short' }] })
	const streamBody = JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'a long answer please' }], stream: true })
	const errors: string[] = []
	const error = (what: string) => {
		if (errors.length < 1000) errors.push(what)
	}

	async function shortRequest(): Promise<number> {
		const started = performance.now()
		const response = await fetch(`${gw.base}/v1/chat/completions`, {
			method: 'POST',
			headers: { ...auth, 'content-type': 'application/json' },
			body: shortBody,
		})
		await response.text()
		const ms = performance.now() - started
		if (response.status !== 200) error(`short request: HTTP ${response.status}`)
		return ms
	}
	const stats = (values: number[]) => {
		const sorted = [...values].sort((a, b) => a - b)
		const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0
		return { n: sorted.length, p50: +at(0.5).toFixed(2), p99: +at(0.99).toFixed(2), max: +(sorted.at(-1) ?? 0).toFixed(2) }
	}

	// 1. Baseline: short requests with nothing else going on (the first one probes the key's limit).
	await shortRequest()
	const baseline: number[] = []
	for (let i = 0; i < 100; i++) baseline.push(await shortRequest())

	// 2. STREAMS streams, each replaced when it ends.
	let running = true
	let opened = 0
	let completed = 0
	const live = new Set<RawStream>()
	const openStream = () => {
		const s = rawPost(gw.port, '/v1/chat/completions', streamBody, auth, true)
		opened++
		live.add(s)
		s.status.then((status) => {
			if (status !== 200 && running) error(`stream: HTTP ${status}`)
		})
		s.ended.then(({ text }) => {
			live.delete(s)
			if (!running) return
			if (!text.includes('data: [DONE]')) error(`stream ended without [DONE] (${text.slice(-120).replace(/\s+/g, ' ')})`)
			else completed++
			// Reopened at once, so STREAMS stay open; the ramp below keeps their ends spread out.
			openStream()
		})
	}
	const openStarted = performance.now()
	// Opened over RAMP_MS (default 5 s), as clients would arrive, not in one instant.
	const RAMP_MS = num('RAMP_MS', 5000)
	for (let i = 0; i < STREAMS; i++) {
		openStream()
		if (RAMP_MS > 0 && i % 50 === 49) await Bun.sleep((RAMP_MS * 50) / STREAMS)
	}
	const firstHeads = await Promise.all([...live].map((s) => s.status))
	const openMs = performance.now() - openStarted
	console.log(`${firstHeads.filter((s) => s === 200).length}/${STREAMS} streams answered in ${openMs.toFixed(0)} ms (opened over ${RAMP_MS} ms)`)

	// 3. Steady short traffic while the streams run; RSS sampled every 5 s.
	const during: number[] = []
	const rss: { t: number; bytes: number }[] = []
	const t0 = performance.now()
	const elapsed = () => (performance.now() - t0) / 1000
	const sampler = setInterval(async () => {
		rss.push({ t: elapsed(), bytes: await gw.rss() })
	}, 5000)
	const progress = setInterval(() => {
		const last = rss.at(-1)
		console.log(
			`t=${elapsed().toFixed(0)}s open=${live.size} completed=${completed} short=${during.length} p50=${stats(during).p50}ms errors=${errors.length} rss=${last ? (last.bytes / 2 ** 20).toFixed(0) : '?'}MB`,
		)
	}, 30_000)
	while (elapsed() < DURATION_S) {
		const started = performance.now()
		during.push(await shortRequest())
		const pause = 1000 / SHORT_RPS - (performance.now() - started)
		if (pause > 0) await Bun.sleep(pause)
	}
	running = false
	clearInterval(sampler)
	clearInterval(progress)
	rss.push({ t: elapsed(), bytes: await gw.rss() })

	// Drift: the median RSS of the minute after warm-up against the median of the last minute
	// (single samples swing by GC timing).
	const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0
	const afterWarmup = rss.filter((r) => r.t >= WARMUP_S)
	const window = Math.min(60, Math.max(10, (DURATION_S - WARMUP_S) / 3))
	const reference = { bytes: median(afterWarmup.filter((r) => r.t < WARMUP_S + window).map((r) => r.bytes)) || rss[0]!.bytes }
	const end = { bytes: median(rss.filter((r) => r.t >= DURATION_S - window).map((r) => r.bytes)) || rss.at(-1)!.bytes }
	const peak = Math.max(...afterWarmup.map((r) => r.bytes), reference.bytes)
	const drift = (end.bytes - reference.bytes) / reference.bytes
	const b = stats(baseline)
	const d = stats(during)
	const summary = {
		streams: STREAMS,
		duration_s: DURATION_S,
		streams_opened: opened,
		streams_completed: completed,
		first_open_ms: Math.round(openMs),
		short_baseline_ms: b,
		short_with_streams_ms: d,
		added_latency_ms: { p50: +(d.p50 - b.p50).toFixed(2), p99: +(d.p99 - b.p99).toFixed(2) },
		open_streams_at_end: live.size,
		rss_mb: { after_warmup: +(reference.bytes / 2 ** 20).toFixed(1), peak: +(peak / 2 ** 20).toFixed(1), end: +(end.bytes / 2 ** 20).toFixed(1) },
		rss_drift_pct: +(drift * 100).toFixed(1),
		errors: errors.length,
		first_errors: errors.slice(0, 5),
	}
	console.log(JSON.stringify(summary, null, 2))
	const failed = errors.length > 0 || Math.abs(drift) > 0.1

	for (const s of live) s.close()
	await gw.stop()
	fakeProc.kill()
	await fakeProc.exited
	rmSync(dir, { recursive: true, force: true })
	process.exit(failed ? 1 : 0)
}
