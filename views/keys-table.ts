/**
 * The key pool: one row per key (masked key beside its short id, status badge with its reason,
 * cooldown countdown, actions), expandable per model (limit, used, remaining, reset countdown).
 * Rows have stable ids, so the 2 s poll morphs them in place and keeps selection and focus.
 * The poll replaces only the table (#keys-live): a notice after an action sits outside it and
 * stays until it is dismissed or the next action replaces it.
 */
import { html, type SafeHtml } from './html.ts'
import type { MessageKey, Translator } from './i18n/i18n.ts'
import { badge, countdown, notice } from './layout.ts'

/** One model on one key, as the key table shows it. */
export interface KeyModelRow {
	status: string
	limit: number | null
	remaining: number | null
	used: number
	reset_in_seconds: number | null
	reason: string | null
}

/** One upstream key, as the key table shows it (masked; the secret is never here). */
export interface KeyRow {
	id: string
	key: string
	source: 'env' | 'admin'
	status: string
	reason: string | null
	cooldown_until: string | null
	models: Record<string, KeyModelRow>
}

export interface KeysState {
	keys: KeyRow[] | null
	now: number
	/** Shown above the table after an action. */
	message?: string | null
	error?: string | null
}

const domId = (text: string) => text.replace(/[^A-Za-z0-9_-]/g, (c) => `_${c.charCodeAt(0).toString(16)}`)

/** Reasons the pool writes in words; the rest (upstream messages, HTTP codes) is shown as it is. */
export function reasonText(t: Translator, reason: string): string {
	if (reason === 'disabled by the operator') return t('keys.reason.disabled')
	const ban = /^auto-ban: HTTP (\d{3}) from upstream: ([\s\S]*)$/.exec(reason)
	if (ban) return t('keys.reason.autoBan', { status: ban[1] as string, detail: ban[2] as string })
	return reason
}

function action(t: Translator, id: string, name: string, label: MessageKey, confirm?: string): SafeHtml {
	return html`<form method="post" action="/ui/keys/${id}/${name}" hx-post="/ui/keys/${id}/${name}" hx-target="#keys" hx-swap="outerMorph"${
		confirm ? html` hx-confirm="${confirm}"` : ''
	}><button type="submit" class="small" data-action="${name}">${t(label)}</button></form>`
}

function keyRow(t: Translator, k: KeyRow, now: number): SafeHtml {
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
<td><code>${k.key}</code> <span class="muted">${t('keys.id', { id: k.id.slice(0, 8) })}</span>${k.source === 'env' ? html` <span class="muted">${t('keys.fromEnv')}</span>` : ''}</td>
<td>${badge(t, k.status)}${showReason ? html` <span class="reason">${reasonText(t, k.reason as string)}</span>` : ''}${
		cooldownUntil ? html` <span class="muted">${t('keys.for')}</span> ${countdown(t, cooldownUntil, now)}` : ''
	}</td>
<td>${
		models.length
			? html`<span data-used="${used}">${t('keys.used', { n: used })}</span>${
					tightest ? html`${t('keys.left', { remaining: tightest[1].remaining ?? '?', limit: tightest[1].limit ?? '?' })}` : ''
				}${soonest ? html`${t('keys.resetIn')} ${countdown(t, soonest, now)}` : ''}`
			: html`<span class="muted">${t('keys.notUsed')}</span>`
	}</td>
<td class="actions">
${k.status === 'disabled' ? action(t, k.id, 'enable', 'keys.enable') : ''}
${k.status === 'banned' ? action(t, k.id, 'unban', 'keys.unban') : ''}
${k.status !== 'disabled' && k.status !== 'banned' ? action(t, k.id, 'disable', 'keys.disable') : ''}
${action(t, k.id, 'test', 'keys.test')}
${k.source === 'admin' ? action(t, k.id, 'remove', 'keys.remove', t('keys.removeConfirm', { key: k.key })) : ''}
</td></tr>
<tr class="models-row"><td colspan="4"><details id="key-${k.id}-models"><summary data-models="${models.length}">${t('keys.models', { n: models.length })}</summary>
${
	models.length
		? html`<div class="scroll"><table class="inner"><thead><tr><th scope="col">${t('keys.col.model')}</th><th scope="col">${t('keys.col.status')}</th><th scope="col">${t(
				'keys.col.used',
			)}</th><th scope="col">${t('keys.col.remaining')}</th><th scope="col">${t('keys.col.reset')}</th></tr></thead><tbody>
${models.map(([model, m]) => {
	const reason = m.status !== 'active' && m.reason && m.reason !== k.reason ? m.reason : null
	const resetAt = m.reset_in_seconds === null ? null : now + m.reset_in_seconds * 1000
	return html`<tr id="km-${k.id}-${domId(model)}"><td>${model}</td><td>${badge(t, m.status)}${reason ? html` <span class="reason">${reasonText(t, reason)}</span>` : ''}</td><td>${m.used}</td><td>${
		m.remaining ?? '?'
	} / ${m.limit ?? '?'}</td><td>${countdown(t, resetAt, now)}</td></tr>`
})}
</tbody></table></div>`
		: html`<p class="muted">${t('keys.notUsed')}</p>`
}
</details></td></tr>
</tbody>`
}

/** The polled part: the table alone. */
export function keysLive(t: Translator, state: Pick<KeysState, 'keys' | 'now'>): SafeHtml {
	const attrs = html`id="keys-live" hx-get="/ui/fragments/keys" hx-trigger="every 2s" hx-swap="outerMorph"`
	if (state.keys === null) return html`<div ${attrs} aria-live="polite">${notice(t, t('keys.unreadable'), 'error')}</div>`
	if (!state.keys.length) return html`<div ${attrs}><p>${t('keys.none')} <code>ASSEMBLY_API_KEYS</code>${t('keys.noneTail')}</p></div>`
	return html`<div ${attrs}><div class="scroll"><table class="keys"><caption class="sr-only">${t('keys.caption')}</caption>
<thead><tr><th scope="col">${t('keys.col.key')}</th><th scope="col">${t('keys.col.status')}</th><th scope="col">${t('keys.col.window')}</th><th scope="col">${t(
		'keys.col.actions',
	)}</th></tr></thead>
${state.keys.map((k) => keyRow(t, k, state.now))}
</table></div></div>`
}

/** The table with the notice of the last action: what an action answers. */
export function keysTable(t: Translator, state: KeysState): SafeHtml {
	return html`<section id="keys"><div id="keys-notice" aria-live="polite">${notice(t, state.message)}${notice(t, state.error, 'error')}</div>${keysLive(t, state)}</section>`
}

export function addKeysForm(t: Translator): SafeHtml {
	return html`<form method="post" action="/ui/keys/add" hx-post="/ui/keys/add" hx-target="#keys" hx-swap="outerMorph" class="stack" data-reset>
<label for="new-keys">${t('keys.addLabel')}</label>
<textarea id="new-keys" name="keys" rows="3" required autocomplete="off" spellcheck="false"></textarea>
<button type="submit">${t('keys.addButton')}</button></form>`
}
