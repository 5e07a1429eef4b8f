/**
 * A strict checker of the Anthropic Messages stream grammar (test support):
 *
 *   message_start ping* (content_block_start (content_block_delta|ping)* content_block_stop ping*)*
 *   message_delta message_stop            -- or, anywhere after message_start: error (and nothing after)
 *
 * Block indexes start at 0 and grow by one; every delta names the open block and has the
 * block's delta type; a tool_use's partial_json concatenates to a JSON object. Returns what a
 * client would assemble, so tests compare it with the non-streamed answer.
 */
import { expect } from 'bun:test'
import { SseParser } from '../../../core/sse.ts'

export interface AssembledStream {
	events: string[]
	message: Record<string, any>
	content: Record<string, any>[]
	stopReason: string | null
	usage: Record<string, number> | null
	error: { type: string; message: string } | null
}

const DELTA_FOR: Record<string, string[]> = { text: ['text_delta'], tool_use: ['input_json_delta'], thinking: ['thinking_delta', 'signature_delta'] }

export function checkAnthropicStream(text: string): AssembledStream {
	const parser = new SseParser()
	const frames = [...parser.push(new TextEncoder().encode(text)), ...parser.end()]
	const events: string[] = []
	const content: Record<string, any>[] = []
	let message: Record<string, any> | null = null
	let open: number | null = null
	let stopReason: string | null = null
	let usage: Record<string, number> | null = null
	let error: AssembledStream['error'] = null
	let deltaSeen = false
	let stopped = false
	for (const frame of frames) {
		if (stopped || error) throw new Error(`event after the end of the stream: ${frame.event}`)
		const data = JSON.parse(frame.data)
		expect(frame.event).toBe(data.type)
		events.push(data.type)
		if (message === null && data.type !== 'message_start') throw new Error(`first event is ${data.type}, not message_start`)
		switch (data.type) {
			case 'message_start':
				if (message !== null) throw new Error('second message_start')
				message = data.message
				expect(data.message.type).toBe('message')
				expect(data.message.role).toBe('assistant')
				expect(data.message.content).toEqual([])
				expect(typeof data.message.id).toBe('string')
				break
			case 'ping':
				break
			case 'content_block_start':
				if (deltaSeen) throw new Error('content block after message_delta')
				if (open !== null) throw new Error(`block ${data.index} starts while ${open} is open`)
				expect(data.index).toBe(content.length)
				open = data.index
				content.push(structuredClone(data.content_block))
				if (data.content_block.type === 'tool_use') {
					expect(data.content_block.input).toEqual({})
					content[data.index]!._json = ''
				}
				break
			case 'content_block_delta': {
				if (open === null || data.index !== open) throw new Error(`delta for block ${data.index} while ${open} is open`)
				const block = content[open]!
				expect(DELTA_FOR[block.type]).toContain(data.delta.type)
				if (data.delta.type === 'text_delta') block.text += data.delta.text
				else if (data.delta.type === 'thinking_delta') block.thinking += data.delta.thinking
				else if (data.delta.type === 'signature_delta') block.signature = data.delta.signature
				else block._json += data.delta.partial_json
				break
			}
			case 'content_block_stop': {
				if (open === null || data.index !== open) throw new Error(`stop for block ${data.index} while ${open} is open`)
				const block = content[open]!
				if (block.type === 'tool_use') {
					block.input = block._json === '' ? {} : JSON.parse(block._json)
					expect(typeof block.input).toBe('object')
					delete block._json
				}
				open = null
				break
			}
			case 'message_delta':
				if (open !== null) throw new Error('message_delta while a block is open')
				if (deltaSeen) throw new Error('second message_delta')
				deltaSeen = true
				stopReason = data.delta.stop_reason
				expect(['end_turn', 'max_tokens', 'tool_use', 'stop_sequence', 'refusal']).toContain(String(stopReason))
				usage = data.usage
				break
			case 'message_stop':
				if (!deltaSeen) throw new Error('message_stop before message_delta')
				stopped = true
				break
			case 'error':
				error = data.error
				break
			default:
				throw new Error(`unknown event ${data.type}`)
		}
	}
	if (!stopped && !error) throw new Error('stream ended without message_stop or error')
	return { events, message: message ?? {}, content, stopReason, usage, error }
}
