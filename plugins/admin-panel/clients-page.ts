/** Client keys: create (shown once), list, edit limits, allow-list and expiry, revoke. */
import { Elysia } from 'elysia'
import { html } from '../../views/html.ts'
import { type ClientsState, clientsView, createClientForm } from '../../views/clients.ts'
import type { ClientKeys, ClientPatch } from '../client-keys/client-keys.ts'
import type { Translator } from '../../views/i18n/i18n.ts'
import { FormError, field, guard, intField, label, message, type PanelKit, postedForm, show, type Visitor } from './http.ts'

function patchFrom(form: FormData): ClientPatch & { name: string } {
	const name = field(form, 'name')
	if (!name) throw new FormError('clients.needName')
	if (name.length > 200) throw new FormError('clients.nameLong')
	const models = field(form, 'allowed_models')
	const expires = field(form, 'expires')
	let expiresAt: number | null = null
	if (expires) {
		const ms = Date.parse(`${expires}T00:00:00Z`)
		if (!/^\d{4}-\d{2}-\d{2}$/.test(expires) || !Number.isFinite(ms)) throw new FormError('clients.expiresDate')
		expiresAt = Math.floor(ms / 1000)
	}
	return {
		name,
		daily_limit: intField(form, 'daily_limit', label('clients.labelDaily')),
		total_limit: intField(form, 'total_limit', label('clients.labelTotal')),
		allowed_models: models
			? [
					...new Set(
						models
							.split(',')
							.map((m) => m.trim())
							.filter(Boolean),
					),
				].slice(0, 1000)
			: null,
		expires_at: expiresAt,
	}
}

export const clientsPage = (kit: PanelKit, deps: { clientKeys: ClientKeys }) => {
	const state = async (t: Translator, extra: Partial<ClientsState> = {}): Promise<ClientsState> => {
		try {
			return { clients: await deps.clientKeys.views(await deps.clientKeys.list()), ...extra }
		} catch (err) {
			return { clients: null, error: t('clients.unreadableWhy', { error: message(err) }) }
		}
	}
	const answer = async (request: Request, v: Visitor, extra: Partial<ClientsState>) =>
		show(kit, request, v, 'clients', clientsView(v.t, await state(v.t, extra)))
	return new Elysia({ name: 'panel-clients' })
		.get(
			'/ui/clients',
			async ({ request }) => {
				const v = await guard(kit, request)
				if (v instanceof Response) return v
				const list = clientsView(v.t, await state(v.t))
				return show(kit, request, v, 'clients', list, html`${createClientForm(v.t)}${list}`)
			},
			{ detail: { hide: true } },
		)
		.post(
			'/ui/clients',
			async ({ request }) => {
				const v = await guard(kit, request)
				if (v instanceof Response) return v
				const form = await postedForm(kit, request, v)
				try {
					const { key, record } = await deps.clientKeys.create(patchFrom(form))
					return answer(request, v, { created: { name: record.name, key } })
				} catch (err) {
					return answer(request, v, { error: message(err, v.t) })
				}
			},
			{ parse: 'none', detail: { hide: true } },
		)
		.post(
			'/ui/clients/:id',
			async ({ request, params }) => {
				const v = await guard(kit, request)
				if (v instanceof Response) return v
				const form = await postedForm(kit, request, v)
				try {
					const patch = { ...patchFrom(form), enabled: form.get('enabled') === '1' }
					if (!(await deps.clientKeys.update(params.id, patch))) throw new FormError('clients.noSuch')
					return answer(request, v, { message: v.t('clients.saved', { name: patch.name }) })
				} catch (err) {
					return answer(request, v, { error: message(err, v.t) })
				}
			},
			{ parse: 'none', detail: { hide: true } },
		)
		.post(
			'/ui/clients/:id/revoke',
			async ({ request, params }) => {
				const v = await guard(kit, request)
				if (v instanceof Response) return v
				await postedForm(kit, request, v)
				try {
					if (!(await deps.clientKeys.remove(params.id))) throw new FormError('clients.noSuch')
					return answer(request, v, { message: v.t('clients.revoked') })
				} catch (err) {
					return answer(request, v, { error: message(err, v.t) })
				}
			},
			{ parse: 'none', detail: { hide: true } },
		)
}
