/**
 * Spend over a range of usage days: the cost per model, upstream key and client key, a 30-day
 * trend drawn on the server, and the CSV of the same range. A request of a model without a price
 * is counted and marked as unpriced, never shown as $0.
 */
import { html, type SafeHtml } from './html.ts'
import type { MessageKey, Translator } from './i18n/i18n.ts'
import { notice } from './layout.ts'
import { usd } from './money.ts'

export interface SpendCounts {
	requests: number
	prompt_tokens: number
	cached_tokens: number
	cache_write_tokens: number
	completion_tokens: number
	unpriced_requests: number
	/** null: every request with usage had no price. */
	cost_usd: number | null
}

export interface SpendState {
	from: string
	to: string
	/** The range asked for could not be used (not dates, backwards, longer than a year): the default is shown. */
	rangeRefused?: boolean
	/** null: spend could not be read (see `error`). */
	totals: SpendCounts | null
	models: { name: string; counts: SpendCounts }[]
	/** `key` is the masked key (null: removed); `id` is NO_KEY ('-') for requests no key answered. */
	keys: { key: string | null; id: string; counts: SpendCounts }[]
	clients: { name: string | null; id: string; counts: SpendCounts }[]
	/** Cost per usage day, oldest first: the 30 days ending `to`. */
	trend: { day: string; cost_usd: number | null; unpriced_requests: number }[]
	error?: string | null
}

type Column = [keyof SpendCounts, MessageKey]
const COLUMNS: Column[] = [
	['requests', 'spend.col.requests'],
	['prompt_tokens', 'spend.col.prompt'],
	['cached_tokens', 'spend.col.cached'],
	['cache_write_tokens', 'spend.col.cacheWrite'],
	['completion_tokens', 'spend.col.completion'],
]

/** A cost as written: USD, or "no price" when nothing was priced; a priced cost with unpriced requests beside it says so. */
function cost(t: Translator, c: { cost_usd: number | null; unpriced_requests: number }): SafeHtml {
	if (c.cost_usd === null) return html`<span class="unpriced" data-unpriced>${t('spend.unknown')}</span>`
	if (c.unpriced_requests > 0)
		return html`${usd(c.cost_usd)} <span class="unpriced small" data-unpriced>${t('spend.plusUnpriced', { n: c.unpriced_requests })}</span>`
	return html`${usd(c.cost_usd)}`
}

function table(t: Translator, caption: string, rows: { name: SafeHtml | string; counts: SpendCounts }[]): SafeHtml {
	if (!rows.length) return html`<h3>${caption}</h3><p class="muted">${t('spend.nothing')}</p>`
	return html`<h3>${caption}</h3><div class="scroll"><table><thead><tr><th scope="col">${t('spend.col.name')}</th>${COLUMNS.map(
		([, label]) => html`<th scope="col" class="num">${t(label)}</th>`,
	)}<th scope="col" class="num">${t('spend.col.cost')}</th><th scope="col" class="num">${t('spend.col.unpriced')}</th></tr></thead><tbody>
${rows.map(
	(r) =>
		html`<tr><td>${r.name}</td>${COLUMNS.map(([f]) => html`<td class="num" data-field="${f}">${r.counts[f]}</td>`)}<td class="num" data-field="cost">${cost(
			t,
			r.counts,
		)}</td><td class="num" data-field="unpriced">${r.counts.unpriced_requests}</td></tr>`,
)}
</tbody></table></div>`
}

/**
 * The daily cost as columns, oldest first, scaled to the dearest day. Each column's title says the
 * day and its cost in words; a day whose requests were all unpriced gets a marker, not a $0 bar.
 */
function trendChart(t: Translator, days: SpendState['trend'], width = 600, height = 100): SafeHtml {
	const title = t('spend.trend')
	if (!days.length) return html`<p class="muted">${t('spend.nothing')}</p>`
	const max = Math.max(...days.map((d) => d.cost_usd ?? 0))
	const slot = width / days.length
	return html`<svg class="chart spend-chart" role="img" aria-label="${title}" viewBox="0 0 ${width} ${height + 14}" width="100%" preserveAspectRatio="xMinYMin meet">
<title>${title}</title>
${days.map((d, i) => {
	const x = Math.round(i * slot + 1)
	const w = Math.max(1, Math.round(slot - 2))
	const value = d.cost_usd ?? 0
	const h = max > 0 ? Math.max(value > 0 ? 1 : 0, Math.round((value / max) * height)) : 0
	const tip = t('spend.trendTip', { day: d.day, cost: d.cost_usd === null ? t('spend.unknown') : usd(d.cost_usd), n: d.unpriced_requests })
	const marker = d.unpriced_requests > 0 ? html`<circle cx="${x + w / 2}" cy="${height - h - 4}" r="2.5" class="chart-unpriced"></circle>` : ''
	return html`<g data-day="${d.day}" data-cost="${d.cost_usd === null ? '' : d.cost_usd}"><title>${tip}</title><rect x="${x}" y="${height - h}" width="${w}" height="${h}" class="chart-bar"></rect>${marker}</g>`
})}
<text x="0" y="${height + 12}" class="chart-label">${days[0]?.day ?? ''}</text><text x="${width}" y="${height + 12}" text-anchor="end" class="chart-label">${
		days[days.length - 1]?.day ?? ''
	}</text>
</svg>`
}

export function spendView(t: Translator, state: SpendState): SafeHtml {
	const csv = `/admin/usage/export?from=${encodeURIComponent(state.from)}&to=${encodeURIComponent(state.to)}`
	const picker = html`<form method="get" action="/ui/usage/spend" hx-get="/ui/usage/spend" hx-target="#spend" hx-swap="outerMorph" class="inline-form">
<label for="spend-from">${t('spend.from')}</label> <input id="spend-from" type="date" name="from" value="${state.from}">
<label for="spend-to">${t('spend.to')}</label> <input id="spend-to" type="date" name="to" value="${state.to}"> <button type="submit">${t('spend.show')}</button>
<a href="${csv}" download>${t('spend.csv')}</a></form>`
	const refused = state.rangeRefused ? notice(t, t('spend.rangeRefused'), 'error') : ''
	if (!state.totals)
		return html`<section id="spend"><h2>${t('spend.heading')}</h2>${picker}${notice(t, state.error ? t('spend.unreadableWhy', { error: state.error }) : t('spend.unreadable'), 'error')}</section>`
	return html`<section id="spend"><h2>${t('spend.heading')}</h2>${picker}${refused}
<p class="muted">${t('spend.range', { from: state.from, to: state.to })}</p>
<figure><figcaption>${t('spend.trend')}</figcaption>${trendChart(t, state.trend)}</figure>
${table(t, t('spend.totals'), [{ name: t('spend.allRequests'), counts: state.totals }])}
${table(
	t,
	t('spend.perModel'),
	state.models.map((m) => ({ name: html`<code>${m.name}</code>`, counts: m.counts })),
)}
${table(
	t,
	t('spend.perKey'),
	state.keys.map((k) => ({
		name: k.id === '-' ? html`<span class="muted">${t('spend.noKey')}</span>` : k.key ? html`<code>${k.key}</code>` : t('spend.removedKey'),
		counts: k.counts,
	})),
)}
${table(
	t,
	t('spend.perClient'),
	state.clients.map((c) => ({ name: c.name ?? t('spend.removedClient'), counts: c.counts })),
)}
</section>`
}
