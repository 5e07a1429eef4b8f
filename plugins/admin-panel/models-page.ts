/** Models: the upstream catalog with its metadata; choose what /v1/models offers. */
import { Elysia } from 'elysia'
import { type ModelsState, modelsView } from '../../views/models.ts'
import type { ModelCatalog } from '../assembly-client/model-catalog.ts'
import type { ModelSelection } from '../openai-router/model-selection.ts'
import { guard, message, type PanelKit, postedForm, show } from './http.ts'

export const modelsPage = (kit: PanelKit, deps: { catalog: ModelCatalog; selection: ModelSelection }) => {
	const state = async (extra: Partial<ModelsState> = {}): Promise<ModelsState> => {
		try {
			const [catalog, selected] = await Promise.all([deps.catalog.list(), deps.selection.get()])
			return { catalog, selected, ...extra }
		} catch (err) {
			return { catalog: null, selected: null, error: message(err) }
		}
	}
	return new Elysia({ name: 'panel-models' })
		.get(
			'/ui/models',
			async ({ request }) => {
				const v = await guard(kit, request)
				if (v instanceof Response) return v
				return show(kit, request, v, 'models', modelsView(v.t, await state()))
			},
			{ detail: { hide: true } },
		)
		.post(
			'/ui/models',
			async ({ request }) => {
				const v = await guard(kit, request)
				if (v instanceof Response) return v
				const form = await postedForm(kit, request, v)
				let extra: Partial<ModelsState>
				try {
					const all = form.get('all') === '1'
					const models = all ? null : form.getAll('model').filter((m): m is string => typeof m === 'string')
					const saved = await deps.selection.set(models)
					extra = { message: saved ? v.t('models.saved', { n: saved.length }) : v.t('models.savedAll') }
				} catch (err) {
					extra = { error: message(err, v.t) }
				}
				return show(kit, request, v, 'models', modelsView(v.t, await state(extra)))
			},
			{ parse: 'none', detail: { hide: true } },
		)
}
