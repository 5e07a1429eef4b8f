/** The panel password and session: one guard every /admin route and panel page uses. */
import { definePlugin } from '../../core/plugin.ts'
import { AdminAuth } from './admin-auth.ts'

declare module '../../core/plugin.ts' {
	interface Services {
		adminAuth: AdminAuth
	}
}

export const plugin = definePlugin({
	name: 'admin-auth',
	description: 'panel password and session cookie checks for /admin and /ui',
	optional: false,
	needs: ['passwords', 'now'],
	provides: ['adminAuth'],
	setup: ({ services }) => ({
		services: { adminAuth: new AdminAuth({ panel: services.passwords.panel, sessionSecret: services.passwords.sessionSecret, now: services.now }) },
	}),
})
