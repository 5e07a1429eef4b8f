/**
 * `bun bench/overhead.ts [requests] [--compare <git ref>]`: the gateway's own CPU per request,
 * without sockets. With --compare, <ref> is checked out in a worktree and its gateway is
 * measured in the same process, alternating with this tree's (A/B in one run). The
 * gateway (every default plugin, file storage, the log file on) and a bare handler both call a
 * canned in-process upstream, in one process, alternating; the difference is what amb2api adds.
 * Repeatable to a few µs on a busy machine (no network, no other process in the measurement),
 * so it tells one hot-path change from another; the socket benchmark (throughput.ts) gives the
 * ratios users see. `--cpu-prof` on bun profiles just the gateway's work.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { execFileSync } from 'node:child_process'
import { buildApp } from '../core/kernel.ts'
import { BENCH_KEYS, BENCH_PASSWORD } from './constants.ts'

const args = process.argv.slice(2)
const compareAt = args.indexOf('--compare')
const ref = compareAt >= 0 ? args.splice(compareAt, 2)[1] : undefined
const total = Number(args[0] ?? 20_000)
const root = resolve(import.meta.dir, '..')
const dir = mkdtempSync(join(tmpdir(), 'amb2api-overhead-'))
const catalog = readFileSync(resolve(import.meta.dir, '../test/fixtures/catalog.json'), 'utf8')
const ENDPOINT = 'http://upstream.invalid/v1/chat/completions'
const ANSWER = JSON.stringify({
	request_id: 'req_0',
	choices: [{ message: { role: 'assistant', content: 'Hello there.' }, finish_reason: 'stop' }],
	usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 },
})
const LIMIT_HEADERS = { 'content-type': 'application/json', 'x-ratelimit-limit': '100000000', 'x-ratelimit-remaining': '99999999', 'x-ratelimit-reset': '60' }

/** The canned upstream: the catalog, or a fixed answer with rate-limit headers. */
const upstream = (async (input: RequestInfo | URL, init?: RequestInit) => {
	const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url
	if (url.endsWith('/models')) return new Response(catalog, { headers: { 'content-type': 'application/json' } })
	if (init?.body instanceof ReadableStream) await new Response(init.body).arrayBuffer()
	return new Response(ANSWER, { headers: LIMIT_HEADERS })
}) as typeof fetch

const env = (name: string) => ({
	API_PASSWORD: BENCH_PASSWORD,
	PANEL_PASSWORD: 'bench-panel-password',
	ASSEMBLY_API_KEYS: BENCH_KEYS.join(','),
	ASSEMBLY_ENDPOINT: ENDPOINT,
	CREDENTIALS_DIR: join(dir, name, 'creds'),
	LOG_FILE: join(dir, name, 'log.txt'),
	SECRETS_KEY: 'YmVuY2gtc2VjcmV0cy1rZXktMzItYnl0ZXMtbG9uZyE=',
	DAILY_REQUEST_LIMIT: '0',
})
const deps = { fetch: upstream, log: { stdout: false }, print: () => {} }
const gateway = await buildApp(env('a'), deps)
let other: Awaited<ReturnType<typeof buildApp>> | null = null
const tree = join(dir, 'ref')
if (ref) {
	execFileSync('git', ['worktree', 'add', '--detach', tree, ref], { cwd: root, stdio: 'ignore' })
	execFileSync('bun', ['install', '--frozen-lockfile', '--silent'], { cwd: tree, stdio: 'inherit' })
	const kernel = (await import(join(tree, 'core/kernel.ts'))) as { buildApp: typeof buildApp }
	other = await kernel.buildApp(env('b'), deps)
}

/** The baseline: read the body, call the upstream with it, pass the answer on with a request id. */
const bare = async (request: Request): Promise<Response> => {
	const body = await request.text()
	const response = await upstream(ENDPOINT, { method: 'POST', body, headers: { authorization: BENCH_KEYS[0] as string } })
	return new Response(response.body, { status: response.status, headers: { 'content-type': 'application/json', 'x-request-id': crypto.randomUUID() } })
}

const BODY = JSON.stringify({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'benchmark request with a few words' }] })
const request = () =>
	new Request('http://127.0.0.1/v1/chat/completions', {
		method: 'POST',
		headers: { authorization: `Bearer ${BENCH_PASSWORD}`, 'content-type': 'application/json', 'content-length': String(BODY.length) },
		body: BODY,
	})

/** µs of wall time (one thread: CPU) per request, `concurrency` in flight. */
async function measure(handler: (r: Request) => Response | Promise<Response>, n: number, concurrency: number): Promise<number> {
	let left = n
	let failed = 0
	const started = performance.now()
	await Promise.all(
		Array.from({ length: concurrency }, async () => {
			while (left-- > 0) {
				const response = await handler(request())
				await response.arrayBuffer()
				if (!response.ok) failed++
			}
		}),
	)
	if (failed) throw new Error(`${failed} requests failed`)
	return ((performance.now() - started) * 1000) / n
}

const median = (xs: number[]) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? Number.NaN
try {
	for (const handler of [gateway.fetch, bare, ...(other ? [other.fetch] : [])]) await measure(handler, 2000, 16)
	if (ref) console.log(`A = this tree, B = ${ref}`)
	for (const concurrency of [1, 16]) {
		const g: number[] = []
		const b: number[] = []
		const o: number[] = []
		for (let round = 0; round < 5; round++) {
			b.push(await measure(bare, total / 5, concurrency))
			g.push(await measure(gateway.fetch, total / 5, concurrency))
			if (other) o.push(await measure(other.fetch, total / 5, concurrency))
		}
		const added = (xs: number[]) => (median(xs) - median(b)).toFixed(1)
		console.log(
			`c=${String(concurrency).padEnd(3)} bare ${median(b).toFixed(1)} µs/req; ${ref ? 'A' : 'amb2api'} ${median(g).toFixed(1)} µs/req (adds ${added(g)} µs)${other ? `; B ${median(o).toFixed(1)} µs/req (adds ${added(o)} µs); A - B ${(median(g) - median(o)).toFixed(1)} µs` : ''}`,
		)
	}
} finally {
	await gateway.close()
	await other?.close()
	if (ref) execFileSync('git', ['worktree', 'remove', '--force', tree], { cwd: root, stdio: 'ignore' })
	rmSync(dir, { recursive: true, force: true })
}
