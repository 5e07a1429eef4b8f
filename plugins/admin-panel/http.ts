/**
 * What every panel route shares: security headers, the session guard, CSRF-checked forms, and
 * "fragment for htmx, full page otherwise" answers.
 */
import { PermissionError } from '../../core/errors.ts'
import { logAtDebug } from '../../core/request-log.ts'
import type { SafeHtml } from '../../views/html.ts'
import { layout, type PageName } from '../../views/layout.ts'
import { type AdminAuth, CSRF_FIELD, CSRF_HEADER, readCookie, SESSION_COOKIE, type Session } from '../admin-auth/admin-auth.ts'

/** Our own scripts and styles only; no framing; no sniffing. */
export const SECURITY_HEADERS: Record<string, string> = {
	'content-security-policy':
		"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'",
	'x-frame-options': 'DENY',
	'x-content-type-options': 'nosniff',
	'referrer-policy': 'same-origin',
}

const HTML = { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', vary: 'HX-Request', ...SECURITY_HEADERS }

export const htmlResponse = (body: string, status = 200, headers: Record<string, string> = {}) =>
	new Response(body, { status, headers: { ...HTML, ...headers } })

export const isHtmx = (request: Request) => request.headers.get('hx-request') === 'true'

export interface PanelKit {
	auth: AdminAuth
	/** Pages whose plugin is loaded. */
	available: ReadonlySet<string>
	now: () => number
}

export interface Visitor {
	session: Session
	csrf: string
}

/** The logged-in visitor, or the answer for someone who is not: the login page, or a fragment that stops polling. */
export async function guard(kit: PanelKit, request: Request): Promise<Visitor | Response> {
	const session = await kit.auth.session(readCookie(request.headers.get('cookie'), SESSION_COOKIE))
	if (session) return { session, csrf: kit.auth.csrfToken(session) }
	if (isHtmx(request)) return htmlResponse('<div class="notice notice-error" role="alert">Session expired: <a href="/ui">log in again</a>.</div>', 401)
	return new Response(null, { status: 303, headers: { location: '/ui', ...SECURITY_HEADERS, 'cache-control': 'no-store' } })
}

/** The posted form, after the same-origin and CSRF-token checks. */
export async function postedForm(kit: PanelKit, request: Request, visitor: Visitor): Promise<FormData> {
	const form = await request.formData().catch(() => new FormData())
	const token = request.headers.get(CSRF_HEADER) ?? form.get(CSRF_FIELD)
	if (typeof token !== 'string' && token !== null) throw new PermissionError('Missing or wrong CSRF token: reload the panel.', 'csrf_failed')
	kit.auth.checkCsrf(request, visitor.session, token)
	return form
}

/** A widget: alone for htmx (polls, swaps), inside its page otherwise. */
export function show(kit: PanelKit, request: Request, visitor: Visitor, page: PageName, title: string, widget: SafeHtml, fullBody?: SafeHtml): Response {
	if (isHtmx(request)) {
		if (request.method === 'GET') logAtDebug(request)
		return htmlResponse(widget.toString())
	}
	if (request.method !== 'GET')
		return new Response(null, { status: 303, headers: { location: `/ui/${page}`, ...SECURITY_HEADERS, 'cache-control': 'no-store' } })
	return htmlResponse(layout(title, fullBody ?? widget, { csrf: visitor.csrf, page, available: kit.available, now: kit.now() }))
}

/** Form helpers: a trimmed string, or null when empty. */
export const field = (form: FormData, name: string): string | null => {
	const value = form.get(name)
	return typeof value === 'string' && value.trim() ? value.trim() : null
}

/** A positive integer field, null when empty; a message naming the field otherwise. */
export function intField(form: FormData, name: string, label: string): number | null {
	const text = field(form, name)
	if (text === null) return null
	if (!/^\d{1,10}$/.test(text) || Number(text) < 1) throw new FormError(`${label} must be a whole number of at least 1`)
	return Number(text)
}

/** A wrong form value: shown next to the form, not as an error page. */
export class FormError extends Error {}

export const message = (err: unknown): string => (err instanceof Error ? err.message : String(err))
