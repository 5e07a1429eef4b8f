/** Settings: every setting with its source; stored runtime settings are editable; the panel password. */
import { Elysia } from 'elysia'
import { GatewayError } from '../../core/errors.ts'
import { hashPassword } from '../../core/secrets.ts'
import type { SettingsCatalog, SettingView } from '../../core/settings-catalog.ts'
import type { SettingsWatch } from '../../core/settings-watch.ts'
import type { Translator } from '../../views/i18n/i18n.ts'
import { type SettingsState, settingsView, showValue } from '../../views/settings.ts'
import { SESSION_COOKIE } from '../admin-auth/admin-auth.ts'
import { FormError, guard, message, type PanelKit, postedForm, SECURITY_HEADERS, show } from './http.ts'

/**
 * Why a value was refused, in the visitor's language. The parsers (core/config.ts) say it in
 * English with the stored field's name; the operator reads the setting's own (environment) name.
 */
export function refusal(t: Translator, setting: SettingView, err: GatewayError): string {
	const text = err.message
	const range = /between (-?[\d.]+) and (-?[\d.]+)/.exec(text)
	let reason: string
	if (err.code === 'setting_locked') reason = t('settings.err.locked')
	else if (/must be an integer/.test(text) && range) reason = t('settings.err.int', { min: range[1] as string, max: range[2] as string })
	else if (/must be a number of seconds/.test(text) && range) reason = t('settings.err.seconds', { min: range[1] as string, max: range[2] as string })
	else if (/must be true or false/.test(text)) reason = t('settings.err.bool')
	else if (/must be an http\(s\) URL/.test(text)) reason = t('settings.err.url')
	else if (/must be a size between/.test(text)) reason = t('settings.err.size')
	else if (/must be one of/.test(text)) reason = t('settings.err.choice', { choices: setting.choices?.join(', ') ?? text.replace(/^.*must be one of /, '') })
	else reason = t('settings.err.other', { detail: text.replace(/^[\w .]+(=".*?")?: /, '') })
	return t('settings.refused', { env: setting.env, reason })
}

export const settingsPage = (kit: PanelKit, deps: { catalog: SettingsCatalog; watch: SettingsWatch }) => {
	const state = (extra: Partial<SettingsState> = {}): SettingsState => ({
		settings: deps.catalog.view(),
		passwordChangeable: kit.auth.passwordChangeable,
		...extra,
	})
	return new Elysia({ name: 'panel-settings' })
		.get(
			'/ui/settings',
			async ({ request }) => {
				const v = await guard(kit, request)
				if (v instanceof Response) return v
				return show(kit, request, v, 'settings', settingsView(v.t, state()))
			},
			{ detail: { hide: true } },
		)
		.post(
			'/ui/settings',
			async ({ request }) => {
				const v = await guard(kit, request)
				if (v instanceof Response) return v
				const form = await postedForm(kit, request, v)
				const current = new Map(deps.catalog.view().map((s) => [s.stored, s]))
				const patch: Record<string, string | null> = {}
				let extra: Partial<SettingsState>
				try {
					// Only fields that differ from the value in force: an unchanged field keeps its source.
					for (const [name, value] of form.entries()) {
						const setting = current.get(name)
						if (!setting || typeof value !== 'string' || setting.locked || setting.secret) continue
						if (value.trim() === showValue(setting.value)) continue
						patch[name] = value.trim() === '' ? null : value.trim()
					}
					const changed = await deps.watch.save(patch)
					// Named as the operator knows them: the environment names.
					// Only what this form changed: the watch also reports a stored value another page or
					// instance changed meanwhile (the Models page's selection), which this form did not touch.
					const names = changed.filter((stored) => stored in patch).map((stored) => current.get(stored)?.env ?? stored)
					extra = { message: names.length ? v.t('settings.saved', { names: names.join(', ') }) : v.t('settings.nothing') }
				} catch (err) {
					const setting = err instanceof GatewayError && err.param ? current.get(err.param) : undefined
					if (setting && err instanceof GatewayError) {
						const draft = Object.fromEntries(Object.entries(patch).map(([k, value]) => [k, value ?? '']))
						const text = refusal(v.t, setting, err)
						extra = { error: text, invalid: { env: setting.env, message: text }, draft }
					} else extra = { error: message(err, v.t) }
				}
				return show(kit, request, v, 'settings', settingsView(v.t, state(extra)))
			},
			{ parse: 'none', detail: { hide: true } },
		)
		.post(
			'/ui/password',
			async ({ request }) => {
				const v = await guard(kit, request)
				if (v instanceof Response) return v
				const form = await postedForm(kit, request, v)
				try {
					const current = form.get('current')
					const next = form.get('password')
					if (typeof current !== 'string' || typeof next !== 'string' || next.length < 12) throw new FormError('settings.pwShort')
					await kit.auth.changePassword(current, next, (p) => hashPassword(p))
				} catch (err) {
					const code = err instanceof GatewayError ? err.code : null
					const text = code === 'wrong_password' ? v.t('settings.pwWrong') : code === 'password_from_env' ? v.t('settings.pwFromEnv') : message(err, v.t)
					return show(kit, request, v, 'settings', settingsView(v.t, state({ error: text })))
				}
				return new Response(null, {
					status: 303,
					headers: { location: '/ui', 'set-cookie': `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`, ...SECURITY_HEADERS },
				})
			},
			{ parse: 'none', detail: { hide: true } },
		)
}
