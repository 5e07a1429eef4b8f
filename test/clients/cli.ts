/**
 * Drives the real CLI clients headless and offline: Claude Code (`claude -p`) and Codex CLI
 * (`codex exec`), pinned in .ci/clients/package.json and installed by .ci/run into
 * .ci/clients/node_modules (absent binary → the tests that need it skip).
 *
 * Every run gets a fresh temporary HOME (and CODEX_HOME), a fresh working directory, only the
 * environment listed here, stdin closed, and a hard timeout. Outbound traffic: the documented
 * switches turn off update checks, telemetry, error reporting and plugin syncs; on top of that
 * HTTP(S)_PROXY / ALL_PROXY point at a local "egress canary" that records (and refuses) every
 * connection a CLI tries to make anywhere but 127.0.0.1, so a test can assert there was none.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

export const CLIENTS_DIR = resolve(import.meta.dir, '../../.ci/clients')
const BIN = join(CLIENTS_DIR, 'node_modules/.bin')
const pinned = JSON.parse(readFileSync(join(CLIENTS_DIR, 'package.json'), 'utf8')).devDependencies as Record<string, string>
export const CLAUDE_CODE_VERSION = pinned['@anthropic-ai/claude-code']!
export const CODEX_VERSION = pinned['@openai/codex']!

export interface CliRun {
	code: number | null
	stdout: string
	stderr: string
	timedOut: boolean
	ms: number
}

/** `--version` of an installed binary, or null when it is absent or does not run. */
function probeVersion(cmd: string[]): string | null {
	if (!existsSync(cmd[cmd.length - 1]!)) return null
	try {
		const out = Bun.spawnSync([...cmd, '--version'], { stdout: 'pipe', stderr: 'pipe', env: { PATH: process.env.PATH ?? '', HOME: tmpdir() }, timeout: 20_000 })
		return out.exitCode === 0 ? out.stdout.toString().trim() : null
	} catch {
		return null
	}
}

/** The Claude Code command (a native binary Bun links from the platform package), or null. */
export function claudeCommand(): string[] | null {
	const cmd = [join(BIN, 'claude')]
	return probeVersion(cmd)?.startsWith(CLAUDE_CODE_VERSION) ? cmd : null
}

/**
 * The Codex command: the npm wrapper `bin/codex.js` (which finds the platform package's native
 * binary and puts its bundled `rg` on PATH), run by node when there is one, else by Bun.
 */
export function codexCommand(): string[] | null {
	const cmd = [Bun.which('node') ?? process.execPath, join(BIN, 'codex')]
	return probeVersion(cmd)?.includes(CODEX_VERSION) ? cmd : null
}

async function run(cmd: string[], options: { cwd: string; env: Record<string, string>; timeoutMs: number }): Promise<CliRun> {
	const started = Date.now()
	const proc = Bun.spawn(cmd, { cwd: options.cwd, env: options.env, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
	let timedOut = false
	const timer = setTimeout(() => {
		timedOut = true
		proc.kill('SIGKILL')
	}, options.timeoutMs)
	const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
	clearTimeout(timer)
	return { code, stdout, stderr, timedOut, ms: Date.now() - started }
}

/** A TCP listener standing in for an HTTP proxy: records the first line of every connection and closes it. */
export interface EgressCanary {
	url: string
	/** e.g. 'CONNECT api.anthropic.com:443 HTTP/1.1' */
	attempts: string[]
	stop(): void
}
export function startEgressCanary(): EgressCanary {
	const attempts: string[] = []
	const listener = Bun.listen({
		hostname: '127.0.0.1',
		port: 0,
		socket: {
			data(socket, data) {
				attempts.push(data.toString().split('\r\n')[0] ?? '')
				socket.end()
			},
		},
	})
	return { url: `http://127.0.0.1:${listener.port}`, attempts, stop: () => listener.stop(true) }
}

function baseEnv(home: string, canary: EgressCanary): Record<string, string> {
	return {
		PATH: process.env.PATH ?? '/usr/bin:/bin',
		HOME: home,
		TMPDIR: tmpdir(),
		LANG: 'C.UTF-8',
		TERM: 'dumb',
		NO_COLOR: '1',
		HTTPS_PROXY: canary.url,
		HTTP_PROXY: canary.url,
		ALL_PROXY: canary.url,
		https_proxy: canary.url,
		http_proxy: canary.url,
		all_proxy: canary.url,
		NO_PROXY: '127.0.0.1,localhost',
		no_proxy: '127.0.0.1,localhost',
	}
}

export interface ClaudeCodeRun extends CliRun {
	/** the `--output-format json` result object (`result` is the answer text), when stdout parsed */
	json: Record<string, any> | null
	egress: string[]
}

/**
 * `claude -p <prompt> --model <model> --output-format json` against `baseUrl` (the server root:
 * Claude Code appends `/v1/messages?beta=true` itself). `auth: 'x-api-key'` sets ANTHROPIC_API_KEY
 * (sent as `x-api-key`), `'bearer'` sets ANTHROPIC_AUTH_TOKEN (sent as `Authorization: Bearer`).
 */
export async function runClaudeCode(options: {
	cmd: string[]
	baseUrl: string
	apiKey: string
	prompt: string
	model: string
	auth?: 'x-api-key' | 'bearer'
	/** more CLI arguments, e.g. ['--allowedTools', 'Bash(echo:*)'] */
	extraArgs?: string[]
	timeoutMs?: number
}): Promise<ClaudeCodeRun> {
	const dir = mkdtempSync(join(tmpdir(), 'amb2api-claude-'))
	const canary = startEgressCanary()
	try {
		const home = join(dir, 'home')
		const work = join(dir, 'work')
		mkdirSync(home)
		mkdirSync(work)
		const env: Record<string, string> = {
			...baseEnv(home, canary),
			ANTHROPIC_BASE_URL: options.baseUrl,
			[options.auth === 'bearer' ? 'ANTHROPIC_AUTH_TOKEN' : 'ANTHROPIC_API_KEY']: options.apiKey,
			// every background/small-model call (if any) on a model the gateway serves
			ANTHROPIC_DEFAULT_HAIKU_MODEL: options.model,
			ANTHROPIC_SMALL_FAST_MODEL: options.model,
			// no update check, telemetry, error reporting, or other non-essential traffic
			DISABLE_AUTOUPDATER: '1',
			DISABLE_TELEMETRY: '1',
			DISABLE_ERROR_REPORTING: '1',
			CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
			CLAUDE_CODE_DISABLE_FEEDBACK_SURVEY: '1',
			// a failure shows at once instead of after Claude Code's backoff retries
			CLAUDE_CODE_MAX_RETRIES: '0',
		}
		const result = await run(
			[...options.cmd, '-p', options.prompt, '--model', options.model, '--output-format', 'json', '--max-turns', '3', ...(options.extraArgs ?? [])],
			{
				cwd: work,
				env,
				timeoutMs: options.timeoutMs ?? 60_000,
			},
		)
		let json: Record<string, any> | null = null
		try {
			json = JSON.parse(result.stdout.trim().split('\n').pop() ?? '')
		} catch {}
		return { ...result, json, egress: [...canary.attempts] }
	} finally {
		canary.stop()
		rmSync(dir, { recursive: true, force: true })
	}
}

export interface CodexRun extends CliRun {
	/** what `-o/--output-last-message` wrote: the agent's final message */
	lastMessage: string
	egress: string[]
}

/** Codex's config.toml: one custom provider speaking the Responses API at `baseUrl` (ending in /v1). */
export function codexConfig(baseUrl: string, model: string, envKey: string): string {
	return `# written by test/clients/cli.ts for one run
model = ${JSON.stringify(model)}
model_provider = "amb2api"
check_for_update_on_startup = false

[analytics]
enabled = false

[feedback]
enabled = false

# the curated-plugin sync would reach github.com, api.github.com and chatgpt.com
[features]
plugins = false
remote_plugin = false
apps = false

[model_providers.amb2api]
name = "amb2api"
base_url = ${JSON.stringify(baseUrl)}
env_key = ${JSON.stringify(envKey)}
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0
`
}

/**
 * `codex exec --skip-git-repo-check --ephemeral --strict-config --sandbox read-only -o <file> <prompt>`
 * with a temporary CODEX_HOME whose config.toml points the `amb2api` provider at `baseUrl`
 * (ending in /v1: Codex appends `/responses`); the key travels in AMB2API_API_KEY (`env_key`).
 */
export async function runCodex(options: {
	cmd: string[]
	baseUrl: string
	apiKey: string
	prompt: string
	model: string
	/** more `codex exec` arguments before the prompt, e.g. ['--disable', 'multi_agent'] */
	extraArgs?: string[]
	timeoutMs?: number
}): Promise<CodexRun> {
	const dir = mkdtempSync(join(tmpdir(), 'amb2api-codex-'))
	const canary = startEgressCanary()
	try {
		const home = join(dir, 'home')
		const codexHome = join(dir, 'codex-home')
		const work = join(dir, 'work')
		for (const d of [home, codexHome, work]) mkdirSync(d)
		writeFileSync(join(codexHome, 'config.toml'), codexConfig(options.baseUrl, options.model, 'AMB2API_API_KEY'))
		const lastFile = join(dir, 'last-message.txt')
		const env = { ...baseEnv(home, canary), CODEX_HOME: codexHome, AMB2API_API_KEY: options.apiKey }
		const args = [
			'exec',
			'--skip-git-repo-check',
			'--ephemeral',
			'--strict-config',
			'--sandbox',
			'read-only',
			'--color',
			'never',
			'-o',
			lastFile,
			...(options.extraArgs ?? []),
			options.prompt,
		]
		const result = await run([...options.cmd, ...args], { cwd: work, env, timeoutMs: options.timeoutMs ?? 60_000 })
		const lastMessage = existsSync(lastFile) ? readFileSync(lastFile, 'utf8') : ''
		return { ...result, lastMessage, egress: [...canary.attempts] }
	} finally {
		canary.stop()
		rmSync(dir, { recursive: true, force: true })
	}
}

/** One line for a failed run's diagnostics. */
export function describeRun(r: CliRun): string {
	return `exit ${r.code}${r.timedOut ? ' (timed out)' : ''} after ${r.ms} ms\n--- stdout ---\n${r.stdout.slice(-3000)}\n--- stderr ---\n${r.stderr.slice(-3000)}`
}
