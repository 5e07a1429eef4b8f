/**
 * Model prices with where they come from (the upstream catalog, the operator's override, or none),
 * and per model a form to set or remove the override. Prices are USD per million tokens. A wrong
 * value is said at its field, with what was typed kept.
 */
import { html, type SafeHtml } from './html.ts'
import type { MessageKey, Translator } from './i18n/i18n.ts'
import { notice } from './layout.ts'

/** One tier's prices, USD per million tokens (a cache price may be missing). */
export interface TierPricesInput {
	prompt: number
	completions: number
	input_cache_read?: number
	input_cache_write?: number
	input_cache_write_1h?: number
}

export interface ModelPricesInput {
	global: TierPricesInput
	us?: TierPricesInput
	eu?: TierPricesInput
	regional_increase_percent?: number
}

export type PriceSourceInput = 'catalog' | 'override' | 'unpriced'

export interface PriceRowInput {
	model: string
	source: PriceSourceInput
	/** What is charged; null when unpriced. */
	prices: ModelPricesInput | null
	override: ModelPricesInput | null
	/** The prompt price the US and EU tiers pay (their own, or global raised by the regional increase); null when unpriced. */
	regional_prompt: { us: number; eu: number } | null
	/** The model is in the current catalog (an override may name one that left it). */
	in_catalog: boolean
}

export const PRICE_FIELDS = ['prompt', 'completions', 'input_cache_read', 'input_cache_write', 'input_cache_write_1h'] as const
export type PriceField = (typeof PRICE_FIELDS)[number]

export const PRICE_LABELS: Record<PriceField, MessageKey> = {
	prompt: 'prices.col.prompt',
	completions: 'prices.col.completion',
	input_cache_read: 'prices.col.cacheRead',
	input_cache_write: 'prices.col.cacheWrite',
	input_cache_write_1h: 'prices.col.cacheWrite1h',
}

export interface PricesState {
	/** null: the prices could not be read (see `error`). */
	rows: PriceRowInput[] | null
	message?: string | null
	error?: string | null
	/** A refused override: the model, the field at fault and why, and what was typed. */
	invalid?: { model: string; field: PriceField; message: string; draft: Partial<Record<PriceField, string>> } | null
}

const SOURCE: Record<PriceSourceInput, MessageKey> = {
	catalog: 'prices.source.catalog',
	override: 'prices.source.override',
	unpriced: 'prices.source.unpriced',
}

const slug = (model: string) => model.replace(/[^A-Za-z0-9_-]/g, '_')
/** A price as written: at most six decimals (a raised price is a float), '–' when there is none. */
const n = (v: number | undefined) => (v === undefined ? '–' : String(Number(v.toFixed(6))))

function overrideForm(t: Translator, row: PriceRowInput, state: PricesState): SafeHtml {
	const id = `p-${slug(row.model)}`
	const invalid = state.invalid?.model === row.model ? state.invalid : null
	const current = row.override?.global
	const input = (name: PriceField) => {
		const value = invalid ? (invalid.draft[name] ?? '') : current?.[name]
		const wrong = invalid?.field === name
		const required = name === 'prompt' || name === 'completions'
		return html`<label for="${id}-${name}">${t(PRICE_LABELS[name])}</label> <input id="${id}-${name}" name="${name}" type="number" min="0" max="100000" step="any" value="${
			value ?? ''
		}" placeholder="${required ? '' : t('prices.samePrompt')}"${required ? html` required` : ''}${
			wrong ? html` aria-invalid="true" aria-describedby="${id}-${name}-error" class="invalid" autofocus` : ''
		}>${wrong ? html`<p id="${id}-${name}-error" class="field-error" role="alert">${invalid.message}</p>` : ''}`
	}
	return html`<details id="${id}-edit"${invalid ? html` open` : ''}><summary>${t(row.override ? 'prices.editOverride' : 'prices.setOverride')}</summary>
<form method="post" action="/ui/models/prices" hx-post="/ui/models/prices" hx-target="#prices" hx-swap="outerMorph" class="stack">
<input type="hidden" name="model" value="${row.model}">
${PRICE_FIELDS.map((f) => html`<span>${input(f)}</span>`)}
<p class="muted small">${t('prices.overrideHelp')}</p>
<button type="submit" name="action" value="save">${t('prices.save')}</button>
</form>${
		row.override
			? html`<form method="post" action="/ui/models/prices" hx-post="/ui/models/prices" hx-target="#prices" hx-swap="outerMorph" hx-confirm="${t(
					'prices.removeConfirm',
					{
						model: row.model,
					},
				)}"><input type="hidden" name="model" value="${row.model}"><button type="submit" name="action" value="remove" class="secondary">${t(
					row.in_catalog ? 'prices.remove' : 'prices.removeUnpriced',
				)}</button></form>`
			: ''
	}</details>`
}

export function pricesView(t: Translator, state: PricesState): SafeHtml {
	const head = html`<h2>${t('prices.heading')}</h2>`
	if (!state.rows)
		return html`<section id="prices">${head}${notice(t, state.error ? t('prices.unreadableWhy', { error: state.error }) : t('prices.unreadable'), 'error')}</section>`
	const outcome = html`${notice(t, state.message)}${notice(t, state.error, 'error')}`
	if (!state.rows.length) return html`<section id="prices">${head}${outcome}<p>${t('prices.none')}</p></section>`
	return html`<section id="prices">${head}${outcome}
<p class="muted">${t('prices.intro')}</p>
<div class="scroll"><table><thead><tr><th scope="col">${t('prices.col.model')}</th><th scope="col">${t('prices.col.source')}</th>${PRICE_FIELDS.map(
		(f) => html`<th scope="col" class="num">${t(PRICE_LABELS[f])}</th>`,
	)}<th scope="col" class="num">${t('prices.col.regional')}</th><th scope="col">${t('prices.col.override')}</th></tr></thead><tbody>
${state.rows.map((r) => {
	const g = r.prices?.global
	const regional = r.regional_prompt ? `${n(r.regional_prompt.us)} / ${n(r.regional_prompt.eu)}` : '–'
	return html`<tr id="price-${slug(r.model)}" data-source="${r.source}"><td><code>${r.model}</code>${
		r.in_catalog ? '' : html`<br><span class="muted small">${t('prices.notInCatalog')}</span>`
	}</td><td><span class="badge badge-source-${r.source}">${t(SOURCE[r.source])}</span>${
		r.source === 'unpriced' ? html`<br><span class="muted small">${t('prices.unpricedNote')}</span>` : ''
	}</td>${PRICE_FIELDS.map((f) => html`<td class="num" data-field="${f}">${n(g?.[f])}</td>`)}<td class="num" data-field="regional">${regional}</td><td>${overrideForm(
		t,
		r,
		state,
	)}</td></tr>`
})}
</tbody></table></div></section>`
}
