/**
 * The panel in two languages: both catalogues hold every message (same keys, same placeholders),
 * the language comes from the cookie or Accept-Language and is switched by a link, and every
 * page and fragment rendered in zh-CN with populated data shows no English but names, models,
 * codes and units.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import { keyId, maskKey } from '../../../core/secrets.ts'
import { en } from '../../../views/i18n/en.ts'
import { CATALOGUES, chooseLang, fromAcceptLanguage, LANGS, type MessageKey, t } from '../../../views/i18n/i18n.ts'
import { SETTING_DOCS } from '../../../views/i18n/setting-docs.ts'
import { zhCN } from '../../../views/i18n/zh-CN.ts'
import { vendorOf } from '../../../views/models.ts'
import { FAKE_CATALOG } from '../../fake-gateway.ts'
import { harnessSet, KEYS, PANEL_PASSWORD } from '../../support.ts'
import { FORM, login, session } from './panel-support.ts'

const harnesses = harnessSet()
afterEach(() => harnesses.closeAll())

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort()

describe('message catalogues', () => {
	test('every language has every message, with the same placeholders, and none is empty', () => {
		const keys = Object.keys(en).sort()
		for (const lang of LANGS) {
			const catalogue = CATALOGUES[lang] as Record<string, string>
			expect({ lang, keys: Object.keys(catalogue).sort() }).toEqual({ lang, keys })
			for (const key of keys) {
				const text = catalogue[key] as string
				expect({ lang, key, empty: text.trim() === '' }).toEqual({ lang, key, empty: false })
				expect({ lang, key, vars: placeholders(text) }).toEqual({ lang, key, vars: placeholders(en[key as MessageKey]) })
			}
		}
	})

	test('the Chinese catalogue is Chinese: a message left in English is caught', () => {
		// Messages that are codes or units in every language.
		const same = new Set<string>(['usage.col.429', 'logs.level.error'])
		const untranslated = Object.entries(zhCN).filter(([key, text]) => !same.has(key) && /[A-Za-z]/.test(text) && !/[\u4e00-\u9fff]/.test(text))
		expect(untranslated).toEqual([])
	})

	test('every setting of a full app has its documentation in Chinese', async () => {
		const h = await harnesses.start()
		const missing = h.gateway.services.settings?.view().filter((s) => !SETTING_DOCS['zh-CN'][s.env]) ?? []
		expect(missing.map((s) => s.env)).toEqual([])
	})

	test('t fills placeholders; the language comes from the cookie, else Accept-Language, else English', () => {
		expect(t('zh-CN', 'keys.added', { n: 3 })).toBe('已添加 3 个密钥。')
		expect(t('en', 'keys.added', { n: 3 })).toBe('3 key(s) added.')
		expect(fromAcceptLanguage('zh-TW,zh;q=0.9,en;q=0.8')).toBe('zh-CN')
		expect(fromAcceptLanguage('fr-FR, en;q=0.5, zh;q=0.4')).toBe('en')
		expect(fromAcceptLanguage('en;q=0.3, zh-CN;q=0.9')).toBe('zh-CN')
		expect(fromAcceptLanguage('fr')).toBeNull()
		expect(chooseLang(null, 'zh-CN')).toBe('zh-CN')
		expect(chooseLang('en', 'zh-CN')).toBe('en')
		expect(chooseLang('klingon', 'zh-CN')).toBe('zh-CN')
		expect(chooseLang(undefined, null)).toBe('en')
	})
})

describe('language of the pages', () => {
	test('Accept-Language picks the login page language and <html lang>; the switch sets a cookie and comes back', async () => {
		const h = await harnesses.start()
		const zh = await (await h.call('/ui', { auth: null, headers: { 'accept-language': 'zh-CN,zh;q=0.9' } })).text()
		expect(zh).toContain('<html lang="zh-CN"')
		expect(zh).toContain('面板密码')
		const english = await (await h.call('/ui', { auth: null })).text()
		expect(english).toContain('<html lang="en"')
		expect(english).toContain('Panel password')
		// The switch: a link to /ui/lang/<lang>?back=<page>.
		expect(zh).toContain('href="/ui/lang/en?back=%2Fui"')
		const switched = await h.call('/ui/lang/zh-CN?back=%2Fui%2Fsettings', { auth: null })
		expect(switched.status).toBe(303)
		expect(switched.headers.get('location')).toBe('/ui/settings')
		expect(switched.headers.get('set-cookie')).toContain('amb2api_lang=zh-CN')
		// Never a way off the panel.
		for (const back of ['https://evil.example/', '//evil.example/ui/', '/ui/../admin']) {
			const away = await h.call(`/ui/lang/en?back=${encodeURIComponent(back)}`, { auth: null })
			expect(away.headers.get('location')).toBe('/ui')
		}
		// The cookie wins over the browser.
		const s = await session(h)
		const page = await (await h.call('/ui/keys', { auth: null, headers: { cookie: `${s.cookie}; amb2api_lang=zh-CN`, 'accept-language': 'en' } })).text()
		expect(page).toContain('<html lang="zh-CN"')
		expect(page).toContain('密钥与速率限制')
		const wrong = await login(h, 'wrong', '10.0.0.9', { 'accept-language': 'zh-CN' })
		expect(await wrong.text()).toContain('密码错误')
	})
})

/** Text a reader sees: text nodes and the attributes that are read out or shown (labels, placeholders, confirmations). */
function visibleText(markup: string): string[] {
	const out: string[] = []
	const attrs = /\s(?:placeholder|aria-label|title|alt|hx-confirm|data-confirm|data-copied|data-template|data-label-[a-z]+)="([^"]*)"/g
	for (const m of markup.matchAll(attrs)) out.push((m[1] as string).replace(/\{\w+\}/g, ' '))
	const text = markup
		.replace(/<(script|style)[\s\S]*?<\/\1>/g, ' ')
		// Codes, keys and log lines are data: their words are the data's.
		.replace(/<code[\s\S]*?<\/code>/g, ' ')
		.replace(/<li class="log [\s\S]*?<\/li>/g, ' ')
		.replace(/<[^>]+>/g, '\n')
	out.push(...text.split('\n'))
	const decode = (s: string) =>
		s
			.replace(/&lt;/g, '<')
			.replace(/&gt;/g, '>')
			.replace(/&quot;/g, '"')
			.replace(/&#39;/g, "'")
			.replace(/&amp;/g, '&')
	return out.map((s) => decode(s).trim()).filter(Boolean)
}

/** Words allowed in a zh page: units, protocol names, product and language names, levels and values that are codes. */
const ALLOWED = new Set(
	'amb2api English HTTP HTTPS UTC ms s min h kb mb gb KB MB GB URL JSON NDJSON CSRF SSE API id true false debug info warning error comment chunk all env off low medium high random conservative AssemblyAI Claude OpenAI Gemini base64 hex AES GCM Bearer X-Forwarded-For X-Forwarded-Proto Retry-After Cookie Secure model user host db schema search_path postgres redis rediss mongodb srv http https'.split(
		' ',
	),
)

/** Latin words left after removing the data of the page (names, models, keys, settings' names, plugin names). */
function strayEnglish(texts: string[], data: string[]): string[] {
	const sorted = [...new Set(data)].filter((d) => d.length >= 3 && !/^[\d.,]+$/.test(d)).sort((a, b) => b.length - a.length)
	const stray = new Set<string>()
	for (let text of texts) {
		for (const d of sorted) text = text.split(d).join(' ')
		// Identifiers with _ (cache_control, max_tokens), host names and paths are codes, kept whole.
		for (const word of text.match(/[A-Za-z0-9][A-Za-z0-9_./'-]*[A-Za-z0-9]|[A-Za-z0-9]/g) ?? []) {
			if (/[_./]/.test(word)) continue
			if (ALLOWED.has(word) || /\d/.test(word) || /^[A-Z0-9_]+$/.test(word) || /^[a-z0-9_-]+-[a-z0-9_-]+$/.test(word)) continue
			stray.add(word)
		}
	}
	return [...stray].sort()
}

describe('a zh-CN panel shows no stray English', () => {
	test('every page and fragment, populated, in Chinese', async () => {
		const h = await harnesses.start({ env: { LOG_LEVEL: '', AUTO_BAN: 'true' } })
		const s = await session(h)
		const cookie = `${s.cookie}; amb2api_lang=zh-CN`
		const page = async (path: string, init: { method?: string; form?: Record<string, string>; htmx?: boolean } = {}) => {
			const response = await h.call(path, {
				method: init.method ?? 'GET',
				auth: null,
				headers: { cookie, 'x-csrf-token': s.csrf, ...(init.htmx ? { 'hx-request': 'true' } : {}), ...(init.form ? FORM : {}) },
				body: init.form ? new URLSearchParams(init.form) : undefined,
			})
			return response.text()
		}
		// Data: successes, failures, a client key and its use, a disabled and a banned key, quotas.
		for (let i = 0; i < 3; i++) await h.chat({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'hi' }] })
		h.fake.fault(KEYS[2] as string, { kind: 'status', status: 500 }, { times: 1 })
		await h.chat({ model: 'gpt-5', messages: [{ role: 'user', content: 'hi' }] })
		await h.chat({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] })
		const created = await page('/ui/clients', {
			method: 'POST',
			htmx: true,
			form: {
				name: 'team-a',
				daily_limit: '5',
				allowed_models: 'claude-sonnet-4-6',
				budget_usd: '2',
				budget_period: 'week',
				rpm: '30',
				tpm: '5000',
				expires_date: '2031-05-06',
				expires_time: '17:45',
				tz: 'Asia/Shanghai',
			},
		})
		const clientKey = /id="created-key" readonly value="(sk-amb-[^"]+)"/.exec(created)?.[1] as string
		await h.chat({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'hi' }] }, clientKey)
		// Money: an unpriced model's use, a price override, and refusals said at their fields.
		// (A key with a budget refuses an unpriced model: its cost could not be held to the budget.)
		expect((await h.chat({ model: 'qwen3-next-80b-a3b', messages: [{ role: 'user', content: 'hi' }] })).status).toBe(200)
		const money = {
			priceSaved: await page('/ui/models/prices', { method: 'POST', htmx: true, form: { model: 'gpt-5', action: 'save', prompt: '0.5', completions: '4' } }),
			priceRefused: await page('/ui/models/prices', { method: 'POST', htmx: true, form: { model: 'gpt-5', action: 'save', prompt: '-1', completions: '' } }),
			priceRemoved: await page('/ui/models/prices', { method: 'POST', htmx: true, form: { model: 'claude-sonnet-4-6', action: 'remove' } }),
			clientPlain: await page('/ui/clients', { method: 'POST', htmx: true, form: { name: 'team-c' } }),
			clientRefused: await page('/ui/clients', { method: 'POST', htmx: true, form: { name: 'team-b', budget_usd: '-1' } }),
			clientZoneRefused: await page('/ui/clients', { method: 'POST', htmx: true, form: { name: 'team-b', expires_date: '2031-05-06', tz: 'Mars/Base' } }),
			spendRange: await page('/ui/usage/spend?from=2020-01-01&to=2026-01-01', { htmx: true }),
		}
		expect(money.priceRefused).toContain('aria-invalid="true"')
		expect(money.clientRefused).toContain('notice-error')
		expect(money.spendRange).toContain('notice-error')
		const [first, second] = [keyId(KEYS[0] as string), keyId(KEYS[1] as string)]
		const disabled = await page(`/ui/keys/${first}/disable`, { method: 'POST', htmx: true })
		await h.gateway.services.pool?.setStatus(second, 'banned', 'auto-ban: HTTP 401 from upstream: bad key')
		const quota = await page(`/ui/quotas/${first}`, { method: 'POST', htmx: true, form: { daily_limit: '50', new_model: 'claude-sonnet-4-6', new_limit: '9' } })
		const quotaRefused = await page(`/ui/quotas/${first}`, { method: 'POST', htmx: true, form: { new_model: 'claude-sonet-typo', new_limit: '9' } })
		const settingRefused = await page('/ui/settings', { method: 'POST', htmx: true, form: { log_body_max: 'lots' } })
		const settingSaved = await page('/ui/settings', { method: 'POST', htmx: true, form: { calls_per_rotation: '3' } })
		const modelsSaved = await page('/ui/models', { method: 'POST', htmx: true, form: { model: 'claude-sonnet-4-6' } })
		const tested = await page(`/ui/keys/${keyId(KEYS[2] as string)}/test`, { method: 'POST', htmx: true })
		await h.gateway.services.usage?.flush()
		const rendered: Record<string, string> = {
			...money,
			login: await (await h.call('/ui', { auth: null, headers: { cookie: 'amb2api_lang=zh-CN' } })).text(),
			loginRefused: await (await login(h, 'wrong', '10.0.0.7', { cookie: 'amb2api_lang=zh-CN' })).text(),
			disabled,
			quota,
			quotaRefused,
			settingRefused,
			settingSaved,
			modelsSaved,
			tested,
			created,
			logsCleared: await page('/ui/logs/clear', { method: 'POST', htmx: true }),
			status: await page('/ui/fragments/status', { htmx: true }),
			keysPoll: await page('/ui/fragments/keys', { htmx: true }),
		}
		const playgroundForm = {
			model: 'claude-sonnet-4-6',
			user: 'hello-world',
			system: 'be-brief',
			temperature: '0.5',
			max_tokens: '64',
			top_p: '0.9',
			reasoning_effort: 'low',
		}
		rendered.playgroundPreview = await page('/ui/playground/preview', { method: 'POST', htmx: true, form: playgroundForm })
		rendered.playgroundSent = await page('/ui/playground/send', { method: 'POST', htmx: true, form: { ...playgroundForm, stream: '1' } })
		rendered.playgroundRefused = await page('/ui/playground/send', { method: 'POST', form: { ...playgroundForm, tools: '[oops-oops' } })
		expect(rendered.playgroundSent).toContain('data-cost')
		for (const name of ['overview', 'requests', 'performance', 'keys', 'models', 'usage', 'quotas', 'clients', 'playground', 'settings', 'logs', 'storage'])
			rendered[name] = await page(`/ui/${name}`)
		await h.gateway.services.requestLog?.flush()
		const logged = ((await (await h.admin('/admin/requests')).json()) as { data: { id: string }[] }).data[0]?.id as string
		rendered.requestDetail = await page(`/ui/requests/${encodeURIComponent(logged)}`)
		expect(rendered.requestDetail).toContain('data-stage="answer"')
		expect(rendered.keys).toContain('<html lang="zh-CN"')
		expect(rendered.usage).toContain('team-a')
		// The money parts are on their pages, populated: spend with an unpriced model, prices, a client's budget and expiry.
		expect(rendered.usage).toContain('<section id="spend">')
		expect(rendered.usage).toContain('data-unpriced')
		expect(rendered.models).toContain('data-source="override"')
		expect(rendered.clients).toContain('data-field="budget-left"')
		expect(rendered.clients).toContain('datetime="2031-05-06T09:45:00.000Z"')
		expect(rendered.tested).toContain('HTTP')
		// The data on these pages: names, model ids and names, masked keys, setting names, plugin names, paths.
		const settings = h.gateway.services.settings?.view() ?? []
		const data = [
			...FAKE_CATALOG.flatMap((m) => [m.id, String(m.name ?? ''), vendorOf(m)]),
			...settings.flatMap((st) => [st.env, st.owner, String(st.stored ?? ''), Array.isArray(st.value) ? st.value.join(',') : String(st.value ?? '')]),
			...KEYS.map(maskKey),
			'team-a',
			'team-b',
			'team-c',
			'YYYY-MM-DD',
			'Mars/Base',
			'bad key',
			'claude-sonet-typo',
			'no-such-model',
			'/v1/models',
			'/v1/*',
			'/admin/*',
			'/admin/keys',
			'/chat/completions',
			'/models',
			'GET /metrics',
			'/metrics',
			'assembly-client',
			'admin-panel,docs',
			'"all"',
			'CREDENTIALS_DIR/secrets.key',
			'http(s)',
			'HTTP(S)',
			'假流式/<model>',
			'流式抗截断/<model>',
			'model_region',
			'postgres://user@host:5432/db[?search_path=schema]',
			'mongodb://',
			'mongodb+srv://',
			'redis://',
			'rediss://',
			'memory',
			// The playground's answer is the fake's echo of the message.
			'Echo: hello-world',
			// The request log's client column for a request sent from the playground.
			'panel',
			// The request log's dialects are codes.
			'openai',
			'anthropic',
			'gemini',
			'responses',
		]
		for (const [name, markup] of Object.entries(rendered)) {
			expect({ name, stray: strayEnglish(visibleText(markup), data) }).toEqual({ name, stray: [] })
		}
		// The same pages in English really are English (the check is not vacuous).
		const english = await (await h.call('/ui/keys', { auth: null, headers: { cookie: s.cookie } })).text()
		expect(strayEnglish(visibleText(english), data).length).toBeGreaterThan(10)
		expect(PANEL_PASSWORD).not.toBe('')
	})
})
