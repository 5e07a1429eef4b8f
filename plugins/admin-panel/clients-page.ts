/** Client keys: create (shown once), list, edit limits, allow-list and expiry, revoke. */
import { Elysia } from 'elysia'
import { html } from '../../views/html.ts'
import { type ClientsState, clientsView, createClientForm } from '../../views/clients.ts'
import type { ClientKeys, ClientPatch } from '../client-keys/client-keys.ts'
import { FormError, field, guard, intField, message, type PanelKit, postedForm, show } from './http.ts'

function patchFrom(form: FormData): ClientPatch & { name: string } {
	const name = field(form, 'name')
	if (!name) throw new FormError('A client key needs a name.')
	if (name.length > 200) throw new FormError('The name has at most 200 characters.')
	const models = field(form, 'allowed_models')
	const expires = field(form, 'expires')
	let expiresAt: number | null = null
	if (expires) {
		// A date (midnight) or a date and time, both in UTC as the form says.
		const dated = /^\d{4}-\d{2}-\d{2}$/.test(expires)
		const timed = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(expires)
		const ms = Date.parse(dated ? `${expires}T00:00:00Z` : `${expires}:00Z`)
		if (!(dated || timed) || !Number.isFinite(ms)) throw new FormError('Expires must be a date and time (UTC).')
		expiresAt = Math.floor(ms / 1000)
	}
	return {
		name,
		daily_limit: intField(form, 'daily_limit', 'The daily limit'),
		total_limit: intField(form, 'total_limit', 'The total limit'),
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
		...spendFrom(form),
	}
}

const PERIODS = ['day', 'week', 'month', 'total'] as const

/** Budget and per-minute limits from the form; an empty field = none. */
function spendFrom(form: FormData): Pick<ClientPatch, 'budget_usd' | 'budget_period' | 'rpm' | 'tpm'> {
	const budget = field(form, 'budget_usd')
	const amount = budget === null ? null : Number(budget)
	if (amount !== null && !(Number.isFinite(amount) && amount > 0 && amount <= 1_000_000_000))
		throw new FormError('The budget must be a positive amount of USD.')
	const period = field(form, 'budget_period') ?? 'total'
	const known = PERIODS.find((p) => p === period)
	if (!known) throw new FormError('The budget period must be day, week, month or total.')
	return { budget_usd: amount, budget_period: known, rpm: intField(form, 'rpm', 'Requests per minute'), tpm: intField(form, 'tpm', 'Tokens per minute') }
}

export const clientsPage = (kit: PanelKit, deps: { clientKeys: ClientKeys }) => {
	const state = async (extra: Partial<ClientsState> = {}): Promise<ClientsState> => {
		try {
			return { clients: await deps.clientKeys.views(await deps.clientKeys.list()), ...extra }
		} catch (err) {
			return { clients: null, error: `Client keys cannot be read: ${message(err)}` }
		}
	}
	const answer = async (request: Request, v: Exclude<Awaited<ReturnType<typeof guard>>, Response>, extra: Partial<ClientsState>) =>
		show(kit, request, v, 'clients', 'Client keys', clientsView(await state(extra)))
	return new Elysia({ name: 'panel-clients' })
		.get(
			'/ui/clients',
			async ({ request }) => {
				const v = await guard(kit, request)
				if (v instanceof Response) return v
				const list = clientsView(await state())
				return show(kit, request, v, 'clients', 'Client keys', list, html`${createClientForm()}${list}`)
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
					return answer(request, v, { error: message(err) })
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
					if (!(await deps.clientKeys.update(params.id, patch))) throw new FormError('No such client key.')
					return answer(request, v, { message: `Client key ${patch.name} saved.` })
				} catch (err) {
					return answer(request, v, { error: message(err) })
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
					if (!(await deps.clientKeys.remove(params.id))) throw new FormError('No such client key.')
					return answer(request, v, { message: 'Client key revoked.' })
				} catch (err) {
					return answer(request, v, { error: message(err) })
				}
			},
			{ parse: 'none', detail: { hide: true } },
		)
}
