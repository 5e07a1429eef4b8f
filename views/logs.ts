/**
 * The live log tail: the page holds the lines, the poller asks only for lines after its cursor
 * and appends them (`beforeend`); filters by level and text; the panel's own page loads, polls
 * and assets are left out unless asked for; pause and resume.
 */
import { html, type SafeHtml } from './html.ts'
import type { Translator } from './i18n/i18n.ts'

export interface LogLine {
	seq: number
	time: string
	level: string
	msg: string
	/** The other fields, compact JSON (already scrubbed of secrets by the logger). */
	fields: string
}

export interface LogsQuery {
	level: string
	q: string
	/** Show the panel's own GET requests (pages, polls, assets). */
	panel: boolean
}

export const LOG_LEVELS = ['debug', 'info', 'warning', 'error'] as const

/** The poller: asks for lines after `cursor`; its new lines go before it (it moves to the end). */
export function logPoller(cursor: number, query: LogsQuery, paused = false): SafeHtml {
	const params = new URLSearchParams({ after: String(cursor), level: query.level, q: query.q, ...(query.panel ? { panel: '1' } : {}) })
	return html`<li id="log-poller" class="poller" data-cursor="${cursor}"${paused ? '' : html` hx-get="/ui/fragments/logs?${params.toString()}" hx-trigger="every 2s" hx-swap="outerHTML"`}></li>`
}

export function logLines(lines: LogLine[]): SafeHtml {
	return html`${lines.map(
		(l) =>
			html`<li class="log log-${l.level}" data-seq="${l.seq}">${l.time ? html`<time datetime="${l.time}" data-local="time">${l.time.slice(11, 23)}</time>` : ''} <span class="badge badge-${l.level}">${l.level}</span> ${l.msg} <code>${l.fields}</code></li>`,
	)}`
}

export function logsView(t: Translator, lines: LogLine[], cursor: number, query: LogsQuery, note: string | null = null): SafeHtml {
	return html`<section id="logs">
<form method="get" action="/ui/logs" class="inline-form" id="log-filter">
<label for="log-level">${t('logs.level')}</label> <select id="log-level" name="level">${LOG_LEVELS.map(
		(l) => html`<option value="${l}"${l === query.level ? html` selected` : ''}>${t(`logs.level.${l}`)}</option>`,
	)}</select>
<label for="log-q">${t('logs.text')}</label> <input id="log-q" name="q" value="${query.q}">
<label><input type="checkbox" name="panel" value="1"${query.panel ? html` checked` : ''}> ${t('logs.panel')}</label>
<button type="submit">${t('logs.filter')}</button>
<button type="button" id="log-pause" aria-pressed="false" data-label-pause="${t('logs.pause')}" data-label-resume="${t('logs.resume')}">${t('logs.pause')}</button>
<a href="/ui/logs/download" class="button" data-confirm="${t('logs.downloadConfirm')}">${t('logs.download')}</a>
</form>
<form method="post" action="/ui/logs/clear" hx-post="/ui/logs/clear" hx-target="#logs" hx-swap="outerMorph" hx-confirm="${t('logs.clearConfirm')}"><button type="submit" class="danger">${t(
		'logs.clear',
	)}</button></form>
${note ? html`<p class="notice notice-ok" role="status">${note}</p>` : ''}
<ol id="log-lines" class="loglines" aria-live="off"><li class="empty" data-empty>${t('logs.empty')}</li>${logLines(lines)}${logPoller(cursor, query)}</ol>
</section>`
}
