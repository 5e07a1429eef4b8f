/** Usage of one day: totals, per model, per key and per client key (tokens included), bar charts and a 14-day trend. */
import { barChart, trendChart } from './bars.ts'
import { html, type SafeHtml } from './html.ts'
import type { MessageKey, Translator } from './i18n/i18n.ts'
import { moment, notice } from './layout.ts'

/** The counts of one row; `failed_attempts` is per key (upstream failures a retry may have hidden). */
export interface UsageCounts {
	requests: number
	successes: number
	failures_rate_limited: number
	failures_upstream: number
	failures_client: number
	prompt_tokens: number
	completion_tokens: number
	failed_attempts?: number
}

export interface UsageReportView {
	day: string
	starts_at: string
	ends_at: string
	totals: UsageCounts
	models: Record<string, UsageCounts>
	keys: { id: string; key: string | null; totals: UsageCounts }[]
	/** Requests no key answered: every attempt failed, or refused before the upstream. */
	no_key: { totals: UsageCounts }
	clients: { id: string; name: string | null; masked_key: string | null; totals: UsageCounts }[]
}

export interface UsageState {
	day: string
	report: UsageReportView | null
	/** Requests per day, oldest first (14 days). */
	trend: { day: string; requests: number }[]
	error?: string | null
}

type Column = [keyof UsageCounts, MessageKey]

const COLUMNS: Column[] = [
	['requests', 'usage.col.requests'],
	['successes', 'usage.col.ok'],
	['failures_rate_limited', 'usage.col.429'],
	['failures_upstream', 'usage.col.upstream'],
	['failures_client', 'usage.col.client'],
	['prompt_tokens', 'usage.col.prompt'],
	['completion_tokens', 'usage.col.completion'],
]
const KEY_COLUMNS: Column[] = [...COLUMNS.slice(0, 4), ['failed_attempts', 'usage.col.failedAttempts'], ...COLUMNS.slice(4)]

function table(t: Translator, caption: string, rows: { name: SafeHtml | string; counts: UsageCounts }[], columns: Column[] = COLUMNS): SafeHtml {
	if (!rows.length) return html`<h3>${caption}</h3><p class="muted">${t('usage.nothing')}</p>`
	return html`<h3>${caption}</h3><div class="scroll"><table><thead><tr><th scope="col">${t('usage.col.name')}</th>${columns.map(
		([, l]) => html`<th scope="col" class="num">${t(l)}</th>`,
	)}</tr></thead><tbody>
${rows.map((r) => html`<tr><td>${r.name}</td>${columns.map(([f]) => html`<td class="num" data-field="${f}">${r.counts[f] ?? 0}</td>`)}</tr>`)}
</tbody></table></div>`
}

export function usageView(t: Translator, state: UsageState): SafeHtml {
	const picker = html`<form method="get" action="/ui/usage" hx-get="/ui/usage" hx-target="#usage" hx-swap="outerMorph" class="inline-form">
<label for="day">${t('usage.day')}</label> <input id="day" type="date" name="day" value="${state.day}"> <button type="submit">${t('usage.show')}</button></form>`
	if (!state.report) return html`<section id="usage">${picker}${notice(t, state.error ?? t('usage.unreadable'), 'error')}</section>`
	const r = state.report
	const models = Object.entries(r.models).map(([name, counts]) => ({ name, counts }))
	const keys = r.keys.map((k) => ({
		name: html`<code>${k.key ?? t('usage.removedKey')}</code> <span class="muted">${t('keys.id', { id: k.id.slice(0, 8) })}</span>`,
		counts: k.totals,
	}))
	if (r.no_key.totals.requests > 0) keys.push({ name: html`<span class="muted">${t('usage.noKey')}</span>`, counts: r.no_key.totals })
	const clients = r.clients.map((c) => ({
		name: html`${c.name ?? t('usage.removedClient')} <code class="muted">${c.masked_key ?? c.id.slice(0, 8)}</code>`,
		counts: c.totals,
	}))
	const empty = t('usage.noData')
	return html`<section id="usage">${picker}
<p class="muted">${t('usage.range', { day: r.day })} ${moment(r.starts_at)} – ${moment(r.ends_at)}</p>
${table(t, t('usage.totals'), [{ name: t('usage.allRequests'), counts: r.totals }])}
<div class="charts">
<figure><figcaption>${t('usage.perModelChart')}</figcaption>${barChart(
		t('usage.perModelChart'),
		models.map((m) => ({ label: m.name, value: m.counts.requests })),
		empty,
	)}</figure>
<figure><figcaption>${t('usage.trend')}</figcaption>${trendChart(
		t('usage.trend'),
		state.trend.map((d) => ({ label: d.day, value: d.requests })),
		empty,
	)}</figure>
</div>
${table(t, t('usage.perModel'), models)}
${table(t, t('usage.perKey'), keys, KEY_COLUMNS)}
${table(t, t('usage.perClient'), clients)}
</section>`
}
