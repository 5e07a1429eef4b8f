/** Key tests (one key, all, a batch), scheduled re-validation of banned and failing keys, and the incident re-probe. */
import { int, seconds, spec } from '../../core/config.ts'
import { definePlugin } from '../../core/plugin.ts'
import { KeyTests } from './key-tests.ts'
import { keyTestRoutes } from './routes.ts'
import { HealthSchedule } from './schedule.ts'

declare module '../../core/plugin.ts' {
	interface Services {
		/** Key tests whose results are kept with the key and learned from (the panel's test buttons). */
		keyTests: KeyTests
	}
}

export const plugin = definePlugin({
	name: 'key-health',
	description: 'key tests (/admin/keys/test), re-validation of banned and failing keys (KEY_REVALIDATE_MINUTES), the re-probe during an upstream incident',
	optional: true,
	needs: ['pool', 'keyTester', 'adminAuth', 'log', 'now'],
	provides: ['keyTests'],
	settings: {
		revalidateMinutes: spec(
			'KEY_REVALIDATE_MINUTES',
			int(0, 10_080),
			0,
			'every this many minutes, banned and failing keys are re-tested with the cheapest model and restored when they answer; 0 = off',
			'key_revalidate_minutes',
		),
		incidentProbe: spec(
			'INCIDENT_PROBE_INTERVAL',
			seconds(1, 600),
			5,
			'seconds between re-probes while an upstream or network incident lasts (one key tested each time)',
			'incident_probe_interval',
		),
	},
	setup: ({ services, settings }) => {
		const tests = new KeyTests({ pool: services.pool, tester: services.keyTester, log: services.log, now: services.now })
		const schedule = new HealthSchedule(tests, services.log, {
			revalidateMs: () => settings.revalidateMinutes * 60_000,
			probeMs: () => settings.incidentProbe * 1000,
		})
		schedule.start()
		return {
			services: { keyTests: tests },
			routes: keyTestRoutes({ auth: services.adminAuth, tests, tester: services.keyTester }),
			close: () => schedule.stop(),
		}
	},
})
