/** Quotas: the daily limit per key and per model, with today's use beside each. */
import { Elysia } from 'elysia'
import { nextReset, usageDay } from '../../core/usage-day.ts'
import type { Translator } from '../../views/i18n/i18n.ts'
import { type QuotasState, quotasView } from '../../views/quotas.ts'
import type { ModelCatalog } from '../assembly-client/model-catalog.ts'
import type { DailyQuota } from '../daily-quota/daily-quota.ts'
import type { KeyPool } from '../rate-limits/key-pool.ts'
import { FormError, field, guard, intField, label, message, type PanelKit, postedForm, show } from './http.ts'

export const quotasPage = (kit: PanelKit, deps: { quota: DailyQuota; pool: KeyPool; catalog?: ModelCatalog }) => {
	/** The catalog's model ids, or null when there is no catalog or it cannot be fetched (then any id is accepted). */
	const models = async (): Promise<string[] | null> => {
		if (!deps.catalog) return null
		try {
			return (await deps.catalog.list())?.map((e) => e.id).sort() ?? null
		} catch {
			return null
		}
	}
	const state = async (t: Translator, extra: Partial<QuotasState> = {}): Promise<QuotasState> => {
		const now = kit.now()
		const base = { day: usageDay(now), nextReset: new Date(nextReset(now)).toISOString(), defaultLimit: deps.quota.defaultDailyLimit, models: await models() }
		try {
			const rows = await deps.quota.entries(await deps.pool.report())
			return { ...base, rows, ...extra }
		} catch (err) {
			return { ...base, rows: null, error: t('quotas.unreadableWhy', { error: message(err) }) }
		}
	}
	return new Elysia({ name: 'panel-quotas' })
		.get(
			'/ui/quotas',
			async ({ request }) => {
				const v = await guard(kit, request)
				if (v instanceof Response) return v
				return show(kit, request, v, 'quotas', quotasView(v.t, await state(v.t)))
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
					if (!(await deps.pool.report()).some((k) => k.id === params.keyId)) throw new FormError('keys.noSuch')
					const modelLimits: Record<string, number | null> = {}
					for (const [name, value] of form.entries()) {
						if (!name.startsWith('model:') || typeof value !== 'string') continue
						modelLimits[name.slice(6)] = intField(form, name, label('quotas.labelModel', { model: name.slice(6) }))
					}
					const newModel = field(form, 'new_model')?.slice(0, 200)
					if (newModel) {
						const known = await models()
						if (known && !known.includes(newModel)) throw new FormError('quotas.unknownModel', { model: newModel })
						const limit = intField(form, 'new_limit', label('quotas.labelNew'))
						if (limit === null) throw new FormError('quotas.needLimit')
						modelLimits[newModel] = limit
					}
					await deps.quota.setLimits(params.keyId, { daily_limit: intField(form, 'daily_limit', label('quotas.labelDaily')), model_limits: modelLimits })
					deps.pool.forgetQuotaBlocks()
					extra = { message: v.t('quotas.saved', { id: params.keyId.slice(0, 8) }) }
				} catch (err) {
					// What was typed into the new-model row stays for correction; after a save the row is empty.
					const draft = { keyId: params.keyId, model: field(form, 'new_model') ?? '', limit: field(form, 'new_limit') ?? '' }
					extra = { error: message(err, v.t), draft }
				}
				return show(kit, request, v, 'quotas', quotasView(v.t, await state(v.t, extra)))
			},
			{ parse: 'none', detail: { hide: true } },
		)
}
