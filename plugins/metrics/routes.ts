/** GET /metrics: Prometheus text, behind the panel password or METRICS_TOKEN (a bearer token either way). */
import { Elysia } from 'elysia'
import { AuthenticationError } from '../../core/errors.ts'
import type { PanelSecrets } from '../../core/passwords.ts'
import type { AttemptThrottle } from '../api-auth/api-auth.ts'
import { bearerToken, safeEqual } from '../../core/secrets.ts'
import type { MetricsCollector } from './collector.ts'

export interface MetricsRouteDeps {
	collector: MetricsCollector
	passwords: PanelSecrets
	/** A separate scrape token (METRICS_TOKEN), so Prometheus need not hold the panel password. */
	token: string | null
	/** Wrong tokens slow down per address, as panel logins do. */
	throttle: AttemptThrottle
}

export const metricsRoute = (deps: MetricsRouteDeps) =>
	new Elysia({ name: 'metrics' }).get(
		'/metrics',
		async function scrape({ headers, request }) {
			const given = bearerToken(headers.authorization)
			const valid = (token: string) => (deps.token !== null && safeEqual(token, deps.token)) || deps.passwords.panel.verify(token)
			const allowed = given !== null && (await deps.throttle.attempt(request, () => (valid(given) ? true : null))) === true
			if (!allowed) throw new AuthenticationError('Send "Authorization: Bearer <METRICS_TOKEN or panel password>".', 'invalid_metrics_token')
			return new Response(await deps.collector.render(), {
				headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'cache-control': 'no-store' },
			})
		},
		{
			detail: {
				summary: 'Prometheus metrics',
				description:
					'Requests by route, model, status and failure class; upstream attempts and latency histograms; per key and model remaining headroom; storage latency and health; open streams. Bearer METRICS_TOKEN or the panel password.',
				tags: ['Operations'],
				security: [{ bearer: [] }],
			},
		},
	)
