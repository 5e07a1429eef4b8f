/**
 * Model prices with their source, and the operator's override per model. The view declares its
 * own input (no plugin types) and keeps its visible strings in PRICES_TEXT, one place to move into
 * the panel's message catalogue.
 */
import { html, type SafeHtml } from './html.ts'
import { notice } from './layout.ts'

export const PRICES_TEXT = {
	heading: 'Prices',
	intro:
		"USD per million tokens, global tier (US and EU prompt as the catalog gives them). An override sets the global prices; the US and EU tiers pay them raised by the catalog's regional increase. An empty cache field is charged at the prompt price.",
	model: 'Model',
	source: 'Source',
	prompt: 'Prompt',
	completion: 'Completion',
	cacheRead: 'Cache read',
	cacheWrite: 'Cache write 5 min',
	cacheWrite1h: 'Cache write 1 h',
	regional: 'US / EU prompt',
	override: 'Override (global)',
	save: 'Save override',
	remove: 'Use the catalog price',
	sources: { catalog: 'catalog', override: 'override', unpriced: 'unpriced' },
	unpricedNote: 'no price: tokens are counted, cost unknown',
	saved: (model: string) => `Saved: ${model} now uses your prices.`,
	removed: (model: string) => `Removed: ${model} uses the catalog price again.`,
	unreadable: 'Prices cannot be read right now.',
} as const

export interface TierPricesInput {
	prompt: number
	completions: number
	input_cache_read?: number
	input_cache_write?: number
	input_cache_write_1h?: number
}

export interface PriceRowInput {
	model: string
	source: 'catalog' | 'override' | 'unpriced'
	prices: { global: TierPricesInput; us?: TierPricesInput; eu?: TierPricesInput } | null
}

export interface PricesState {
	rows: PriceRowInput[] | null
	message?: string | null
	error?: string | null
}

const T = PRICES_TEXT
const n = (v: number | undefined): string => (v === undefined ? '–' : String(v))
const slug = (model: string) => model.replace(/[^A-Za-z0-9_-]/g, '_')

function overrideForm(row: PriceRowInput): SafeHtml {
	const g = row.source === 'override' ? row.prices?.global : undefined
	const id = slug(row.model)
	const input = (name: string, label: string, value: number | undefined) =>
		html`<label for="p-${id}-${name}" class="visually-hidden">${label}</label><input id="p-${id}-${name}" name="${name}" type="number" min="0" max="100000" step="any" size="6" placeholder="${label}" value="${value ?? ''}">`
	return html`<form method="post" action="/ui/models/prices" hx-post="/ui/models/prices" hx-target="#prices" hx-swap="outerHTML" class="inline-form">
<input type="hidden" name="model" value="${row.model}">
${input('prompt', T.prompt, g?.prompt)}${input('completions', T.completion, g?.completions)}${input('input_cache_read', T.cacheRead, g?.input_cache_read)}${input('input_cache_write', T.cacheWrite, g?.input_cache_write)}${input('input_cache_write_1h', T.cacheWrite1h, g?.input_cache_write_1h)}
<button type="submit" name="action" value="save">${T.save}</button>${row.source === 'override' ? html` <button type="submit" name="action" value="remove" class="secondary">${T.remove}</button>` : ''}
</form>`
}

export function pricesView(state: PricesState): SafeHtml {
	if (!state.rows) return html`<section id="prices"><h2>${T.heading}</h2>${notice(state.error ?? T.unreadable, 'error')}</section>`
	return html`<section id="prices"><h2>${T.heading}</h2>${notice(state.message)}${notice(state.error, 'error')}
<p class="muted">${T.intro}</p>
<div class="scroll"><table><thead><tr><th scope="col">${T.model}</th><th scope="col">${T.source}</th><th scope="col" class="num">${T.prompt}</th><th scope="col" class="num">${T.completion}</th><th scope="col" class="num">${T.cacheRead}</th><th scope="col" class="num">${T.cacheWrite}</th><th scope="col" class="num">${T.cacheWrite1h}</th><th scope="col" class="num">${T.regional}</th><th scope="col">${T.override}</th></tr></thead><tbody>
${state.rows.map((r) => {
	const g = r.prices?.global
	const regional = r.prices ? `${n(r.prices.us?.prompt)} / ${n(r.prices.eu?.prompt)}` : '–'
	return html`<tr id="price-${slug(r.model)}"><td><code>${r.model}</code></td><td>${T.sources[r.source]}${r.source === 'unpriced' ? html`<br><span class="muted">${T.unpricedNote}</span>` : ''}</td><td class="num">${n(g?.prompt)}</td><td class="num">${n(g?.completions)}</td><td class="num">${n(g?.input_cache_read)}</td><td class="num">${n(g?.input_cache_write)}</td><td class="num">${n(g?.input_cache_write_1h)}</td><td class="num">${regional}</td><td>${overrideForm(r)}</td></tr>`
})}
</tbody></table></div></section>`
}
