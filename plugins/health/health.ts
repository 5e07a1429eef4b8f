/** `GET /health` (no auth) and `HEAD /keepalive`: liveness plus the storage backend's state. */
import { Elysia } from 'elysia'
import type { Storage } from '../../core/storage.ts'

export const health = (deps: { storage: Storage; version: string }) =>
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
				const body = { status: ok ? 'ok' : 'degraded', version: deps.version, storage: { backend: deps.storage.kind, ok } }
				return Response.json(body, { status: ok ? 200 : 503 })
			},
			{ detail: { summary: 'Health check', description: 'No authentication. 503 when the storage backend does not answer.', tags: ['System'] } },
		)
		.head('/keepalive', () => new Response(null, { status: 200 }), { detail: { hide: true } })
