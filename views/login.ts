/** The panel's login form. */
import { html } from './html.ts'
import { layout } from './layout.ts'

export function loginPage(error: string | null = null): string {
	return layout(
		'Login',
		html`<h1>amb2api</h1>
<form method="post" action="/ui/login" class="login">
<label for="password">Panel password</label>
<input id="password" type="password" name="password" autocomplete="current-password" required autofocus>
<button type="submit">Log in</button>
${error ? html`<p class="notice notice-error" role="alert">${error}</p>` : ''}
</form>`,
	)
}
