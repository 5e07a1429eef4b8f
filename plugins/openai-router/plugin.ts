/** The OpenAI API: GET /v1/models and POST /v1/chat/completions; the model selection (/admin/models). */
import { definePlugin } from '../../core/plugin.ts'
import { ModelSelection, modelsAdmin } from './model-selection.ts'
import { ConcurrencyLimit } from './concurrency-limit.ts'
import { openaiRouter } from './routes.ts'

declare module '../../core/plugin.ts' {
	interface Services {
		modelSelection: ModelSelection
		/** MAX_CONCURRENT_REQUESTS, shared by every API dialect. */
		requestLimit: ConcurrencyLimit
	}
}

export const plugin = definePlugin({
	name: 'openai-router',
	description: 'the OpenAI-compatible API: /v1/models and /v1/chat/completions',
	optional: false,
	needs: ['assembly', 'chat', 'catalog', 'apiAuth', 'storage', 'adminAuth'],
	provides: ['modelSelection', 'requestLimit'],
	setup: ({ services, config }) => {
		const selection = new ModelSelection(services.storage)
		const limit = new ConcurrencyLimit(config.limits.maxConcurrent)
		return {
			services: { modelSelection: selection, requestLimit: limit },
			routes: openaiRouter({
				client: services.assembly,
				chat: services.chat,
				catalog: services.catalog,
				auth: services.apiAuth,
				selectedModels: () => selection.get(),
				maxBodyBytes: config.limits.maxBodyBytes,
				limit,
			}).use(modelsAdmin({ auth: services.adminAuth, selection, catalog: services.catalog })),
		}
	},
})
