/** Client keys: create (the key is shown once, with a copy button), list, edit, revoke. */
import type { ClientView } from '../plugins/client-keys/client-keys.ts'
import { html, type SafeHtml } from './html.ts'
import { badge, notice } from './layout.ts'

export interface ClientsState {
	clients: ClientView[] | null
	/** A key just created: shown this once. */
	created?: { name: string; key: string } | null
	message?: string | null
	error?: string | null
}

/** `YYYY-MM-DDTHH:MM` in UTC, the value of a datetime-local input labelled UTC. */
const dateTime = (iso: string | null) => (iso ? iso.slice(0, 16) : '')

/** The strings of the limit, budget and spend columns and fields, in one place for the message catalogue. */
export const CLIENT_SPEND_TEXT = {
	limits: 'Limits',
	budget: 'Budget',
	spentToday: 'Spent today',
	expires: 'Expires (UTC)',
	never: 'never',
	none: 'none',
	unlimited: 'unlimited',
	daily: 'daily',
	total: 'total',
	perMinute: '/min',
	budgetUsd: 'Budget (USD)',
	budgetPeriod: 'Budget period',
	periods: { day: 'day (from 07:00 UTC)', week: 'week (from Monday 07:00 UTC)', month: 'month (from the 1st, 07:00 UTC)', total: 'total' },
	rpm: 'Requests per minute',
	tpm: 'Tokens per minute',
	left: (usd: string, until: string | null) => `${usd} left${until ? ` until ${until}` : ''}`,
} as const
const S = CLIENT_SPEND_TEXT
const money = (v: number) => `$${v.toFixed(v !== 0 && v < 0.01 ? 6 : 2)}`

function limitsCell(c: ClientView): SafeHtml {
	const q = (v: number | null) => (v === null ? S.unlimited : String(v))
	const rate = [c.rpm !== null ? `${c.rpm} req${S.perMinute}` : null, c.tpm !== null ? `${c.tpm} tok${S.perMinute}` : null].filter(Boolean).join(', ')
	return html`${S.daily} ${q(c.daily_limit as number | null)}, ${S.total} ${q(c.total_limit as number | null)}${rate ? html`<br>${rate}` : ''}`
}

function budgetCell(c: ClientView): SafeHtml | string {
	if (!c.budget || c.budget_usd === null) return S.none
	return html`${money(c.budget.spent_usd)} / ${money(c.budget_usd)} (${c.budget.period})<br><span class="muted">${S.left(money(c.budget.remaining_usd), c.budget.resets_at ? c.budget.resets_at.slice(0, 16).replace('T', ' ') : null)}</span>`
}

function spendFields(prefix: string, c?: ClientView): SafeHtml {
	const period = c?.budget_period ?? 'total'
	return html`<label for="${prefix}-budget">${S.budgetUsd}</label> <input id="${prefix}-budget" name="budget_usd" type="number" min="0" step="any" value="${c?.budget_usd ?? ''}" placeholder="${S.none}">
<label for="${prefix}-period">${S.budgetPeriod}</label> <select id="${prefix}-period" name="budget_period">${(['day', 'week', 'month', 'total'] as const).map((p) => html`<option value="${p}"${p === period ? html` selected` : ''}>${S.periods[p]}</option>`)}</select>
<label for="${prefix}-rpm">${S.rpm}</label> <input id="${prefix}-rpm" name="rpm" type="number" min="1" value="${c?.rpm ?? ''}" placeholder="${S.unlimited}">
<label for="${prefix}-tpm">${S.tpm}</label> <input id="${prefix}-tpm" name="tpm" type="number" min="1" value="${c?.tpm ?? ''}" placeholder="${S.unlimited}">`
}

export function createClientForm(): SafeHtml {
	return html`<form method="post" action="/ui/clients" hx-post="/ui/clients" hx-target="#clients" hx-swap="outerMorph" class="card" data-reset>
<h2>New client key</h2>
<p><label for="c-name">Name</label> <input id="c-name" name="name" required maxlength="200"></p>
<p><label for="c-daily">Daily limit</label> <input id="c-daily" name="daily_limit" type="number" min="1" placeholder="unlimited">
<label for="c-total">Total limit</label> <input id="c-total" name="total_limit" type="number" min="1" placeholder="unlimited"></p>
<p><label for="c-models">Allowed models (comma separated, empty = all)</label> <input id="c-models" name="allowed_models"></p>
<p><label for="c-expires">${S.expires}</label> <input id="c-expires" name="expires" type="datetime-local"></p>
<p>${spendFields('c')}</p>
<button type="submit">Create client key</button></form>`
}

export function clientsView(state: ClientsState): SafeHtml {
	if (!state.clients) return html`<section id="clients">${notice(state.error ?? 'Client keys cannot be read right now.', 'error')}</section>`
	const created = state.created
		? html`<div class="card created" role="status"><p>Client key <strong>${state.created.name}</strong> created. Copy it now: it is shown only this once.</p>
<p class="copy"><input id="created-key" readonly value="${state.created.key}" aria-label="The new client key"> <button type="button" data-copy="#created-key">Copy</button></p></div>`
		: ''
	const head = html`${created}${notice(state.message)}${notice(state.error, 'error')}`
	if (!state.clients.length) return html`<section id="clients">${head}<p>No client key yet.</p></section>`
	return html`<section id="clients">${head}<div class="scroll"><table><thead><tr><th scope="col">Name</th><th scope="col">Key</th><th scope="col">Status</th><th scope="col" class="num">Today / total</th><th scope="col">${S.limits}</th><th scope="col">${S.budget}</th><th scope="col" class="num">${S.spentToday}</th><th scope="col">${S.expires}</th><th scope="col">Edit</th></tr></thead><tbody>
${state.clients.map(
	(
		c,
	) => html`<tr id="client-${c.id}"><td>${c.name}</td><td><code>${c.masked_key}</code></td><td>${badge(c.status)}</td><td class="num">${c.used_today} / ${c.used_total}</td><td>${limitsCell(c)}</td><td>${budgetCell(c)}</td><td class="num">${money(c.spent_today_usd)}</td><td>${c.expires_at ? `${c.expires_at.slice(0, 16).replace('T', ' ')} UTC` : S.never}</td>
<td><details id="client-${c.id}-edit"><summary>Edit</summary>
<form method="post" action="/ui/clients/${c.id}" hx-post="/ui/clients/${c.id}" hx-target="#clients" hx-swap="outerMorph" class="stack">
<label>Name <input name="name" value="${c.name}" required maxlength="200"></label>
<label>Daily limit <input name="daily_limit" type="number" min="1" value="${c.daily_limit ?? ''}" placeholder="unlimited"></label>
<label>Total limit <input name="total_limit" type="number" min="1" value="${c.total_limit ?? ''}" placeholder="unlimited"></label>
<label>Allowed models <input name="allowed_models" value="${(c.allowed_models as string[] | null)?.join(', ') ?? ''}" placeholder="all"></label>
<label>${S.expires} <input name="expires" type="datetime-local" value="${dateTime(c.expires_at)}"></label>
${spendFields(`e-${String(c.id).slice(0, 12)}`, c)}
<label><input type="checkbox" name="enabled" value="1"${c.enabled ? html` checked` : ''}> Enabled</label>
<button type="submit">Save</button></form>
<form method="post" action="/ui/clients/${c.id}/revoke" hx-post="/ui/clients/${c.id}/revoke" hx-target="#clients" hx-swap="outerMorph" hx-confirm="Revoke client key ${c.name}? Requests with it fail from then on."><button type="submit" class="danger">Revoke</button></form>
</details></td></tr>`,
)}
</tbody></table></div></section>`
}
