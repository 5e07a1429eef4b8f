/**
 * Passwords at start-up: the environment's whenever it sets one (whatever CONFIG_OVERRIDE_ENV
 * says: an operator who sets a password must be able to log in with it), else the stored hash; when
 * none is configured, a strong one is generated, stored as a salted hash, and printed once to
 * the console (never to the log). Also the secret that signs panel sessions, shared by
 * instances through storage.
 */
import type { Config } from './config.ts'
import { generatePassword, hashPassword, PasswordCheck } from './secrets.ts'
import type { Storage } from './storage.ts'

export interface PanelSecrets {
	api: PasswordCheck
	panel: PasswordCheck
	sessionSecret: string
}

const PASSWORDS = [
	{ field: 'api_password_hash', label: 'API password (clients, /v1)', from: (c: Config) => c.secrets.apiPassword },
	{ field: 'panel_password_hash', label: 'Panel password (/ui, /admin)', from: (c: Config) => c.secrets.panelPassword },
] as const

export async function ensureSecrets(config: Config, storage: Storage, stored: Record<string, unknown>, print: (line: string) => void): Promise<PanelSecrets> {
	const checks = new Map<string, PasswordCheck>()
	// Candidates for whatever nothing configures yet: generated here, kept only if they land.
	const candidates = new Map<string, { password: string; hash: string; label: string }>()
	for (const { field, label, from } of PASSWORDS) {
		const plain = from(config)
		const hash = typeof stored[field] === 'string' ? (stored[field] as string) : null
		// A password the environment sets always wins: the operator chose it there.
		if (plain) checks.set(field, PasswordCheck.plain(plain))
		else if (hash) checks.set(field, PasswordCheck.hashed(hash))
		else {
			const password = generatePassword()
			candidates.set(field, { password, hash: hashPassword(password), label })
		}
	}
	const fields: Record<string, unknown> = Object.fromEntries([...candidates].map(([field, c]) => [field, c.hash]))
	if (typeof stored.session_secret !== 'string') fields.session_secret = generatePassword() + generatePassword()

	// One set-if-absent for everything at once: instances starting together on one backend agree
	// on what landed first, and only the instance whose passwords landed prints them.
	const landed = Object.keys(fields).length ? await storage.initSettings(fields) : {}
	const generated: string[] = []
	for (const [field, candidate] of candidates) {
		const value = landed[field]
		if (typeof value !== 'string') throw new Error(`storage did not keep ${field}`)
		if (value === candidate.hash) {
			generated.push(`  ${candidate.label}: ${candidate.password}`)
			checks.set(field, PasswordCheck.plain(candidate.password, 'stored'))
		} else checks.set(field, PasswordCheck.hashed(value))
	}
	if (generated.length) {
		print(
			[
				'No password was configured, so these were generated and stored (as hashes). They are shown only this once:',
				...generated,
				'Set API_PASSWORD / PANEL_PASSWORD to choose your own.',
			].join('\n'),
		)
	}
	// The session secret signs panel cookies: every instance must hold the same one.
	const sessionSecret = typeof stored.session_secret === 'string' ? stored.session_secret : landed.session_secret
	if (typeof sessionSecret !== 'string') throw new Error('storage did not keep the session secret')
	const api = checks.get('api_password_hash')
	const panel = checks.get('panel_password_hash')
	if (!api || !panel) throw new Error('password bootstrap left a password unset')
	return { api, panel, sessionSecret }
}

/** One password opening both sides (PASSWORD alone, or the same value twice) deserves a warning at start. */
export function samePasswordWarning(config: Config): string | null {
	const { apiPassword, panelPassword } = config.secrets
	if (apiPassword === null || apiPassword !== panelPassword) return null
	return 'the API password and the panel password are the same value (PASSWORD alone sets both): every API client can open the admin side. Set PANEL_PASSWORD to a different value to separate them.'
}
