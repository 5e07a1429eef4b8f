/** /admin/settings (read and change stored runtime settings) and /admin/panel-password. */
import { definePlugin } from '../../core/plugin.ts'
import { settingsAdmin } from './routes.ts'

export const plugin = definePlugin({
	name: 'settings-admin',
	description: 'stored runtime settings at /admin/settings, panel password change',
	optional: true,
	needs: ['adminAuth', 'settings', 'settingsWatch'],
	setup: ({ services }) => ({ routes: settingsAdmin({ auth: services.adminAuth, catalog: services.settings, watch: services.settingsWatch }) }),
})
