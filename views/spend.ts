/**
 * Spend over a date range: the cost per model, upstream key and client key, and a 30-day trend.
 * The view declares its own input (no plugin types) and keeps its visible strings in SPEND_TEXT,
 * one place to move into the panel's message catalogue.
 */
import { trendChart } from './bars.ts'
import { html, type SafeHtml } from './html.ts'
import { notice } from './layout.ts'

export const SPEND_TEXT = {
	heading: 'Spend',
	from: 'From',
	to: 'To',
	show: 'Show',
	csv: 'Download CSV',
	range: (from: string, to: string) => `Usage days ${from} to ${to} (each from 07:00 UTC). Prices: the upstream catalog or an override (Models page).`,
	trend: 'Spend per day (USD), last 30 days',
	name: 'Name',
	requests: 'Requests',
	prompt: 'Prompt tok.',
	cached: 'Cached tok.',
	completion: 'Completion tok.',
	cost: 'Cost (USD)',
	unpriced: 'Unpriced req.',
	unknown: 'unknown (no price)',
	total: 'All requests',
	totals: 'Total',
	perModel: 'Per model',
	perKey: 'Per upstream key',
	perClient: 'Per client key',
	noKey: 'no key answered',
	removedKey: 'removed key',
	removedClient: 'removed client',
	nothing: 'Nothing in this range.',
	unreadable: 'Spend cannot be read right now.',
} as const

export interface SpendCounts {
	requests: number
	prompt_tokens: number
	cached_tokens: number
	completion_tokens: number
	unpriced_requests: number
	/** null: every request with usage had no price. */
	cost_usd: number | null
}

export interface SpendState {
	from: string
	to: string
	totals: SpendCounts | null
	models: { name: string; counts: SpendCounts }[]
	keys: { key: string | null; id: string; counts: SpendCounts }[]
	clients: { name: string | null; id: string; counts: SpendCounts }[]
	/** Cost per day, oldest first (30 days ending `to`). */
	trend: { day: string; cost_usd: number | null }[]
	error?: string | null
}

const T = SPEND_TEXT
const usd = (v: number | null): string => (v === null ? T.unknown : `$${v.toFixed(v !== 0 && Math.abs(v) < 0.01 ? 6 : 2)}`)

function table(caption: string, rows: { name: SafeHtml | string; counts: SpendCounts }[]): SafeHtml {
	if (!rows.length) return html`<h3>${caption}</h3><p class="muted">${T.nothing}</p>`
	return html`<h3>${caption}</h3><div class="scroll"><table><thead><tr><th scope="col">${T.name}</th><th scope="col" class="num">${T.requests}</th><th scope="col" class="num">${T.prompt}</th><th scope="col" class="num">${T.cached}</th><th scope="col" class="num">${T.completion}</th><th scope="col" class="num">${T.cost}</th><th scope="col" class="num">${T.unpriced}</th></tr></thead><tbody>
${rows.map(
	(r) =>
		html`<tr><td>${r.name}</td><td class="num">${r.counts.requests}</td><td class="num">${r.counts.prompt_tokens}</td><td class="num">${r.counts.cached_tokens}</td><td class="num">${r.counts.completion_tokens}</td><td class="num">${usd(r.counts.cost_usd)}</td><td class="num">${r.counts.unpriced_requests}</td></tr>`,
)}
</tbody></table></div>`
}

export function spendView(state: SpendState): SafeHtml {
	const picker = html`<form method="get" action="/ui/usage/spend" hx-get="/ui/usage/spend" hx-target="#spend" hx-swap="outerHTML" class="inline-form">
<label for="spend-from">${T.from}</label> <input id="spend-from" type="date" name="from" value="${state.from}">
<label for="spend-to">${T.to}</label> <input id="spend-to" type="date" name="to" value="${state.to}"> <button type="submit">${T.show}</button>
<a href="/admin/usage/export?from=${state.from}&amp;to=${state.to}" download>${T.csv}</a></form>`
	if (!state.totals) return html`<section id="spend"><h2>${T.heading}</h2>${picker}${notice(state.error ?? T.unreadable, 'error')}</section>`
	return html`<section id="spend"><h2>${T.heading}</h2>${picker}
<p class="muted">${T.range(state.from, state.to)}</p>
<figure><figcaption>${T.trend}</figcaption>${trendChart(
		T.trend,
		state.trend.map((d) => ({ label: d.day, value: d.cost_usd ?? 0 })),
	)}</figure>
${table(T.totals, [{ name: T.total, counts: state.totals }])}
${table(
	T.perModel,
	state.models.map((m) => ({ name: m.name, counts: m.counts })),
)}
${table(
	T.perKey,
	state.keys.map((k) => ({ name: k.id === '-' ? T.noKey : html`<code>${k.key ?? T.removedKey}</code>`, counts: k.counts })),
)}
${table(
	T.perClient,
	state.clients.map((c) => ({ name: c.name ?? T.removedClient, counts: c.counts })),
)}
</section>`
}
