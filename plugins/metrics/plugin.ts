/** GET /metrics in the Prometheus text format, fed by the kernel's request observers and the upstream client's events. */
import { secret, spec } from '../../core/config.ts'
import { definePlugin } from '../../core/plugin.ts'
import { MetricsCollector } from './collector.ts'
import { metricsRoute } from './routes.ts'

declare module '../../core/plugin.ts' {
	interface Services {
		metrics: MetricsCollector
	}
}

export const plugin = definePlugin({
	name: 'metrics',
	description: 'GET /metrics: Prometheus text (requests, upstream attempts and latency, key headroom, storage, open streams)',
	optional: true,
	needs: ['storage', 'passwords', 'requests', 'secrets', 'version', 'adminAuth'],
	uses: ['pool'],
	provides: ['metrics'],
	settings: {
		token: spec<string | null>('METRICS_TOKEN', secret, null, 'bearer token for GET /metrics (the panel password works too)', undefined, { secret: true }),
	},
	setup: ({ services, settings }) => {
		services.secrets.add(settings.token, '[redacted]')
		const pool = services.pool
		const collector = new MetricsCollector({ storage: services.storage, keys: pool ? () => pool.report() : undefined, version: services.version })
		services.requests.subscribe((r) => collector.request(r))
		return {
			services: { metrics: collector },
			routes: metricsRoute({ collector, passwords: services.passwords, token: settings.token, throttle: services.adminAuth }),
		}
	},
})
