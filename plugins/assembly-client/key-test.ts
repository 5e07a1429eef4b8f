/**
 * Tests one upstream key with one cheap call (a one-token completion on a small model) and says
 * what came back: status, time, the rate-limit headers, or the upstream's error message. Used
 * by the panel's "Test" button; the key never leaves this function except in the request.
 */
import { gatewayHeaders } from './request.ts'
import { readUpstreamError } from './upstream-errors.ts'

export interface KeyTestResult {
	ok: boolean
	status: number | null
	ms: number
	/** One line for the operator (never the key). */
	text: string
}

export interface KeyTesterDeps {
	fetch: typeof fetch
	endpoint: string
	timeoutMs: number
	/** Model ids the catalog knows, to pick a cheap one. */
	models: () => Promise<string[]>
	now?: () => number
}

const CHEAP = [/haiku/i, /nano/i, /mini/i, /flash/i, /small/i]

export class KeyTester {
	constructor(private readonly deps: KeyTesterDeps) {}

	async pickModel(): Promise<string> {
		const ids = await this.deps.models()
		for (const pattern of CHEAP) {
			const hit = ids.find((id) => pattern.test(id))
			if (hit) return hit
		}
		return ids[0] ?? 'claude-haiku-4-5-20251001'
	}

	async test(key: string, masked: string): Promise<KeyTestResult> {
		const now = this.deps.now ?? Date.now
		const model = await this.pickModel()
		const started = now()
		try {
			const response = await this.deps.fetch(this.deps.endpoint, {
				method: 'POST',
				headers: gatewayHeaders(key),
				body: JSON.stringify({ model, messages: [{ role: 'user', content: 'ping' }], max_tokens: 1 }),
				signal: AbortSignal.timeout(Math.min(this.deps.timeoutMs, 30_000)),
			})
			const ms = now() - started
			const text = await response.text()
			const limit = response.headers.get('x-ratelimit-limit')
			const remaining = response.headers.get('x-ratelimit-remaining')
			const window = limit !== null ? `; limit ${limit}, remaining ${remaining ?? '?'}` : ''
			if (response.ok) return { ok: true, status: response.status, ms, text: `${masked}: HTTP ${response.status} from ${model} in ${ms} ms${window}` }
			const info = readUpstreamError(response.status, text)
			return {
				ok: false,
				status: response.status,
				ms,
				text: `${masked}: HTTP ${response.status} from ${model} in ${ms} ms: ${info.message.split(key).join(masked).slice(0, 300)}${window}`,
			}
		} catch (err) {
			const message = err instanceof Error ? err.message : String(err)
			return { ok: false, status: null, ms: now() - started, text: `${masked}: no answer from the upstream (${message.split(key).join(masked).slice(0, 200)})` }
		}
	}
}
