/** The panel's login form; after login the operator lands on the page they asked for (`next`). */
import { html } from './html.ts'
import type { Translator } from './i18n/i18n.ts'
import { layout, type Theme } from './layout.ts'

export interface LoginState {
	error?: string | null
	/** The panel page asked for before logging in. */
	next?: string | null
	theme?: Theme
}

export function loginPage(t: Translator, state: LoginState = {}): string {
	const back = state.next ? `/ui?next=${encodeURIComponent(state.next)}` : '/ui'
	return layout(
		t('login.title'),
		html`<h1>amb2api</h1>
<form method="post" action="/ui/login" class="login">
<label for="password">${t('login.password')}</label>
<input id="password" type="password" name="password" autocomplete="current-password" required autofocus>
${state.next ? html`<input type="hidden" name="next" value="${state.next}">` : ''}
<button type="submit">${t('login.submit')}</button>
${state.error ? html`<p class="notice notice-error" role="alert">${state.error}</p>` : ''}
</form>`,
		{ t, theme: state.theme, path: back },
	)
}
