/**
 * The request log: filters (the same query parameters as GET /admin/requests), one row per client
 * request, paging, the CSV export link, and one request's detail with its timings as a waterfall.
 */
import { html, type SafeHtml } from './html.ts'
import type { MessageKey, Translator } from './i18n/i18n.ts'
import { moment, notice } from './layout.ts'
import { usd } from './overview.ts'

type Value = string | number | boolean | null

/** One request as the log keeps it (no body, the key masked). */
export type RequestRowView = { id: string; at: number } & { readonly [field: string]: Value }

export const FILTERS = ['request_id', 'client', 'key', 'model', 'status', 'from', 'to'] as const
export type FilterName = (typeof FILTERS)[number]

export interface RequestsState {
	/** The filters as the operator typed them (they go back into the form and the links). */
	filters: Partial<Record<FilterName | 'limit', string>>
	rows: readonly RequestRowView[] | null
	nextCursor: string | null
	error?: string | null
}

export interface WaterfallBar {
	stage: string
	start: number
	end: number
}

export interface RequestDetailState {
	row: RequestRowView | null
	bars: readonly WaterfallBar[]
	error?: string | null
}

const FILTER_LABELS: Record<FilterName, MessageKey> = {
	request_id: 'requests.f.requestId',
	client: 'requests.f.client',
	key: 'requests.f.key',
	model: 'requests.f.model',
	status: 'requests.f.status',
	from: 'requests.f.from',
	to: 'requests.f.to',
}

const STAGE_LABELS: Record<string, MessageKey> = {
	admission: 'requests.stage.admission',
	upstream: 'requests.stage.upstream',
	first_byte: 'requests.stage.firstByte',
	first_token: 'requests.stage.firstToken',
	answer: 'requests.stage.answer',
}

const ERROR_CLASS: Record<string, MessageKey> = {
	client: 'overview.err.client',
	upstream: 'overview.err.upstream',
	'rate-limited': 'overview.err.rateLimited',
	gateway: 'overview.err.gateway',
}

const REASONS: Record<string, MessageKey> = {
	affinity: 'requests.reason.affinity',
	rotation: 'requests.reason.rotation',
	fallback: 'requests.reason.fallback',
}

/** The filters as a query string (without paging), for the CSV link and the next page. */
export function filterQuery(filters: RequestsState['filters'], extra: Record<string, string> = {}): string {
	const q = new URLSearchParams()
	for (const name of [...FILTERS, 'limit'] as const) {
		const value = filters[name]
		if (value) q.set(name, value)
	}
	for (const [k, v] of Object.entries(extra)) q.set(k, v)
	const text = q.toString()
	return text ? `?${text}` : ''
}

const num = (v: Value | undefined) => (typeof v === 'number' ? v : null)
const ms = (t: Translator, v: Value | undefined) => {
	const n = num(v)
	return n === null ? '–' : t('overview.ms', { ms: Math.round(n) })
}
const text = (v: Value | undefined) => (v === null || v === undefined ? '' : String(v))
const iso = (at: number) => new Date(at).toISOString()

function statusCell(t: Translator, row: RequestRowView): SafeHtml {
	const status = num(row.status)
	const cls = typeof row.error_class === 'string' ? row.error_class : null
	const kind = status !== null && status < 400 ? 'active' : cls === 'rate-limited' ? 'cooling' : 'banned'
	return html`<span class="badge badge-${kind}" data-status="${text(row.status)}">${text(row.status)}</span>${
		cls ? html` <span class="muted" data-error-class="${cls}">${ERROR_CLASS[cls] ? t(ERROR_CLASS[cls] as MessageKey) : cls}</span>` : ''
	}${row.error_code ? html` <code>${text(row.error_code)}</code>` : ''}`
}

function tokens(t: Translator, row: RequestRowView): string {
	if (num(row.prompt_tokens) === null && num(row.completion_tokens) === null) return '–'
	return t('requests.tokens', { prompt: num(row.prompt_tokens) ?? 0, completion: num(row.completion_tokens) ?? 0, cached: num(row.cached_tokens) ?? 0 })
}

const cost = (row: RequestRowView) => (typeof row.cost_usd === 'number' ? usd(row.cost_usd) : '–')

function clientName(t: Translator, row: RequestRowView): SafeHtml | string {
	return row.client === null || row.client === undefined ? html`<span class="muted">${t('requests.password')}</span>` : text(row.client)
}

function modelCell(row: RequestRowView): SafeHtml {
	const asked = text(row.model)
	const answered = text(row.model_answered)
	return html`${asked}${answered && answered !== asked ? html` <span class="muted">→ ${answered}</span>` : ''}`
}

function reason(t: Translator, v: Value | undefined): string {
	const r = text(v)
	return REASONS[r] ? t(REASONS[r] as MessageKey) : r
}

function filterForm(t: Translator, filters: RequestsState['filters']): SafeHtml {
	return html`<form method="get" action="/ui/requests" hx-get="/ui/requests" hx-target="#requests" hx-swap="outerMorph" hx-push-url="true" class="inline-form filters" data-requests-filters>
${FILTERS.map(
	(name) =>
		html`<label for="f-${name}">${t(FILTER_LABELS[name])}</label> <input id="f-${name}" name="${name}" value="${filters[name] ?? ''}" ${
			name === 'status'
				? html`inputmode="numeric" size="4"`
				: name === 'from' || name === 'to'
					? html`placeholder="2025-01-01T07:00Z" size="18"`
					: html`size="14"`
		} maxlength="300" autocomplete="off">`,
)}
<button type="submit">${t('requests.filter')}</button> <a href="/ui/requests">${t('requests.clear')}</a>
</form>`
}

/** The list: filters, rows, the next page and the CSV export. */
export function requestsView(t: Translator, state: RequestsState): SafeHtml {
	const csv = `/admin/requests.csv${filterQuery(state.filters)}`
	const body = !state.rows
		? notice(t, state.error ?? '', 'error')
		: !state.rows.length
			? html`${notice(t, state.error, 'error')}<p class="muted" data-requests="none">${t('requests.none')}</p>`
			: html`${notice(t, state.error, 'error')}<div class="scroll"><table class="requests"><caption class="sr-only">${t('requests.caption')}</caption><thead><tr>
<th scope="col">${t('requests.col.time')}</th><th scope="col">${t('requests.col.request')}</th><th scope="col">${t('requests.col.client')}</th><th scope="col">${t(
					'requests.col.model',
				)}</th><th scope="col">${t('requests.col.key')}</th><th scope="col">${t('requests.col.status')}</th><th scope="col" class="num">${t(
					'requests.col.ttft',
				)}</th><th scope="col" class="num">${t('requests.col.total')}</th><th scope="col">${t('requests.col.tokens')}</th><th scope="col" class="num">${t(
					'requests.col.cost',
				)}</th></tr></thead><tbody>
${state.rows.map(
	(row) => html`<tr id="req-${row.id}" data-request="${row.id}"><td>${moment(iso(row.at), `${iso(row.at).slice(5, 19).replace('T', ' ')} UTC`)}</td>
<td><a href="/ui/requests/${encodeURIComponent(row.id)}"><code>${text(row.request_id).slice(0, 40)}</code></a> <span class="muted">${text(row.dialect)}${
		row.stream ? html` · ${t('requests.stream')}` : ''
	}</span></td>
<td>${clientName(t, row)}</td><td>${modelCell(row)}</td>
<td><code>${text(row.key)}</code>${num(row.attempts) !== null && (num(row.attempts) as number) > 1 ? html` <span class="muted">${t('requests.attempts', { n: num(row.attempts) as number })}</span>` : ''}${
		row.key_reason ? html` <span class="muted">${reason(t, row.key_reason)}</span>` : ''
	}</td>
<td>${statusCell(t, row)}</td><td class="num">${ms(t, row.ttft_ms)}</td><td class="num">${ms(t, row.total_ms)}</td><td>${tokens(t, row)}</td><td class="num">${cost(row)}</td></tr>`,
)}
</tbody></table></div>`
	return html`<section id="requests">
${filterForm(t, state.filters)}
<p class="inline-form"><a href="${csv}" download data-csv>${t('requests.csv')}</a>${
		state.nextCursor
			? html` <a href="/ui/requests${filterQuery(state.filters, { cursor: state.nextCursor })}" hx-get="/ui/requests${filterQuery(state.filters, {
					cursor: state.nextCursor,
				})}" hx-target="#requests" hx-swap="outerMorph" hx-push-url="true" data-next>${t('requests.next')}</a>`
			: ''
	}</p>
${body}
</section>`
}

/** One request's stages as bars on a shared time axis (SVG), each bar saying its stage and times. */
export function waterfallChart(t: Translator, bars: readonly WaterfallBar[], width = 600): SafeHtml {
	const total = Math.max(1, ...bars.map((b) => b.end))
	const row = 24
	const labelW = 150
	const span = width - labelW - 70
	const title = t('requests.waterfall')
	return html`<svg class="chart waterfall" role="img" aria-label="${title}" viewBox="0 0 ${width} ${bars.length * row + 4}" width="100%" preserveAspectRatio="xMinYMin meet">
<title>${title}</title>
${bars.map((b, i) => {
	const x = labelW + Math.round((b.start / total) * span)
	const w = Math.max(1, Math.round(((b.end - b.start) / total) * span))
	const label = STAGE_LABELS[b.stage] ? t(STAGE_LABELS[b.stage] as MessageKey) : b.stage
	return html`<g transform="translate(0 ${i * row})" data-stage="${b.stage}" data-start="${b.start}" data-end="${b.end}"><title>${t('requests.stageTip', {
		stage: label,
		start: Math.round(b.start),
		end: Math.round(b.end),
	})}</title><text x="0" y="16" class="chart-label">${label}</text><rect x="${x}" y="5" width="${w}" height="14" class="chart-bar"></rect><text x="${
		x + w + 4
	}" y="16" class="chart-value">${t('overview.ms', { ms: Math.round(b.end) })}</text></g>`
})}
</svg>`
}

/** One request: its facts and its waterfall. */
export function requestDetailView(t: Translator, state: RequestDetailState): SafeHtml {
	const row = state.row
	if (!row)
		return html`<section id="request-detail">${notice(t, state.error ?? t('requests.notFound'), 'error')}<p><a href="/ui/requests">${t('requests.back')}</a></p></section>`
	const facts: [MessageKey, SafeHtml | string][] = [
		['requests.col.time', moment(iso(row.at))],
		['requests.col.request', html`<code>${text(row.request_id)}</code>`],
		['requests.dialect', `${text(row.dialect)}${row.stream ? ` · ${t('requests.stream')}` : ''}`],
		['requests.col.client', clientName(t, row)],
		['requests.col.model', modelCell(row)],
		['requests.col.key', html`<code>${text(row.key)}</code>`],
		['requests.keyReason', row.key_reason ? reason(t, row.key_reason) : '–'],
		['requests.attemptsLabel', text(row.attempts)],
		['requests.col.status', statusCell(t, row)],
		['requests.col.tokens', tokens(t, row)],
		['requests.reasoning', text(row.reasoning_tokens) || '–'],
		['requests.cacheWrite', text(row.cache_write_tokens) || '–'],
		['requests.col.cost', cost(row)],
	]
	return html`<section id="request-detail">
<p><a href="/ui/requests">${t('requests.back')}</a></p>
<dl class="facts">${facts.map(([k, v]) => html`<dt>${t(k)}</dt><dd>${v}</dd>`)}</dl>
<h2>${t('requests.waterfall')}</h2>
<figure>${waterfallChart(t, state.bars)}</figure>
</section>`
}
