/**
 * Client keys: create (the key is shown once, with a copy button), list, edit, revoke. The list
 * shows each key's limits, budget with what is left, today's spend and expiry without opening
 * Edit. Expiry is a date and a time in a named time zone: UTC as rendered, the browser's own once
 * panel.js has run (it converts the fields and says the zone); the server reads the fields back
 * in the zone the form names, and stores UTC.
 */
import { html, type SafeHtml } from './html.ts'
import type { MessageKey, Translator } from './i18n/i18n.ts'
import { badge, moment, notice } from './layout.ts'
import { usd } from './money.ts'
import { wallClock } from './zoned-time.ts'

export type BudgetPeriod = 'day' | 'week' | 'month' | 'total'
export const BUDGET_PERIODS: readonly BudgetPeriod[] = ['day', 'week', 'month', 'total']

/** One client key as the list shows it (masked; the key itself is shown only once, at creation). */
export interface ClientRow {
	id: string
	name: string
	masked_key: string
	status: string
	enabled: boolean
	daily_limit: number | null
	total_limit: number | null
	allowed_models: readonly string[] | null
	expires_at: string | null
	used_today: number
	used_total: number
	budget_usd: number | null
	budget_period: BudgetPeriod
	rpm: number | null
	tpm: number | null
	/** Cost of today's requests (usage day), USD. */
	spent_today_usd: number
	/** The budget's current period: spent (requests in flight included) and what is left. */
	budget: { period: BudgetPeriod; spent_usd: number; remaining_usd: number; resets_at: string | null } | null
}

export interface ClientsState {
	clients: ClientRow[] | null
	/** A key just created: shown this once. */
	created?: { name: string; key: string } | null
	message?: string | null
	error?: string | null
}

const PERIOD_OPTION: Record<BudgetPeriod, MessageKey> = {
	day: 'clients.period.day',
	week: 'clients.period.week',
	month: 'clients.period.month',
	total: 'clients.period.total',
}
const PERIOD_SHORT: Record<BudgetPeriod, MessageKey> = {
	day: 'clients.periodShort.day',
	week: 'clients.periodShort.week',
	month: 'clients.periodShort.month',
	total: 'clients.periodShort.total',
}

/** A translated sentence with markup (a <time>) in one placeholder; the rest of the sentence is escaped. */
function sentence(text: string, name: string, markup: SafeHtml): SafeHtml {
	return html`${text.split(`{${name}}`).map((part, i) => (i === 0 ? html`${part}` : html`${markup}${part}`))}`
}

function limitsCell(t: Translator, c: ClientRow): SafeHtml {
	const q = (v: number | null) => (v === null ? t('common.unlimited') : String(v))
	const rates = [c.rpm !== null ? t('clients.rpmValue', { n: c.rpm }) : null, c.tpm !== null ? t('clients.tpmValue', { n: c.tpm }) : null].filter(
		(r): r is string => r !== null,
	)
	return html`<span data-field="limits">${t('clients.limitsValue', { daily: q(c.daily_limit), total: q(c.total_limit) })}</span>${rates.map(
		(r) => html`<br><span class="small">${r}</span>`,
	)}`
}

function budgetCell(t: Translator, c: ClientRow): SafeHtml | string {
	if (!c.budget || c.budget_usd === null) return html`<span class="muted">${t('clients.noBudget')}</span>`
	const b = c.budget
	const left = usd(b.remaining_usd)
	return html`<span data-field="budget">${t('clients.budgetOf', { spent: usd(b.spent_usd), budget: usd(c.budget_usd), period: t(PERIOD_SHORT[b.period]) })}</span><br><span class="muted small" data-field="budget-left">${
		b.resets_at ? sentence(t('clients.budgetLeftUntil', { left, until: '{until}' }), 'until', moment(b.resets_at)) : t('clients.budgetLeft', { left })
	}</span>`
}

/** Budget, period and per-minute limits; an empty field is none. */
function spendFields(t: Translator, prefix: string, c?: ClientRow): SafeHtml {
	const period = c?.budget_period ?? 'total'
	return html`<label for="${prefix}-budget">${t('clients.budgetUsd')}</label> <input id="${prefix}-budget" name="budget_usd" type="number" min="0" step="any" value="${
		c?.budget_usd ?? ''
	}" placeholder="${t('clients.noBudget')}">
<label for="${prefix}-period">${t('clients.budgetPeriod')}</label> <select id="${prefix}-period" name="budget_period">${BUDGET_PERIODS.map(
		(p) => html`<option value="${p}"${p === period ? html` selected` : ''}>${t(PERIOD_OPTION[p])}</option>`,
	)}</select>
<label for="${prefix}-rpm">${t('clients.rpm')}</label> <input id="${prefix}-rpm" name="rpm" type="number" min="1" value="${c?.rpm ?? ''}" placeholder="${t(
		'common.unlimited',
	)}">
<label for="${prefix}-tpm">${t('clients.tpm')}</label> <input id="${prefix}-tpm" name="tpm" type="number" min="1" value="${c?.tpm ?? ''}" placeholder="${t(
		'common.unlimited',
	)}">`
}

/**
 * Expiry as a date and a time, in the zone the hidden `tz` field names (UTC as rendered). panel.js
 * rewrites both fields into the browser's zone from `data-utc` and names that zone.
 */
function expiryFields(t: Translator, prefix: string, expiresAt: string | null): SafeHtml {
	const at = expiresAt ? wallClock(Date.parse(expiresAt), 'UTC') : null
	return html`<span class="inline-form" data-zoned${expiresAt ? html` data-utc="${expiresAt}"` : ''}><label for="${prefix}-exp-date">${t(
		'clients.expiresOn',
	)}</label> <input id="${prefix}-exp-date" name="expires_date" type="date" value="${at?.date ?? ''}">
<label for="${prefix}-exp-time">${t('clients.expiresAt')}</label> <input id="${prefix}-exp-time" name="expires_time" type="time" value="${at?.time ?? ''}" placeholder="00:00">
<input type="hidden" name="tz" value="UTC" data-zone-field> <span class="muted small" data-zone-label data-template="${t('clients.timeZone', {
		zone: '{zone}',
	})}">${t('clients.timeZone', { zone: 'UTC' })}</span></span>`
}

export function createClientForm(t: Translator): SafeHtml {
	return html`<form method="post" action="/ui/clients" hx-post="/ui/clients" hx-target="#clients" hx-swap="outerMorph" class="card" data-reset>
<h2>${t('clients.new')}</h2>
<p><label for="c-name">${t('clients.name')}</label> <input id="c-name" name="name" required maxlength="200"></p>
<p><label for="c-daily">${t('clients.daily')}</label> <input id="c-daily" name="daily_limit" type="number" min="1" placeholder="${t('common.unlimited')}">
<label for="c-total">${t('clients.total')}</label> <input id="c-total" name="total_limit" type="number" min="1" placeholder="${t('common.unlimited')}"></p>
<p><label for="c-models">${t('clients.modelsHelp')}</label> <input id="c-models" name="allowed_models"></p>
<p>${spendFields(t, 'c')}</p>
<p>${expiryFields(t, 'c', null)}</p>
<button type="submit">${t('clients.create')}</button></form>`
}

export function clientsView(t: Translator, state: ClientsState): SafeHtml {
	if (!state.clients) return html`<section id="clients">${notice(t, state.error ?? t('clients.unreadable'), 'error')}</section>`
	const created = state.created
		? html`<div class="card created" role="status"><p>${t('clients.created', { name: state.created.name })}</p>
<p class="copy"><input id="created-key" readonly value="${state.created.key}" aria-label="${t('clients.newKey')}"> <button type="button" data-copy="#created-key" data-copied="${t(
				'clients.copied',
			)}">${t('clients.copy')}</button></p></div>`
		: ''
	const head = html`${created}${notice(t, state.message)}${notice(t, state.error, 'error')}`
	if (!state.clients.length) return html`<section id="clients">${head}<p>${t('clients.none')}</p></section>`
	return html`<section id="clients">${head}<div class="scroll"><table><thead><tr><th scope="col">${t('clients.name')}</th><th scope="col">${t(
		'clients.col.key',
	)}</th><th scope="col">${t('clients.col.status')}</th><th scope="col" class="num">${t('clients.col.used')}</th><th scope="col">${t(
		'clients.col.limits',
	)}</th><th scope="col">${t('clients.col.budget')}</th><th scope="col" class="num">${t('clients.col.spentToday')}</th><th scope="col">${t(
		'clients.col.expires',
	)}</th><th scope="col">${t('clients.edit')}</th></tr></thead><tbody>
${state.clients.map((c) => {
	const prefix = `e-${c.id.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 24)}`
	return html`<tr id="client-${c.id}"><td>${c.name}</td><td><code>${c.masked_key}</code></td><td>${badge(t, c.status)}</td><td class="num">${c.used_today} / ${
		c.used_total
	}</td><td>${limitsCell(t, c)}</td><td>${budgetCell(t, c)}</td><td class="num" data-field="spent-today">${usd(c.spent_today_usd)}</td><td data-field="expires">${
		c.expires_at ? moment(c.expires_at) : t('clients.never')
	}</td>
<td><details id="client-${c.id}-edit"><summary>${t('clients.edit')}</summary>
<form method="post" action="/ui/clients/${c.id}" hx-post="/ui/clients/${c.id}" hx-target="#clients" hx-swap="outerMorph" class="stack">
<label>${t('clients.name')} <input name="name" value="${c.name}" required maxlength="200"></label>
<label>${t('clients.daily')} <input name="daily_limit" type="number" min="1" value="${c.daily_limit ?? ''}" placeholder="${t('common.unlimited')}"></label>
<label>${t('clients.total')} <input name="total_limit" type="number" min="1" value="${c.total_limit ?? ''}" placeholder="${t('common.unlimited')}"></label>
<label>${t('clients.models')} <input name="allowed_models" value="${c.allowed_models?.join(', ') ?? ''}" placeholder="${t('common.all')}"></label>
${spendFields(t, prefix, c)}
${expiryFields(t, prefix, c.expires_at)}
<label><input type="checkbox" name="enabled" value="1"${c.enabled ? html` checked` : ''}> ${t('clients.enabled')}</label>
<label><input type="checkbox" name="reset_used" value="1"> ${t('clients.resetUsed')}</label>
<button type="submit">${t('common.save')}</button></form>
<form method="post" action="/ui/clients/${c.id}/revoke" hx-post="/ui/clients/${c.id}/revoke" hx-target="#clients" hx-swap="outerMorph" hx-confirm="${t(
		'clients.revokeConfirm',
		{
			name: c.name,
		},
	)}"><button type="submit" class="danger">${t('clients.revoke')}</button></form>
</details></td></tr>`
})}
</tbody></table></div></section>`
}
