/**
 * The real entry point as a process: `bun core/main.ts` with no configuration at all (only a
 * free PORT, so parallel runs do not collide). No request here goes to the upstream.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const MAIN = resolve(import.meta.dir, '../core/main.ts')
const dir = mkdtempSync(join(tmpdir(), 'amb2api-main-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function freePort(): number {
	const server = Bun.serve({ port: 0, fetch: () => new Response() })
	const port = server.port as number
	server.stop(true)
	return port
}

async function start(env: Record<string, string> = {}) {
	const port = freePort()
	const proc = Bun.spawn(['bun', MAIN], {
		cwd: dir,
		env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dir, PORT: String(port), ...env },
		stdout: 'pipe',
		stderr: 'pipe',
	})
	const base = `http://127.0.0.1:${port}`
	let out = ''
	const reader = proc.stdout.getReader()
	const decoder = new TextDecoder()
	const deadline = Date.now() + 15_000
	while (!out.includes('/swagger') && Date.now() < deadline) {
		const { value, done } = await reader.read()
		if (done) break
		out += decoder.decode(value)
	}
	reader.releaseLock()
	return { proc, base, out }
}

describe('bun run start', () => {
	test('with no configuration: starts, prints passwords once and where panel and docs are, serves, stops on SIGTERM', async () => {
		const { proc, base, out } = await start()
		try {
			expect(out).toContain(`${base.replace('127.0.0.1', 'localhost')}/ui`)
			expect(out).toContain('/swagger')
			const api = /API password \(clients, \/v1\): (\S+)/.exec(out)?.[1] as string
			const panel = /Panel password \(\/ui, \/admin\): (\S+)/.exec(out)?.[1] as string
			expect(api).toHaveLength(32)
			expect(panel).toHaveLength(32)
			expect(api).not.toBe(panel)

			expect((await fetch(`${base}/health`)).status).toBe(200)
			expect((await fetch(`${base}/ui`)).status).toBe(200)
			expect((await fetch(`${base}/swagger`)).status).toBe(200)
			const chat = await fetch(`${base}/v1/chat/completions`, {
				method: 'POST',
				headers: { authorization: `Bearer ${api}`, 'content-type': 'application/json' },
				body: JSON.stringify({ model: 'gpt-5', messages: [{ role: 'user', content: 'hi' }] }),
			})
			expect(chat.status).toBe(503)
			expect((await chat.json()).error.message).toContain('ASSEMBLY_API_KEYS')
			expect((await fetch(`${base}/admin/storage`, { headers: { authorization: `Bearer ${panel}` } })).status).toBe(200)
			expect((await fetch(`${base}/admin/storage`, { headers: { authorization: `Bearer ${api}` } })).status).toBe(401)

			proc.kill('SIGTERM')
			expect(await proc.exited).toBe(0)
			// Printed once to the console, never to the log file, never as plain text in storage.
			const logFile = readFileSync(join(dir, 'log.txt'), 'utf8')
			expect(logFile.length).toBeGreaterThan(0)
			expect(logFile).not.toContain(api)
			expect(logFile).not.toContain(panel)
			expect(readFileSync(join(dir, 'creds', 'settings.json'), 'utf8')).not.toContain(api)

			// A restart keeps the stored passwords and prints none.
			const again = await start()
			try {
				expect(again.out).not.toContain('password')
				const models = await fetch(`${again.base}/admin/storage`, { headers: { authorization: `Bearer ${panel}` } })
				expect(models.status).toBe(200)
			} finally {
				again.proc.kill('SIGTERM')
				await again.proc.exited
			}
		} finally {
			proc.kill('SIGKILL')
		}
	})

	test('a .env file in the working directory configures it; the real environment wins', async () => {
		const envDir = mkdtempSync(join(tmpdir(), 'amb2api-dotenv-'))
		const port = freePort()
		await Bun.write(join(envDir, '.env'), `PORT=${port}\nHOST=127.0.0.1\nAPI_PASSWORD=from-dotenv-api-1\nPANEL_PASSWORD=from-dotenv-panel-1\nLOG_LEVEL=debug\n`)
		const proc = Bun.spawn(['bun', MAIN], { cwd: envDir, env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warning' }, stdout: 'pipe', stderr: 'pipe' })
		try {
			const deadline = Date.now() + 15_000
			let up = false
			while (!up && Date.now() < deadline) {
				up = await fetch(`http://127.0.0.1:${port}/health`).then(
					(r) => r.ok,
					() => false,
				)
				if (!up) await Bun.sleep(100)
			}
			expect(up).toBe(true)
			const storage = await fetch(`http://127.0.0.1:${port}/admin/storage`, { headers: { authorization: 'Bearer from-dotenv-panel-1' } })
			expect(storage.status).toBe(200)
			proc.kill('SIGTERM')
			await proc.exited
			const out = await new Response(proc.stdout).text()
			// The passwords came from .env: none generated (the SECRETS_KEY of the file backend is, once).
			expect(out).not.toContain('No password was configured')
			expect(out).toContain('SECRETS_KEY was not set, so one was generated and saved in')
			// LOG_LEVEL=warning from the real environment beat debug from .env: no info lines.
			expect(readFileSync(join(envDir, 'log.txt'), 'utf8')).not.toContain('"level":"info"')
		} finally {
			proc.kill('SIGKILL')
			rmSync(envDir, { recursive: true, force: true })
		}
	})

	test('a malformed value stops start-up with one line naming the variable', async () => {
		const proc = Bun.spawn(['bun', MAIN], { cwd: dir, env: { PATH: process.env.PATH ?? '', PORT: 'abc' }, stdout: 'pipe', stderr: 'pipe' })
		expect(await proc.exited).toBe(1)
		const stderr = await new Response(proc.stderr).text()
		expect(stderr.trim().split('\n')).toHaveLength(1)
		expect(stderr).toContain('PORT="abc"')
	})
})
