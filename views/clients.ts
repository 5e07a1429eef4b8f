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

const date = (iso: string | null) => (iso ? iso.slice(0, 10) : '')

export function createClientForm(): SafeHtml {
	return html`<form method="post" action="/ui/clients" hx-post="/ui/clients" hx-target="#clients" hx-swap="outerMorph" class="card" data-reset>
<h2>New client key</h2>
<p><label for="c-name">Name</label> <input id="c-name" name="name" required maxlength="200"></p>
<p><label for="c-daily">Daily limit</label> <input id="c-daily" name="daily_limit" type="number" min="1" placeholder="unlimited">
<label for="c-total">Total limit</label> <input id="c-total" name="total_limit" type="number" min="1" placeholder="unlimited"></p>
<p><label for="c-models">Allowed models (comma separated, empty = all)</label> <input id="c-models" name="allowed_models"></p>
<p><label for="c-expires">Expires</label> <input id="c-expires" name="expires" type="date"></p>
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
	return html`<section id="clients">${head}<div class="scroll"><table><thead><tr><th scope="col">Name</th><th scope="col">Key</th><th scope="col">Status</th><th scope="col" class="num">Today / total</th><th scope="col">Edit</th></tr></thead><tbody>
${state.clients.map(
	(
		c,
	) => html`<tr id="client-${c.id}"><td>${c.name}</td><td><code>${c.masked_key}</code></td><td>${badge(c.status)}</td><td class="num">${c.used_today} / ${c.used_total}</td>
<td><details id="client-${c.id}-edit"><summary>Edit</summary>
<form method="post" action="/ui/clients/${c.id}" hx-post="/ui/clients/${c.id}" hx-target="#clients" hx-swap="outerMorph" class="stack">
<label>Name <input name="name" value="${c.name}" required maxlength="200"></label>
<label>Daily limit <input name="daily_limit" type="number" min="1" value="${c.daily_limit ?? ''}" placeholder="unlimited"></label>
<label>Total limit <input name="total_limit" type="number" min="1" value="${c.total_limit ?? ''}" placeholder="unlimited"></label>
<label>Allowed models <input name="allowed_models" value="${(c.allowed_models as string[] | null)?.join(', ') ?? ''}" placeholder="all"></label>
<label>Expires <input name="expires" type="date" value="${date(c.expires_at)}"></label>
<label><input type="checkbox" name="enabled" value="1"${c.enabled ? html` checked` : ''}> Enabled</label>
<button type="submit">Save</button></form>
<form method="post" action="/ui/clients/${c.id}/revoke" hx-post="/ui/clients/${c.id}/revoke" hx-target="#clients" hx-swap="outerMorph" hx-confirm="Revoke client key ${c.name}? Requests with it fail from then on."><button type="submit" class="danger">Revoke</button></form>
</details></td></tr>`,
)}
</tbody></table></div></section>`
}
