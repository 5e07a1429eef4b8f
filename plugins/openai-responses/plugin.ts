/** The OpenAI Responses API (POST /v1/responses, stateless) on the same pipeline. */
import { definePlugin } from '../../core/plugin.ts'
import { openaiResponses } from './routes.ts'

export const plugin = definePlugin({
	name: 'openai-responses',
	description: 'the OpenAI Responses API, stateless: POST /v1/responses (Codex CLI, Agents SDK)',
	optional: true,
	needs: ['chat', 'apiAuth', 'now'],
	setup: ({ services }) => ({ routes: openaiResponses({ chat: services.chat, auth: services.apiAuth, now: services.now }) }),
})
