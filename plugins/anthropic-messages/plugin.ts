/** The Anthropic Messages API (/v1/messages, /v1/messages/count_tokens) on the same pipeline. */
import { definePlugin } from '../../core/plugin.ts'
import { anthropicMessages } from './routes.ts'

/** Seconds between `ping` events in a stream that is otherwise silent. */
const PING_MS = 15_000

export const plugin = definePlugin({
	name: 'anthropic-messages',
	description: 'the Anthropic Messages API: /v1/messages and /v1/messages/count_tokens (Claude Code, Anthropic SDKs)',
	optional: true,
	needs: ['chat', 'apiAuth', 'log'],
	setup: ({ services }) => ({
		routes: anthropicMessages({ chat: services.chat, auth: services.apiAuth, log: services.log, pingMs: PING_MS }),
		// The chat core reads these bodies within MAX_BODY_SIZE itself, so an oversized one is
		// refused in Anthropic's envelope like every other error here, declared length or not.
		ownBodyLimit: ['/v1/messages', '/v1/messages/count_tokens'],
	}),
})
