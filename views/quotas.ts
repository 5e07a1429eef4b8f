/** Daily quotas per upstream key and per model, with today's use beside each. */
import type { QuotaEntry } from '../plugins/daily-quota/daily-quota.ts'
import { html, type SafeHtml } from './html.ts'
import { notice } from './layout.ts'

/** One key's quota: the daily-quota service's entry. */
export type QuotaRow = QuotaEntry

export interface QuotasState {
	rows: QuotaRow[] | null
	day: string
	nextReset: string
	defaultLimit: number | null
	message?: string | null
	error?: string | null
}

export function quotasView(state: QuotasState): SafeHtml {
	if (!state.rows) return html`<section id="quotas">${notice(state.error ?? 'Quotas cannot be read right now.', 'error')}</section>`
	const head = html`${notice(state.message)}${notice(state.error, 'error')}<p class="muted">Usage day ${state.day}; next reset ${state.nextReset}. Default daily limit: ${state.defaultLimit ?? 'unlimited'} (DAILY_REQUEST_LIMIT).</p>`
	if (!state.rows.length) return html`<section id="quotas">${head}<p>No upstream key yet.</p></section>`
	return html`<section id="quotas">${head}
${state.rows.map(
	(
		r,
	) => html`<form id="quota-${r.id}" class="card" method="post" action="/ui/quotas/${r.id}" hx-post="/ui/quotas/${r.id}" hx-target="#quotas" hx-swap="outerMorph">
<h3><code>${r.key}</code> <span class="muted">id ${r.id.slice(0, 8)}</span></h3>
<p><label for="daily-${r.id}">Daily limit</label> <input id="daily-${r.id}" name="daily_limit" type="number" min="1" inputmode="numeric" value="${r.daily_limit_source === 'key' && r.daily_limit !== null ? r.daily_limit : ''}" placeholder="${r.daily_limit ?? 'unlimited'} (${r.daily_limit_source})">
<span>used today: <strong>${r.used.total}</strong> / ${r.daily_limit ?? '∞'}</span></p>
<div class="scroll"><table class="inner"><thead><tr><th scope="col">Model</th><th scope="col">Limit</th><th scope="col" class="num">Used today</th></tr></thead><tbody>
${[...new Set([...Object.keys(r.model_limits), ...Object.keys(r.used.models)])]
	.sort()
	.map(
		(model) =>
			html`<tr><td>${model}</td><td><input aria-label="Daily limit for ${model}" name="model:${model}" type="number" min="1" value="${r.model_limits[model] ?? ''}" placeholder="none"></td><td class="num">${r.used.models[model] ?? 0}</td></tr>`,
	)}
<tr><td><input aria-label="New model name" name="new_model" placeholder="model id"></td><td><input aria-label="Daily limit for the new model" name="new_limit" type="number" min="1" placeholder="limit"></td><td></td></tr>
</tbody></table></div>
<button type="submit">Save quotas</button></form>`,
)}
</section>`
}
