/**
 * LOG_LEVEL=debug: the bodies of a chat request, written to the log with the request's id: the
 * client's request, the body sent upstream, an upstream refusal's text, and the answer. A
 * streamed answer is logged once it ends, assembled (text, reasoning, tool calls, usage,
 * finish reason), not chunk by chunk. Each body is scrubbed and capped (LOG_BODY_MAX).
 * Below debug nothing here runs: `enabled` is checked before any body is touched.
 */
import type { Logger, SecretRegistry } from '../../core/log.ts'
import { hookStream } from '../../core/stream-hooks.ts'
import { loggableBody } from '../../core/log-body.ts'
import { isObject } from '../../core/json.ts'

interface AssembledCall {
	id: string | null
	name: string | null
	arguments: string
}

/** What a client received on a stream, rebuilt from the OpenAI chunks sent to it. */
export class StreamAssembly {
	content = ''
	reasoning = ''
	readonly toolCalls: AssembledCall[] = []
	finishReason: string | null = null
	usage: unknown = null
	error: unknown = null
	done = false
	private pending = ''
	private readonly decoder = new TextDecoder()

	feed(bytes: Uint8Array): void {
		this.pending += this.decoder.decode(bytes, { stream: true })
		const lines = this.pending.split('\n')
		this.pending = lines.pop() ?? ''
		for (const line of lines) this.line(line.trimEnd())
	}

	private line(line: string): void {
		if (!line.startsWith('data:')) return
		const data = line.slice(5).trim()
		if (data === '[DONE]') {
			this.done = true
			return
		}
		let chunk: unknown
		try {
			chunk = JSON.parse(data)
		} catch {
			return
		}
		if (!isObject(chunk)) return
		if (chunk.error !== undefined) this.error = chunk.error
		if (chunk.usage !== undefined && chunk.usage !== null) this.usage = chunk.usage
		for (const choice of Array.isArray(chunk.choices) ? chunk.choices : []) {
			if (!isObject(choice)) continue
			if (typeof choice.finish_reason === 'string') this.finishReason = choice.finish_reason
			const delta = isObject(choice.delta) ? choice.delta : null
			if (!delta) continue
			if (typeof delta.content === 'string') this.content += delta.content
			if (typeof delta.reasoning_content === 'string') this.reasoning += delta.reasoning_content
			for (const call of Array.isArray(delta.tool_calls) ? delta.tool_calls : []) {
				if (!isObject(call)) continue
				const index = typeof call.index === 'number' ? call.index : this.toolCalls.length
				const slot = (this.toolCalls[index] ??= { id: null, name: null, arguments: '' })
				if (typeof call.id === 'string') slot.id = call.id
				const fn = isObject(call.function) ? call.function : null
				if (typeof fn?.name === 'string') slot.name = fn.name
				if (typeof fn?.arguments === 'string') slot.arguments += fn.arguments
			}
		}
	}

	summary(): Record<string, unknown> {
		return {
			content: this.content,
			...(this.reasoning ? { reasoning: this.reasoning } : {}),
			tool_calls: this.toolCalls.filter((c) => c !== undefined),
			finish_reason: this.finishReason,
			usage: this.usage,
			...(this.error !== null ? { error: this.error } : {}),
			done: this.done,
		}
	}
}

export class DebugBodies {
	constructor(
		private readonly log: Logger,
		private readonly secrets: SecretRegistry,
		/** Characters per body; 0 turns body logging off. */
		private readonly max: number,
	) {}

	get enabled(): boolean {
		return this.max > 0 && this.log.isLevelEnabled('debug')
	}

	private write(requestId: string | undefined, what: string, body: unknown, extra: Record<string, unknown> = {}): void {
		this.log.debug({ request_id: requestId, ...extra, body: loggableBody(body, this.max, this.secrets) }, what)
	}

	/** The client's request as the router parsed it, and the body amb2api sends upstream (same for every attempt). */
	request(requestId: string | undefined, client: unknown, upstreamBody: string): void {
		if (!this.enabled) return
		this.write(requestId, 'client request body', client)
		this.write(requestId, 'upstream request body', upstreamBody)
	}

	/** An upstream refusal, as the upstream wrote it. */
	upstreamError(requestId: string | undefined, status: number, key: string, text: string): void {
		if (this.enabled) this.write(requestId, 'upstream error body', text, { status, key })
	}

	/** The answer the client gets: logged now for JSON, when the stream ends for a stream (which is then passed through a tap). */
	answer<A extends { kind: 'json'; completion: unknown } | { kind: 'stream'; body: ReadableStream<Uint8Array> }>(requestId: string | undefined, answer: A): A {
		if (!this.enabled) return answer
		if (answer.kind === 'json') {
			this.write(requestId, 'answer body', answer.completion)
			return answer
		}
		return { ...answer, body: this.tap(requestId, answer.body) }
	}

	private tap(requestId: string | undefined, stream: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
		const assembly = new StreamAssembly()
		return hookStream(stream, {
			onChunk: (bytes) => assembly.feed(bytes),
			onEnd: (end) => this.write(requestId, 'answer body (stream, assembled)', assembly.summary(), { end }),
		})
	}
}
