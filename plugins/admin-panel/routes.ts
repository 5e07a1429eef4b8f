/**
 * `/ui`: the operator's panel, server-rendered HTML with htmx (served from our own route).
 * Login with the panel password sets an HttpOnly, SameSite=Strict session cookie; the browser
 * never holds a password.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { Elysia } from 'elysia'
import { RateLimitError } from '../../core/errors.ts'
import type { Storage } from '../../core/storage.ts'
import { dashboardPage, keyTable } from '../../views/dashboard.ts'
import { loginPage } from '../../views/login.ts'
import { type AdminAuth, readCookie, SESSION_COOKIE } from '../admin-auth/admin-auth.ts'
import type { KeyPool } from '../rate-limits/key-pool.ts'

export interface PanelDeps {
	auth: AdminAuth
	pool: KeyPool
	storage: Storage
}

const HTML = { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', vary: 'HX-Request' }
const page = (body: string, status = 200, headers: Record<string, string> = {}) => new Response(body, { status, headers: { ...HTML, ...headers } })

export const panel = (deps: PanelDeps) => {
	const htmx = readFileSync(createRequire(import.meta.url).resolve('htmx.org/dist/htmx.min.js'), 'utf8')
	const loggedIn = (cookie: string | undefined) => deps.auth.verifySession(readCookie(cookie, SESSION_COOKIE))
	const cookie = (value: string, maxAge: number) => `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}`

	return new Elysia({ name: 'panel' })
		.get('/', ({ redirect }) => redirect('/ui'), { detail: { hide: true } })
		.get('/ui/assets/htmx.js', () => new Response(htmx, { headers: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=86400' } }), {
			detail: { hide: true },
		})
		.get(
			'/ui',
			async ({ headers }) => {
				if (!loggedIn(headers.cookie)) return page(loginPage())
				return page(dashboardPage(await deps.pool.report(), { backend: deps.storage.kind, where: deps.storage.where }))
			},
			{ detail: { hide: true } },
		)
		.get(
			'/ui/fragments/keys',
			async ({ headers }) => {
				// An expired session stops the poller by swapping in the login link.
				if (!loggedIn(headers.cookie)) return page('<div id="keys"><a href="/ui">Session expired: log in again</a></div>', 401)
				return page(keyTable(await deps.pool.report()).toString())
			},
			{ detail: { hide: true } },
		)
		.post(
			'/ui/login',
			async ({ request }) => {
				const form = await request.formData().catch(() => null)
				const password = form?.get('password')
				let ok = false
				try {
					ok = typeof password === 'string' && deps.auth.login(password)
				} catch (err) {
					if (err instanceof RateLimitError) return page(loginPage('Too many failed logins. Wait a minute.'), 429, { 'retry-after': '60' })
					throw err
				}
				if (!ok) return page(loginPage('Wrong password.'), 401)
				return new Response(null, {
					status: 303,
					headers: { location: '/ui', 'set-cookie': cookie(deps.auth.issue(), Math.floor(deps.auth.ttlMs / 1000)) },
				})
			},
			{ parse: 'none', detail: { hide: true } },
		)
		.post('/ui/logout', () => new Response(null, { status: 303, headers: { location: '/ui', 'set-cookie': cookie('', 0) } }), {
			detail: { hide: true },
		})
}
