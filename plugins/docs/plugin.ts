/** /swagger (Swagger UI, served locally) and /swagger/json. */
import { definePlugin } from '../../core/plugin.ts'
import { docs } from './docs.ts'

export const plugin = definePlugin({
	name: 'docs',
	description: 'Swagger UI at /swagger and the OpenAPI document at /swagger/json',
	optional: true,
	needs: ['version'],
	setup: ({ services }) => ({ routes: docs({ version: services.version }) }),
})
