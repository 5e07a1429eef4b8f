/** The panel password and session: one guard every /admin route and panel page uses. */
import { list, spec } from '../../core/config.ts'
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
	needs: ['passwords', 'now', 'storage'],
	provides: ['adminAuth'],
	settings: {
		trustedProxies: spec<string[]>(
			'TRUSTED_PROXY',
			list,
			[],
			'addresses of reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (client address for throttling, Secure cookies)',
		),
	},
	setup: async ({ services, settings }) => {
		const adminAuth = new AdminAuth({
			panel: services.passwords.panel,
			sessionSecret: services.passwords.sessionSecret,
			storage: services.storage,
			trustedProxies: settings.trustedProxies,
			now: services.now,
		})
		await adminAuth.init()
		return { services: { adminAuth } }
	},
})
