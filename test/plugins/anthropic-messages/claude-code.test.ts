/**
 * Claude Code, the real CLI, headless (`claude -p`) against amb2api and the fake upstream:
 * ANTHROPIC_BASE_URL + ANTHROPIC_API_KEY point it at the gateway, and its answer comes back
 * through /v1/messages (streamed, with its full system prompt and tool list). Offline, ~10 s.
 * `.ci/run` installs the CLI from npm; without it the test is skipped with a message.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { findCli } from '../../cli-bins.ts'
import { API_PASSWORD, harnessSet } from '../../support.ts'

const CLAUDE = findCli('claude', 'CLAUDE_BIN')
if (!CLAUDE) console.warn('[skip] Claude Code is not installed (set CLAUDE_BIN, or run .ci/run to install it into .ci/cli): its real-client test is skipped')

const harnesses = harnessSet()
afterEach(() => harnesses.closeAll())

describe('Claude Code against /v1/messages', () => {
	test.skipIf(!CLAUDE)(
		'claude -p answers one prompt through the gateway',
		async () => {
			const h = await harnesses.start()
			const base = await h.listen()
			const home = await mkdtemp(join(tmpdir(), 'amb2api-claude-'))
			try {
				const proc = Bun.spawn([CLAUDE!, '-p', 'Say hello to the gateway', '--model', 'claude-sonnet-4-6', '--output-format', 'json'], {
					cwd: home,
					stdin: 'ignore',
					stdout: 'pipe',
					stderr: 'pipe',
					env: {
						PATH: process.env.PATH ?? '',
						HOME: home,
						ANTHROPIC_BASE_URL: base,
						ANTHROPIC_API_KEY: API_PASSWORD,
						ANTHROPIC_DEFAULT_HAIKU_MODEL: 'claude-haiku-4-5-20251001',
						ANTHROPIC_SMALL_FAST_MODEL: 'claude-haiku-4-5-20251001',
						CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
						DISABLE_TELEMETRY: '1',
						DISABLE_AUTOUPDATER: '1',
					},
				})
				const killer = setTimeout(() => proc.kill(), 55_000)
				const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()])
				await proc.exited
				clearTimeout(killer)
				if (proc.exitCode !== 0) throw new Error(`claude exited ${proc.exitCode}: ${err.slice(-800)} ${out.slice(-800)}`)
				const result = JSON.parse(out)
				expect(result.is_error).toBe(false)
				expect(result.subtype).toBe('success')
				// The fake echoes the last user message, which Claude Code wraps in its own reminders.
				expect(result.result).toContain('Echo:')
				expect(result.result).toContain('Say hello to the gateway')
				expect(result.usage.output_tokens).toBeGreaterThan(0)
				const served = h.fake.requests.filter((r) => r.path === '/v1/chat/completions' && r.status === 200)
				expect(served.length).toBeGreaterThan(0)
				expect(h.logs.some((l) => l.includes('"path":"/v1/messages"') && l.includes('"status":200'))).toBe(true)
			} finally {
				await rm(home, { recursive: true, force: true })
			}
		},
		60_000,
	)
})
