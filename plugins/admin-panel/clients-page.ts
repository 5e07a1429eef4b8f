/** Client keys: create (shown once), list, edit limits, budget, rate limits, allow-list and expiry, reset counters, revoke. */
import { Elysia } from 'elysia'
import { BUDGET_PERIODS, type ClientsState, clientsView, createClientForm } from '../../views/clients.ts'
import { html } from '../../views/html.ts'
import type { Translator } from '../../views/i18n/i18n.ts'
import { fromWallClock, isTimeZone } from '../../views/zoned-time.ts'
import type { ClientKeys, ClientPatch } from '../client-keys/client-keys.ts'
import { FormError, field, guard, intField, label, message, type PanelKit, postedForm, show, type Visitor } from './http.ts'

/** The most a budget may be, as the admin API allows. */
const MAX_BUDGET_USD = 1_000_000_000

/** Expiry from a date, an optional time (midnight) and the zone the form used; epoch seconds, or null for none. */
function expiryFrom(form: FormData, now: number): number | null {
	const date = field(form, 'expires_date')
	const time = field(form, 'expires_time')
	if (date === null) {
		if (time !== null) throw new FormError('clients.expiresDate')
		return null
	}
	const zone = field(form, 'tz') ?? 'UTC'
	if (!isTimeZone(zone)) throw new FormError('clients.badZone', { zone: zone.slice(0, 64) })
	const ms = fromWallClock(date, time ?? '00:00', zone)
	if (ms === null) throw new FormError('clients.expiresDate')
	// A key born expired, or made so by a typo in the year, is a mistake, not a wish.
	if (ms <= now) throw new FormError('clients.expiresPast')
	return Math.floor(ms / 1000)
}

/** Budget and per-minute limits from the form; an empty field is none. */
function spendFrom(form: FormData): Pick<ClientPatch, 'budget_usd' | 'budget_period' | 'rpm' | 'tpm'> {
	const budget = field(form, 'budget_usd')
	const amount = budget === null ? null : Number(budget)
	if (amount !== null && !(Number.isFinite(amount) && amount > 0 && amount <= MAX_BUDGET_USD)) throw new FormError('clients.budgetPositive')
	const period = BUDGET_PERIODS.find((p) => p === (field(form, 'budget_period') ?? 'total'))
	if (!period) throw new FormError('clients.badPeriod')
	return {
		budget_usd: amount,
		budget_period: period,
		rpm: intField(form, 'rpm', label('clients.labelRpm')),
		tpm: intField(form, 'tpm', label('clients.labelTpm')),
	}
}

function patchFrom(form: FormData, now: number): ClientPatch & { name: string } {
	const name = field(form, 'name')
	if (!name) throw new FormError('clients.needName')
	if (name.length > 200) throw new FormError('clients.nameLong')
	const models = field(form, 'allowed_models')
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
		expires_at: expiryFrom(form, now),
		...spendFrom(form),
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
					const { key, record } = await deps.clientKeys.create(patchFrom(form, kit.now()))
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
					const patch = { ...patchFrom(form, kit.now()), enabled: form.get('enabled') === '1' }
					if (!(await deps.clientKeys.update(params.id, patch))) throw new FormError('clients.noSuch')
					const reset = form.get('reset_used') === '1'
					if (reset) await deps.clientKeys.resetUsed(params.id)
					return answer(request, v, { message: v.t(reset ? 'clients.savedReset' : 'clients.saved', { name: patch.name }) })
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
