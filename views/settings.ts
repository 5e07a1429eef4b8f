/**
 * Every setting with its value and source (environment, stored, default). Stored runtime
 * settings are editable; a field the environment locks is shown read-only with the reason.
 * Made from services.settings, so a plugin's new settings appear here without a change.
 */
import type { SettingView } from '../core/settings-catalog.ts'
import { html, type SafeHtml } from './html.ts'
import { notice } from './layout.ts'

export interface SettingsState {
	settings: SettingView[]
	message?: string | null
	error?: string | null
	/** Whether the panel password is stored (and so may be changed here). */
	passwordChangeable: boolean
}

const show = (value: unknown): string => (value === null || value === undefined ? '' : Array.isArray(value) ? value.join(',') : String(value))

function field(s: SettingView): SafeHtml {
	const id = `s-${s.env}`
	if (s.secret) return html`<span>${s.value ? 'set (hidden)' : 'not set'}</span>`
	if (!s.stored) return html`<output id="${id}">${show(s.value)}</output> <span class="muted">environment only</span>`
	if (s.locked)
		return html`<input id="${id}" value="${show(s.value)}" readonly aria-describedby="${id}-why"> <span id="${id}-why" class="muted">locked: set by ${s.env} in the environment</span>`
	if (typeof s.value === 'boolean') {
		return html`<select id="${id}" name="${s.stored}"><option value="true"${s.value ? html` selected` : ''}>true</option><option value="false"${s.value ? '' : html` selected`}>false</option></select>`
	}
	return html`<input id="${id}" name="${s.stored}" value="${show(s.value)}">`
}

export function settingsView(state: SettingsState): SafeHtml {
	const editable = state.settings.some((s) => s.stored && !s.locked && !s.secret)
	return html`<section id="settings">${notice(state.message)}${notice(state.error, 'error')}
<form method="post" action="/ui/settings" hx-post="/ui/settings" hx-target="#settings" hx-swap="outerMorph">
<div class="scroll"><table><thead><tr><th scope="col">Setting</th><th scope="col">Value</th><th scope="col">Source</th></tr></thead><tbody>
${state.settings.map(
	(s) =>
		html`<tr id="setting-${s.env}"><td><label for="s-${s.env}"><code>${s.env}</code></label><br><span class="muted small">${s.doc} (${s.owner})</span></td><td>${field(s)}</td><td><span class="badge badge-src-${s.source}">${s.source}</span></td></tr>`,
)}
</tbody></table></div>
${editable ? html`<button type="submit">Save settings</button> <span class="muted">An empty field goes back to the environment or the default. Saving takes effect on every instance within seconds.</span>` : ''}
</form>
${
	state.passwordChangeable
		? html`<form method="post" action="/ui/password" class="card"><h2>Panel password</h2>
<p><label for="pw-current">Current password</label> <input id="pw-current" type="password" name="current" autocomplete="current-password" required></p>
<p><label for="pw-new">New password (12+ characters)</label> <input id="pw-new" type="password" name="password" autocomplete="new-password" minlength="12" required></p>
<button type="submit">Change password and end every session</button></form>`
		: html`<p class="muted">The panel password comes from the environment (PANEL_PASSWORD / PASSWORD): change it there; sessions end when it changes.</p>`
}
</section>`
}
