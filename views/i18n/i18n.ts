/**
 * The panel's languages: one message catalogue per language (en.ts is the source of the keys,
 * every other catalogue is typed against it), a translator that fills `{name}` placeholders, and
 * the choice of language from the cookie, else Accept-Language.
 */
import { en } from './en.ts'
import { zhCN } from './zh-CN.ts'

export type MessageKey = keyof typeof en
/** A catalogue must have every key of en.ts, and no other: a missing or stray key is a type error. */
export type Catalogue = { readonly [K in MessageKey]: string }
export type Vars = Readonly<Record<string, string | number>>

export const LANGS = ['en', 'zh-CN'] as const
export type Lang = (typeof LANGS)[number]
export const DEFAULT_LANG: Lang = 'en'
export const LANG_COOKIE = 'amb2api_lang'

export const CATALOGUES: Readonly<Record<Lang, Catalogue>> = { en, 'zh-CN': zhCN }

/** What views receive: translate a key, and know the language (for `<html lang>` and number formats). */
export interface Translator {
	(key: MessageKey, vars?: Vars): string
	readonly lang: Lang
}

/** Fills `{name}` placeholders; a placeholder without a value stays visible, so a test sees it. */
export function format(template: string, vars: Vars = {}): string {
	return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole))
}

export function t(lang: Lang, key: MessageKey, vars?: Vars): string {
	return format(CATALOGUES[lang][key], vars)
}

const cache = new Map<Lang, Translator>()

export function translator(lang: Lang): Translator {
	let found = cache.get(lang)
	if (!found) {
		found = Object.assign((key: MessageKey, vars?: Vars) => t(lang, key, vars), { lang })
		cache.set(lang, found)
	}
	return found
}

export function isLang(value: unknown): value is Lang {
	return typeof value === 'string' && (LANGS as readonly string[]).includes(value)
}

/** The best of our languages for an Accept-Language header (any zh-* reads Chinese), or null. */
export function fromAcceptLanguage(header: string | null): Lang | null {
	if (!header) return null
	const ranked = header
		.split(',')
		.map((part, index) => {
			const [tag = '', ...params] = part.trim().split(';')
			const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined)
			return { tag: tag.trim().toLowerCase(), q: q === undefined ? 1 : Number(q), index }
		})
		.filter((r) => r.tag && Number.isFinite(r.q) && r.q > 0)
		.sort((a, b) => b.q - a.q || a.index - b.index)
	for (const { tag } of ranked) {
		if (tag === 'zh' || tag.startsWith('zh-')) return 'zh-CN'
		if (tag === 'en' || tag.startsWith('en-')) return 'en'
	}
	return null
}

/** The cookie wins (the operator chose it), then the browser's languages, then English. */
export function chooseLang(cookieValue: string | null | undefined, acceptLanguage: string | null): Lang {
	if (isLang(cookieValue)) return cookieValue
	return fromAcceptLanguage(acceptLanguage) ?? DEFAULT_LANG
}
