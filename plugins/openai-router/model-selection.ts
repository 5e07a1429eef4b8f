/**
 * Which models `/v1/models` offers: the stored `available_models_selected` (null or empty = every
 * catalog model). GET/PUT /admin/models; the panel's Models page goes through the same service.
 */
import { Elysia, t } from 'elysia'
import { BadRequestError } from '../../core/errors.ts'
import type { Storage } from '../../core/storage.ts'
import { type AdminAuth, requirePanelAuth } from '../admin-auth/admin-auth.ts'
import type { ModelCatalog } from '../assembly-client/model-catalog.ts'

export const SELECTION_FIELD = 'available_models_selected'

export class ModelSelection {
	constructor(private readonly storage: Storage) {}

	/** The stored selection, or null (every model). */
	async get(): Promise<string[] | null> {
		const selection = (await this.storage.loadSettings())[SELECTION_FIELD]
		return Array.isArray(selection) && selection.length ? selection.filter((m): m is string => typeof m === 'string') : null
	}

	/** Stores a selection (null or [] = every model); ids are trimmed, de-duplicated and bounded. */
	async set(models: readonly string[] | null): Promise<string[] | null> {
		const clean = models === null ? [] : [...new Set(models.map((m) => m.trim()).filter(Boolean))]
		if (clean.length > 1000) throw new BadRequestError('models: at most 1000 ids', 'models')
		const bad = clean.find((m) => m.length > 200 || /[\u0000-\u001f]/.test(m))
		if (bad !== undefined) throw new BadRequestError('models: every id must be 1 to 200 printable characters', 'models')
		await this.storage.saveSettings({ [SELECTION_FIELD]: clean.length ? clean : null })
		return clean.length ? clean : null
	}
}

const tags = ['Admin']
const security = [{ bearer: [] }]

export const modelsAdmin = (deps: { auth: AdminAuth; selection: ModelSelection; catalog: ModelCatalog }) =>
	new Elysia({ name: 'models-admin', prefix: '/admin' })
		.onTransform(requirePanelAuth(deps.auth))
		.get('/models', async () => ({ catalog: await deps.catalog.list(), selected: await deps.selection.get() }), {
			detail: {
				summary: 'The upstream model catalog and the stored selection',
				description: '`catalog` is null when the upstream catalog cannot be fetched; `selected` null = every model.',
				tags,
				security,
			},
		})
		.put('/models/selection', async ({ body }) => ({ selected: await deps.selection.set(body.models) }), {
			body: t.Object({ models: t.Union([t.Array(t.String({ maxLength: 200 }), { maxItems: 1000 }), t.Null()]) }),
			detail: { summary: 'Choose which models /v1/models offers', description: 'Writes available_models_selected; null or [] = every model.', tags, security },
		})
