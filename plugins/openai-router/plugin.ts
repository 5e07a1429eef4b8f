/** The OpenAI API: GET /v1/models and POST /v1/chat/completions. */
import { definePlugin } from '../../core/plugin.ts'
import { ConcurrencyLimit } from './concurrency-limit.ts'
import { openaiRouter } from './routes.ts'

export const plugin = definePlugin({
	name: 'openai-router',
	description: 'the OpenAI-compatible API: /v1/models and /v1/chat/completions',
	optional: false,
	needs: ['assembly', 'catalog', 'apiAuth', 'storage'],
	setup: ({ services, config }) => {
		const selectedModels = async () => {
			const selection = (await services.storage.loadSettings()).available_models_selected
			return Array.isArray(selection) && selection.length ? selection.filter((m): m is string => typeof m === 'string') : null
		}
		return {
			routes: openaiRouter({
				client: services.assembly,
				catalog: services.catalog,
				auth: services.apiAuth,
				selectedModels,
				maxBodyBytes: config.limits.maxBodyBytes,
				limit: new ConcurrencyLimit(config.limits.maxConcurrent),
			}),
		}
	},
})
