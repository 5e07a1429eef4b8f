/**
 * A strict checker of the Responses API stream grammar (test support): sequence numbers 0..n
 * without gaps, created then in_progress first, one terminal event last, output items added and
 * done in order with matching indexes and ids, each `*.done` equal to the concatenation of its
 * deltas, and the final response's output equal to the items streamed.
 */
import { expect } from 'bun:test'
import { SseParser } from '../../../core/sse.ts'

export interface CheckedResponsesStream {
	types: string[]
	final: Record<string, any>
	items: Record<string, any>[]
}

const TERMINAL = new Set(['response.completed', 'response.incomplete', 'response.failed'])

export function checkResponsesStream(text: string): CheckedResponsesStream {
	const parser = new SseParser()
	const frames = [...parser.push(new TextEncoder().encode(text)), ...parser.end()]
	const types: string[] = []
	const items: Record<string, any>[] = []
	let open: { index: number; id: string; type: string; text: string; parts: number } | null = null
	let final: Record<string, any> | null = null
	frames.forEach((frame, n) => {
		const e = JSON.parse(frame.data)
		expect(frame.event).toBe(e.type)
		expect(e.sequence_number).toBe(n)
		if (final !== null) throw new Error(`event after the terminal event: ${e.type}`)
		types.push(e.type)
		if (n === 0) expect(e.type).toBe('response.created')
		if (n === 1) expect(e.type).toBe('response.in_progress')
		if (n <= 1) {
			expect(e.response.status).toBe('in_progress')
			expect(e.response.output).toEqual([])
			return
		}
		switch (e.type) {
			case 'response.output_item.added':
				if (open !== null) throw new Error('item added while another is open')
				expect(e.output_index).toBe(items.length)
				open = { index: e.output_index, id: e.item.id, type: e.item.type, text: '', parts: 0 }
				items.push(e.item)
				break
			case 'response.content_part.added':
			case 'response.reasoning_summary_part.added':
				if (open === null || e.item_id !== open.id || e.output_index !== open.index) throw new Error(`${e.type} for a closed item`)
				open.parts++
				break
			case 'response.output_text.delta':
			case 'response.reasoning_summary_text.delta':
			case 'response.function_call_arguments.delta':
				if (open === null || e.item_id !== open.id || e.output_index !== open.index) throw new Error(`${e.type} for a closed item`)
				if (e.type === 'response.function_call_arguments.delta') expect(open.type).toBe('function_call')
				else expect(open.parts).toBe(1)
				open.text += e.delta
				break
			case 'response.output_text.done':
			case 'response.reasoning_summary_text.done':
				if (open === null || e.item_id !== open.id) throw new Error(`${e.type} for a closed item`)
				expect(e.text).toBe(open.text)
				break
			case 'response.function_call_arguments.done':
				if (open === null || e.item_id !== open.id) throw new Error(`${e.type} for a closed item`)
				expect(e.arguments).toBe(open.text)
				break
			case 'response.content_part.done':
				if (open === null || e.item_id !== open.id) throw new Error(`${e.type} for a closed item`)
				expect(e.part.text).toBe(open.text)
				break
			case 'response.reasoning_summary_part.done':
				if (open === null || e.item_id !== open.id) throw new Error(`${e.type} for a closed item`)
				expect(e.part.text).toBe(open.text)
				break
			case 'response.output_item.done':
				if (open === null || e.item.id !== open.id || e.output_index !== open.index) throw new Error('output_item.done for another item')
				items[open.index] = e.item
				if (e.item.type === 'message') expect(e.item.content[0].text).toBe(open.text)
				if (e.item.type === 'function_call') expect(e.item.arguments).toBe(open.text)
				open = null
				break
			default:
				if (!TERMINAL.has(e.type)) throw new Error(`unknown event ${e.type}`)
				if (open !== null) throw new Error('terminal event while an item is open')
				final = e.response
				expect(final!.output).toEqual(items)
		}
	})
	if (final === null) throw new Error('stream ended without a terminal event')
	return { types, final, items }
}
