/**
 * The real entry point (`bun core/main.ts`) as a child process, for the checks that need what
 * only the process has: Bun.serve's options, Bun's fetch cap (BUN_CONFIG_MAX_HTTP_REQUESTS, read
 * from the real environment at start), its own memory. Stopped by its pid only.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { API_PASSWORD, PANEL_PASSWORD, sparePort } from './support.ts'

const MAIN = resolve(import.meta.dir, '../core/main.ts')

export interface GatewayProcess {
	base: string
	port: number
	pid: number
	/** Resident memory of the child in bytes (Linux /proc). */
	rss(): Promise<number>
	/** Everything the child wrote so far. */
	output(): string
	stop(): Promise<void>
}

export async function startGatewayProcess(env: Record<string, string>, options: { fetchCap?: number | null } = {}): Promise<GatewayProcess> {
	const port = await sparePort()
	const dir = mkdtempSync(join(tmpdir(), 'amb2api-proc-'))
	const cap = options.fetchCap === undefined ? 65535 : options.fetchCap
	const proc = Bun.spawn(['bun', MAIN], {
		cwd: dir,
		env: {
			PATH: process.env.PATH ?? '',
			HOME: process.env.HOME ?? dir,
			HOST: '127.0.0.1',
			PORT: String(port),
			API_PASSWORD,
			PANEL_PASSWORD,
			CREDENTIALS_DIR: join(dir, 'creds'),
			LOG_FILE: join(dir, 'log.txt'),
			LOG_LEVEL: 'warning',
			DAILY_REQUEST_LIMIT: '0',
			...(cap === null ? {} : { BUN_CONFIG_MAX_HTTP_REQUESTS: String(cap) }),
			...env,
		},
		stdout: 'pipe',
		stderr: 'pipe',
	})
	let out = ''
	const drain = async (stream: ReadableStream<Uint8Array>) => {
		const decoder = new TextDecoder()
		// Only the tail is kept: a soak run at LOG_LEVEL=info writes a line per request.
		for await (const chunk of stream) {
			out += decoder.decode(chunk, { stream: true })
			if (out.length > 256 * 1024) out = out.slice(-64 * 1024)
		}
	}
	void drain(proc.stdout)
	void drain(proc.stderr)
	const base = `http://127.0.0.1:${port}`
	const started = Date.now()
	for (;;) {
		if (proc.exitCode !== null) throw new Error(`gateway exited (${proc.exitCode}): ${out}`)
		try {
			if ((await fetch(`${base}/health`)).ok) break
		} catch {}
		if (Date.now() - started > 20_000) {
			proc.kill()
			throw new Error(`gateway did not start: ${out}`)
		}
		await Bun.sleep(50)
	}
	return {
		base,
		port,
		pid: proc.pid,
		async rss() {
			const status = await Bun.file(`/proc/${proc.pid}/status`).text()
			return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024
		},
		output: () => out,
		async stop() {
			proc.kill('SIGTERM')
			const exited = await Promise.race([proc.exited.then(() => true), Bun.sleep(5000).then(() => false)])
			if (!exited) proc.kill('SIGKILL')
			await proc.exited
			rmSync(dir, { recursive: true, force: true })
		},
	}
}
