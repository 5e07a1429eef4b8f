/**
 * Issue 10, fuzzing: 10,000 generated malformed and hostile requests (bodies, headers, cookies,
 * paths, methods) against the whole gateway. No answer may be a 5xx, memory stays bounded and
 * the process stays alive. Most go through `app.handle`; a slice goes through a real server
 * (Bun's HTTP parsing included). The generator is seeded: a failure names its seed and case.
 * Percent-malformed session cookies (`amb2api_session=%`) are among the cookies.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { setPeerAddress } from '../core/client-address.ts'
import { API_PASSWORD, harnessSet, type Harness, PANEL_PASSWORD } from './support.ts'

const CASES = Number(process.env.FUZZ_CASES ?? 10_000)
const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed10)
const REAL_SERVER_SHARE = 10 // every 10th case goes through a real socket

/** mulberry32: a small seeded PRNG, so a failing case can be replayed. */
function prng(seed: number) {
	let a = seed >>> 0
	const next = () => {
		a = (a + 0x6d2b79f5) >>> 0
		let t = a
		t = Math.imul(t ^ (t >>> 15), t | 1)
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296
	}
	const int = (n: number) => Math.floor(next() * n)
	const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T
	return { next, int, pick }
}
type Rng = ReturnType<typeof prng>

const MODELS = ['claude-sonnet-4-6', 'gpt-5', 'gemini-2.5-flash', '', ' ', 'x'.repeat(300), '../../etc/passwd', 'claude\u0000', '\ud800', 'model\r\nX: y']
const STRINGS = [
	'',
	' ',
	'hi',
	'\u0000',
	'\r\n',
	'\ud83d',
	'"}',
	'{{',
	'%00',
	'<script>alert(1)</script>',
	"' OR 1=1 --",
	'${jndi:ldap://x}',
	'\\u0000',
	'𝕏'.repeat(50),
	'a'.repeat(5000),
]
const SCALARS: unknown[] = [null, true, false, 0, -1, 1e308, -1e308, 1.5, Number.MAX_SAFE_INTEGER, '', 'x', [], {}, [null], { __proto__: { polluted: 1 } }]
const HOSTILE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '', ' ', '\u0000', 'a'.repeat(1000)]
const HOSTILE_COOKIES = [
	'amb2api_session=',
	'amb2api_session=a.b.c',
	'amb2api_session=x'.repeat(50),
	`amb2api_session=${'A'.repeat(5000)}`,
	'amb2api_session=eyJ.eyJ.sig; amb2api_session=second',
	';;;;=;=;',
	'=',
	'a=b; c',
	'amb2api_session="quoted"',
	'amb2api_session=%41%42',
	`amb2api_session=${'\u00ff'.repeat(10)}`,
	'amb2api_session=%',
	'amb2api_session=%E0%A4%A',
	'amb2api_session=%zz; amb2api_csrf=%',
]
const PATHS = [
	'/v1/chat/completions',
	'/v1/chat/completions',
	'/v1/chat/completions',
	'/v1/messages',
	'/v1/messages',
	'/v1/messages/count_tokens',
	'/v1/responses',
	'/v1/responses',
	'/v1/models',
	'/health',
	'/admin/keys',
	'/admin/clients',
	'/admin/clients/does-not-exist',
	'/admin/keys/x/disable',
	'/admin/quotas/abc',
	'/admin/usage?day=2026-13-45',
	'/admin/usage?day=%00',
	'/admin/usage/reset',
	'/admin/rate-limits',
	'/ui',
	'/ui/login',
	'/ui/logout',
	'/swagger/json',
	'/v1/../admin/keys',
	'/%2e%2e/admin/keys',
	'/v1/chat/completions/',
	'/v1//chat//completions',
	`/${'a'.repeat(4000)}`,
	'/v1/models?x=%',
	'/v1/models?%=&&&=',
	'/admin/clients/%ZZ',
]
const PREFERRED: Record<string, string> = {
	'/v1/chat/completions': 'POST',
	'/v1/messages': 'POST',
	'/v1/messages/count_tokens': 'POST',
	'/v1/responses': 'POST',
	'/v1/models': 'GET',
	'/health': 'GET',
	'/admin/keys': 'POST',
	'/admin/clients': 'POST',
	'/admin/clients/does-not-exist': 'PATCH',
	'/admin/keys/x/disable': 'POST',
	'/admin/quotas/abc': 'PUT',
	'/admin/usage': 'GET',
	'/admin/usage/reset': 'POST',
	'/admin/rate-limits': 'GET',
	'/ui': 'GET',
	'/ui/login': 'POST',
	'/ui/logout': 'POST',
	'/swagger/json': 'GET',
}
const METHODS = ['GET', 'POST', 'POST', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD']
const CONTENT_TYPES = [
	'application/json',
	'application/json; charset=utf-16',
	'text/plain',
	'application/x-www-form-urlencoded',
	'multipart/form-data; boundary=x',
	'',
	'application/json\u0000',
	'*/*',
]

/** Objects or arrays nested `depth` levels, as text. */
function nested(r: Rng, depth: number): string {
	return r.next() < 0.7 ? `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}` : `${'['.repeat(depth)}1${']'.repeat(depth)}`
}

/** A chat body, valid at first, with one to four hostile mutations. */
function chatBody(r: Rng): string {
	const body: Record<string, unknown> = { model: r.pick(MODELS.slice(0, 3)), messages: [{ role: 'user', content: 'hi' }] }
	const fields = [
		'model',
		'messages',
		'stream',
		'temperature',
		'top_p',
		'max_tokens',
		'n',
		'tools',
		'tool_choice',
		'stop',
		'response_format',
		'stream_options',
		'fallbacks',
		'reasoning',
		'seed',
		'user',
	]
	const mutations = 1 + r.int(4)
	for (let i = 0; i < mutations; i++) {
		const field = r.pick(fields)
		switch (r.int(9)) {
			case 0:
				body[field] = r.pick(SCALARS)
				break
			case 1:
				body[field] = r.pick(STRINGS)
				break
			case 2:
				delete body[field]
				break
			case 3:
				body.messages = [{ role: r.pick(['user', 'system', 'tool', 'assistant', 'admin', '', null]), content: r.pick([...STRINGS, ...SCALARS]) }]
				break
			case 4:
				body.messages = Array.from({ length: r.int(300) }, () => ({ role: 'user', content: r.pick(STRINGS) }))
				break
			case 5:
				body.tools = [{ type: 'function', function: { name: r.pick(['f', '', 'bad name', 'x'.repeat(100)]), parameters: r.pick(SCALARS) } }]
				break
			case 6:
				body[r.pick(HOSTILE_KEYS)] = r.pick(SCALARS)
				break
			case 7:
				body.model = r.pick(MODELS)
				break
			case 8:
				body.fallbacks = [{ model: r.pick([...MODELS, 1, null]) }, r.pick(SCALARS)]
				break
		}
	}
	let text = JSON.stringify(body)
	switch (r.int(14)) {
		case 0:
			return text.slice(0, r.int(text.length)) // truncated
		case 1:
			return text.replace('{', `{"extra":${nested(r, 1000 + r.int(100_000))},`)
		case 6: {
			// deep nesting where an object is allowed
			const deep = nested(r, r.pick([65, 500, 5_000, 50_000, 150_000]))
			return r.pick([
				text.replace('{', `{"reasoning":{"x":${deep}},`),
				text.replace('{', `{"metadata":{"x":${deep}},`),
				text.replace('{', `{"tools":[{"type":"function","function":{"name":"f","parameters":{"x":${deep}}}}],`),
				text.replace('{', `{"messages":[{"role":"user","content":[{"type":"text","text":"hi","x":${deep}}]}],`),
			])
		}
		case 2:
			return `${text}garbage`
		case 3:
			return text.replace(/"/g, "'")
		case 4:
			return r.pick([
				'',
				'null',
				'[]',
				'"string"',
				'0',
				'true',
				'{',
				'}',
				'\u0000',
				'\ufeff{}',
				'{"model":"x","messages":[{"role":"user","content":"hi"}],"model":"y"}',
			])
		case 5:
			text = text.replace('"hi"', `"${'\\ud800'.repeat(20)}"`) // lone surrogates
			return text
		default:
			return text
	}
}

function adminBody(r: Rng): string {
	const candidates: unknown[] = [
		{ keys: [r.pick(STRINGS), r.pick(STRINGS)] },
		{ keys: r.pick(SCALARS) },
		{ name: r.pick(STRINGS), daily_limit: r.pick(SCALARS), allowed_models: r.pick([null, [], [r.pick(MODELS)], 'x']), expires_at: r.pick(SCALARS) },
		{ daily_limit: r.pick(SCALARS), model_limits: { [r.pick(HOSTILE_KEYS)]: r.pick(SCALARS) } },
		{ key: r.pick(STRINGS), client: r.pick(SCALARS) },
		r.pick(SCALARS),
	]
	const text = JSON.stringify(r.pick(candidates)) ?? 'null'
	return r.int(5) === 0 ? text.slice(0, r.int(text.length + 1)) : text
}

function headersFor(r: Rng): Record<string, string> {
	const headers: Record<string, string> = {}
	switch (r.int(10)) {
		case 0:
			break
		case 1:
			headers.authorization = `Bearer ${API_PASSWORD}`
			break
		case 2:
			headers.authorization = `Bearer ${PANEL_PASSWORD}`
			break
		case 3:
			headers.authorization = r.pick([
				'Bearer',
				'Bearer ',
				'Basic abc',
				`Bearer ${'x'.repeat(8000)}`,
				'bearer sk-amb-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
				'Bearer sk-amb-',
				`Bearer ${API_PASSWORD} extra`,
			])
			break
		default:
			headers.authorization = `Bearer ${r.next() < 0.6 ? API_PASSWORD : PANEL_PASSWORD}`
	}
	if (r.int(3) === 0) headers.cookie = r.pick(HOSTILE_COOKIES)
	if (r.int(2) === 0) headers['content-type'] = r.pick(CONTENT_TYPES)
	if (r.int(6) === 0)
		headers[r.pick(['x-forwarded-for', 'x-forwarded-proto', 'origin', 'sec-fetch-site', 'hx-request', 'accept', 'x-request-id'])] = r.pick([
			'',
			'null',
			'https://evil.example',
			'true',
			'1.2.3.4, 5.6.7.8',
			'*/*',
			'x'.repeat(2000),
		])
	return headers
}

interface Case {
	method: string
	path: string
	headers: Record<string, string>
	body: string | null
}

function makeCase(r: Rng): Case {
	const path = r.pick(PATHS)
	let method = r.pick(METHODS)
	// Mostly the route's own method, so most cases get past routing into auth, parsing and validation.
	if (r.next() < 0.8) method = PREFERRED[path.split('?')[0] ?? ''] ?? method
	const headers = headersFor(r)
	let body: string | null = null
	if (method !== 'GET' && method !== 'HEAD')
		body = path.startsWith('/v1/chat')
			? chatBody(r)
			: path.startsWith('/v1/messages')
				? // The same hostile shapes in each dialect's own field names.
					chatBody(r).replace('{', '{"max_tokens":16,')
				: path.startsWith('/v1/responses')
					? chatBody(r).replace('"messages":', '"input":')
					: path === '/ui/login'
						? r.pick(['password=', 'password=%', 'password=x&password=y', `password=${'a'.repeat(5000)}`, '%%%'])
						: adminBody(r)
	return { method, path, headers, body }
}

const harnesses = harnessSet()
let h: Harness
let base: string

beforeAll(async () => {
	h = await harnesses.start({
		// Each case from its own address (the socket ones through 127.0.0.1 as a trusted proxy), so
		// the failed-credential throttle does not turn the rest of the run into 429s.
		env: { RATE_LIMIT_MAX_WAIT: '0', DAILY_REQUEST_LIMIT: '0', LOG_LEVEL: 'warning', MAX_BODY_SIZE: '1mb', TRUSTED_PROXY: '127.0.0.1' },
		fakeOptions: { limit: 1_000_000_000 },
	})
	base = await h.listen()
})
afterAll(() => harnesses.closeAll())

describe('fuzz', () => {
	test(`${CASES} hostile requests: no 5xx, bounded memory, still serving`, async () => {
		const r = prng(SEED)
		const failures: string[] = []
		const statuses = new Map<number, number>()
		Bun.gc(true)
		const rssBefore = process.memoryUsage().rss
		let rssPeak = rssBefore
		const started = performance.now()
		for (let i = 0; i < CASES; i++) {
			const c = makeCase(r)
			let status: number
			try {
				const viaServer = i % REAL_SERVER_SHARE === 0
				const address = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`
				const init: RequestInit = { method: c.method, headers: { ...c.headers, 'x-forwarded-for': address }, body: c.body }
				const request = new Request(`http://localhost${c.path}`, init)
				setPeerAddress(request, address)
				const response = viaServer ? await fetch(`${base}${c.path}`, init) : await h.gateway.app.handle(request)
				await response.arrayBuffer()
				status = response.status
			} catch (err) {
				// A header value fetch itself refuses (e.g. a NUL byte) never reaches the gateway.
				if (err instanceof TypeError && /header|Header/.test(err.message)) continue
				status = -1
				failures.push(`case ${i}: threw ${String(err).slice(0, 200)}`)
			}
			statuses.set(status, (statuses.get(status) ?? 0) + 1)
			if (status >= 500)
				failures.push(
					`case ${i} (seed ${SEED}): ${c.method} ${c.path.slice(0, 80)} -> ${status}; body ${String(c.body).slice(0, 160)}; headers ${JSON.stringify(c.headers).slice(0, 160)}`,
				)
			if (i % 500 === 0) rssPeak = Math.max(rssPeak, process.memoryUsage().rss)
		}
		Bun.gc(true)
		const rssAfter = process.memoryUsage().rss
		const seconds = (performance.now() - started) / 1000
		console.log(
			`fuzz: ${CASES} cases in ${seconds.toFixed(1)} s; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}; RSS ${(rssBefore / 2 ** 20).toFixed(0)} -> ${(rssAfter / 2 ** 20).toFixed(0)} MB (peak ${(rssPeak / 2 ** 20).toFixed(0)} MB)`,
		)
		expect(failures.slice(0, 10)).toEqual([])
		// Memory stays bounded: 10,000 requests of up to a few MB each must not accumulate.
		expect(rssAfter - rssBefore).toBeLessThan(256 * 2 ** 20)
		// Still serving.
		expect((await fetch(`${base}/health`)).status).toBe(200)
		expect((await h.chat({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'still there?' }] })).status).toBe(200)
	}, 120_000)
})
