/** The panel's first page: the key pool at a glance, refreshed by htmx polling. */
import type { KeyReport } from '../plugins/rate-limits/key-pool.ts'
import { html, type SafeHtml } from './html.ts'
import { layout } from './layout.ts'

export function keyTable(keys: KeyReport[]): SafeHtml {
	if (!keys.length) {
		return html`<div id="keys" hx-get="/ui/fragments/keys" hx-trigger="every 5s" hx-swap="outerHTML">
<p>No upstream key yet. Set <code>ASSEMBLY_API_KEYS</code> and restart, or add one with <code>POST /admin/keys</code>.</p></div>`
	}
	return html`<div id="keys" hx-get="/ui/fragments/keys" hx-trigger="every 2s" hx-swap="outerHTML">
<table><thead><tr><th>Key</th><th>Status</th><th>Model</th><th>Remaining / limit</th><th>Reset in</th></tr></thead><tbody>
${keys.map((k) => {
	const models = Object.entries(k.models)
	if (!models.length) return html`<tr><td>${k.key}</td><td>${k.status}</td><td class="muted" colspan="3">not used yet</td></tr>`
	return models.map(
		([model, m]) =>
			html`<tr><td>${k.key}</td><td>${k.status}${k.reason ? html` <span class="muted">(${k.reason})</span>` : ''}</td><td>${model}</td><td>${m.remaining ?? '?'} / ${m.limit ?? '?'}</td><td>${m.reset_in_seconds === null ? '' : `${m.reset_in_seconds} s`}</td></tr>`,
	)
})}
</tbody></table></div>`
}

export function dashboardPage(keys: KeyReport[], storage: { backend: string; where: string }): string {
	return layout(
		'Panel',
		html`<header><h1>amb2api</h1><form class="inline" method="post" action="/ui/logout"><button>Log out</button></form></header>
<p class="muted">Storage: ${storage.backend} (${storage.where}) · <a href="/swagger">API docs</a></p>
<h2>Upstream keys</h2>
${keyTable(keys)}`,
	)
}
