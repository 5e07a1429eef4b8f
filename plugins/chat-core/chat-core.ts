/**
 * The chat core as the dialects see it: one object that reads a dialect's body (within
 * MAX_BODY_SIZE, parsed once, nesting bounded before any translation runs) and runs a
 * translated ChatRequest through admission, the concurrency limit and the streaming-modes
 * pipeline. A dialect translates its body to a ChatRequest and the answer back, nothing else,
 * so every limit guards every dialect the same way.
 */
import { readBodyText } from '../../core/body-limit.ts'
import { isObject } from '../../core/json.ts'
import type { ApiAuthenticator, Principal } from '../api-auth/api-auth.ts'
import { type CallOptions, callPipeline, type PipelineResult } from './call-pipeline.ts'
import type { RequestRecorder } from './call-trace.ts'
import { type ChatRequest, parseJsonBody } from './chat-request.ts'
import type { ConcurrencyLimit } from './concurrency-limit.ts'
import { checkNestingDepth } from './nesting-depth.ts'
import type { ChatPipeline } from './pipeline.ts'

export interface ChatCoreDeps {
	pipeline: ChatPipeline
	auth: ApiAuthenticator
	/** MAX_CONCURRENT_REQUESTS; absent = unlimited. */
	limit?: ConcurrencyLimit
	/** MAX_BODY_SIZE in bytes. */
	maxBodyBytes: number
	/** The request log, when loaded. */
	recorder?: RequestRecorder
}

export class ChatCore {
	constructor(private readonly deps: ChatCoreDeps) {}

	/** MAX_CONCURRENT_REQUESTS, shared with every other route that holds an upstream request (transcriptions). */
	get limit(): ConcurrencyLimit | undefined {
		return this.deps.limit
	}

	/**
	 * A dialect's JSON body: 413 past MAX_BODY_SIZE (chunked bodies counted while they stream),
	 * 400 for bad JSON, 400 `nesting_too_deep` for any field nested deeper than the bound, so no
	 * translator ever walks a hostile depth.
	 */
	async readBody(request: Request): Promise<unknown> {
		const body = parseJsonBody(await readBodyText(request, this.deps.maxBodyBytes))
		if (isObject(body)) checkNestingDepth(body)
		return body
	}

	/** One admitted call through the pipeline (see call-pipeline.ts). */
	call(request: Request, principal: Principal, chat: ChatRequest, options?: CallOptions): Promise<PipelineResult> {
		return callPipeline(
			{ chat: this.deps.pipeline, auth: this.deps.auth, limit: this.deps.limit, recorder: this.deps.recorder },
			request,
			principal,
			chat,
			options,
		)
	}

	/** The first upstream body this request would send, and its streaming modes; nothing is sent (see ChatPipeline.preview). */
	preview(chat: ChatRequest): ReturnType<ChatPipeline['preview']> {
		return this.deps.pipeline.preview(chat)
	}

	/** The model list with the prefixed variants the operator enabled. */
	listModels(ids: readonly string[]): string[] {
		return this.deps.pipeline.listModels(ids)
	}
}
