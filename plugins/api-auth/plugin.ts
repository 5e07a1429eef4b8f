/** Who may call /v1: the API password, and the client keys when that plugin is on. */
import { definePlugin } from '../../core/plugin.ts'
import { type ApiAuthenticator, passwordAuthenticator, throttledAuthenticator } from './api-auth.ts'

declare module '../../core/plugin.ts' {
	interface Services {
		apiAuth: ApiAuthenticator
	}
}

export const plugin = definePlugin({
	name: 'api-auth',
	description: 'API password (and client keys, when loaded) for /v1',
	optional: false,
	needs: ['passwords', 'adminAuth'],
	uses: ['clientKeys'],
	provides: ['apiAuth'],
	setup: ({ services }) => ({
		services: { apiAuth: throttledAuthenticator(services.clientKeys ?? passwordAuthenticator(services.passwords.api), services.adminAuth) },
	}),
})
