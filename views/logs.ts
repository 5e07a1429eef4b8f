/**
 * The live log tail: the page holds the lines, the poller asks only for lines after its cursor
 * and appends them (`beforeend`); filters by level and text; pause and resume.
 */
import { html, type SafeHtml } from './html.ts'

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
}

const LEVELS = ['debug', 'info', 'warning', 'error']

/** The poller: asks for lines after `cursor`; its new lines go before it (it moves to the end). */
export function logPoller(cursor: number, query: LogsQuery, paused = false): SafeHtml {
	const params = new URLSearchParams({ after: String(cursor), level: query.level, q: query.q })
	return html`<li id="log-poller" class="poller" data-cursor="${cursor}"${paused ? '' : html` hx-get="/ui/fragments/logs?${params.toString()}" hx-trigger="every 2s" hx-swap="outerHTML"`}></li>`
}

export function logLines(lines: LogLine[]): SafeHtml {
	return html`${lines.map(
		(l) =>
			html`<li class="log log-${l.level}" data-seq="${l.seq}"><time>${l.time.slice(11, 23)}</time> <span class="badge badge-${l.level}">${l.level}</span> ${l.msg} <code>${l.fields}</code></li>`,
	)}`
}

export function logsView(lines: LogLine[], cursor: number, query: LogsQuery, note: string | null = null): SafeHtml {
	return html`<section id="logs">
<form method="get" action="/ui/logs" class="inline-form" id="log-filter">
<label for="log-level">Level</label> <select id="log-level" name="level">${LEVELS.map((l) => html`<option${l === query.level ? html` selected` : ''}>${l}</option>`)}</select>
<label for="log-q">Text</label> <input id="log-q" name="q" value="${query.q}">
<button type="submit">Filter</button>
<button type="button" id="log-pause" aria-pressed="false">Pause</button>
<a href="/ui/logs/download" class="button" data-confirm="Download the log file?">Download log file</a>
</form>
<form method="post" action="/ui/logs/clear" hx-post="/ui/logs/clear" hx-target="#logs" hx-swap="outerMorph" hx-confirm="Clear the panel's log view? The log file keeps every line."><button type="submit" class="danger">Clear view</button></form>
${note ? html`<p class="notice notice-ok" role="status">${note}</p>` : ''}
<ol id="log-lines" class="loglines" aria-live="off">${logLines(lines)}${logPoller(cursor, query)}</ol>
</section>`
}
