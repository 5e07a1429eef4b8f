/**
 * Codex CLI, the real client, headless (`codex exec`) against amb2api's /v1/responses and the
 * fake upstream, with a custom model provider (`wire_api = "responses"`). Offline, a few seconds.
 * `.ci/run` installs the CLI from npm; without it the test is skipped with a message.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { findCli } from '../../cli-bins.ts'
import { API_PASSWORD, harnessSet } from '../../support.ts'

const CODEX = findCli('codex', 'CODEX_BIN')
if (!CODEX) console.warn('[skip] Codex CLI is not installed (set CODEX_BIN, or run .ci/run to install it into .ci/cli): its real-client test is skipped')

const harnesses = harnessSet()
afterEach(() => harnesses.closeAll())

describe('Codex CLI against /v1/responses', () => {
	test.skipIf(!CODEX)(
		'codex exec answers one prompt through the gateway',
		async () => {
			const h = await harnesses.start()
			const base = await h.listen()
			// Codex refuses to put its helpers under /tmp; a fresh CODEX_HOME under the home directory.
			const home = await mkdtemp(join(homedir(), '.amb2api-codex-test-'))
			try {
				const provider = `model_providers.amb2api={ name = "amb2api", base_url = "${base}/v1", env_key = "AMB2API_KEY", wire_api = "responses" }`
				const proc = Bun.spawn([CODEX!, 'exec', '--skip-git-repo-check', '-m', 'gpt-5', '-c', 'model_provider="amb2api"', '-c', provider, 'Say hello to the gateway'], {
					cwd: home,
					stdin: 'ignore',
					stdout: 'pipe',
					stderr: 'pipe',
					env: { PATH: process.env.PATH ?? '', HOME: home, CODEX_HOME: home, AMB2API_KEY: API_PASSWORD },
				})
				const killer = setTimeout(() => proc.kill(), 55_000)
				const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()])
				await proc.exited
				clearTimeout(killer)
				if (proc.exitCode !== 0) throw new Error(`codex exited ${proc.exitCode}: ${err.slice(-800)} ${out.slice(-800)}`)
				expect(out).toContain('Echo: Say hello to the gateway')
				expect(h.logs.some((l) => l.includes('"path":"/v1/responses"') && l.includes('"status":200'))).toBe(true)
			} finally {
				await rm(home, { recursive: true, force: true })
			}
		},
		60_000,
	)
})
