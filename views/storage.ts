/** The storage backend: kind, location without credentials, health, and the resilience layer's state. */
import { html, type SafeHtml } from './html.ts'
import { badge } from './layout.ts'

export interface StorageState {
	backend: string
	where: string
	healthy: boolean
	/** Shared backends: serving from memory through an outage. */
	shared: boolean
	pendingReplays: number | null
	error?: string | null
}

export function storageView(s: StorageState): SafeHtml {
	return html`<section id="storage" hx-get="/ui/fragments/storage" hx-trigger="every 5s" hx-swap="outerMorph"><dl class="facts">
<dt>Backend</dt><dd>${s.backend}</dd>
<dt>Location</dt><dd><code>${s.where}</code></dd>
<dt>Health</dt><dd>${badge(s.healthy ? 'healthy' : 'down')}${s.error ? html` <span class="reason">${s.error}</span>` : ''}</dd>
${
	s.shared
		? html`<dt>Resilience</dt><dd>${s.healthy ? 'serving from the backend' : 'serving from memory until the backend returns'}${s.pendingReplays !== null ? html`; ${s.pendingReplays} pending replays` : ''}</dd>`
		: ''
}
</dl></section>`
}
