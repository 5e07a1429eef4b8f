/**
 * What every panel route shares: security headers, the session guard, CSRF-checked forms, the
 * visitor's language and theme, and "fragment for htmx, full page otherwise" answers.
 */
import { PermissionError } from '../../core/errors.ts'
import { logAtDebug } from '../../core/request-log.ts'
import { html, type SafeHtml } from '../../views/html.ts'
import { chooseLang, LANG_COOKIE, type MessageKey, type Translator, translator, type Vars } from '../../views/i18n/i18n.ts'
import { isTheme, layout, type PageName, THEME_COOKIE, type Theme } from '../../views/layout.ts'
import { type AdminAuth, CSRF_FIELD, CSRF_HEADER, readCookie, SESSION_COOKIE, type Session } from '../admin-auth/admin-auth.ts'

/** Our own scripts and styles only; no framing; no sniffing. */
export const SECURITY_HEADERS: Record<string, string> = {
	'content-security-policy':
		"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'",
	'x-frame-options': 'DENY',
	'x-content-type-options': 'nosniff',
	'referrer-policy': 'same-origin',
}

// Vary: the language comes from a cookie or Accept-Language, the fragment from HX-Request.
const HTML = { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', vary: 'HX-Request, Accept-Language, Cookie', ...SECURITY_HEADERS }

export const htmlResponse = (body: string, status = 200, headers: Record<string, string> = {}) =>
	new Response(body, { status, headers: { ...HTML, ...headers } })

export const isHtmx = (request: Request) => request.headers.get('hx-request') === 'true'

export interface PanelKit {
	auth: AdminAuth
	/** Pages whose plugin is loaded. */
	available: ReadonlySet<string>
	now: () => number
}

/** The visitor's language: the panel's cookie, else the browser's Accept-Language. */
export const translatorFor = (request: Request): Translator =>
	translator(chooseLang(readCookie(request.headers.get('cookie'), LANG_COOKIE), request.headers.get('accept-language')))

export function themeFor(request: Request): Theme {
	const theme = readCookie(request.headers.get('cookie'), THEME_COOKIE)
	return isTheme(theme) ? theme : 'auto'
}

export interface Visitor {
	session: Session
	csrf: string
	t: Translator
}

/** A panel page the login may return to: only our own /ui pages, never another site. */
export function safeNext(value: unknown): string | null {
	if (typeof value !== 'string' || value.length > 500) return null
	if (!/^\/ui\/[A-Za-z0-9_\-/]*(\?[A-Za-z0-9_\-=&%.:]*)?$/.test(value) || value.startsWith('/ui/fragments/') || value.includes('//')) return null
	return value
}

/** The logged-in visitor, or the answer for someone who is not: the login page (coming back here after), or a fragment that stops polling. */
export async function guard(kit: PanelKit, request: Request): Promise<Visitor | Response> {
	const session = await kit.auth.session(readCookie(request.headers.get('cookie'), SESSION_COOKIE))
	const t = translatorFor(request)
	if (session) return { session, csrf: kit.auth.csrfToken(session), t }
	if (isHtmx(request))
		return htmlResponse(
			html`<div class="notice notice-error" role="alert">${t('session.expired')} <a href="/ui">${t('session.loginAgain')}</a>.</div>`.toString(),
			401,
		)
	const url = new URL(request.url)
	const next = request.method === 'GET' ? safeNext(url.pathname + url.search) : null
	const location = next ? `/ui?next=${encodeURIComponent(next)}` : '/ui'
	return new Response(null, { status: 303, headers: { location, ...SECURITY_HEADERS, 'cache-control': 'no-store' } })
}

/** The posted form, after the same-origin and CSRF-token checks. */
export async function postedForm(kit: PanelKit, request: Request, visitor: Visitor): Promise<FormData> {
	const form = await request.formData().catch(() => new FormData())
	const token = request.headers.get(CSRF_HEADER) ?? form.get(CSRF_FIELD)
	if (typeof token !== 'string' && token !== null) throw new PermissionError(visitor.t('error.csrf'), 'csrf_failed')
	kit.auth.checkCsrf(request, visitor.session, token)
	return form
}

/** A widget: alone for htmx (polls, swaps), inside its page otherwise. The page's title is `title.<page>`. */
export function show(kit: PanelKit, request: Request, visitor: Visitor, page: PageName, widget: SafeHtml, fullBody?: SafeHtml): Response {
	if (isHtmx(request)) {
		if (request.method === 'GET') logAtDebug(request)
		return htmlResponse(widget.toString())
	}
	if (request.method !== 'GET')
		return new Response(null, { status: 303, headers: { location: `/ui/${page}`, ...SECURITY_HEADERS, 'cache-control': 'no-store' } })
	const url = new URL(request.url)
	const { t } = visitor
	return htmlResponse(
		layout(t(`title.${page}`), fullBody ?? widget, {
			t,
			csrf: visitor.csrf,
			page,
			available: kit.available,
			now: kit.now(),
			theme: themeFor(request),
			path: url.pathname + url.search,
		}),
	)
}

/** Form helpers: a trimmed string, or null when empty. */
export const field = (form: FormData, name: string): string | null => {
	const value = form.get(name)
	return typeof value === 'string' && value.trim() ? value.trim() : null
}

/** A positive integer field, null when empty; a message naming the field otherwise. */
export function intField(form: FormData, name: string, label: FormMessage): number | null {
	const text = field(form, name)
	if (text === null) return null
	if (!/^\d{1,10}$/.test(text) || Number(text) < 1) throw new FormError('form.wholeNumber', { label })
	return Number(text)
}

/** A message key with its values; a value may itself be a message (a field's label). */
export interface FormMessage {
	key: MessageKey
	vars?: Readonly<Record<string, string | number | FormMessage>>
}

/** A wrong form value: shown next to the form in the visitor's language, not as an error page. */
export class FormError extends Error {
	readonly text: FormMessage
	constructor(key: MessageKey, vars?: FormMessage['vars']) {
		super(key)
		this.text = { key, vars }
	}
}

export const label = (key: MessageKey, vars?: FormMessage['vars']): FormMessage => ({ key, vars })

function say(t: Translator, m: FormMessage): string {
	const vars: Record<string, string | number> = {}
	for (const [name, value] of Object.entries(m.vars ?? {})) vars[name] = typeof value === 'object' ? say(t, value) : value
	return t(m.key, vars as Vars)
}

/** An error as the visitor reads it: our own form errors translated, anything else (a backend's words) as it is. */
export const message = (err: unknown, t?: Translator): string => {
	if (err instanceof FormError && t) return say(t, err.text)
	return err instanceof Error ? err.message : String(err)
}
