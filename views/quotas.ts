/**
 * Daily quotas per upstream key and per model, with today's use beside each. A new model limit
 * is chosen from the catalog (no typos); its entry row is empty again after a save.
 */
import { html, type SafeHtml } from './html.ts'
import type { Translator } from './i18n/i18n.ts'
import { moment, notice } from './layout.ts'

/** One key's quota as the page shows it: limits, and today's use in total and per model. */
export interface QuotaRow {
	id: string
	key: string
	daily_limit: number | null
	daily_limit_source: 'key' | 'default'
	model_limits: Record<string, number>
	used: { total: number; models: Record<string, number> }
}

export interface QuotasState {
	rows: QuotaRow[] | null
	day: string
	/** ISO time of the next reset (07:00 UTC). */
	nextReset: string
	defaultLimit: number | null
	/** Model ids a new limit may name; null: the catalog is unavailable (then any id is accepted). */
	models: string[] | null
	message?: string | null
	error?: string | null
	/** What the operator typed into a key's new-model row, kept when the save was refused. */
	draft?: { keyId: string; model: string; limit: string } | null
}

function newModelRow(t: Translator, r: QuotaRow, state: QuotasState): SafeHtml {
	const draft = state.draft?.keyId === r.id ? state.draft : null
	const limited = new Set(Object.keys(r.model_limits))
	const picker = state.models
		? html`<select aria-label="${t('quotas.newModel')}" name="new_model" data-sync><option value="">${t('quotas.chooseModel')}</option>${state.models
				.filter((m) => !limited.has(m))
				.map((m) => html`<option value="${m}"${draft?.model === m ? html` selected` : ''}>${m}</option>`)}</select>`
		: html`<input aria-label="${t('quotas.newModel')}" name="new_model" placeholder="${t('quotas.modelId')}" value="${draft?.model ?? ''}" autocomplete="off" data-sync>`
	// data-sync: after a swap panel.js sets these fields to what the server rendered (empty after a
	// save, the draft after a refusal); a morph alone would keep what was typed.
	return html`<tr class="new-model">${html`<td>${picker}</td>`}<td><input aria-label="${t(
		'quotas.newLimit',
	)}" name="new_limit" type="number" min="1" placeholder="${t('quotas.limit')}" value="${draft?.limit ?? ''}" autocomplete="off" data-sync></td><td></td></tr>`
}

export function quotasView(t: Translator, state: QuotasState): SafeHtml {
	if (!state.rows) return html`<section id="quotas">${notice(t, state.error ?? t('quotas.unreadable'), 'error')}</section>`
	const head = html`${notice(t, state.message)}${notice(t, state.error, 'error')}<p class="muted">${t('quotas.day', { day: state.day })} ${moment(
		state.nextReset,
	)}${t('quotas.defaultLimit', { limit: state.defaultLimit ?? t('common.unlimited') })} (<code>DAILY_REQUEST_LIMIT</code>)</p>`
	if (!state.rows.length) return html`<section id="quotas">${head}<p>${t('quotas.noKey')}</p></section>`
	return html`<section id="quotas">${head}
${state.rows.map(
	(
		r,
	) => html`<form id="quota-${r.id}" class="card" method="post" action="/ui/quotas/${r.id}" hx-post="/ui/quotas/${r.id}" hx-target="#quotas" hx-swap="outerMorph">
<h3><code>${r.key}</code> <span class="muted">${t('keys.id', { id: r.id.slice(0, 8) })}</span></h3>
<p><label for="daily-${r.id}">${t('quotas.daily')}</label> <input id="daily-${r.id}" name="daily_limit" type="number" min="1" inputmode="numeric" value="${
		r.daily_limit_source === 'key' && r.daily_limit !== null ? r.daily_limit : ''
	}" placeholder="${r.daily_limit ?? t('common.unlimited')} (${t(r.daily_limit_source === 'key' ? 'quotas.source.key' : 'quotas.source.default')})">
<span>${t('quotas.usedToday')} <strong>${r.used.total}</strong> / ${r.daily_limit ?? '∞'}</span></p>
<div class="scroll"><table class="inner"><thead><tr><th scope="col">${t('keys.col.model')}</th><th scope="col">${t('quotas.limit')}</th><th scope="col" class="num">${t(
		'quotas.col.used',
	)}</th></tr></thead><tbody>
${[...new Set([...Object.keys(r.model_limits), ...Object.keys(r.used.models)])]
	.sort()
	.map(
		(model) =>
			html`<tr><td>${model}</td><td><input aria-label="${t('quotas.modelLimit', { model })}" name="model:${model}" type="number" min="1" value="${
				r.model_limits[model] ?? ''
			}" placeholder="${t('quotas.noLimit')}"></td><td class="num">${r.used.models[model] ?? 0}</td></tr>`,
	)}
${newModelRow(t, r, state)}
</tbody></table></div>
<button type="submit">${t('quotas.save')}</button></form>`,
)}
</section>`
}
