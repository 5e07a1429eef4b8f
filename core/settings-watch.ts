/**
 * Stored runtime settings, live: writes them (validated by each setting's own parser) and
 * notices changes made by any instance sharing the storage.
 *
 * Every instance re-reads the stored settings every `intervalMs` (default 2 s; one small read)
 * and right after its own writes. When a field changed, it re-resolves every setting by the one
 * precedence rule (so the catalog, i.e. the panel and /admin/settings, shows the value in force)
 * and tells its listeners. The kernel is one: it updates each plugin's `settings` object in
 * place (a plugin that reads `settings.x` when it needs it sees the new value) and the log
 * level. A plugin that copied a value at setup subscribes with `onChange`.
 */
import { type Env, resolveSettings, type SettingSource } from './config.ts'
import { BadRequestError } from './errors.ts'
import type { Logger } from './log.ts'
import type { SettingsCatalog } from './settings-catalog.ts'
import type { Storage } from './storage.ts'

declare module './plugin.ts' {
	interface Services {
		settingsWatch: SettingsWatch
	}
}

export type SettingsListener = (stored: Record<string, unknown>, changed: readonly string[]) => void

export interface SettingsWatchDeps {
	storage: Storage
	catalog: SettingsCatalog
	env: Env
	/** The kernel's table of where each setting comes from (by env name), updated in place. */
	sources: Record<string, SettingSource>
	log: Logger
}

/** Fields stored outside any setting spec, managed by their own features (passwords, model selection). */
const INTERNAL = new Set(['api_password_hash', 'panel_password_hash', 'session_secret'])

export class SettingsWatch {
	private listeners: SettingsListener[] = []
	private seen = new Map<string, string>()
	private timer: ReturnType<typeof setInterval> | null = null
	private running: Promise<string[]> | null = null

	constructor(
		private readonly deps: SettingsWatchDeps,
		initial: Record<string, unknown>,
		private readonly intervalMs = 2000,
	) {
		this.remember(initial)
	}

	private remember(stored: Record<string, unknown>): string[] {
		const changed: string[] = []
		const fields = new Set([...this.seen.keys(), ...Object.keys(stored)])
		for (const field of fields) {
			if (INTERNAL.has(field)) continue
			const now = JSON.stringify(stored[field] ?? null)
			if (this.seen.get(field) !== now) changed.push(field)
			this.seen.set(field, now)
		}
		return changed
	}

	onChange(listener: SettingsListener): void {
		this.listeners.push(listener)
	}

	/** Re-reads the stored settings; resolves to the fields that changed. */
	refresh(): Promise<string[]> {
		this.running ??= (async () => {
			try {
				const stored = await this.deps.storage.loadSettings()
				const changed = this.remember(stored)
				if (!changed.length) return changed
				for (const entry of this.deps.catalog.entries) {
					const table = { value: entry.spec }
					entry.value = resolveSettings(table, this.deps.env, stored, this.deps.sources).value
				}
				for (const listener of this.listeners) {
					try {
						listener(stored, changed)
					} catch (err) {
						this.deps.log.error({ err: err instanceof Error ? err.message : String(err) }, 'a settings listener failed')
					}
				}
				this.deps.log.info({ changed }, 'stored settings changed')
				return changed
			} finally {
				this.running = null
			}
		})()
		return this.running
	}

	/**
	 * Validates and stores a patch of stored fields (`null` or '' = remove, back to the
	 * environment or the default). Every value goes through its setting's own parser; a field
	 * the environment locks (CONFIG_OVERRIDE_ENV=true and the variable set) is refused.
	 */
	async save(patch: Record<string, unknown>): Promise<string[]> {
		const storable = this.deps.catalog.storable()
		const typed: Record<string, unknown> = {}
		for (const [field, value] of Object.entries(patch)) {
			const entry = storable.get(field)
			if (!entry || entry.spec.secret) throw new BadRequestError(`${field} is not a stored setting`, field, 'unknown_setting')
			if (this.deps.catalog.locked(entry)) {
				throw new BadRequestError(
					`${field} is set by the environment variable ${entry.spec.env}, which wins (CONFIG_OVERRIDE_ENV=true)`,
					field,
					'setting_locked',
				)
			}
			if (value === null || value === undefined || value === '') {
				typed[field] = null
				continue
			}
			const text = Array.isArray(value) ? value.join(',') : String(value)
			try {
				typed[field] = entry.spec.parse(text, field)
			} catch (err) {
				throw new BadRequestError(err instanceof Error ? err.message : String(err), field, 'invalid_setting')
			}
		}
		if (Object.keys(typed).length) await this.deps.storage.saveSettings(typed)
		return this.refresh()
	}

	start(): void {
		if (this.timer || this.intervalMs <= 0) return
		this.timer = setInterval(() => {
			this.refresh().catch((err) => this.deps.log.debug({ err: err instanceof Error ? err.message : String(err) }, 'settings refresh failed'))
		}, this.intervalMs)
		;(this.timer as { unref?: () => void }).unref?.()
	}

	stop(): void {
		if (this.timer) clearInterval(this.timer)
		this.timer = null
	}
}
