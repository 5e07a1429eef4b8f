/** Models: the upstream catalog with its metadata; choose what /v1/models offers. */
import { Elysia } from 'elysia'
import { html } from '../../views/html.ts'
import { type ModelsState, modelsView } from '../../views/models.ts'
import { PRICES_TEXT, type PricesState, pricesView } from '../../views/prices.ts'
import type { PriceBook } from '../pricing/price-book.ts'
import { readOverride } from '../pricing/prices.ts'
import type { ModelCatalog } from '../assembly-client/model-catalog.ts'
import type { ModelSelection } from '../openai-router/model-selection.ts'
import { guard, message, type PanelKit, postedForm, show } from './http.ts'

const PRICE_FIELDS = ['prompt', 'completions', 'input_cache_read', 'input_cache_write', 'input_cache_write_1h'] as const

export const modelsPage = (kit: PanelKit, deps: { catalog: ModelCatalog; selection: ModelSelection; pricing?: PriceBook }) => {
	const prices = async (extra: Partial<PricesState> = {}): Promise<PricesState> => {
		if (!deps.pricing) return { rows: null }
		try {
			return { rows: await deps.pricing.list(), ...extra }
		} catch (err) {
			return { rows: null, error: message(err) }
		}
	}
	/** The models widget, and the prices below it when pricing is on. */
	const page = async (models: Awaited<ReturnType<typeof state>>, extra: Partial<PricesState> = {}) =>
		deps.pricing ? html`${modelsView(models)}${pricesView(await prices(extra))}` : modelsView(models)
	const state = async (extra: Partial<ModelsState> = {}): Promise<ModelsState> => {
		try {
			const [catalog, selected] = await Promise.all([deps.catalog.list(), deps.selection.get()])
			return { catalog, selected, ...extra }
		} catch (err) {
			return { catalog: null, selected: null, error: message(err) }
		}
	}
	return new Elysia({ name: 'panel-models' })
		.get(
			'/ui/models',
			async ({ request }) => {
				const v = await guard(kit, request)
				if (v instanceof Response) return v
				return show(kit, request, v, 'models', 'Models', modelsView(await state()), await page(await state()))
			},
			{ detail: { hide: true } },
		)
		.post(
			'/ui/models/prices',
			async ({ request }) => {
				const v = await guard(kit, request)
				if (v instanceof Response) return v
				const form = await postedForm(kit, request, v)
				let extra: Partial<PricesState>
				const model = form.get('model')
				try {
					if (!deps.pricing || typeof model !== 'string' || !model) throw new Error('No model named.')
					if (form.get('action') === 'remove') {
						await deps.pricing.setOverrides({ [model]: null })
						extra = { message: PRICES_TEXT.removed(model) }
					} else {
						const global: Record<string, number> = {}
						for (const name of PRICE_FIELDS) {
							const raw = form.get(name)
							if (typeof raw === 'string' && raw.trim() !== '') global[name] = Number(raw)
						}
						// The regional tiers pay the override raised by the catalog's own regional increase.
						const catalog = (await deps.pricing.list()).find((r) => r.model === model)?.catalog
						const candidate = {
							global,
							...(catalog?.regional_increase_percent !== undefined ? { regional_increase_percent: catalog.regional_increase_percent } : {}),
						}
						const checked = readOverride(candidate)
						if (typeof checked === 'string') throw new Error(`${model}: ${checked}`)
						await deps.pricing.setOverrides({ [model]: checked })
						extra = { message: PRICES_TEXT.saved(model) }
					}
				} catch (err) {
					extra = { error: message(err) }
				}
				return show(kit, request, v, 'models', 'Models', pricesView(await prices(extra)))
			},
			{ parse: 'none', detail: { hide: true } },
		)
		.post(
			'/ui/models',
			async ({ request }) => {
				const v = await guard(kit, request)
				if (v instanceof Response) return v
				const form = await postedForm(kit, request, v)
				let extra: Partial<ModelsState>
				try {
					const all = form.get('all') === '1'
					const models = all ? null : form.getAll('model').filter((m): m is string => typeof m === 'string')
					const saved = await deps.selection.set(models)
					extra = { message: saved ? `Saved: /v1/models offers ${saved.length} model(s).` : 'Saved: /v1/models offers every model.' }
				} catch (err) {
					extra = { error: message(err) }
				}
				const models = await state(extra)
				return show(kit, request, v, 'models', 'Models', modelsView(models), await page(models))
			},
			{ parse: 'none', detail: { hide: true } },
		)
}
