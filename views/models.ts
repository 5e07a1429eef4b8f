/**
 * The upstream model catalog with each model's metadata, and the choice of what /v1/models
 * offers: a text filter, a vendor filter, "select all shown" and "select none" (panel.js), so
 * offering 3 of 24 models takes a few clicks.
 */
import { html, type SafeHtml } from './html.ts'
import type { Translator } from './i18n/i18n.ts'
import { notice } from './layout.ts'

/** One catalog model as the page shows it (the upstream's fields; anything may be missing). */
export interface ModelRow {
	id: string
	name?: string
	owned_by?: unknown
	supported_parameters?: readonly string[] | null
	context_length?: number
	top_provider?: { max_completion_tokens?: number; context_length?: number } | null
}

export interface ModelsState {
	/** null: the catalog could not be fetched. */
	catalog: ModelRow[] | null
	/** The stored selection; null = every model. */
	selected: string[] | null
	message?: string | null
	error?: string | null
}

export const vendorOf = (e: ModelRow) =>
	typeof e.owned_by === 'string' ? e.owned_by : e.id.includes('/') ? (e.id.split('/')[0] as string) : (e.id.split('-')[0] as string)

export function modelsView(t: Translator, state: ModelsState): SafeHtml {
	if (!state.catalog) {
		return html`<section id="models">${notice(t, state.error ? t('models.unreadableWhy', { error: state.error }) : t('models.unreadable'), 'error')}</section>`
	}
	if (!state.catalog.length) return html`<section id="models">${notice(t, state.message)}<p>${t('models.none')}</p></section>`
	const chosen = new Set(state.selected ?? state.catalog.map((e) => e.id))
	const vendors = [...new Set(state.catalog.map(vendorOf))].sort()
	return html`<section id="models">${notice(t, state.message)}${notice(t, state.error, 'error')}
<p>${state.selected ? t('models.offered', { n: state.selected.length, total: state.catalog.length }) : t('models.offeredAll', { total: state.catalog.length })}</p>
<p class="muted" id="models-hidden-note">${t('models.hiddenNote')}</p>
<form method="post" action="/ui/models" hx-post="/ui/models" hx-target="#models" hx-swap="outerMorph" data-models>
<div class="inline-form" role="group" aria-label="${t('models.choose')}">
<label for="models-filter">${t('models.filter')}</label> <input id="models-filter" type="search" data-models-filter autocomplete="off">
<label for="models-vendor">${t('models.vendor')}</label> <select id="models-vendor" data-models-vendor><option value="">${t('models.vendorAll')}</option>${vendors.map(
		(v) => html`<option value="${v}">${v}</option>`,
	)}</select>
<button type="button" class="secondary small" data-select="all">${t('models.selectShown')}</button>
<button type="button" class="secondary small" data-select="none">${t('models.selectNone')}</button>
<span class="muted" data-models-count data-template="${t('models.checked', { n: '{n}' })}">${t('models.checked', { n: state.catalog.filter((e) => chosen.has(e.id)).length })}</span>
</div>
<div class="scroll"><table><thead><tr><th scope="col">${t('models.col.offer')}</th><th scope="col">${t('models.col.model')}</th><th scope="col">${t(
		'models.col.vendor',
	)}</th><th scope="col" class="num">${t('models.col.context')}</th><th scope="col" class="num">${t('models.col.output')}</th><th scope="col">${t('models.col.stream')}</th></tr></thead><tbody>
${state.catalog.map((e) => {
	const params = Array.isArray(e.supported_parameters) ? e.supported_parameters : null
	const id = `m-${e.id.replace(/[^A-Za-z0-9_-]/g, '_')}`
	return html`<tr id="row-${id}" data-model="${e.id.toLowerCase()} ${(e.name ?? '').toLowerCase()}" data-vendor="${vendorOf(e)}"><td><input type="checkbox" id="${id}" name="model" value="${e.id}"${
		chosen.has(e.id) ? html` checked` : ''
	}></td><td><label for="${id}">${e.name ?? e.id}</label><br><code class="muted">${e.id}</code></td><td>${vendorOf(e)}</td><td class="num">${
		e.context_length ?? e.top_provider?.context_length ?? '?'
	}</td><td class="num">${e.top_provider?.max_completion_tokens ?? '?'}</td><td>${params === null ? '?' : params.includes('stream') ? t('common.yes') : t('common.no')}</td></tr>`
})}
</tbody></table></div>
<button type="submit">${t('models.save')}</button> <button type="submit" name="all" value="1" class="secondary">${t('models.offerAll')}</button>
</form></section>`
}
