/** GET /health (no auth) and GET /admin/storage. */
import { definePlugin } from '../../core/plugin.ts'
import { health, storageAdmin } from './health.ts'

export const plugin = definePlugin({
	name: 'health',
	description: 'GET /health and the storage state at /admin/storage',
	optional: false,
	needs: ['storage', 'version', 'adminAuth'],
	uses: ['pool'],
	setup: ({ services }) => ({
		routes: health({
			storage: services.storage,
			version: services.version,
			incident: () => {
				const i = services.pool?.incident()
				return i ? { cause: i.cause, since: new Date(i.since).toISOString() } : null
			},
		}).use(storageAdmin({ auth: services.adminAuth, storage: services.storage })),
	}),
})
