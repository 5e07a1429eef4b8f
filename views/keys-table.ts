/**
 * The key pool: one row per key (masked key beside its short id, status badge with its reason,
 * cooldown countdown, actions), expandable per model (limit, used, remaining, reset countdown).
 * Rows have stable ids, so the 2 s poll morphs them in place and keeps selection and focus.
 */
import type { KeyReport } from '../plugins/rate-limits/key-pool.ts'
import { html, type SafeHtml } from './html.ts'
import { badge, countdown, notice } from './layout.ts'

export interface KeysState {
	keys: KeyReport[] | null
	now: number
	/** Shown above the table after an action. */
	message?: string | null
	error?: string | null
	/** The answer of a key test, by key id. */
	tested?: { id: string; text: string; ok: boolean } | null
}

const domId = (text: string) => text.replace(/[^A-Za-z0-9_-]/g, (c) => `_${c.charCodeAt(0).toString(16)}`)

function action(id: string, name: string, label: string, confirm?: string): SafeHtml {
	return html`<form method="post" action="/ui/keys/${id}/${name}" hx-post="/ui/keys/${id}/${name}" hx-target="#keys" hx-swap="outerMorph"${
		confirm ? html` hx-confirm="${confirm}"` : ''
	}><button type="submit" class="small">${label}</button></form>`
}

function keyRow(k: KeyReport, now: number, tested: KeysState['tested']): SafeHtml {
	const cooldownUntil = k.cooldown_until ? Date.parse(k.cooldown_until) : null
	const models = Object.entries(k.models).sort(([a], [b]) => a.localeCompare(b))
	const showReason = k.status !== 'active' && k.reason
	// The row's summary: requests used in the live windows, the tightest model, the soonest reset.
	const used = models.reduce((sum, [, m]) => sum + m.used, 0)
	const tightest = models
		.filter(([, m]) => m.remaining !== null && m.limit !== null)
		.sort(([, a], [, b]) => (a.remaining as number) - (b.remaining as number))[0]
	const resets = models.map(([, m]) => m.reset_in_seconds).filter((r): r is number => r !== null && r > 0)
	const soonest = resets.length ? now + Math.min(...resets) * 1000 : null
	return html`<tbody id="key-${k.id}">
<tr class="key-row">
<td><code>${k.key}</code> <span class="muted">id ${k.id.slice(0, 8)}</span>${k.source === 'env' ? html` <span class="muted">(env)</span>` : ''}</td>
<td>${badge(k.status)}${showReason ? html` <span class="reason">${k.reason}</span>` : ''}${cooldownUntil ? html` <span class="muted">for</span> ${countdown(cooldownUntil, now)}` : ''}</td>
<td>${models.length ? html`used ${used}${tightest ? html`, ${tightest[1].remaining} / ${tightest[1].limit} left` : ''}${soonest ? html`, reset in ${countdown(soonest, now)}` : ''}` : html`<span class="muted">not used yet</span>`}</td>
<td class="actions">
${k.status === 'disabled' ? action(k.id, 'enable', 'Enable') : ''}
${k.status === 'banned' ? action(k.id, 'unban', 'Unban') : ''}
${k.status !== 'disabled' && k.status !== 'banned' ? action(k.id, 'disable', 'Disable') : ''}
${action(k.id, 'test', 'Test')}
${k.source === 'admin' ? action(k.id, 'remove', 'Remove', `Remove key ${k.key}?`) : ''}
</td></tr>
${tested && tested.id === k.id ? html`<tr class="test-row"><td colspan="4">${notice(tested.text, tested.ok ? 'ok' : 'error')}</td></tr>` : ''}
<tr class="models-row"><td colspan="4"><details id="key-${k.id}-models"><summary>${models.length} model${models.length === 1 ? '' : 's'}</summary>
${
	models.length
		? html`<div class="scroll"><table class="inner"><thead><tr><th scope="col">Model</th><th scope="col">Status</th><th scope="col">Used</th><th scope="col">Remaining / limit</th><th scope="col">Reset in</th></tr></thead><tbody>
${models.map(([model, m]) => {
	const reason = m.status !== 'active' && m.reason && m.reason !== k.reason ? m.reason : null
	const resetAt = m.reset_in_seconds === null ? null : now + m.reset_in_seconds * 1000
	return html`<tr id="km-${k.id}-${domId(model)}"><td>${model}</td><td>${badge(m.status)}${reason ? html` <span class="reason">${reason}</span>` : ''}</td><td>${m.used}</td><td>${m.remaining ?? '?'} / ${m.limit ?? '?'}</td><td>${countdown(resetAt, now)}</td></tr>`
})}
</tbody></table></div>`
		: html`<p class="muted">Not used yet.</p>`
}
</details></td></tr>
</tbody>`
}

export function keysTable(state: KeysState): SafeHtml {
	const attrs = html`id="keys" hx-get="/ui/fragments/keys" hx-trigger="every 2s" hx-swap="outerMorph"`
	if (state.keys === null) {
		return html`<section ${attrs} aria-live="polite">${notice(state.error ?? 'The key pool cannot be read right now.', 'error')}</section>`
	}
	const head = html`${notice(state.message)}${notice(state.error, 'error')}`
	if (!state.keys.length) {
		return html`<section ${attrs}>${head}<p>No upstream key yet. Add one below, or set <code>ASSEMBLY_API_KEYS</code>.</p></section>`
	}
	return html`<section ${attrs}>${head}<div class="scroll"><table class="keys"><caption class="sr-only">Upstream keys</caption>
<thead><tr><th scope="col">Key</th><th scope="col">Status</th><th scope="col">Window</th><th scope="col">Actions</th></tr></thead>
${state.keys.map((k) => keyRow(k, state.now, state.tested))}
</table></div></section>`
}

export function addKeysForm(): SafeHtml {
	return html`<form method="post" action="/ui/keys/add" hx-post="/ui/keys/add" hx-target="#keys" hx-swap="outerMorph" class="stack" data-reset>
<label for="new-keys">Add keys (one per line)</label>
<textarea id="new-keys" name="keys" rows="3" required autocomplete="off" spellcheck="false"></textarea>
<button type="submit">Add keys</button></form>`
}
