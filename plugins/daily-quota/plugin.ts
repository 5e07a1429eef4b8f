/** Daily request quotas per upstream key (and model), reserved atomically; /admin/quotas. */
import { int, spec } from '../../core/config.ts'
import { definePlugin } from '../../core/plugin.ts'
import { DailyQuota, quotaAdmin } from './daily-quota.ts'

declare module '../../core/plugin.ts' {
	interface Services {
		quota: DailyQuota
	}
}

export const plugin = definePlugin({
	name: 'daily-quota',
	description: 'daily request quotas per upstream key and model (/admin/quotas)',
	optional: true,
	needs: ['storage', 'now', 'pool', 'adminAuth', 'settingsWatch'],
	provides: ['quota'],
	settings: {
		dailyRequestLimit: spec(
			'DAILY_REQUEST_LIMIT',
			int(0, 1_000_000_000),
			1000,
			'requests per upstream key and usage day (07:00 UTC to 07:00 UTC) unless the key has its own limit; 0 = unlimited',
			'daily_request_limit',
		),
	},
	setup: ({ services, settings }) => {
		const options = { defaultDailyLimit: settings.dailyRequestLimit }
		const quota = new DailyQuota({ storage: services.storage, now: services.now }, options)
		services.settingsWatch.onChange(() => {
			options.defaultDailyLimit = settings.dailyRequestLimit
		})
		// The pool checks the quota after the rate window, for every key it picks.
		services.pool.setGate(quota)
		return { services: { quota }, routes: quotaAdmin({ auth: services.adminAuth, quota, pool: services.pool, now: services.now }), close: () => quota.close() }
	},
})
