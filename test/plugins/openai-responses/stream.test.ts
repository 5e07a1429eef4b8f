/** The Responses stream translator on hand-made chunk streams: reasoning, several calls, usage order. */
import { describe, expect, test } from 'bun:test'
import type { ResponsesEcho } from '../../../plugins/openai-responses/request.ts'
import { toResponsesStream } from '../../../plugins/openai-responses/stream.ts'
import { checkResponsesStream } from './grammar.ts'

const enc = new TextEncoder()
const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
	`data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`
const echo: ResponsesEcho = {
	instructions: null,
	max_output_tokens: null,
	temperature: null,
	top_p: null,
	tools: [],
	tool_choice: 'auto',
	parallel_tool_calls: true,
	text: { format: { type: 'text' } },
	reasoning: { effort: 'high', summary: null },
	metadata: {},
	user: null,
}
const run = (frames: string[]) => {
	const body = new ReadableStream<Uint8Array>({
		start(c) {
			for (const f of frames) c.enqueue(enc.encode(f))
			c.close()
		},
	})
	return new Response(toResponsesStream(body, { id: 'resp_1', model: 'gpt-5', createdAt: 1, echo })).text()
}

describe('toResponsesStream', () => {
	test('reasoning, text and two function calls; usage from the trailing chunk', async () => {
		const text = await run([
			chunk({ role: 'assistant', content: '' }),
			chunk({ reasoning_content: 'Think' }),
			chunk({ reasoning_content: 'ing.' }),
			chunk({ content: 'Calling.' }),
			chunk({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'a', arguments: '{"x"' } }] }),
			chunk({ tool_calls: [{ index: 0, function: { arguments: ':1}' } }] }),
			chunk({ tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'b', arguments: '{}' } }] }),
			chunk({}, 'tool_calls'),
			`data: ${JSON.stringify({ id: 'c', choices: [], usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, completion_tokens_details: { reasoning_tokens: 3 } } })}\n\n`,
			'data: [DONE]\n\n',
		])
		const s = checkResponsesStream(text)
		expect(s.items.map((i) => i.type)).toEqual(['reasoning', 'message', 'function_call', 'function_call'])
		expect(s.items[0]!.summary).toEqual([{ type: 'summary_text', text: 'Thinking.' }])
		expect(s.items[2]).toMatchObject({ call_id: 'call_a', name: 'a', arguments: '{"x":1}', status: 'completed' })
		expect(s.items[3]).toMatchObject({ call_id: 'call_b', name: 'b', arguments: '{}' })
		expect(s.final.usage).toEqual({
			input_tokens: 10,
			input_tokens_details: { cached_tokens: 0 },
			output_tokens: 5,
			output_tokens_details: { reasoning_tokens: 3 },
			total_tokens: 15,
		})
		expect(s.final.reasoning.effort).toBe('high')
	})

	test('bytes that end without [DONE] end in response.failed', async () => {
		const s = checkResponsesStream(await run([chunk({ content: 'partial' })]))
		expect(s.types.at(-1)).toBe('response.failed')
		expect(s.final.status).toBe('failed')
		expect(s.items[0]!.status).toBe('incomplete')
	})
})
