/** Performance per model over a window the operator chooses: p50/p95/p99 of latency, TTFB, TTFT and output tokens per second. */
import { html, type SafeHtml } from './html.ts'
import type { MessageKey, Translator } from './i18n/i18n.ts'
import { notice } from './layout.ts'

export interface SpreadView {
	p50: number | null
	p95: number | null
	p99: number | null
}

export interface ModelPerformanceView {
	model: string
	requests: number
	errors: number
	latency_ms: SpreadView
	ttfb_ms: SpreadView
	ttft_ms: SpreadView
	output_tokens_per_second: SpreadView
}

export interface PerformanceState {
	/** The window asked for, e.g. `1h`. */
	window: string
	windows: readonly string[]
	models: readonly ModelPerformanceView[] | null
	truncated?: boolean
	error?: string | null
}

const METRICS: [keyof Omit<ModelPerformanceView, 'model' | 'requests' | 'errors'>, MessageKey][] = [
	['latency_ms', 'perf.latency'],
	['ttfb_ms', 'perf.ttfb'],
	['ttft_ms', 'perf.ttft'],
	['output_tokens_per_second', 'perf.rate'],
]

const cell = (v: number | null) => (v === null ? '–' : String(Math.round(v * 10) / 10))

export function performanceView(t: Translator, state: PerformanceState): SafeHtml {
	const form = html`<form method="get" action="/ui/performance" hx-get="/ui/performance" hx-target="#performance" hx-swap="outerMorph" hx-push-url="true" class="inline-form">
<label for="perf-window">${t('perf.window')}</label>
<select id="perf-window" name="window">${state.windows.map((w) => html`<option value="${w}"${w === state.window ? html` selected` : ''}>${w}</option>`)}</select>
<button type="submit">${t('perf.show')}</button></form>`
	const body = !state.models
		? notice(t, state.error ?? '', 'error')
		: !state.models.length
			? html`${notice(t, state.error, 'error')}<p class="muted" data-performance="none">${t('perf.none')}</p>`
			: html`${state.truncated ? notice(t, t('perf.truncated'), 'error') : ''}<div class="scroll"><table class="performance"><caption class="sr-only">${t(
					'perf.caption',
				)}</caption><thead><tr><th scope="col" rowspan="2">${t('perf.model')}</th><th scope="col" rowspan="2" class="num">${t(
					'perf.requests',
				)}</th><th scope="col" rowspan="2" class="num">${t('perf.errors')}</th>${METRICS.map(
					([, l]) => html`<th scope="colgroup" colspan="3">${t(l)}</th>`,
				)}</tr><tr>${METRICS.map(() => html`<th scope="col" class="num">p50</th><th scope="col" class="num">p95</th><th scope="col" class="num">p99</th>`)}</tr></thead><tbody>
${state.models.map(
	(m) =>
		html`<tr data-model="${m.model}"><th scope="row">${m.model}</th><td class="num">${m.requests}</td><td class="num">${m.errors}</td>${METRICS.map(
			([k]) => html`<td class="num" data-metric="${k}">${cell(m[k].p50)}</td><td class="num">${cell(m[k].p95)}</td><td class="num">${cell(m[k].p99)}</td>`,
		)}</tr>`,
)}
</tbody></table></div>`
	return html`<section id="performance">${form}<p class="muted">${t('perf.note')}</p>${body}</section>`
}
