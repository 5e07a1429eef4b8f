/**
 * Where the real CLIs are (test support): CLAUDE_BIN / CODEX_BIN, else .ci/cli (where .ci/run
 * installs them from npm), else the PATH. Null when absent: the tests skip and say so.
 */
import { existsSync } from 'node:fs'

const CI_BIN = new URL('../.ci/cli/node_modules/.bin/', import.meta.url).pathname

export function findCli(name: 'claude' | 'codex', envVar: string): string | null {
	const fromEnv = process.env[envVar]
	if (fromEnv && existsSync(fromEnv)) return fromEnv
	if (existsSync(CI_BIN + name)) return CI_BIN + name
	return Bun.which(name)
}
