/** Client keys: create (the key is shown once, with a copy button), list, edit, revoke. */
import { html, type SafeHtml } from './html.ts'
import type { Translator } from './i18n/i18n.ts'
import { badge, notice } from './layout.ts'

/** One client key as the list shows it (masked; the key itself is shown only once, at creation). */
export interface ClientRow {
	id: string
	name: string
	masked_key: string
	status: string
	enabled: boolean
	daily_limit: number | null
	total_limit: number | null
	allowed_models: readonly string[] | null
	expires_at: string | null
	used_today: number
	used_total: number
}

export interface ClientsState {
	clients: ClientRow[] | null
	/** A key just created: shown this once. */
	created?: { name: string; key: string } | null
	message?: string | null
	error?: string | null
}

const date = (iso: string | null) => (iso ? iso.slice(0, 10) : '')

export function createClientForm(t: Translator): SafeHtml {
	return html`<form method="post" action="/ui/clients" hx-post="/ui/clients" hx-target="#clients" hx-swap="outerMorph" class="card" data-reset>
<h2>${t('clients.new')}</h2>
<p><label for="c-name">${t('clients.name')}</label> <input id="c-name" name="name" required maxlength="200"></p>
<p><label for="c-daily">${t('clients.daily')}</label> <input id="c-daily" name="daily_limit" type="number" min="1" placeholder="${t('common.unlimited')}">
<label for="c-total">${t('clients.total')}</label> <input id="c-total" name="total_limit" type="number" min="1" placeholder="${t('common.unlimited')}"></p>
<p><label for="c-models">${t('clients.modelsHelp')}</label> <input id="c-models" name="allowed_models"></p>
<p><label for="c-expires">${t('clients.expires')}</label> <input id="c-expires" name="expires" type="date"></p>
<button type="submit">${t('clients.create')}</button></form>`
}

export function clientsView(t: Translator, state: ClientsState): SafeHtml {
	if (!state.clients) return html`<section id="clients">${notice(t, state.error ?? t('clients.unreadable'), 'error')}</section>`
	const created = state.created
		? html`<div class="card created" role="status"><p>${t('clients.created', { name: state.created.name })}</p>
<p class="copy"><input id="created-key" readonly value="${state.created.key}" aria-label="${t('clients.newKey')}"> <button type="button" data-copy="#created-key" data-copied="${t(
				'clients.copied',
			)}">${t('clients.copy')}</button></p></div>`
		: ''
	const head = html`${created}${notice(t, state.message)}${notice(t, state.error, 'error')}`
	if (!state.clients.length) return html`<section id="clients">${head}<p>${t('clients.none')}</p></section>`
	return html`<section id="clients">${head}<div class="scroll"><table><thead><tr><th scope="col">${t('clients.name')}</th><th scope="col">${t(
		'clients.col.key',
	)}</th><th scope="col">${t('clients.col.status')}</th><th scope="col" class="num">${t('clients.col.used')}</th><th scope="col">${t('clients.edit')}</th></tr></thead><tbody>
${state.clients.map(
	(
		c,
	) => html`<tr id="client-${c.id}"><td>${c.name}</td><td><code>${c.masked_key}</code></td><td>${badge(t, c.status)}</td><td class="num">${c.used_today} / ${c.used_total}</td>
<td><details id="client-${c.id}-edit"><summary>${t('clients.edit')}</summary>
<form method="post" action="/ui/clients/${c.id}" hx-post="/ui/clients/${c.id}" hx-target="#clients" hx-swap="outerMorph" class="stack">
<label>${t('clients.name')} <input name="name" value="${c.name}" required maxlength="200"></label>
<label>${t('clients.daily')} <input name="daily_limit" type="number" min="1" value="${c.daily_limit ?? ''}" placeholder="${t('common.unlimited')}"></label>
<label>${t('clients.total')} <input name="total_limit" type="number" min="1" value="${c.total_limit ?? ''}" placeholder="${t('common.unlimited')}"></label>
<label>${t('clients.models')} <input name="allowed_models" value="${c.allowed_models?.join(', ') ?? ''}" placeholder="${t('common.all')}"></label>
<label>${t('clients.expires')} <input name="expires" type="date" value="${date(c.expires_at)}"></label>
<label><input type="checkbox" name="enabled" value="1"${c.enabled ? html` checked` : ''}> ${t('clients.enabled')}</label>
<button type="submit">${t('common.save')}</button></form>
<form method="post" action="/ui/clients/${c.id}/revoke" hx-post="/ui/clients/${c.id}/revoke" hx-target="#clients" hx-swap="outerMorph" hx-confirm="${t(
		'clients.revokeConfirm',
		{
			name: c.name,
		},
	)}"><button type="submit" class="danger">${t('clients.revoke')}</button></form>
</details></td></tr>`,
)}
</tbody></table></div></section>`
}
