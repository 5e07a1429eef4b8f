/** The overview: the landing page after login, one polled fragment (request figures, key health, incident, needs attention). */
import { Elysia } from 'elysia'
import type { Storage } from '../../core/storage.ts'
import type { IncidentView } from '../../views/layout.ts'
import { type AttentionItem, type KeyHealthCounts, type OverviewFigures, type OverviewState, overviewView } from '../../views/overview.ts'
import type { KeyPool } from '../rate-limits/key-pool.ts'
import { guard, message, type PanelKit, show } from './http.ts'

/** A client key over its budget, as the overview lists it. */
export interface OverBudget {
	name: string
	detail: string | null
}

export interface OverviewPageDeps {
	pool: Pick<KeyPool, 'report' | 'incident'>
	storage: Storage & { readonly healthy?: boolean }
	/** The request log's figures of today; absent when the request-log plugin is off. */
	figures?: { overview(): Promise<OverviewFigures> }
	/**
	 * Client keys out of budget. Budgets are not part of the client keys yet: when they are, the
	 * panel hands in their reader here and the list shows them (nothing else changes).
	 */
	overBudget?: () => Promise<readonly OverBudget[]>
}

/** Keys the overview lists at most per kind; the keys page has the rest. */
const ATTENTION_PER_KIND = 10

export const overviewPage = (kit: PanelKit, deps: OverviewPageDeps) => {
	const state = async (): Promise<OverviewState> => {
		const attention: AttentionItem[] = []
		// Spend is the request log's cost per row (the pricing service prices it when loaded).
		const figuresRead = deps.figures?.overview().then(
			(figures) => ({ figures, error: null }),
			(err: unknown) => ({ figures: null, error: message(err) }),
		)
		let keys: KeyHealthCounts | null = null
		let keysError: string | null = null
		try {
			const report = await deps.pool.report()
			keys = { active: 0, cooling: 0, banned: 0, quota_exhausted: 0, failing: 0, disabled: 0 }
			for (const k of report) if (k.status in keys) keys[k.status as keyof KeyHealthCounts]++
			const add = (kind: AttentionItem['kind'], matching: typeof report, detail: (k: (typeof report)[number]) => string | null) => {
				for (const k of matching.slice(0, ATTENTION_PER_KIND)) attention.push({ kind, name: k.key, detail: detail(k), href: `/ui/keys#key-${k.id}` })
			}
			add(
				'banned',
				report.filter((k) => k.status === 'banned'),
				(k) => k.reason,
			)
			add(
				'exhausted',
				report.filter((k) => k.status === 'quota_exhausted'),
				(k) => k.quota?.reason ?? null,
			)
			add(
				'failing',
				report.filter((k) => k.status === 'failing'),
				(k) => k.failing?.reason ?? null,
			)
		} catch (err) {
			keysError = message(err)
		}
		let storageUp = deps.storage.healthy !== false
		if (storageUp) await deps.storage.ping().catch(() => (storageUp = false))
		if (!storageUp) attention.unshift({ kind: 'storage', name: deps.storage.kind, detail: null, href: '/ui/storage' })
		if (deps.overBudget) {
			for (const c of (await deps.overBudget().catch(() => [])).slice(0, ATTENTION_PER_KIND))
				attention.push({ kind: 'budget', name: c.name, detail: c.detail, href: '/ui/clients' })
		}
		const read = figuresRead ? await figuresRead : null
		const incident: IncidentView | null = deps.pool.incident()
		return {
			now: kit.now(),
			requestLog: Boolean(deps.figures),
			figures: read?.figures ?? null,
			figuresError: read?.error ?? null,
			keys,
			keysError,
			incident,
			attention,
		}
	}
	// The page and its polled fragment are one view (show() answers a fragment to htmx).
	const page = async ({ request }: { request: Request }) => {
		const v = await guard(kit, request)
		if (v instanceof Response) return v
		return show(kit, request, v, 'overview', overviewView(v.t, await state()))
	}
	return new Elysia({ name: 'panel-overview' })
		.get('/ui/overview', page, { detail: { hide: true } })
		.get('/ui/fragments/overview', page, { detail: { hide: true } })
}
