/** The Anthropic stream translator on hand-made chunk streams: thinking, usage order, pings, breaks. */
import { describe, expect, test } from 'bun:test'
import { toAnthropicStream } from '../../../plugins/anthropic-messages/stream.ts'
import { checkAnthropicStream } from './grammar.ts'

const enc = new TextEncoder()
const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
	`data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`
const usageChunk = (prompt: number, completion: number, cached = 0) =>
	`data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [], usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, prompt_tokens_details: { cached_tokens: cached } } })}\n\n`

function source(frames: string[], delays: number[] = []): ReadableStream<Uint8Array> {
	let i = 0
	return new ReadableStream({
		async pull(controller) {
			if (i >= frames.length) return controller.close()
			const wait = delays[i] ?? 0
			if (wait > 0) await new Promise((r) => setTimeout(r, wait))
			controller.enqueue(enc.encode(frames[i++]!))
		},
	})
}

const run = (frames: string[], delays?: number[], pingMs = 0) =>
	new Response(toAnthropicStream(source(frames, delays), { id: 'msg_1', model: 'claude-x', inputTokens: 7, pingMs })).text()

describe('toAnthropicStream', () => {
	test('thinking then text then two tool calls, usage after the finish chunk', async () => {
		const text = await run([
			chunk({ role: 'assistant', content: '' }),
			chunk({ reasoning_content: 'Let me ' }),
			chunk({ reasoning_content: 'think.', thought_signature: 'sig-1' }),
			chunk({ content: 'Hi' }),
			chunk({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'a', arguments: '{"x":' } }] }),
			chunk({ tool_calls: [{ index: 0, function: { arguments: '1}' } }] }),
			chunk({ tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'b', arguments: '' } }] }),
			chunk({}, 'tool_calls'),
			usageChunk(120, 30, 100),
			'data: [DONE]\n\n',
		])
		const s = checkAnthropicStream(text)
		expect(s.content).toEqual([
			{ type: 'thinking', thinking: 'Let me think.', signature: 'sig-1' },
			{ type: 'text', text: 'Hi' },
			{ type: 'tool_use', id: 'call_a', name: 'a', input: { x: 1 } },
			{ type: 'tool_use', id: 'call_b', name: 'b', input: {} },
		])
		expect(s.stopReason).toBe('tool_use')
		expect(s.usage).toEqual({ input_tokens: 20, output_tokens: 30, cache_read_input_tokens: 100, cache_creation_input_tokens: 0 })
		expect(s.message.usage.input_tokens).toBe(7)
	})

	test('finish reasons: length -> max_tokens, content_filter -> refusal', async () => {
		expect(checkAnthropicStream(await run([chunk({ content: 'a' }, 'length'), 'data: [DONE]\n\n'])).stopReason).toBe('max_tokens')
		expect(checkAnthropicStream(await run([chunk({ content: 'a' }, 'content_filter'), 'data: [DONE]\n\n'])).stopReason).toBe('refusal')
	})

	test('an error frame from the pipeline becomes event: error with its type', async () => {
		const s = checkAnthropicStream(
			await run([chunk({ content: 'a' }), `data: ${JSON.stringify({ error: { message: 'boom', type: 'api_error', code: 'upstream_stream_broken' } })}\n\n`]),
		)
		expect(s.error).toEqual({ type: 'api_error', message: 'boom' })
		expect(s.events.at(-1)).toBe('error')
	})

	test('bytes that end without [DONE] are an error, never a clean message_stop', async () => {
		const s = checkAnthropicStream(await run([chunk({ content: 'a' })]))
		expect(s.error?.type).toBe('api_error')
		expect(s.events).not.toContain('message_stop')
	})

	test('ping repeats while the upstream is silent', async () => {
		const s = checkAnthropicStream(await run([chunk({ content: 'a' }), 'data: [DONE]\n\n'], [0, 130], 40))
		expect(s.events.filter((e) => e === 'ping').length).toBeGreaterThanOrEqual(2)
		expect(s.events.at(-1)).toBe('message_stop')
	})

	test('an empty answer is an empty message, cleanly ended', async () => {
		const s = checkAnthropicStream(await run([chunk({ role: 'assistant', content: '' }, 'stop'), 'data: [DONE]\n\n']))
		expect(s.content).toEqual([])
		expect(s.stopReason).toBe('end_turn')
	})
})
