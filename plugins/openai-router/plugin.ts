/** The OpenAI API: GET /v1/models and POST /v1/chat/completions; the model selection (/admin/models). */
import { Elysia } from 'elysia'
import { definePlugin } from '../../core/plugin.ts'
import { ModelSelection, modelsAdmin } from './model-selection.ts'
import { openaiRouter } from './routes.ts'

declare module '../../core/plugin.ts' {
	interface Services {
		modelSelection: ModelSelection
	}
}

export const plugin = definePlugin({
	name: 'openai-router',
	description: 'the OpenAI-compatible API: /v1/models and /v1/chat/completions',
	optional: false,
	needs: ['chat', 'catalog', 'apiAuth', 'storage', 'adminAuth'],
	provides: ['modelSelection'],
	setup: ({ services }) => {
		const selection = new ModelSelection(services.storage)
		return {
			services: { modelSelection: selection },
			// The admin routes are mounted beside the router, not inside it: the router's API-key
			// check applies to every route registered after it, and /admin takes the panel password.
			routes: new Elysia({ name: 'openai-router-routes' }).use(modelsAdmin({ auth: services.adminAuth, selection, catalog: services.catalog })).use(
				openaiRouter({
					chat: services.chat,
					catalog: services.catalog,
					auth: services.apiAuth,
					selectedModels: () => selection.get(),
				}),
			),
		}
	},
})
