/**
 * GET /admin/settings: every setting with owner, doc, value (secrets only as set / not set),
 * source and whether the environment locks it. PUT /admin/settings: writes stored runtime
 * settings, each validated by its own parser; every instance applies them within seconds.
 * POST /admin/panel-password: changes a stored panel password, which ends every session.
 */
import { Elysia, t } from 'elysia'
import { BadRequestError } from '../../core/errors.ts'
import { hashPassword } from '../../core/secrets.ts'
import type { SettingsCatalog } from '../../core/settings-catalog.ts'
import type { SettingsWatch } from '../../core/settings-watch.ts'
import { type AdminAuth, requirePanelAuth } from '../admin-auth/admin-auth.ts'

const tags = ['Admin']
const security = [{ bearer: [] }]

export const settingsAdmin = (deps: { auth: AdminAuth; catalog: SettingsCatalog; watch: SettingsWatch }) =>
	new Elysia({ name: 'settings-admin', prefix: '/admin' })
		.onTransform(requirePanelAuth(deps.auth))
		.get('/settings', () => ({ settings: deps.catalog.view() }), { detail: { summary: 'Every setting, its value and source', tags, security } })
		.put(
			'/settings',
			async ({ body }) => {
				const changed = await deps.watch.save(body)
				return { changed, settings: deps.catalog.view() }
			},
			{
				body: t.Record(
					t.String({ maxLength: 100 }),
					t.Union([t.String({ maxLength: 10_000 }), t.Number(), t.Boolean(), t.Null(), t.Array(t.Union([t.String(), t.Number()]), { maxItems: 1000 })]),
				),
				detail: {
					summary: 'Change stored runtime settings',
					description:
						'Keys are stored field names (see GET: `stored`); null removes the stored value. A setting the environment locks answers 400 setting_locked.',
					tags,
					security,
				},
			},
		)
		.post(
			'/panel-password',
			async ({ body }) => {
				if (body.password.length < 12) throw new BadRequestError('password must have at least 12 characters', 'password')
				await deps.auth.changePassword(body.current, body.password, (p) => hashPassword(p))
				return { changed: true }
			},
			{
				body: t.Object({ current: t.String({ maxLength: 1000 }), password: t.String({ maxLength: 1000 }) }),
				detail: { summary: 'Change the stored panel password (ends every session)', tags, security },
			},
		)
