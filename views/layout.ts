/**
 * The page shell shared by every panel page: navigation, the connection banner, the CSRF token
 * every htmx request carries (`hx-headers:inherited`), and our own CSS and JS (nothing from the
 * internet). Fragments are parts of these pages.
 */
import { html, type SafeHtml } from './html.ts'

export const PAGES = [
	['keys', 'Keys'],
	['models', 'Models'],
	['usage', 'Usage'],
	['quotas', 'Quotas'],
	['clients', 'Client keys'],
	['settings', 'Settings'],
	['logs', 'Logs'],
	['storage', 'Storage'],
] as const
export type PageName = (typeof PAGES)[number][0]

export interface Shell {
	/** The session's CSRF token; absent on the login page. */
	csrf?: string
	/** The current page, for the navigation. */
	page?: PageName
	/** Pages whose plugin is turned off are not linked. */
	available?: ReadonlySet<string>
	now?: number
}

const head = (title: string) => html`<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="htmx-config" content='{"morphIgnore":["data-htmx-powered","open"]}'>
<title>${title} · amb2api</title>
<link rel="icon" href="/ui/assets/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/ui/assets/panel.css">
<script src="/ui/assets/htmx.js" defer></script>
<script src="/ui/assets/panel.js" defer></script>`

export function layout(title: string, body: SafeHtml, shell: Shell = {}): string {
	if (!shell.csrf) {
		return html`<!doctype html>
<html lang="en"><head>${head(title)}</head>
<body><main id="main">${body}</main></body></html>`.toString()
	}
	const headers = JSON.stringify({ 'X-CSRF-Token': shell.csrf })
	const links = PAGES.filter(([name]) => !shell.available || shell.available.has(name))
	return html`<!doctype html>
<html lang="en"><head>${head(title)}</head>
<body hx-headers:inherited="${headers}" data-server-now="${shell.now ?? Date.now()}">
<a class="skip" href="#main">Skip to content</a>
<header class="top"><strong class="brand">amb2api</strong>
<nav aria-label="Panel pages"><ul>${links.map(
		([name, label]) => html`<li><a href="/ui/${name}"${name === shell.page ? html` aria-current="page"` : ''}>${label}</a></li>`,
	)}</ul></nav>
<form method="post" action="/ui/logout"><input type="hidden" name="_csrf" value="${shell.csrf}"><button type="submit">Log out</button></form>
</header>
<div id="disconnected" class="banner" role="alert" hidden>Disconnected from the gateway since <time></time>. The numbers below are stale.</div>
<div id="status-banner" hx-get="/ui/fragments/status" hx-trigger="every 5s" hx-swap="outerMorph"></div>
<main id="main">
<h1>${title}</h1>
${body}
</main>
</body></html>`.toString()
}

/** A status badge: a colour by state, and the word itself (colour is never the only signal). */
export function badge(status: string): SafeHtml {
	return html`<span class="badge badge-${status.replace(/[^a-z]/g, '')}">${status}</span>`
}

/** A countdown that panel.js keeps right between polls; the server's text is right when sent. */
export function countdown(untilMs: number | null, now: number): SafeHtml | string {
	if (untilMs === null || untilMs <= now) return ''
	return html`<span class="countdown" data-until="${untilMs}">${formatSeconds(Math.ceil((untilMs - now) / 1000))}</span>`
}

export function formatSeconds(s: number): string {
	if (s < 60) return `${s} s`
	if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`
	return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`
}

/** A one-line message after an action; `error` colours it. */
export function notice(message: string | null | undefined, kind: 'ok' | 'error' = 'ok'): SafeHtml | string {
	if (!message) return ''
	return html`<p class="notice notice-${kind}" role="${kind === 'error' ? 'alert' : 'status'}">${message}</p>`
}

/** The status banner fragment: storage down since ..., or nothing. */
export function statusBanner(state: { healthy: boolean; since: number | null; backend: string }): string {
	if (state.healthy) return html`<div id="status-banner" hx-get="/ui/fragments/status" hx-trigger="every 5s" hx-swap="outerMorph"></div>`.toString()
	return html`<div id="status-banner" class="banner" role="alert" hx-get="/ui/fragments/status" hx-trigger="every 5s" hx-swap="outerMorph">Storage (${state.backend}) down${
		state.since ? html` since <time datetime="${new Date(state.since).toISOString()}">${new Date(state.since).toISOString().slice(11, 19)} UTC</time>` : ''
	}: serving from memory, changes are replayed when it returns.</div>`.toString()
}
