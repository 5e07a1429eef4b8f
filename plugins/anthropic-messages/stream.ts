/**
 * The pipeline's OpenAI chunk stream -> Anthropic Messages SSE, in the documented order:
 *
 *   message_start, ping,
 *   (content_block_start, content_block_delta*, content_block_stop)*,
 *   message_delta (stop_reason + final usage), message_stop
 *
 * `message_delta` waits for the end of the stream, so usage that arrives after the last content
 * chunk (the usage-only chunk) is in it. A broken stream ends with
 * `event: error` and no `message_stop`. `ping` repeats while the upstream is silent.
 */
import { encodeEvent } from '../../core/sse.ts'
import { type ChunkEvent, type ChunkUsage, readChunkStream } from '../chat-core/chunk-events.ts'
import { anthropicUsage, stopReason } from './response.ts'
import { errorTypeFor } from './errors.ts'

export interface AnthropicStreamContext {
	id: string
	model: string
	/** Estimated input tokens for message_start (the real count arrives with message_delta). */
	inputTokens: number
	/** Interval of `ping` events while nothing else is sent; 0 = only the first one. */
	pingMs: number
}

type Block = { kind: 'text' } | { kind: 'thinking'; signature: string } | { kind: 'tool'; call: number; args: string }

/**
 * The event grammar as a small state machine: feed it chunk events, it returns the Anthropic
 * events (name + payload) to send. Pure, so tests drive it without a network.
 */
export class AnthropicStreamEncoder {
	private index = -1
	private open: Block | null = null
	private finish: string | null = null
	private usage: ChunkUsage | null = null
	/** Upstream tool-call index -> our block index (a call's fragments all go to its block). */
	private readonly calls = new Map<number, number>()
	private closed = false

	constructor(private readonly ctx: AnthropicStreamContext) {}

	start(): [string, unknown][] {
		const message = {
			id: this.ctx.id,
			type: 'message',
			role: 'assistant',
			model: this.ctx.model,
			content: [],
			stop_reason: null,
			stop_sequence: null,
			usage: { input_tokens: this.ctx.inputTokens, output_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
		}
		return [
			['message_start', { type: 'message_start', message }],
			['ping', { type: 'ping' }],
		]
	}

	push(event: ChunkEvent): [string, unknown][] {
		if (this.closed) return []
		const out: [string, unknown][] = []
		switch (event.kind) {
			case 'usage':
				this.usage = event.usage
				break
			case 'delta':
				if (event.reasoning !== undefined || event.signature !== undefined) {
					if (this.open?.kind !== 'thinking') this.openBlock({ kind: 'thinking', signature: '' }, { type: 'thinking', thinking: '', signature: '' }, out)
					const block = this.open as Extract<Block, { kind: 'thinking' }>
					if (event.reasoning !== undefined) out.push(this.delta({ type: 'thinking_delta', thinking: event.reasoning }))
					if (event.signature !== undefined) block.signature = event.signature
				}
				if (event.content !== undefined) {
					if (this.open?.kind !== 'text') this.openBlock({ kind: 'text' }, { type: 'text', text: '' }, out)
					out.push(this.delta({ type: 'text_delta', text: event.content }))
				}
				for (const call of event.toolCalls ?? []) {
					const current = this.open?.kind === 'tool' ? this.open : null
					if (current === null || current.call !== call.index) {
						if (this.calls.has(call.index)) continue // a late fragment of a closed call: Anthropic cannot reopen a block
						this.openBlock(
							{ kind: 'tool', call: call.index, args: '' },
							{ type: 'tool_use', id: call.id ?? `toolu_${this.ctx.id.slice(4)}_${call.index}`, name: call.name ?? '', input: {} },
							out,
						)
						this.calls.set(call.index, this.index)
					}
					if (call.arguments !== undefined) {
						;(this.open as Extract<Block, { kind: 'tool' }>).args += call.arguments
						out.push(this.delta({ type: 'input_json_delta', partial_json: call.arguments }))
					}
				}
				if (event.finishReason !== undefined) this.finish = event.finishReason
				break
			case 'done':
				this.closeBlock(out)
				out.push([
					'message_delta',
					{ type: 'message_delta', delta: { stop_reason: stopReason(this.finish), stop_sequence: null }, usage: anthropicUsage(this.usage) },
				])
				out.push(['message_stop', { type: 'message_stop' }])
				this.closed = true
				break
			case 'error':
				out.push(['error', { type: 'error', error: { type: errorTypeFor(event.type), message: event.message } }])
				this.closed = true
				break
		}
		return out
	}

	private delta(delta: Record<string, unknown>): [string, unknown] {
		return ['content_block_delta', { type: 'content_block_delta', index: this.index, delta }]
	}

	private openBlock(block: Block, contentBlock: Record<string, unknown>, out: [string, unknown][]): void {
		this.closeBlock(out)
		this.index++
		this.open = block
		out.push(['content_block_start', { type: 'content_block_start', index: this.index, content_block: contentBlock }])
	}

	private closeBlock(out: [string, unknown][]): void {
		const block = this.open
		if (block === null) return
		if (block.kind === 'thinking' && block.signature !== '') out.push(this.delta({ type: 'signature_delta', signature: block.signature }))
		out.push(['content_block_stop', { type: 'content_block_stop', index: this.index }])
		this.open = null
	}
}

const frame = ([name, payload]: [string, unknown]): Uint8Array => encodeEvent(JSON.stringify(payload), { event: name })

/** Bytes to bytes: the pipeline's chunk stream in, Anthropic SSE out. Cancelling it cancels the upstream. */
export function toAnthropicStream(chunks: ReadableStream<Uint8Array>, ctx: AnthropicStreamContext): ReadableStream<Uint8Array> {
	const encoder = new AnthropicStreamEncoder(ctx)
	const events = readChunkStream(chunks)
	let timer: ReturnType<typeof setInterval> | undefined
	let lastSent = 0
	const stopPing = () => clearInterval(timer)
	return new ReadableStream<Uint8Array>({
		start(controller) {
			for (const e of encoder.start()) controller.enqueue(frame(e))
			lastSent = Date.now()
			if (ctx.pingMs > 0) {
				timer = setInterval(() => {
					if (Date.now() - lastSent < ctx.pingMs) return
					lastSent = Date.now()
					try {
						controller.enqueue(frame(['ping', { type: 'ping' }]))
					} catch {
						stopPing()
					}
				}, ctx.pingMs)
			}
		},
		async pull(controller) {
			while (true) {
				const next = await events.next()
				if (next.done) {
					stopPing()
					controller.close()
					return
				}
				const out = encoder.push(next.value)
				for (const e of out) controller.enqueue(frame(e))
				if (next.value.kind === 'done' || next.value.kind === 'error') {
					stopPing()
					controller.close()
					await events.return(undefined)
					return
				}
				if (out.length > 0) {
					lastSent = Date.now()
					return
				}
			}
		},
		async cancel() {
			stopPing()
			await events.return(undefined)
		},
	})
}
