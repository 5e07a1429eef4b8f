/**
 * Every setting of the loaded app, with its owner, documentation, value and source: what the
 * panel's settings page, the admin settings API and .env.example are made from. Secret values
 * never leave it: only whether they are set.
 */
import type { Config, SettingSource, SettingSpec } from './config.ts'

export interface SettingEntry {
	/** The plugin that declares it, or "core". */
	owner: string
	spec: SettingSpec<unknown>
	value: unknown
}

export interface SettingView {
	env: string
	owner: string
	doc: string
	/** The stored field, when the setting can be changed through the admin side. */
	stored: string | null
	source: SettingSource
	/** The value in force; for a secret only whether one is set. */
	value: unknown
	secret: boolean
	/** Set by the environment, which wins: shown read-only. */
	locked: boolean
	/** The only values it takes, when it is a choice. */
	choices: readonly string[] | null
}

declare module './plugin.ts' {
	interface Services {
		settings: SettingsCatalog
	}
}

export class SettingsCatalog {
	constructor(
		readonly entries: readonly SettingEntry[],
		readonly sources: Readonly<Record<string, SettingSource>>,
		readonly config: Config,
	) {}

	/** The environment sets it and wins (CONFIG_OVERRIDE_ENV=true): the admin side cannot change it. */
	locked(entry: SettingEntry): boolean {
		return this.config.overrideEnv && this.sources[entry.spec.env] === 'env'
	}

	/** Setting spec by stored field: what the admin side may store. */
	storable(): Map<string, SettingEntry> {
		return new Map(this.entries.filter((e) => e.spec.stored).map((e) => [e.spec.stored as string, e]))
	}

	view(): SettingView[] {
		return this.entries.map((entry) => ({
			env: entry.spec.env,
			owner: entry.owner,
			doc: entry.spec.doc,
			stored: entry.spec.stored ?? null,
			source: this.sources[entry.spec.env] ?? 'default',
			value: entry.spec.secret ? entry.value !== null && entry.value !== undefined : entry.value,
			secret: entry.spec.secret === true,
			locked: this.locked(entry),
			choices: entry.spec.choices ?? null,
		}))
	}
}
