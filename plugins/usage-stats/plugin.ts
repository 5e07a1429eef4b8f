/** Usage counters per usage day, key, model and client key; /admin/usage. */
import { definePlugin } from '../../core/plugin.ts'
import { UsageStats, usageAdmin } from './usage-stats.ts'

declare module '../../core/plugin.ts' {
	interface Services {
		usage: UsageStats
	}
}

export const plugin = definePlugin({
	name: 'usage-stats',
	description: 'usage counters per day, key, model and client key (/admin/usage)',
	optional: true,
	needs: ['storage', 'log', 'now', 'pool', 'adminAuth', 'requests'],
	uses: ['clientKeys'],
	provides: ['usage'],
	setup: ({ services }) => {
		const usage = new UsageStats({ storage: services.storage, log: services.log, now: services.now })
		const clientKeys = services.clientKeys
		// Requests refused before the upstream client (no `finished` event) are counted from their answer.
		services.requests.subscribe((r) => usage.answered(r))
		return {
			services: { usage },
			routes: usageAdmin({
				auth: services.adminAuth,
				stats: usage,
				pool: services.pool,
				now: services.now,
				clients: clientKeys ? () => clientKeys.list() : undefined,
			}),
			// Counters are written in the background: let the last ones land before storage closes.
			close: () => usage.flush(),
		}
	},
})
