/** Quotas: the daily limit per key and per model, with today's use beside each. */
import { Elysia } from 'elysia'
import { nextReset, usageDay } from '../../core/usage-day.ts'
import { type QuotasState, quotasView } from '../../views/quotas.ts'
import type { DailyQuota } from '../daily-quota/daily-quota.ts'
import type { KeyPool } from '../rate-limits/key-pool.ts'
import { FormError, field, guard, intField, message, type PanelKit, postedForm, show } from './http.ts'

export const quotasPage = (kit: PanelKit, deps: { quota: DailyQuota; pool: KeyPool }) => {
	const state = async (extra: Partial<QuotasState> = {}): Promise<QuotasState> => {
		const now = kit.now()
		const base = { day: usageDay(now), nextReset: new Date(nextReset(now)).toISOString(), defaultLimit: deps.quota.defaultDailyLimit }
		try {
			const rows = await deps.quota.entries(await deps.pool.report())
			return { ...base, rows, ...extra }
		} catch (err) {
			return { ...base, rows: null, error: `Quotas cannot be read: ${message(err)}` }
		}
	}
	return new Elysia({ name: 'panel-quotas' })
		.get(
			'/ui/quotas',
			async ({ request }) => {
				const v = await guard(kit, request)
				if (v instanceof Response) return v
				return show(kit, request, v, 'quotas', 'Quotas', quotasView(await state()))
			},
			{ detail: { hide: true } },
		)
		.post(
			'/ui/quotas/:keyId',
			async ({ request, params }) => {
				const v = await guard(kit, request)
				if (v instanceof Response) return v
				const form = await postedForm(kit, request, v)
				let extra: Partial<QuotasState>
				try {
					if (!(await deps.pool.report()).some((k) => k.id === params.keyId)) throw new FormError('No such key.')
					const modelLimits: Record<string, number | null> = {}
					for (const [name, value] of form.entries()) {
						if (!name.startsWith('model:') || typeof value !== 'string') continue
						modelLimits[name.slice(6)] = intField(form, name, `The limit of ${name.slice(6)}`)
					}
					const newModel = field(form, 'new_model')
					if (newModel) {
						const limit = intField(form, 'new_limit', 'The new model limit')
						if (limit === null) throw new FormError('Give the new model a limit.')
						modelLimits[newModel.slice(0, 200)] = limit
					}
					await deps.quota.setLimits(params.keyId, { daily_limit: intField(form, 'daily_limit', 'The daily limit'), model_limits: modelLimits })
					deps.pool.forgetQuotaBlocks()
					extra = { message: `Quotas of key ${params.keyId.slice(0, 8)} saved.` }
				} catch (err) {
					extra = { error: message(err) }
				}
				return show(kit, request, v, 'quotas', 'Quotas', quotasView(await state(extra)))
			},
			{ parse: 'none', detail: { hide: true } },
		)
}
