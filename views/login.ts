/** The panel's login form. */
import { html } from './html.ts'
import { layout } from './layout.ts'

export function loginPage(error: string | null = null): string {
	return layout(
		'Login',
		html`<header><h1>amb2api</h1></header>
<form method="post" action="/ui/login">
<label>Panel password <input type="password" name="password" autocomplete="current-password" required autofocus></label>
<button type="submit">Log in</button>
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
</form>`,
	)
}
