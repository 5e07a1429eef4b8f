/**
 * Every setting with its value and source (environment, stored, default). Stored runtime
 * settings are editable; a field the environment locks is shown read-only with the reason; a
 * setting with a fixed set of values is a choice. A refused value is reported at its field
 * (highlighted) and beside the Save button, not at the top of a long page.
 * Made from the settings catalog, so a plugin's new settings appear here without a change.
 */
import { html, type SafeHtml } from './html.ts'
import type { Translator } from './i18n/i18n.ts'
import { settingDoc } from './i18n/setting-docs.ts'
import { badge, notice } from './layout.ts'

/** One setting as the page shows it (a secret's value is only whether it is set). */
export interface SettingRow {
	env: string
	owner: string
	doc: string
	stored: string | null
	source: string
	value: unknown
	secret: boolean
	locked: boolean
	choices: readonly string[] | null
}

export interface SettingsState {
	settings: SettingRow[]
	message?: string | null
	error?: string | null
	/** The setting whose value was refused, and why. */
	invalid?: { env: string; message: string } | null
	/** The refused text, kept in its field so the operator can correct it. */
	draft?: Record<string, string>
	/** Whether the panel password is stored (and so may be changed here). */
	passwordChangeable: boolean
}

export const showValue = (value: unknown): string => (value === null || value === undefined ? '' : Array.isArray(value) ? value.join(',') : String(value))

function field(t: Translator, s: SettingRow, state: SettingsState): SafeHtml {
	const id = `s-${s.env}`
	if (s.secret) return html`<span>${s.value ? t('settings.secretSet') : t('settings.secretUnset')}</span>`
	if (!s.stored) return html`<output id="${id}">${showValue(s.value)}</output> <span class="muted">${t('settings.envOnly')}</span>`
	if (s.locked)
		return html`<input id="${id}" value="${showValue(s.value)}" readonly aria-describedby="${id}-why"> <span id="${id}-why" class="muted">${t('settings.locked', { env: s.env })}</span>`
	const invalid = state.invalid?.env === s.env
	const value = state.draft?.[s.stored] ?? showValue(s.value)
	const aria = invalid ? html` aria-invalid="true" aria-describedby="${id}-error" class="invalid" autofocus` : ''
	const choices = s.choices ?? (typeof s.value === 'boolean' ? ['true', 'false'] : null)
	const control = choices
		? html`<select id="${id}" name="${s.stored}"${aria}>${choices.map((c) => html`<option value="${c}"${c === value ? html` selected` : ''}>${c}</option>`)}</select>`
		: html`<input id="${id}" name="${s.stored}" value="${value}"${aria}>`
	return html`${control}${invalid ? html`<p id="${id}-error" class="field-error" role="alert">${state.invalid?.message}</p>` : ''}`
}

export function settingsView(t: Translator, state: SettingsState): SafeHtml {
	const editable = state.settings.some((s) => s.stored && !s.locked && !s.secret)
	const outcome = html`${notice(t, state.message)}${notice(t, state.error, 'error')}`
	return html`<section id="settings">
<form method="post" action="/ui/settings" hx-post="/ui/settings" hx-target="#settings" hx-swap="outerMorph">
<div class="scroll"><table class="settings"><thead><tr><th scope="col">${t('settings.col.setting')}</th><th scope="col">${t('settings.col.value')}</th><th scope="col">${t(
		'settings.col.source',
	)}</th></tr></thead><tbody>
${state.settings.map(
	(s) =>
		html`<tr id="setting-${s.env}"${state.invalid?.env === s.env ? html` class="row-invalid"` : ''}><td><label for="s-${s.env}"><code>${s.env}</code></label><br><span class="muted small">${settingDoc(
			t.lang,
			s.env,
			s.doc,
		)} (${s.owner})</span></td><td>${field(t, s, state)}</td><td>${badge(t, s.source)}</td></tr>`,
)}
</tbody></table></div>
${
	editable
		? html`<div class="save-bar" id="settings-outcome">${outcome}<button type="submit">${t('settings.save')}</button> <span class="muted">${t('settings.saveHelp')}</span></div>`
		: outcome
}
</form>
${
	state.passwordChangeable
		? html`<form method="post" action="/ui/password" class="card"><h2>${t('settings.password')}</h2>
<p><label for="pw-current">${t('settings.pwCurrent')}</label> <input id="pw-current" type="password" name="current" autocomplete="current-password" required></p>
<p><label for="pw-new">${t('settings.pwNew')}</label> <input id="pw-new" type="password" name="password" autocomplete="new-password" minlength="12" required></p>
<button type="submit">${t('settings.pwChange')}</button></form>`
		: html`<p class="muted">${t('settings.pwFromEnv')}</p>`
}
</section>`
}
