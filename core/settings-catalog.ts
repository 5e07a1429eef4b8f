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

	/** Setting spec by stored field: what the admin side may store. */
	storable(): Map<string, SettingEntry> {
		return new Map(this.entries.filter((e) => e.spec.stored).map((e) => [e.spec.stored as string, e]))
	}

	view(): SettingView[] {
		return this.entries.map(({ owner, spec, value }) => ({
			env: spec.env,
			owner,
			doc: spec.doc,
			stored: spec.stored ?? null,
			source: this.sources[spec.env] ?? 'default',
			value: spec.secret ? value !== null && value !== undefined : value,
			secret: spec.secret === true,
		}))
	}
}
