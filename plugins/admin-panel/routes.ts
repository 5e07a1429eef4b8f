/**
 * `/ui`: the operator's panel, server-rendered HTML with htmx (served from our own route), one
 * file per page. Login with the panel password sets an HttpOnly, SameSite=Strict session cookie
 * (Secure behind HTTPS); the browser never holds a password. Every page answers with CSP,
 * X-Frame-Options and nosniff; every state change is CSRF-checked (http.ts).
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { Elysia } from 'elysia'
import { RateLimitError } from '../../core/errors.ts'
import { isLang, LANG_COOKIE } from '../../views/i18n/i18n.ts'
import { loginPage } from '../../views/login.ts'
import { readCookie, SESSION_COOKIE } from '../admin-auth/admin-auth.ts'
import { guard, htmlResponse, type PanelKit, postedForm, SECURITY_HEADERS, safeNext, themeFor, translatorFor } from './http.ts'

/** The language and theme cookies: a year, readable by panel.js (they hold no secret). */
const YEAR = 365 * 24 * 3600

const asset = (name: string) => readFileSync(new URL(`./assets/${name}`, import.meta.url), 'utf8')

export const panelShell = (kit: PanelKit) => {
	const htmx = readFileSync(createRequire(import.meta.url).resolve('htmx.org/dist/htmx.min.js'), 'utf8')
	const files: Record<string, { body: string; type: string }> = {
		'htmx.js': { body: htmx, type: 'text/javascript; charset=utf-8' },
		'panel.js': { body: asset('panel.js'), type: 'text/javascript; charset=utf-8' },
		'panel.css': { body: asset('panel.css'), type: 'text/css; charset=utf-8' },
		'favicon.svg': { body: asset('favicon.svg'), type: 'image/svg+xml' },
	}
	const serve = (name: string) => {
		const file = files[name]
		if (!file) return new Response('not found', { status: 404 })
		return new Response(file.body, { headers: { 'content-type': file.type, 'cache-control': 'public, max-age=3600', 'x-content-type-options': 'nosniff' } })
	}
	const cookie = (request: Request, value: string, maxAge: number) =>
		`${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${kit.auth.https(request) ? '; Secure' : ''}`

	return new Elysia({ name: 'panel' })
		.get('/', ({ redirect }) => redirect('/ui'), { detail: { hide: true } })
		.get('/favicon.ico', () => serve('favicon.svg'), { detail: { hide: true } })
		.get('/ui/assets/:name', ({ params }) => serve(params.name), { detail: { hide: true } })
		.get(
			'/ui',
			async ({ request }) => {
				const session = await kit.auth.session(readCookie(request.headers.get('cookie'), SESSION_COOKIE))
				const next = safeNext(new URL(request.url).searchParams.get('next'))
				if (!session) return htmlResponse(loginPage(translatorFor(request), { next, theme: themeFor(request) }))
				return new Response(null, { status: 303, headers: { location: next ?? '/ui/overview', 'cache-control': 'no-store', ...SECURITY_HEADERS } })
			},
			{ detail: { hide: true } },
		)
		.get(
			'/ui/lang/:lang',
			({ request, params }) => {
				// A link, not a form: it changes only how the panel reads, for this browser.
				const lang = isLang(params.lang) ? params.lang : null
				const back = safeNext(new URL(request.url).searchParams.get('back'))
				const headers: Record<string, string> = { location: back ?? '/ui', 'cache-control': 'no-store', ...SECURITY_HEADERS }
				if (lang) headers['set-cookie'] = `${LANG_COOKIE}=${lang}; Path=/; SameSite=Lax; Max-Age=${YEAR}${kit.auth.https(request) ? '; Secure' : ''}`
				return new Response(null, { status: 303, headers })
			},
			{ detail: { hide: true } },
		)
		.post(
			'/ui/login',
			async ({ request }) => {
				// Login CSRF: a cross-site form must not log the browser into someone's session.
				const t = translatorFor(request)
				const theme = themeFor(request)
				const site = request.headers.get('sec-fetch-site')
				if (site && site !== 'same-origin' && site !== 'none') return htmlResponse(loginPage(t, { error: t('login.crossSite'), theme }), 403)
				const form = await request.formData().catch(() => null)
				const password = form?.get('password')
				// Back to the page asked for before the login (a deep link), else the overview.
				const next = safeNext(form?.get('next'))
				let ok = false
				try {
					ok = typeof password === 'string' && password.length <= 1000 && kit.auth.login(password, kit.auth.address(request))
				} catch (err) {
					if (err instanceof RateLimitError) {
						return htmlResponse(loginPage(t, { error: t('login.tooMany'), next, theme }), 429, err.headers)
					}
					throw err
				}
				if (!ok) return htmlResponse(loginPage(t, { error: t('login.wrong'), next, theme }), 401)
				return new Response(null, {
					status: 303,
					headers: {
						location: next ?? '/ui/overview',
						'set-cookie': cookie(request, kit.auth.issue(), Math.floor(kit.auth.ttlMs / 1000)),
						...SECURITY_HEADERS,
					},
				})
			},
			{ parse: 'none', detail: { hide: true } },
		)
		.post(
			'/ui/logout',
			async ({ request }) => {
				const v = await guard(kit, request)
				if (v instanceof Response) return v
				await postedForm(kit, request, v)
				await kit.auth.revoke(v.session)
				return new Response(null, { status: 303, headers: { location: '/ui', 'set-cookie': cookie(request, '', 0), ...SECURITY_HEADERS } })
			},
			{ parse: 'none', detail: { hide: true } },
		)
}
