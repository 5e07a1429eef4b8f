/**
 * What usage statistics listen to: one event per upstream attempt and one per finished client
 * request. The upstream client emits them to whatever recorder is loaded; defined here, by the
 * listener, so the statistics never import the pipeline (and the pipeline runs without them).
 */
import type { Principal } from '../api-auth/api-auth.ts'
import type { Cost, PriceTier } from '../pricing/prices.ts'

/** How one upstream attempt ended, as the key pool classifies it. */
export type AttemptOutcome = 'success' | 'rate-limit' | 'key' | 'no-model-access' | 'transient' | 'client' | 'aborted'

/** Why a client request failed, when it did. */
export type RequestFailure = 'client' | 'key' | 'no-model-access' | 'rate-limit' | 'transient' | 'aborted' | 'no-key'

/** Token counts as OpenAI reports them (the fields counted). */
export interface TokenUsage {
	prompt_tokens: number
	completion_tokens: number
	prompt_tokens_details?: {
		cached_tokens?: number
		cache_creation?: Record<string, unknown>
		cache_write_tokens?: number
	}
}

/** One upstream attempt. */
export interface AttemptEvent {
	keyId: string
	model: string
	status: number | null
	outcome: AttemptOutcome
	/** From sending the request to its answer's headers (or failure). */
	ms?: number
}

/** How a client request ended. */
export interface RequestEvent {
	keyId: string | null
	/** Who asked (API password or a client key). */
	principal: Principal | null
	model: string
	stream: boolean
	ok: boolean
	status: number
	failure: RequestFailure | null
	usage: TokenUsage | null
	attempts: number
	/** The model that answered, when the upstream names a fallback (priced instead of `model`). */
	answeredModel?: string
	/** The price tier the request pays (see pricing/tier.ts); absent when nothing reached the upstream. */
	tier?: PriceTier
	/** The request's cost: set by `pricedRecorder` when pricing is loaded; null = unpriced model. */
	cost?: Cost | null
	/** Present on transcriptions only: seconds of audio (0 when it failed), their cost in micro-USD (null: the model has no price). */
	audio?: { seconds: number; costMicroUsd: number | null }
	/** The client request's id (its log line's `request_id`). */
	requestId?: string
}

export interface UsageRecorder {
	attempt(event: AttemptEvent): void
	finished(event: RequestEvent): void
	/** A stream to the client opened; the returned function is called once when it closes. */
	streamOpened?(model: string): () => void
}

/** Several recorders as one (usage statistics and metrics both listen); undefined when none is loaded. */
export function fanOut(...recorders: (UsageRecorder | undefined)[]): UsageRecorder | undefined {
	const all = recorders.filter((r): r is UsageRecorder => r !== undefined)
	if (all.length <= 1) return all[0]
	return {
		attempt: (event) => {
			for (const r of all) r.attempt(event)
		},
		finished: (event) => {
			for (const r of all) r.finished(event)
		},
		streamOpened: (model) => {
			const closers = all.map((r) => r.streamOpened?.(model))
			return () => {
				for (const close of closers) close?.()
			}
		},
	}
}

/**
 * The recorder the upstream client reports to: prices each finished request once (`event.cost`,
 * when pricing is loaded and the upstream reported usage), settles the client key's budget and
 * token reservation carried by the principal, then hands the event to the listeners.
 */
export function pricedRecorder(
	listeners: UsageRecorder | undefined,
	costOf?: (model: string, usage: TokenUsage, tier: PriceTier) => Cost | null,
): UsageRecorder {
	return {
		attempt: (event) => listeners?.attempt(event),
		finished: (event) => {
			if (costOf && event.usage && event.tier) event.cost = costOf(event.answeredModel ?? event.model, event.usage, event.tier)
			const ticket = event.principal?.kind === 'client' ? event.principal.ticket : undefined
			if (ticket) {
				const tokens = event.usage ? Math.max(0, event.usage.prompt_tokens) + Math.max(0, event.usage.completion_tokens) : 0
				// A transcription's cost comes in micro-USD from its own per-hour prices.
				const nusd = event.cost ? event.cost.nusd : event.audio?.costMicroUsd ? event.audio.costMicroUsd * 1000 : 0
				ticket.settle({ tokens, nusd })
			}
			listeners?.finished(event)
		},
		...(listeners?.streamOpened ? { streamOpened: (model: string) => listeners.streamOpened?.(model) ?? (() => {}) } : {}),
	}
}
