/** Client keys (sk-amb-...): per-client quotas, model allow-lists, expiry; /admin/clients. */
import { definePlugin } from '../../core/plugin.ts'
import { clientAdmin, ClientKeys } from './client-keys.ts'

declare module '../../core/plugin.ts' {
	interface Services {
		clientKeys: ClientKeys
	}
}

export const plugin = definePlugin({
	name: 'client-keys',
	description: 'client API keys with their own quotas, budgets, rpm/tpm, model allow-lists and expiry (/admin/clients)',
	optional: true,
	needs: ['storage', 'log', 'now', 'passwords', 'secrets', 'adminAuth'],
	uses: ['pricing'],
	provides: ['clientKeys'],
	setup: ({ services }) => {
		const clientKeys = new ClientKeys({
			storage: services.storage,
			log: services.log,
			now: services.now,
			api: services.passwords.api,
			onSecret: (key) => services.secrets.add(key),
			pricing: services.pricing,
		})
		return {
			services: { clientKeys },
			routes: clientAdmin({ auth: services.adminAuth, clients: clientKeys }),
			// Today's spend is batched: let the last of it land before storage closes.
			close: () => clientKeys.flush(),
		}
	},
})
