/** Storage: backend, location without credentials, health, resilience; and the panel's outage banner. */
import { Elysia } from 'elysia'
import type { Storage } from '../../core/storage.ts'
import { raw } from '../../views/html.ts'
import { type IncidentView, statusBanner } from '../../views/layout.ts'
import { type StorageState, storageView } from '../../views/storage.ts'
import { guard, message, type PanelKit, show } from './http.ts'

type Observed = Storage & { readonly healthy?: boolean; readonly pending?: number }

export interface StoragePageDeps {
	storage: Observed
	shared: boolean
	/** The upstream incident the key pool sees, for the banner on every page. */
	incident?: () => IncidentView | null
}

export const storagePage = (kit: PanelKit, deps: StoragePageDeps) => {
	let downSince: number | null = null
	const state = async (): Promise<StorageState> => {
		let error: string | null = null
		try {
			await deps.storage.ping()
		} catch (err) {
			error = message(err)
		}
		const healthy = error === null && deps.storage.healthy !== false
		if (healthy) downSince = null
		else downSince ??= kit.now()
		return {
			backend: deps.storage.kind,
			where: deps.storage.where,
			healthy,
			shared: deps.shared,
			pendingReplays: typeof deps.storage.pending === 'number' ? deps.storage.pending : null,
			error,
		}
	}
	// The page and its polled fragment are one view (show() answers a fragment to htmx).
	const page = async ({ request }: { request: Request }) => {
		const v = await guard(kit, request)
		if (v instanceof Response) return v
		return show(kit, request, v, 'storage', storageView(v.t, await state()))
	}
	return new Elysia({ name: 'panel-storage' })
		.get('/ui/storage', page, { detail: { hide: true } })
		.get('/ui/fragments/storage', page, { detail: { hide: true } })
		.get(
			'/ui/fragments/status',
			async ({ request }) => {
				const v = await guard(kit, request)
				if (v instanceof Response) return v
				const s = await state()
				return show(
					kit,
					request,
					v,
					'storage',
					raw(statusBanner(v.t, { healthy: s.healthy, since: downSince, backend: s.backend, incident: deps.incident?.() ?? null })),
				)
			},
			{ detail: { hide: true } },
		)
}
