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

export async function ensureSecrets(config: Config, storage: Storage, stored: Record<string, unknown>, print: (line: string) => void): Promise<PanelSecrets> {
	const generated: string[] = []
	const check = async (plain: string | null, field: string, label: string): Promise<PasswordCheck> => {
		const hash = typeof stored[field] === 'string' ? (stored[field] as string) : null
		if (plain) return PasswordCheck.plain(plain)
		if (hash) return PasswordCheck.hashed(hash)
		const password = generatePassword()
		const mine = hashPassword(password)
		await storage.saveSettings({ [field]: mine })
		// Instances starting together on one backend: the hash that landed wins, and only the
		// instance whose password it is prints it.
		const landed = (await storage.loadSettings())[field]
		if (typeof landed === 'string' && landed !== mine) return PasswordCheck.hashed(landed)
		generated.push(`  ${label}: ${password}`)
		return PasswordCheck.plain(password, 'stored')
	}
	const api = await check(config.secrets.apiPassword, 'api_password_hash', 'API password (clients, /v1)')
	const panel = await check(config.secrets.panelPassword, 'panel_password_hash', 'Panel password (/ui, /admin)')
	if (generated.length) {
		print(
			['No password was configured, so these were generated and stored (as hashes). They are shown only this once:', ...generated, 'Set API_PASSWORD / PANEL_PASSWORD to choose your own.'].join(
				'\n',
			),
		)
	}
	let sessionSecret = typeof stored.session_secret === 'string' ? stored.session_secret : null
	if (!sessionSecret) {
		sessionSecret = generatePassword() + generatePassword()
		await storage.saveSettings({ session_secret: sessionSecret })
	}
	return { api, panel, sessionSecret }
}

/** One password opening both sides (PASSWORD alone, or the same value twice) deserves a warning at start. */
export function samePasswordWarning(config: Config): string | null {
	const { apiPassword, panelPassword } = config.secrets
	if (apiPassword === null || apiPassword !== panelPassword) return null
	return 'the API password and the panel password are the same value (PASSWORD alone sets both): every API client can open the admin side. Set PANEL_PASSWORD to a different value to separate them.'
}
