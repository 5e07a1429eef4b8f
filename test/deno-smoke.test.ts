/**
 * The same app on Deno: `core/main.deno.ts` run by the `deno` npm package against the fake
 * gateway; health, one chat and one stream must behave exactly as on Bun.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createFakeGateway, type FakeGateway } from './fake-gateway.ts'
import { API_PASSWORD, KEYS, PANEL_PASSWORD, readSse } from './support.ts'

const ROOT = resolve(import.meta.dir, '..')
// The binary itself, not the npm package's wrapper (bin.cjs): killing the wrapper would leave
// the deno process it started running after the suite ends.
const BINARY = join(ROOT, 'node_modules/deno/deno')
const DENO = existsSync(BINARY) ? BINARY : join(ROOT, 'node_modules/.bin/deno')
let fake: FakeGateway
let proc: ReturnType<typeof Bun.spawn>
let base = ''
let output = ''
const dir = mkdtempSync(join(tmpdir(), 'amb2api-deno-'))

beforeAll(async () => {
	fake = createFakeGateway({ keys: Object.fromEntries(KEYS.map((k) => [k, {}])) })
	const fakeUrl = await fake.listen()
	const probe = Bun.serve({ port: 0, fetch: () => new Response() })
	const port = probe.port as number
	probe.stop(true)
	proc = Bun.spawn([DENO, 'run', '-A', '--node-modules-dir=manual', '--unstable-no-legacy-abort', join(ROOT, 'core/main.deno.ts')], {
		cwd: dir,
		env: {
			PATH: process.env.PATH ?? '',
			HOME: process.env.HOME ?? dir,
			DENO_NO_UPDATE_CHECK: '1',
			HOST: '127.0.0.1',
			PORT: String(port),
			API_PASSWORD,
			PANEL_PASSWORD,
			ASSEMBLY_API_KEYS: KEYS.join(','),
			ASSEMBLY_ENDPOINT: `${fakeUrl}/v1/chat/completions`,
			LOG_FILE: join(dir, 'log.txt'),
		},
		stdout: 'pipe',
		stderr: 'pipe',
	})
	base = `http://127.0.0.1:${port}`
	const deadline = Date.now() + 30_000
	while (Date.now() < deadline) {
		const ok = await fetch(`${base}/health`)
			.then((r) => r.ok)
			.catch(() => false)
		if (ok) return
		await Bun.sleep(100)
	}
	proc.kill()
	output = await new Response(proc.stderr as ReadableStream).text()
	throw new Error(`Deno gateway did not start: ${output}`)
})

/** Every process below `pid` (children, their children): a runtime that forks must not leave them behind. */
function descendants(pid: number): number[] {
	const { readdirSync, readFileSync } = require('node:fs') as typeof import('node:fs')
	const parentOf = new Map<number, number>()
	for (const entry of readdirSync('/proc')) {
		if (!/^\d+$/.test(entry)) continue
		try {
			const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
			parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]))
		} catch {}
	}
	const found: number[] = []
	const walk = (p: number) => {
		for (const [child, parent] of parentOf) if (parent === p && !found.includes(child)) found.push(child), walk(child)
	}
	walk(pid)
	return found
}

/** Processes whose working directory is the runtime's own temporary directory (only ours can be). */
function inDir(): number[] {
	const { readdirSync, readlinkSync } = require('node:fs') as typeof import('node:fs')
	return readdirSync('/proc')
		.filter((p) => /^\d+$/.test(p))
		.filter((p) => {
			try {
				return readlinkSync(`/proc/${p}/cwd`) === dir
			} catch {
				return false
			}
		})
		.map(Number)
}

/**
 * Stops the runtime and whatever it started, by process id: its descendants, and anything left
 * in its own temporary directory (in a full CI run a deno process was once left there, parented
 * to init, after the one we spawned had exited).
 */
async function stopDeno(): Promise<void> {
	if (!proc) return
	const below = descendants(proc.pid)
	proc.kill('SIGTERM')
	await proc.exited
	const signal = (pids: number[], sig: NodeJS.Signals) => {
		for (const pid of pids) {
			try {
				process.kill(pid, sig)
			} catch {}
		}
	}
	signal([...below, ...inDir()], 'SIGTERM')
	for (let i = 0; i < 20 && inDir().length > 0; i++) await Bun.sleep(100)
	signal(inDir(), 'SIGKILL')
}

afterAll(async () => {
	await stopDeno()
	await fake?.stop()
	rmSync(dir, { recursive: true, force: true })
})

const chat = (body: unknown) =>
	fetch(`${base}/v1/chat/completions`, {
		method: 'POST',
		headers: { authorization: `Bearer ${API_PASSWORD}`, 'content-type': 'application/json' },
		body: JSON.stringify(body),
	})

describe('Deno runtime smoke test', () => {
	test('health', async () => {
		const response = await fetch(`${base}/health`)
		expect(await response.json()).toMatchObject({ status: 'ok', storage: { backend: 'file', ok: true } })
	})

	test('one chat', async () => {
		const response = await chat({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'hello deno' }] })
		expect(response.status).toBe(200)
		const body = await response.json()
		expect(body.object).toBe('chat.completion')
		expect(body.choices[0].message.content).toBe('Echo: hello deno')
	})

	test('one stream', async () => {
		const response = await chat({ model: 'gpt-5', stream: true, messages: [{ role: 'user', content: 'stream on deno' }] })
		expect(response.status).toBe(200)
		const frames = await readSse(response)
		expect(frames[frames.length - 1]).toBe('[DONE]')
		const text = frames
			.slice(0, -1)
			.map((f) => JSON.parse(f).choices[0]?.delta?.content ?? '')
			.join('')
		expect(text).toBe('Echo: stream on deno')
	})

	test('stopping it leaves nothing running: the runtime itself is stopped, not a wrapper, and anything it left is stopped by pid', async () => {
		const pid = proc.pid
		await stopDeno()
		// The pid we hold is the runtime (not a wrapper): once it exited, no process has it.
		const alive = (() => {
			try {
				process.kill(pid, 0)
				return true
			} catch {
				return false
			}
		})()
		expect(alive).toBe(false)
		// Nothing of it is left running once the suite has stopped it.
		let orphans = inDir()
		for (let i = 0; i < 30 && orphans.length > 0; i++) {
			await Bun.sleep(100)
			orphans = inDir()
		}
		expect(orphans).toEqual([])
	})
})
