/**
 * Models: the upstream catalog with its metadata; choose what /v1/models offers. Below it, when
 * pricing is on, each model's prices with their source and the operator's override.
 */
import { type AnyElysia, Elysia } from 'elysia'
import { html, type SafeHtml } from '../../views/html.ts'
import type { Translator } from '../../views/i18n/i18n.ts'
import { type ModelsState, modelsView } from '../../views/models.ts'
import { PRICE_FIELDS, PRICE_LABELS, type PriceField, type PriceRowInput, type PricesState, pricesView } from '../../views/prices.ts'
import type { ModelCatalog } from '../assembly-client/model-catalog.ts'
import type { ModelSelection } from '../openai-router/model-selection.ts'
import type { PriceBook } from '../pricing/price-book.ts'
import { MAX_PRICE, readOverride, tierPrices } from '../pricing/prices.ts'
import { FormError, guard, label, message, type PanelKit, postedForm, show } from './http.ts'

/** A wrong price: said at its field. */
class PriceFieldError extends FormError {
	constructor(
		readonly field: PriceField,
		key: 'prices.needed' | 'prices.badPrice',
	) {
		super(key, { label: label(PRICE_LABELS[field]) })
	}
}

/** The global tier typed into the form; an empty cache price is left out (charged at the prompt price). */
function pricesFrom(form: FormData): Record<string, number> {
	const global: Record<string, number> = {}
	for (const name of PRICE_FIELDS) {
		const raw = form.get(name)
		const text = typeof raw === 'string' ? raw.trim() : ''
		if (text === '') {
			if (name === 'prompt' || name === 'completions') throw new PriceFieldError(name, 'prices.needed')
			continue
		}
		const value = Number(text)
		if (!/^\d+(\.\d+)?([eE][+-]?\d+)?$/.test(text) || !Number.isFinite(value) || value > MAX_PRICE) throw new PriceFieldError(name, 'prices.badPrice')
		global[name] = value
	}
	return global
}

export const modelsPage = (kit: PanelKit, deps: { catalog: ModelCatalog; selection: ModelSelection; pricing?: PriceBook }) => {
	const state = async (extra: Partial<ModelsState> = {}): Promise<ModelsState> => {
		try {
			const [catalog, selected] = await Promise.all([deps.catalog.list(), deps.selection.get()])
			return { catalog, selected, ...extra }
		} catch (err) {
			return { catalog: null, selected: null, error: message(err) }
		}
	}
	const prices = async (pricing: PriceBook, extra: Partial<PricesState> = {}): Promise<PricesState> => {
		try {
			const rows: PriceRowInput[] = (await pricing.list()).map((r) => ({
				model: r.model,
				source: r.source,
				prices: r.prices,
				override: r.override,
				regional_prompt: r.prices ? { us: tierPrices(r.prices, 'us').prompt, eu: tierPrices(r.prices, 'eu').prompt } : null,
				in_catalog: r.in_catalog,
			}))
			return { rows, ...extra }
		} catch (err) {
			return { rows: null, error: message(err) }
		}
	}
	/** The page: the models widget, and the prices below it when pricing is on. */
	const page = async (t: Translator, models: SafeHtml): Promise<SafeHtml> =>
		deps.pricing ? html`${models}${pricesView(t, await prices(deps.pricing))}` : models
	let routes: AnyElysia = new Elysia({ name: 'panel-models' })
		.get(
			'/ui/models',
			async ({ request }) => {
				const v = await guard(kit, request)
				if (v instanceof Response) return v
				const models = modelsView(v.t, await state())
				return show(kit, request, v, 'models', models, await page(v.t, models))
			},
			{ detail: { hide: true } },
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
					extra = { message: saved ? v.t('models.saved', { n: saved.length }) : v.t('models.savedAll') }
				} catch (err) {
					extra = { error: message(err, v.t) }
				}
				const models = modelsView(v.t, await state(extra))
				return show(kit, request, v, 'models', models, await page(v.t, models))
			},
			{ parse: 'none', detail: { hide: true } },
		)
	const pricing = deps.pricing
	if (pricing)
		routes = routes.post(
			'/ui/models/prices',
			async ({ request }) => {
				const v = await guard(kit, request)
				if (v instanceof Response) return v
				const form = await postedForm(kit, request, v)
				const model = typeof form.get('model') === 'string' ? (form.get('model') as string) : ''
				let extra: Partial<PricesState>
				try {
					const row = model ? (await pricing.list()).find((r) => r.model === model) : undefined
					if (!row) throw new FormError('prices.noSuchModel', { model: model.slice(0, 200) })
					if (form.get('action') === 'remove') {
						await pricing.setOverrides({ [model]: null })
						extra = { message: v.t(row.catalog ? 'prices.removed' : 'prices.removedUnpriced', { model }) }
					} else {
						// The regional tiers pay the override raised by the catalog's own regional increase.
						const increase = row.catalog?.regional_increase_percent
						const checked = readOverride({ global: pricesFrom(form), ...(increase !== undefined ? { regional_increase_percent: increase } : {}) })
						// The fields were checked one by one above: a refusal here is a defect, said as it is.
						if (typeof checked === 'string') throw new Error(checked)
						await pricing.setOverrides({ [model]: checked })
						extra = { message: v.t('prices.saved', { model }) }
					}
				} catch (err) {
					const text = message(err, v.t)
					const draft = Object.fromEntries(PRICE_FIELDS.map((f) => [f, typeof form.get(f) === 'string' ? (form.get(f) as string).slice(0, 40) : '']))
					extra = { error: text, invalid: err instanceof PriceFieldError ? { model, field: err.field, message: text, draft } : null }
				}
				return show(kit, request, v, 'models', pricesView(v.t, await prices(pricing, extra)))
			},
			{ parse: 'none', detail: { hide: true } },
		)
	return routes
}
