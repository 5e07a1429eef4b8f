/** Usage of one day: totals, per model, per key and per client key (tokens included), bar charts and a 14-day trend. */
import type { UsageCounts, UsageReport } from '../plugins/usage-stats/usage-stats.ts'
import { barChart, trendChart } from './bars.ts'
import { html, type SafeHtml } from './html.ts'
import { notice } from './layout.ts'

export interface UsageState {
	day: string
	report: UsageReport | null
	/** Requests per day, oldest first (14 days). */
	trend: { day: string; requests: number }[]
	error?: string | null
}

const COLUMNS: [keyof UsageCounts, string][] = [
	['requests', 'Requests'],
	['successes', 'OK'],
	['failures_rate_limited', '429'],
	['failures_upstream', 'Upstream fail'],
	['failures_client', 'Client fail'],
	['prompt_tokens', 'Prompt tok.'],
	['completion_tokens', 'Completion tok.'],
]

function table(caption: string, rows: { name: SafeHtml | string; counts: UsageCounts }[]): SafeHtml {
	if (!rows.length) return html`<h3>${caption}</h3><p class="muted">Nothing this day.</p>`
	return html`<h3>${caption}</h3><div class="scroll"><table><thead><tr><th scope="col">Name</th>${COLUMNS.map(([, l]) => html`<th scope="col" class="num">${l}</th>`)}</tr></thead><tbody>
${rows.map((r) => html`<tr><td>${r.name}</td>${COLUMNS.map(([f]) => html`<td class="num">${r.counts[f]}</td>`)}</tr>`)}
</tbody></table></div>`
}

export function usageView(state: UsageState): SafeHtml {
	const picker = html`<form method="get" action="/ui/usage" hx-get="/ui/usage" hx-target="#usage" hx-swap="outerMorph" class="inline-form">
<label for="day">Day</label> <input id="day" type="date" name="day" value="${state.day}"> <button type="submit">Show</button></form>`
	if (!state.report) return html`<section id="usage">${picker}${notice(state.error ?? 'Usage cannot be read right now.', 'error')}</section>`
	const r = state.report
	const models = Object.entries(r.models).map(([name, counts]) => ({ name, counts }))
	const keys = r.keys.map((k) => ({ name: html`<code>${k.key ?? 'removed key'}</code> <span class="muted">id ${k.id.slice(0, 8)}</span>`, counts: k.totals }))
	const clients = r.clients.map((c) => ({
		name: html`${c.name ?? 'removed client'} <code class="muted">${c.masked_key ?? c.id.slice(0, 8)}</code>`,
		counts: c.totals,
	}))
	return html`<section id="usage">${picker}
<p class="muted">Usage day ${r.day}: ${r.starts_at} to ${r.ends_at}.</p>
${table('Totals', [{ name: 'All requests', counts: r.totals }])}
<div class="charts">
<figure><figcaption>Requests per model</figcaption>${barChart(
		'Requests per model',
		models.map((m) => ({ label: m.name, value: m.counts.requests })),
	)}</figure>
<figure><figcaption>Requests, last 14 days</figcaption>${trendChart(
		'Requests per day, last 14 days',
		state.trend.map((d) => ({ label: d.day, value: d.requests })),
	)}</figure>
</div>
${table('Per model', models)}
${table('Per upstream key', keys)}
${table('Per client key', clients)}
</section>`
}
