/**
 * The key pool: one row per key (a selection box, masked key beside its short id, the honest
 * status badge with its reason, success/failure counts and the kept last test, actions),
 * expandable into one row per model (limit, used, remaining, reset countdown): nothing sums the
 * windows of different models. Above the table: test all, and batch actions on the selection.
 * Rows have stable ids, so the 2 s poll morphs them in place and keeps selection and focus.
 * The poll replaces only the table (#keys-live): a notice after an action sits outside it and
 * stays until it is dismissed or the next action replaces it.
 */
import { html, type SafeHtml } from './html.ts'
import type { MessageKey, Translator } from './i18n/i18n.ts'
import { badge, countdown, type IncidentView, incidentText, moment, notice } from './layout.ts'

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
	/** Refused with 401/403 without a ban, since when and why. */
	failing?: { since: string; reason: string } | null
	/** The daily quota is spent until the next reset. */
	quota?: { exhausted_until: string | null; reason: string | null } | null
	/** The last test, kept with the key (every instance sees it). */
	last_test?: { at: string; ok: boolean; status: number | null; latency_ms: number; model: string } | null
	counts?: { success: number; failure: number }
}

export interface KeysState {
	keys: KeyRow[] | null
	now: number
	/** Shown above the table after an action. */
	message?: string | null
	error?: string | null
	/** An upstream incident the pool sees. */
	incident?: IncidentView | null
	/** The model chosen for the last test, kept selected. */
	testModel?: string | null
	/** A question before a batch delete. */
	question?: SafeHtml | null
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

function lastTest(t: Translator, test: NonNullable<KeyRow['last_test']>): SafeHtml {
	return html`<div class="last-test" data-test="${test.ok ? 'ok' : 'failed'}">${t(test.ok ? 'keys.lastTestOk' : 'keys.lastTestFailed', {
		status: test.status ?? '–',
		ms: test.latency_ms,
		model: test.model,
	})} ${moment(test.at)}</div>`
}

function keyRow(t: Translator, k: KeyRow, now: number): SafeHtml {
	const cooldownUntil = k.cooldown_until ? Date.parse(k.cooldown_until) : null
	const quotaUntil = k.status === 'quota_exhausted' && k.quota?.exhausted_until ? Date.parse(k.quota.exhausted_until) : null
	const models = Object.entries(k.models).sort(([a], [b]) => a.localeCompare(b))
	const reason =
		k.status === 'failing' ? (k.failing?.reason ?? null) : k.status === 'quota_exhausted' ? (k.quota?.reason ?? null) : k.status !== 'active' ? k.reason : null
	return html`<tbody id="key-${k.id}">
<tr class="key-row">
<td class="select"><input type="checkbox" form="keys-batch" name="ids" value="${k.id}" id="sel-${k.id}" hx-preserve aria-label="${t('keys.select', {
		key: k.key,
	})}"></td>
<td><code>${k.key}</code> <span class="muted">${t('keys.id', { id: k.id.slice(0, 8) })}</span>${k.source === 'env' ? html` <span class="muted">${t('keys.fromEnv')}</span>` : ''}</td>
<td>${badge(t, k.status)}${reason ? html` <span class="reason">${reasonText(t, reason)}</span>` : ''}${
		cooldownUntil ? html` <span class="muted">${t('keys.for')}</span> ${countdown(t, cooldownUntil, now)}` : ''
	}${quotaUntil ? html` <span class="muted">${t('keys.until')}</span> ${countdown(t, quotaUntil, now)}` : ''}</td>
<td>${
		k.counts
			? html`<span data-counts="${k.counts.success}/${k.counts.failure}">${t('keys.counts', { success: k.counts.success, failure: k.counts.failure })}</span>`
			: ''
	}${k.last_test ? lastTest(t, k.last_test) : html`<div class="muted">${t('keys.neverTested')}</div>`}</td>
<td class="actions">
${k.status === 'disabled' ? action(t, k.id, 'enable', 'keys.enable') : ''}
${k.status === 'banned' ? action(t, k.id, 'unban', 'keys.unban') : ''}
${k.status !== 'disabled' && k.status !== 'banned' ? action(t, k.id, 'disable', 'keys.disable') : ''}
${action(t, k.id, 'test', 'keys.test')}
${k.source === 'admin' ? action(t, k.id, 'remove', 'keys.remove', t('keys.removeConfirm', { key: k.key })) : ''}
</td></tr>
<tr class="models-row"><td colspan="5"><details id="key-${k.id}-models"><summary data-models="${models.length}">${t('keys.models', { n: models.length })}</summary>
${
	models.length
		? html`<div class="scroll"><table class="inner"><thead><tr><th scope="col">${t('keys.col.model')}</th><th scope="col">${t('keys.col.status')}</th><th scope="col">${t(
				'keys.col.used',
			)}</th><th scope="col">${t('keys.col.remaining')}</th><th scope="col">${t('keys.col.reset')}</th></tr></thead><tbody>
${models.map(([model, m]) => {
	const reason = m.status !== 'active' && m.reason && m.reason !== k.reason ? m.reason : null
	const resetAt = m.reset_in_seconds === null ? null : now + m.reset_in_seconds * 1000
	return html`<tr id="km-${k.id}-${domId(model)}"><td>${model}</td><td>${badge(t, m.status)}${reason ? html` <span class="reason">${reasonText(t, reason)}</span>` : ''}</td><td data-used="${m.used}">${m.used}</td><td>${
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
export function keysLive(t: Translator, state: Pick<KeysState, 'keys' | 'now' | 'incident'>): SafeHtml {
	const attrs = html`id="keys-live" hx-get="/ui/fragments/keys" hx-trigger="every 2s" hx-swap="outerMorph"`
	if (state.keys === null) return html`<div ${attrs} aria-live="polite">${notice(t, t('keys.unreadable'), 'error')}</div>`
	if (!state.keys.length) return html`<div ${attrs}><p>${t('keys.none')} <code>ASSEMBLY_API_KEYS</code>${t('keys.noneTail')}</p></div>`
	return html`<div ${attrs}>${
		state.incident
			? html`<div class="notice notice-error" role="alert" data-incident="${state.incident.cause}"><p>${incidentText(t, state.incident)}</p></div>`
			: ''
	}<div class="scroll"><table class="keys"><caption class="sr-only">${t('keys.caption')}</caption>
<thead><tr><th scope="col"><span class="sr-only">${t('keys.col.select')}</span></th><th scope="col">${t('keys.col.key')}</th><th scope="col">${t(
		'keys.col.status',
	)}</th><th scope="col">${t('keys.col.health')}</th><th scope="col">${t('keys.col.actions')}</th></tr></thead>
${state.keys.map((k) => keyRow(t, k, state.now))}
</table></div></div>`
}

/** The models a test may use: the cheapest by default, then the catalog's (loaded after the page, so the page never waits for the catalog). */
export function testModelOptions(t: Translator, models: readonly string[], chosen: string | null): SafeHtml {
	const list = chosen && !models.includes(chosen) ? [chosen, ...models] : models
	return html`<option value="">${t('keys.cheapest')}</option>${list.map((m) => html`<option value="${m}"${m === chosen ? html` selected` : ''}>${m}</option>`)}`
}

/** Test all, and the batch actions on the keys selected in the table (their boxes name this form). */
export function keysToolbar(t: Translator, state: Pick<KeysState, 'testModel'>): SafeHtml {
	const chosen = state.testModel ?? null
	const url = `/ui/fragments/key-test-models${chosen ? `?selected=${encodeURIComponent(chosen)}` : ''}`
	return html`<form id="keys-batch" method="post" action="/ui/keys/batch" hx-post="/ui/keys/batch" hx-target="#keys" hx-swap="outerMorph" class="inline-form toolbar">
<label for="test-model">${t('keys.testModel')}</label>
<select id="test-model" name="model" hx-get="${url}" hx-trigger="load" hx-swap="innerHTML" hx-target="this">${testModelOptions(t, [], chosen)}</select>
<button type="submit" name="action" value="test_all" data-action="test_all">${t('keys.testAll')}</button>
<span class="muted">${t('keys.selected')}</span>
<button type="submit" class="small" name="action" value="test" data-action="batch-test">${t('keys.test')}</button>
<button type="submit" class="small" name="action" value="enable" data-action="batch-enable">${t('keys.enable')}</button>
<button type="submit" class="small" name="action" value="disable" data-action="batch-disable">${t('keys.disable')}</button>
<button type="submit" class="small danger" name="action" value="delete" data-action="batch-delete">${t('keys.remove')}</button>
</form>`
}

/** Deleting is asked twice: the first press answers this question with the ids to confirm. */
export function deleteQuestion(t: Translator, ids: readonly string[]): SafeHtml {
	return html`<div class="notice notice-error" role="alert" data-confirm-delete="${ids.length}"><form method="post" action="/ui/keys/batch" hx-post="/ui/keys/batch" hx-target="#keys" hx-swap="outerMorph" class="inline-form"><p>${t(
		'keys.deleteConfirm',
		{ n: ids.length },
	)}</p>${ids.map((id) => html`<input type="hidden" name="ids" value="${id}">`)}<input type="hidden" name="confirm" value="yes"><button type="submit" class="small danger" name="action" value="delete" data-action="confirm-delete">${t(
		'keys.deleteYes',
		{ n: ids.length },
	)}</button></form></div>`
}

/** The table with the notice of the last action: what an action answers. */
export function keysTable(t: Translator, state: KeysState): SafeHtml {
	return html`<section id="keys"><div id="keys-notice" aria-live="polite">${notice(t, state.message)}${notice(t, state.error, 'error')}${state.question ?? ''}</div>${keysToolbar(
		t,
		state,
	)}${keysLive(t, state)}</section>`
}

export function addKeysForm(t: Translator): SafeHtml {
	return html`<form method="post" action="/ui/keys/add" hx-post="/ui/keys/add" hx-target="#keys" hx-swap="outerMorph" class="stack" data-reset>
<label for="new-keys">${t('keys.addLabel')}</label>
<textarea id="new-keys" name="keys" rows="3" required autocomplete="off" spellcheck="false"></textarea>
<button type="submit">${t('keys.addButton')}</button></form>`
}
