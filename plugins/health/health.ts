/** `GET /health` (no auth) and `HEAD /keepalive`: liveness plus the storage backend's state; `/admin/storage` for the operator. */
import { Elysia } from 'elysia'
import { type AdminAuth, requirePanelAuth } from '../admin-auth/admin-auth.ts'
import type { Storage } from '../../core/storage.ts'

/** The upstream incident under way, when the key pool knows one (cause and since, nothing secret). */
export type IncidentView = () => { cause: string; since: string | null } | null

export const health = (deps: { storage: Storage; version: string; incident?: IncidentView }) =>
	new Elysia({ name: 'health' })
		.get(
			'/health',
			async function healthCheck() {
				let ok = true
				try {
					await deps.storage.ping()
				} catch {
					ok = false
				}
				const incident = deps.incident?.() ?? null
				const body = {
					status: ok && !incident ? 'ok' : 'degraded',
					version: deps.version,
					storage: { backend: deps.storage.kind, ok },
					upstream: { ok: !incident, incident: incident ? { cause: incident.cause, since: incident.since } : null },
				}
				// An upstream incident is not this instance's fault: it stays in rotation (200), the body says degraded.
				return Response.json(body, { status: ok ? 200 : 503 })
			},
			{
				detail: {
					summary: 'Health check',
					description:
						'No authentication. 503 when the storage backend does not answer. `upstream.incident` (cause auth or network, since) while nearly every upstream key fails at once; the status is then degraded, still 200.',
					tags: ['System'],
				},
			},
		)
		.head('/keepalive', () => new Response(null, { status: 200 }), { detail: { hide: true } })

const tags = ['Admin']
const security = [{ bearer: [] }]

export const storageAdmin = (deps: { auth: AdminAuth; storage: Storage & { readonly healthy?: boolean } }) =>
	new Elysia({ name: 'storage-admin', prefix: '/admin' }).onTransform(requirePanelAuth(deps.auth)).get(
		'/storage',
		async () => {
			let healthy = true
			try {
				await deps.storage.ping()
			} catch {
				healthy = false
			}
			return { backend: deps.storage.kind, where: deps.storage.where, healthy: healthy && deps.storage.healthy !== false }
		},
		{ detail: { summary: 'Storage backend, location (without credentials) and health', tags, security } },
	)
