/**
 * One admitted call of the pipeline, shared by every dialect (chat completions, Anthropic
 * Messages, OpenAI Responses): note the request in the access log, admit it against the
 * client key's quota and allow-list, call the AssemblyAI client, and give the quota back when
 * the request failed on our side.
 */
import { GatewayError } from '../../core/errors.ts'
import { annotate } from '../../core/request-log.ts'
import type { ApiAuthenticator, Principal } from '../api-auth/api-auth.ts'
import { type AssemblyClient, type ChatResult, ClientGoneError } from '../assembly-client/client.ts'
import type { ChatRequest } from './chat-schema.ts'

export async function callPipeline(
	deps: { client: AssemblyClient; auth: ApiAuthenticator },
	request: Request,
	principal: Principal,
	chat: ChatRequest,
): Promise<ChatResult> {
	annotate(request, { model: chat.model, stream: chat.stream === true, ...(principal.kind === 'client' ? { client: principal.name } : {}) })
	const admission = deps.auth.admit ? await deps.auth.admit(principal, chat.model) : null
	let result: ChatResult
	try {
		result = await deps.client.chat({ request: chat, signal: request.signal, principal })
	} catch (err) {
		// A request that failed on our side (no key, upstream down) does not spend the client's quota.
		if (admission && (err instanceof ClientGoneError || (err instanceof GatewayError && err.status >= 429))) await admission.release()
		throw err
	}
	annotate(request, { key: result.masked, attempts: result.attempts })
	return result
}
