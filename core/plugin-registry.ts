/**
 * Finds the built-in plugins: every folder under plugins/ with a plugin.ts whose `plugin` export
 * is a plugin. The kernel imports none of them by name, so adding a plugin is adding a folder.
 */
import { readdir } from 'node:fs/promises'
import type { AnyPlugin } from './plugin.ts'

const PLUGINS_DIR = new URL('../plugins/', import.meta.url)

function isPlugin(value: unknown): value is AnyPlugin {
	return typeof value === 'object' && value !== null && typeof (value as AnyPlugin).name === 'string' && ('setup' in value || 'open' in value)
}

export async function discoverPlugins(dir: URL = PLUGINS_DIR): Promise<AnyPlugin[]> {
	const folders = (await readdir(dir, { withFileTypes: true }))
		.filter((d) => d.isDirectory())
		.map((d) => d.name)
		.sort()
	const plugins: AnyPlugin[] = []
	for (const folder of folders) {
		const entry = new URL(`${folder}/plugin.ts`, dir)
		let mod: Record<string, unknown>
		try {
			mod = await import(entry.href)
		} catch (err) {
			// A folder without plugin.ts is not a plugin; any other failure is a real error.
			if ((err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' || /Cannot find module|Module not found/.test(String(err))) continue
			throw err
		}
		if (!isPlugin(mod.plugin)) throw new Error(`plugins/${folder}/plugin.ts must export a plugin as "plugin"`)
		if (mod.plugin.name !== folder) throw new Error(`plugins/${folder}/plugin.ts declares the name ${mod.plugin.name}; the folder and the name must agree`)
		plugins.push(mod.plugin)
	}
	return plugins
}
