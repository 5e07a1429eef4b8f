/** The OpenAI API: GET /v1/models and POST /v1/chat/completions. */
import { definePlugin } from '../../core/plugin.ts'
import { openaiRouter } from './routes.ts'

export const plugin = definePlugin({
	name: 'openai-router',
	description: 'the OpenAI-compatible API: /v1/models and /v1/chat/completions',
	optional: false,
	needs: ['assembly', 'chat', 'catalog', 'apiAuth', 'storage'],
	setup: ({ services }) => {
		const selectedModels = async () => {
			const selection = (await services.storage.loadSettings()).available_models_selected
			return Array.isArray(selection) && selection.length ? selection.filter((m): m is string => typeof m === 'string') : null
		}
		return { routes: openaiRouter({ client: services.assembly, chat: services.chat, catalog: services.catalog, auth: services.apiAuth, selectedModels }) }
	},
})
