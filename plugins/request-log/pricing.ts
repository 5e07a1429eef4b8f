/**
 * The one thing the request log asks of a pricing service: the cost of a request's usage.
 * Declared here so the request log can name `pricing` in `uses` before a pricing plugin exists;
 * when one declares its own `pricing` service, that declaration replaces this one.
 */
import type { TracedUsage } from '../chat-core/call-trace.ts'

export interface CostOf {
	/** USD of `usage` on `model` at the price `tier` (the request's model region; null = the default); null when unpriced. */
	costOf(model: string, usage: TracedUsage, tier: string | null): { usd: number } | null
}

declare module '../../core/plugin.ts' {
	interface Services {
		pricing: CostOf
	}
}
