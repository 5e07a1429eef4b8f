/** Settings: every setting with its source; stored runtime settings are editable; the panel password. */
import { Elysia } from 'elysia'
import { hashPassword } from '../../core/secrets.ts'
import type { SettingsCatalog } from '../../core/settings-catalog.ts'
import type { SettingsWatch } from '../../core/settings-watch.ts'
import { type SettingsState, settingsView } from '../../views/settings.ts'
import { SESSION_COOKIE } from '../admin-auth/admin-auth.ts'
import { FormError, guard, message, type PanelKit, postedForm, SECURITY_HEADERS, show } from './http.ts'

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
				return show(kit, request, v, 'settings', 'Settings', settingsView(state()))
			},
			{ detail: { hide: true } },
		)
		.post(
			'/ui/settings',
			async ({ request }) => {
				const v = await guard(kit, request)
				if (v instanceof Response) return v
				const form = await postedForm(kit, request, v)
				let extra: Partial<SettingsState>
				try {
					// Only fields that differ from the value in force: an unchanged field keeps its source.
					const current = new Map(deps.catalog.view().map((s) => [s.stored, s]))
					const patch: Record<string, string | null> = {}
					for (const [name, value] of form.entries()) {
						const setting = current.get(name)
						if (!setting || typeof value !== 'string' || setting.locked || setting.secret) continue
						const shown =
							setting.value === null || setting.value === undefined ? '' : Array.isArray(setting.value) ? setting.value.join(',') : String(setting.value)
						if (value.trim() === shown) continue
						patch[name] = value.trim() === '' ? null : value.trim()
					}
					const changed = await deps.watch.save(patch)
					extra = { message: changed.length ? `Saved: ${changed.join(', ')}.` : 'Nothing changed.' }
				} catch (err) {
					extra = { error: message(err) }
				}
				return show(kit, request, v, 'settings', 'Settings', settingsView(state(extra)))
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
					if (typeof current !== 'string' || typeof next !== 'string' || next.length < 12) throw new FormError('The new password needs at least 12 characters.')
					await kit.auth.changePassword(current, next, (p) => hashPassword(p))
				} catch (err) {
					return show(kit, request, v, 'settings', 'Settings', settingsView(state({ error: message(err) })))
				}
				return new Response(null, {
					status: 303,
					headers: { location: '/ui', 'set-cookie': `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`, ...SECURITY_HEADERS },
				})
			},
			{ parse: 'none', detail: { hide: true } },
		)
}
