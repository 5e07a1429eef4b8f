/**
 * The overview, the panel's landing page: today's requests and success rate, errors by class,
 * tokens and spend, the cache-read share, latency and time to first token, requests per minute
 * over the last hour (SVG drawn here), key health, any incident and what needs the operator.
 * The whole page is one polled fragment (#overview).
 */
import { minuteChart } from './bars.ts'
import { html, type SafeHtml } from './html.ts'
import type { MessageKey, Translator } from './i18n/i18n.ts'
import { reasonText } from './keys-table.ts'
import { badge, type IncidentView, incidentText, notice } from './layout.ts'

export type ErrorClassName = 'client' | 'upstream' | 'rate-limited' | 'gateway'

/** Today's figures as the request log computes them. */
export interface OverviewFigures {
	requests: number
	succeeded: number
	success_rate: number | null
	errors: Record<ErrorClassName, number>
	tokens: { prompt: number; completion: number; cached: number; cache_write: number; reasoning: number }
	spend: { usd: number; priced: number; unpriced: number }
	cache_read_share: number | null
	latency_ms: { p50: number | null; p95: number | null }
	ttft_ms: { p50: number | null; p95: number | null }
	per_minute: readonly { start: number; requests: number; errors: number }[]
	truncated: boolean
}

/** Keys by the status the pool acts on. */
export interface KeyHealthCounts {
	active: number
	cooling: number
	banned: number
	quota_exhausted: number
	failing: number
	disabled: number
}

/** One thing the operator should look at; `name` is data (a masked key, a client name, a backend). */
export interface AttentionItem {
	kind: 'banned' | 'exhausted' | 'storage' | 'budget' | 'failing'
	name: string
	detail: string | null
	/** Where the operator acts on it. */
	href: string
}

export interface OverviewState {
	now: number
	/** null: the request log is off or unreadable (error says which). */
	figures: OverviewFigures | null
	figuresError?: string | null
	/** false: the request-log plugin is not loaded. */
	requestLog: boolean
	keys: KeyHealthCounts | null
	keysError?: string | null
	incident: IncidentView | null
	attention: readonly AttentionItem[]
}

const ERROR_LABELS: [ErrorClassName, MessageKey][] = [
	['client', 'overview.err.client'],
	['upstream', 'overview.err.upstream'],
	['rate-limited', 'overview.err.rateLimited'],
	['gateway', 'overview.err.gateway'],
]

const TOKEN_LABELS: [keyof OverviewFigures['tokens'], MessageKey][] = [
	['prompt', 'overview.tok.prompt'],
	['completion', 'overview.tok.completion'],
	['cached', 'overview.tok.cached'],
	['cache_write', 'overview.tok.cacheWrite'],
	['reasoning', 'overview.tok.reasoning'],
]

const KEY_LABELS: [keyof KeyHealthCounts, string][] = [
	['active', 'active'],
	['cooling', 'cooling'],
	['failing', 'failing'],
	['quota_exhausted', 'quota_exhausted'],
	['banned', 'banned'],
	['disabled', 'disabled'],
]

const percent = (share: number | null) => (share === null ? '–' : `${(Math.round(share * 1000) / 10).toFixed(1)} %`)
const ms = (t: Translator, value: number | null) => (value === null ? '–' : t('overview.ms', { ms: Math.round(value) }))
export const usd = (value: number) => `$${value < 1 ? value.toFixed(4) : value.toFixed(2)}`
const hhmm = (epoch: number) => new Date(epoch).toISOString().slice(11, 16)

function tile(label: string, value: SafeHtml | string, field: string, sub?: SafeHtml | string): SafeHtml {
	return html`<div class="tile" data-field="${field}"><div class="tile-label">${label}</div><div class="tile-value">${value}</div>${sub ? html`<div class="tile-sub muted">${sub}</div>` : ''}</div>`
}

function figuresPart(t: Translator, f: OverviewFigures): SafeHtml {
	const failed = f.requests - f.succeeded
	const chart = minuteChart(t('overview.perMinute'), f.per_minute, {
		first: t('overview.hourAgo'),
		last: t('time.now'),
		tip: (b) => t('overview.minuteTip', { time: `${hhmm(b.start)} UTC`, requests: b.requests, errors: b.errors }),
	})
	return html`<div class="tiles">
${tile(t('overview.requests'), String(f.requests), 'requests', t('overview.failed', { n: failed }))}
${tile(t('overview.successRate'), percent(f.success_rate), 'success_rate')}
${tile(t('overview.latency'), ms(t, f.latency_ms.p50), 'latency', t('overview.p95', { value: ms(t, f.latency_ms.p95) }))}
${tile(t('overview.ttft'), ms(t, f.ttft_ms.p50), 'ttft', t('overview.p95', { value: ms(t, f.ttft_ms.p95) }))}
${tile(t('overview.cacheShare'), percent(f.cache_read_share), 'cache_read_share')}
${tile(t('overview.spend'), usd(f.spend.usd), 'spend', f.spend.unpriced ? t('overview.unpriced', { n: f.spend.unpriced }) : '')}
</div>
${f.truncated ? notice(t, t('overview.truncated'), 'error') : ''}
<div class="charts">
<figure><figcaption>${t('overview.perMinute')}</figcaption>${chart}</figure>
<figure><figcaption>${t('overview.errors')}</figcaption><table class="inner"><tbody>${ERROR_LABELS.map(
		([c, l]) => html`<tr><th scope="row">${t(l)}</th><td class="num" data-error="${c}">${f.errors[c]}</td></tr>`,
	)}</tbody></table></figure>
<figure><figcaption>${t('overview.tokens')}</figcaption><table class="inner"><tbody>${TOKEN_LABELS.map(
		([k, l]) => html`<tr><th scope="row">${t(l)}</th><td class="num" data-tokens="${k}">${f.tokens[k]}</td></tr>`,
	)}</tbody></table></figure>
</div>`
}

function keysPart(t: Translator, keys: KeyHealthCounts): SafeHtml {
	return html`<ul class="key-counts">${KEY_LABELS.map(
		([k, status]) => html`<li data-keys="${k}"><span class="count">${keys[k]}</span> ${badge(t, status)}</li>`,
	)}</ul>`
}

const ATTENTION_LABELS: Record<AttentionItem['kind'], MessageKey> = {
	banned: 'overview.attn.banned',
	exhausted: 'overview.attn.exhausted',
	failing: 'overview.attn.failing',
	storage: 'overview.attn.storage',
	budget: 'overview.attn.budget',
}

function attentionPart(t: Translator, items: readonly AttentionItem[]): SafeHtml {
	if (!items.length) return html`<p class="muted" data-attention="none">${t('overview.attn.none')}</p>`
	return html`<ul class="attention">${items.map(
		(i) =>
			html`<li data-attention="${i.kind}"><a href="${i.href}">${t(ATTENTION_LABELS[i.kind], { name: i.name })}</a>${
				i.detail ? html` <span class="reason">${reasonText(t, i.detail)}</span>` : ''
			}</li>`,
	)}</ul>`
}

/** The polled overview. */
export function overviewView(t: Translator, state: OverviewState): SafeHtml {
	const figures = !state.requestLog
		? html`<p class="muted">${t('overview.noRequestLog')} <code>request-log</code></p>`
		: state.figures
			? figuresPart(t, state.figures)
			: notice(t, t('overview.figuresUnreadable', { error: state.figuresError ?? '' }), 'error')
	return html`<section id="overview" hx-get="/ui/fragments/overview" hx-trigger="every 5s" hx-swap="outerMorph" aria-live="off">
${state.incident ? html`<div class="notice notice-error" role="alert" data-incident="${state.incident.cause}"><p>${incidentText(t, state.incident)}</p></div>` : ''}
<h2>${t('overview.today')}</h2>
${figures}
<div class="charts">
<figure><figcaption>${t('overview.keys')} <a href="/ui/keys">${t('overview.toKeys')}</a></figcaption>${
		state.keys ? keysPart(t, state.keys) : notice(t, t('keys.unreadableWhy', { error: state.keysError ?? '' }), 'error')
	}</figure>
<figure><figcaption>${t('overview.attention')}</figcaption>${attentionPart(t, state.attention)}</figure>
</div>
</section>`
}
