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
