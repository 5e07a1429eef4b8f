/**
 * The pipeline's OpenAI chunk stream -> Responses API SSE events:
 *
 *   response.created, response.in_progress,
 *   per output item: response.output_item.added,
 *     reasoning:     reasoning_summary_part.added, reasoning_summary_text.delta*, .done, reasoning_summary_part.done
 *     message:       content_part.added, output_text.delta*, output_text.done, content_part.done
 *     function_call: function_call_arguments.delta*, function_call_arguments.done
 *   response.output_item.done,
 *   then response.completed | response.incomplete (length, content filter) | response.failed (broken upstream).
 *
 * Every event carries its `sequence_number` (0, 1, 2, ...). The final response carries the usage
 * that arrived after the last content chunk.
 */
import { encodeEvent } from '../../core/sse.ts'
import { type ChunkEvent, type ChunkUsage, readChunkStream } from '../chat-core/chunk-events.ts'
import { newItemId, type OutputItem, type ResponseShell, responseObject, responsesUsage, statusFor } from './response.ts'

type Open =
	| { kind: 'reasoning'; item: Extract<OutputItem, { type: 'reasoning' }>; text: string }
	| { kind: 'message'; item: Extract<OutputItem, { type: 'message' }>; text: string }
	| { kind: 'call'; item: Extract<OutputItem, { type: 'function_call' }>; index: number }

export class ResponsesStreamEncoder {
	private seq = 0
	private readonly output: OutputItem[] = []
	private open: Open | null = null
	private finish: string | null = null
	private usage: ChunkUsage | null = null
	private readonly seenCalls = new Set<number>()
	private ended = false

	constructor(private readonly shell: ResponseShell) {}

	private event(type: string, fields: Record<string, unknown>): Record<string, unknown> {
		return { type, sequence_number: this.seq++, ...fields }
	}

	start(): Record<string, unknown>[] {
		const response = responseObject(this.shell, { status: 'in_progress', output: [], usage: null })
		return [this.event('response.created', { response }), this.event('response.in_progress', { response })]
	}

	private get outputIndex(): number {
		return this.output.length - 1
	}

	private openItem(open: Open, out: Record<string, unknown>[]): void {
		this.closeItem(out)
		this.output.push(open.item)
		this.open = open
		const index = this.outputIndex
		if (open.kind === 'reasoning') {
			out.push(this.event('response.output_item.added', { output_index: index, item: { ...open.item, summary: [] } }))
			out.push(
				this.event('response.reasoning_summary_part.added', {
					item_id: open.item.id,
					output_index: index,
					summary_index: 0,
					part: { type: 'summary_text', text: '' },
				}),
			)
		} else if (open.kind === 'message') {
			out.push(this.event('response.output_item.added', { output_index: index, item: { ...open.item, status: 'in_progress', content: [] } }))
			out.push(
				this.event('response.content_part.added', {
					item_id: open.item.id,
					output_index: index,
					content_index: 0,
					part: { type: 'output_text', text: '', annotations: [], logprobs: [] },
				}),
			)
		} else {
			out.push(this.event('response.output_item.added', { output_index: index, item: { ...open.item, status: 'in_progress', arguments: '' } }))
		}
	}

	private closeItem(out: Record<string, unknown>[], status: 'completed' | 'incomplete' = 'completed'): void {
		const open = this.open
		if (open === null) return
		const index = this.outputIndex
		const id = open.item.id
		if (open.kind === 'reasoning') {
			open.item.summary = [{ type: 'summary_text', text: open.text }]
			out.push(this.event('response.reasoning_summary_text.done', { item_id: id, output_index: index, summary_index: 0, text: open.text }))
			out.push(
				this.event('response.reasoning_summary_part.done', {
					item_id: id,
					output_index: index,
					summary_index: 0,
					part: { type: 'summary_text', text: open.text },
				}),
			)
		} else if (open.kind === 'message') {
			const part = { type: 'output_text' as const, text: open.text, annotations: [], logprobs: [] }
			open.item.content = [part]
			open.item.status = status
			out.push(this.event('response.output_text.done', { item_id: id, output_index: index, content_index: 0, text: open.text, logprobs: [] }))
			out.push(this.event('response.content_part.done', { item_id: id, output_index: index, content_index: 0, part }))
		} else {
			open.item.status = status
			out.push(this.event('response.function_call_arguments.done', { item_id: id, output_index: index, name: open.item.name, arguments: open.item.arguments }))
		}
		out.push(this.event('response.output_item.done', { output_index: index, item: open.item }))
		this.open = null
	}

	push(event: ChunkEvent): Record<string, unknown>[] {
		if (this.ended) return []
		const out: Record<string, unknown>[] = []
		switch (event.kind) {
			case 'usage':
				this.usage = event.usage
				break
			case 'delta':
				if (event.reasoning !== undefined) {
					if (this.open?.kind !== 'reasoning')
						this.openItem({ kind: 'reasoning', item: { type: 'reasoning', id: newItemId('rs'), summary: [] }, text: '' }, out)
					const open = this.open as Extract<Open, { kind: 'reasoning' }>
					open.text += event.reasoning
					out.push(
						this.event('response.reasoning_summary_text.delta', {
							item_id: open.item.id,
							output_index: this.outputIndex,
							summary_index: 0,
							delta: event.reasoning,
						}),
					)
				}
				if (event.content !== undefined) {
					if (this.open?.kind !== 'message') {
						this.openItem(
							{ kind: 'message', item: { type: 'message', id: newItemId('msg'), status: 'in_progress', role: 'assistant', content: [] }, text: '' },
							out,
						)
					}
					const open = this.open as Extract<Open, { kind: 'message' }>
					open.text += event.content
					out.push(
						this.event('response.output_text.delta', {
							item_id: open.item.id,
							output_index: this.outputIndex,
							content_index: 0,
							delta: event.content,
							logprobs: [],
						}),
					)
				}
				for (const call of event.toolCalls ?? []) {
					if (this.open?.kind !== 'call' || this.open.index !== call.index) {
						if (this.seenCalls.has(call.index)) continue // a late fragment of a finished call cannot be reopened
						this.seenCalls.add(call.index)
						const item: Extract<OutputItem, { type: 'function_call' }> = {
							type: 'function_call',
							id: newItemId('fc'),
							call_id: call.id ?? newItemId('call'),
							name: call.name ?? '',
							arguments: '',
							status: 'in_progress',
						}
						this.openItem({ kind: 'call', item, index: call.index }, out)
					}
					if (call.arguments !== undefined) {
						const open = this.open as Extract<Open, { kind: 'call' }>
						open.item.arguments += call.arguments
						out.push(this.event('response.function_call_arguments.delta', { item_id: open.item.id, output_index: this.outputIndex, delta: call.arguments }))
					}
				}
				if (event.finishReason !== undefined) this.finish = event.finishReason
				break
			case 'done': {
				const { status, incomplete_details } = statusFor(this.finish)
				this.closeItem(out, status)
				const response = responseObject(this.shell, { status, output: this.output, usage: responsesUsage(this.usage), incomplete_details })
				out.push(this.event(status === 'completed' ? 'response.completed' : 'response.incomplete', { response }))
				this.ended = true
				break
			}
			case 'error': {
				this.closeItem(out, 'incomplete')
				const error = { code: event.code ?? 'server_error', message: event.message }
				const response = responseObject(this.shell, { status: 'failed', output: this.output, usage: responsesUsage(this.usage), error })
				out.push(this.event('response.failed', { response }))
				this.ended = true
				break
			}
		}
		return out
	}
}

const frame = (event: Record<string, unknown>): Uint8Array => encodeEvent(JSON.stringify(event), { event: String(event.type) })

/** Bytes to bytes: the pipeline's chunk stream in, Responses SSE out. Cancelling it cancels the upstream. */
export function toResponsesStream(chunks: ReadableStream<Uint8Array>, shell: ResponseShell): ReadableStream<Uint8Array> {
	const encoder = new ResponsesStreamEncoder(shell)
	const events = readChunkStream(chunks)
	return new ReadableStream<Uint8Array>({
		start(controller) {
			for (const e of encoder.start()) controller.enqueue(frame(e))
		},
		async pull(controller) {
			while (true) {
				const next = await events.next()
				if (next.done) {
					controller.close()
					return
				}
				const out = encoder.push(next.value)
				for (const e of out) controller.enqueue(frame(e))
				if (next.value.kind === 'done' || next.value.kind === 'error') {
					controller.close()
					await events.return(undefined)
					return
				}
				if (out.length > 0) return
			}
		},
		async cancel() {
			await events.return(undefined)
		},
	})
}
