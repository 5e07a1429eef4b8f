/** The upstream model catalog with each model's metadata, and the choice of what /v1/models offers. */
import type { CatalogEntry } from '../plugins/assembly-client/model-catalog.ts'
import { html, type SafeHtml } from './html.ts'
import { notice } from './layout.ts'

export interface ModelsState {
	/** null: the catalog could not be fetched. */
	catalog: CatalogEntry[] | null
	/** The stored selection; null = every model. */
	selected: string[] | null
	message?: string | null
	error?: string | null
}

const creator = (e: CatalogEntry) => (typeof e.owned_by === 'string' ? e.owned_by : e.id.includes('/') ? e.id.split('/')[0] : e.id.split('-')[0])

export function modelsView(state: ModelsState): SafeHtml {
	if (!state.catalog) {
		return html`<section id="models">${notice(state.error ?? 'The upstream model catalog cannot be fetched right now.', 'error')}</section>`
	}
	if (!state.catalog.length) return html`<section id="models">${notice(state.message)}<p>The upstream catalog lists no model.</p></section>`
	const chosen = new Set(state.selected ?? state.catalog.map((e) => e.id))
	return html`<section id="models">${notice(state.message)}${notice(state.error, 'error')}
<p>${state.selected ? `${state.selected.length} of ${state.catalog.length} models offered by /v1/models.` : `Every model (${state.catalog.length}) is offered by /v1/models.`}</p>
<form method="post" action="/ui/models" hx-post="/ui/models" hx-target="#models" hx-swap="outerMorph">
<div class="scroll"><table><thead><tr><th scope="col">Offer</th><th scope="col">Model</th><th scope="col">Creator</th><th scope="col" class="num">Context</th><th scope="col" class="num">Max output</th><th scope="col">Streaming</th></tr></thead><tbody>
${state.catalog.map((e) => {
	const params = Array.isArray(e.supported_parameters) ? e.supported_parameters : null
	const id = `m-${e.id.replace(/[^A-Za-z0-9_-]/g, '_')}`
	return html`<tr id="row-${id}"><td><input type="checkbox" id="${id}" name="model" value="${e.id}"${chosen.has(e.id) ? html` checked` : ''}></td><td><label for="${id}">${e.name ?? e.id}</label><br><code class="muted">${e.id}</code></td><td>${creator(e)}</td><td class="num">${e.context_length ?? e.top_provider?.context_length ?? '?'}</td><td class="num">${e.top_provider?.max_completion_tokens ?? '?'}</td><td>${params === null ? '?' : params.includes('stream') ? 'yes' : 'no'}</td></tr>`
})}
</tbody></table></div>
<button type="submit">Save selection</button> <button type="submit" name="all" value="1" class="secondary">Offer every model</button>
</form></section>`
}
