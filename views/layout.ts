/**
 * The page shell shared by every panel page: navigation, the language and theme switches, the
 * connection banner, the CSRF token every htmx request carries (`hx-headers:inherited`), and our
 * own CSS and JS (nothing from the internet). Fragments are parts of these pages.
 */
import { html, type SafeHtml } from './html.ts'
import { LANGS, type Lang, type MessageKey, type Translator } from './i18n/i18n.ts'

export const PAGES = [
	['overview', 'nav.overview'],
	['requests', 'nav.requests'],
	['performance', 'nav.performance'],
	['keys', 'nav.keys'],
	['models', 'nav.models'],
	['usage', 'nav.usage'],
	['quotas', 'nav.quotas'],
	['clients', 'nav.clients'],
	['playground', 'nav.playground'],
	['settings', 'nav.settings'],
	['logs', 'nav.logs'],
	['storage', 'nav.storage'],
] as const satisfies readonly (readonly [string, MessageKey])[]
export type PageName = (typeof PAGES)[number][0]

/** The theme the operator chose; `auto` follows prefers-color-scheme. */
export type Theme = 'auto' | 'light' | 'dark'
export const THEME_COOKIE = 'amb2api_theme'
export const isTheme = (value: unknown): value is Theme => value === 'auto' || value === 'light' || value === 'dark'

/** Each language named in itself: the switch reads the same in every language. */
const LANG_NAMES: Record<Lang, string> = { en: 'English', 'zh-CN': '中文' }

export interface Shell {
	t: Translator
	/** The session's CSRF token; absent on the login page. */
	csrf?: string
	/** The current page, for the navigation. */
	page?: PageName
	/** Pages whose plugin is turned off are not linked. */
	available?: ReadonlySet<string>
	now?: number
	theme?: Theme
	/** Where the language switch comes back to. */
	path?: string
}

const head = (title: string) => html`<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="htmx-config" content='{"morphIgnore":["data-htmx-powered","open"]}'>
<title>${title} · amb2api</title>
<link rel="icon" href="/ui/assets/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/ui/assets/panel.css">
<script src="/ui/assets/htmx.js" defer></script>
<script src="/ui/assets/panel.js" defer></script>`

/** The language links and the theme button: on every page, the login page included. */
function switches(shell: Shell): SafeHtml {
	const { t } = shell
	const back = encodeURIComponent(shell.path ?? '/ui')
	const theme = shell.theme ?? 'auto'
	return html`<div class="switches">
<nav aria-label="${t('shell.language')}" class="langs">${LANGS.map((lang) =>
		lang === t.lang
			? html`<span aria-current="true" lang="${lang}">${LANG_NAMES[lang]}</span>`
			: html`<a href="/ui/lang/${lang}?back=${back}" lang="${lang}" hreflang="${lang}">${LANG_NAMES[lang]}</a>`,
	)}</nav>
<button type="button" id="theme-toggle" class="small secondary" data-theme-now="${theme}" data-label-auto="${t('shell.theme.auto')}" data-label-light="${t(
		'shell.theme.light',
	)}" data-label-dark="${t('shell.theme.dark')}" aria-label="${t('shell.theme')}">${t(`shell.theme.${theme}`)}</button>
</div>`
}

export function layout(title: string, body: SafeHtml, shell: Shell): string {
	const { t } = shell
	const theme = shell.theme && shell.theme !== 'auto' ? html` data-theme="${shell.theme}"` : ''
	if (!shell.csrf) {
		return html`<!doctype html>
<html lang="${t.lang}"${theme}><head>${head(title)}</head>
<body><header class="top top-login"><strong class="brand">amb2api</strong>${switches(shell)}</header><main id="main">${body}</main></body></html>`.toString()
	}
	const headers = JSON.stringify({ 'X-CSRF-Token': shell.csrf })
	const links = PAGES.filter(([name]) => !shell.available || shell.available.has(name))
	return html`<!doctype html>
<html lang="${t.lang}"${theme}><head>${head(title)}</head>
<body hx-headers:inherited="${headers}" data-server-now="${shell.now ?? Date.now()}">
<a class="skip" href="#main">${t('shell.skip')}</a>
<header class="top"><strong class="brand">amb2api</strong>
<nav aria-label="${t('shell.pages')}" class="pages"><ul>${links.map(
		([name, key]) => html`<li><a href="/ui/${name}"${name === shell.page ? html` aria-current="page"` : ''}>${t(key)}</a></li>`,
	)}</ul></nav>
${switches(shell)}
<form method="post" action="/ui/logout" class="logout"><input type="hidden" name="_csrf" value="${shell.csrf}"><button type="submit" class="small">${t(
		'shell.logout',
	)}</button></form>
</header>
<div id="disconnected" class="banner" role="alert" hidden>${t('shell.disconnected')} <time></time>${t('shell.disconnectedStale')}</div>
<div ${BANNER_ATTRS}></div>
<main id="main">
<h1>${title}</h1>
${body}
</main>
</body></html>`.toString()
}

/** Status words the panel shows in badges; an unknown status is shown as it is (a code). */
const STATUS_KEYS: Record<string, MessageKey> = {
	active: 'status.active',
	cooling: 'status.cooling',
	disabled: 'status.disabled',
	banned: 'status.banned',
	quota_exhausted: 'status.quota_exhausted',
	failing: 'status.failing',
	exhausted: 'status.exhausted',
	denied: 'status.denied',
	unknown: 'status.unknown',
	expired: 'status.expired',
	healthy: 'status.healthy',
	down: 'status.down',
	env: 'source.env',
	stored: 'source.stored',
	default: 'source.default',
}

/** A status badge: a colour by state, and the word itself (colour is never the only signal). */
export function badge(t: Translator, status: string): SafeHtml {
	const key = STATUS_KEYS[status]
	return html`<span class="badge badge-${status.replace(/[^a-z]/g, '')}" data-status="${status}">${key ? t(key) : status}</span>`
}

/** A countdown that panel.js keeps right between polls; the server's text is right when sent. */
export function countdown(t: Translator, untilMs: number | null, now: number): SafeHtml | string {
	if (untilMs === null || untilMs <= now) return ''
	return html`<span class="countdown" data-until="${untilMs}">${formatSeconds(t, Math.ceil((untilMs - now) / 1000))}</span>`
}

export function formatSeconds(t: Translator, s: number): string {
	if (s < 60) return t('time.s', { s })
	if (s < 3600) return t('time.minS', { m: Math.floor(s / 60), s: s % 60 })
	return t('time.hMin', { h: Math.floor(s / 3600), m: Math.floor((s % 3600) / 60) })
}

/**
 * A moment: the UTC text is right without JavaScript; panel.js adds the browser's local time
 * beside it (the quota day and resets are UTC, the operator lives in a time zone).
 */
export function moment(iso: string, text = `${iso.slice(0, 16).replace('T', ' ')} UTC`): SafeHtml {
	return html`<time datetime="${iso}" data-local>${text}</time>`
}

/**
 * A message after an action; `error` colours it. It stays until it is dismissed or the next
 * action replaces it: polls never carry notices.
 */
export function notice(t: Translator, message: string | null | undefined, kind: 'ok' | 'error' = 'ok'): SafeHtml | string {
	if (!message) return ''
	return html`<div class="notice notice-${kind}" role="${kind === 'error' ? 'alert' : 'status'}"><p>${message}</p><button type="button" class="dismiss small secondary" data-dismiss aria-label="${t(
		'notice.dismiss',
	)}">×</button></div>`
}

/** An upstream or network incident the key pool sees. */
export interface IncidentView {
	cause: 'auth' | 'network'
	since: number
	keys: number
	message: string
}

/** The incident sentence: its cause, since when, how many keys; the upstream's message as data. */
export function incidentText(t: Translator, incident: IncidentView): SafeHtml {
	const since = new Date(incident.since).toISOString()
	return html`${t(incident.cause === 'auth' ? 'incident.auth' : 'incident.network', { keys: incident.keys })} ${t('banner.since')} ${moment(
		since,
		`${since.slice(11, 19)} UTC`,
	)}${incident.message ? html` <span class="reason">${incident.message}</span>` : ''} ${t('incident.tail')}`
}

export interface BannerState {
	healthy: boolean
	since: number | null
	backend: string
	/** An upstream incident: shown on every page while it lasts. */
	incident?: IncidentView | null
}

const BANNER_ATTRS = html`id="status-banner" hx-get="/ui/fragments/status" hx-trigger="load, every 5s" hx-swap="outerMorph"`

/** The status banner fragment: storage down since ..., an upstream incident, or nothing. */
export function statusBanner(t: Translator, state: BannerState): string {
	const parts: SafeHtml[] = []
	if (!state.healthy) {
		const since = state.since ? new Date(state.since).toISOString() : null
		parts.push(
			html`<p data-banner="storage">${t('banner.storageDown', { backend: state.backend })}${
				since ? html` ${t('banner.since')} ${moment(since, `${since.slice(11, 19)} UTC`)}` : ''
			}${t('banner.storageDownTail')}</p>`,
		)
	}
	if (state.incident) parts.push(html`<p data-banner="incident" data-incident="${state.incident.cause}">${incidentText(t, state.incident)}</p>`)
	if (!parts.length) return html`<div ${BANNER_ATTRS}></div>`.toString()
	return html`<div ${BANNER_ATTRS} class="banner" role="alert">${parts}</div>`.toString()
}
