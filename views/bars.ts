/** Small horizontal bar charts drawn as server-side SVG: no chart library, no CDN. */
import { html, type SafeHtml } from './html.ts'

export interface Bar {
	label: string
	value: number
}

/** One bar per row, scaled to the largest value; each bar also says its number (not colour alone). */
export function barChart(title: string, bars: Bar[], empty: string, width = 320): SafeHtml {
	if (!bars.length) return html`<p class="muted">${empty}</p>`
	const max = Math.max(1, ...bars.map((b) => b.value))
	const row = 22
	const labelW = 120
	const barW = width - labelW - 60
	return html`<svg class="chart" role="img" aria-label="${title}" viewBox="0 0 ${width} ${bars.length * row}" width="100%" preserveAspectRatio="xMinYMin meet">
<title>${title}</title>
${bars.map((b, i) => {
	const w = Math.max(b.value > 0 ? 1 : 0, Math.round((b.value / max) * barW))
	const label = b.label.length > 18 ? `${b.label.slice(0, 17)}…` : b.label
	return html`<g transform="translate(0 ${i * row})"><text x="0" y="15" class="chart-label">${label}</text><rect x="${labelW}" y="4" width="${w}" height="14" class="chart-bar"></rect><text x="${labelW + w + 4}" y="15" class="chart-value">${b.value}</text></g>`
})}
</svg>`
}

/** A 14-day trend: vertical bars, one per day, oldest first. */
export function trendChart(title: string, days: Bar[], empty: string, width = 320, height = 90): SafeHtml {
	if (!days.length) return html`<p class="muted">${empty}</p>`
	const max = Math.max(1, ...days.map((d) => d.value))
	const slot = width / days.length
	return html`<svg class="chart" role="img" aria-label="${title}" viewBox="0 0 ${width} ${height + 14}" width="100%" preserveAspectRatio="xMinYMin meet">
<title>${title}</title>
${days.map((d, i) => {
	const h = Math.round((d.value / max) * height)
	return html`<g><title>${d.label}: ${d.value}</title><rect x="${Math.round(i * slot + 2)}" y="${height - h}" width="${Math.max(1, Math.round(slot - 4))}" height="${h}" class="chart-bar"></rect></g>`
})}
<text x="0" y="${height + 12}" class="chart-label">${days[0]?.label ?? ''}</text><text x="${width}" y="${height + 12}" text-anchor="end" class="chart-label">${days[days.length - 1]?.label ?? ''}</text>
</svg>`
}

/** One column of a time series: its start (epoch ms), all requests and the failed ones among them. */
export interface MinuteBucket {
	start: number
	requests: number
	errors: number
}

/**
 * Requests per minute, oldest first: a column per bucket, its failed part stacked on top in the
 * error colour; each column's title says the minute (UTC) and both counts (not colour alone).
 */
export function minuteChart(
	title: string,
	buckets: readonly MinuteBucket[],
	labels: { first: string; last: string; tip: (b: MinuteBucket) => string },
	width = 600,
	height = 100,
): SafeHtml {
	const max = Math.max(1, ...buckets.map((b) => b.requests))
	const slot = width / Math.max(1, buckets.length)
	return html`<svg class="chart minute-chart" role="img" aria-label="${title}" viewBox="0 0 ${width} ${height + 14}" width="100%" preserveAspectRatio="xMinYMin meet">
<title>${title}</title>
<line x1="0" y1="${height}" x2="${width}" y2="${height}" class="chart-axis"></line>
${buckets.map((b, i) => {
	const h = Math.round((b.requests / max) * height)
	const e = Math.round((b.errors / max) * height)
	const x = Math.round(i * slot + 1)
	const w = Math.max(1, Math.round(slot - 2))
	return html`<g data-requests="${b.requests}" data-errors="${b.errors}"><title>${labels.tip(b)}</title><rect x="${x}" y="${height - h}" width="${w}" height="${h - e}" class="chart-bar"></rect>${
		e > 0 ? html`<rect x="${x}" y="${height - e}" width="${w}" height="${e}" class="chart-bar-error"></rect>` : ''
	}</g>`
})}
<text x="0" y="${height + 12}" class="chart-label">${labels.first}</text><text x="${width}" y="${height + 12}" text-anchor="end" class="chart-label">${labels.last}</text>
</svg>`
}
