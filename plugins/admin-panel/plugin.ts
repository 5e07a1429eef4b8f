/** /ui: the operator's panel, server-rendered HTML with htmx partials. */
import { definePlugin } from '../../core/plugin.ts'
import { panel } from './routes.ts'

export const plugin = definePlugin({
	name: 'admin-panel',
	description: 'the operator panel at /ui (server-rendered HTML + htmx)',
	optional: true,
	needs: ['adminAuth', 'pool', 'storage'],
	setup: ({ services }) => ({ routes: panel({ auth: services.adminAuth, pool: services.pool, storage: services.storage }) }),
})
