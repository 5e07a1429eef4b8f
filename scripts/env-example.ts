/** Writes .env.example from the settings tables (core/env-example.ts). `bun run env:example`. */
import { resolve } from 'node:path'
import { renderEnvExample, settingsGroups } from '../core/env-example.ts'
import { discoverPlugins } from '../core/plugin-registry.ts'

const target = resolve(import.meta.dir, '..', '.env.example')
await Bun.write(target, renderEnvExample(settingsGroups(await discoverPlugins())))
console.log(`wrote ${target}`)
