/** The storage backend: kind, location without credentials, health, and the resilience layer's state. */
import { html, type SafeHtml } from './html.ts'
import type { Translator } from './i18n/i18n.ts'
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

export function storageView(t: Translator, s: StorageState): SafeHtml {
	return html`<section id="storage" hx-get="/ui/fragments/storage" hx-trigger="every 5s" hx-swap="outerMorph"><dl class="facts">
<dt>${t('storage.backend')}</dt><dd>${s.backend}</dd>
<dt>${t('storage.where')}</dt><dd><code>${s.where}</code></dd>
<dt>${t('storage.health')}</dt><dd>${badge(t, s.healthy ? 'healthy' : 'down')}${s.error ? html` <span class="reason">${s.error}</span>` : ''}</dd>
${
	s.shared
		? html`<dt>${t('storage.resilience')}</dt><dd>${s.healthy ? t('storage.fromBackend') : t('storage.fromMemory')}${
				s.pendingReplays !== null ? t('storage.pending', { n: s.pendingReplays }) : ''
			}</dd>`
		: ''
}
</dl></section>`
}
