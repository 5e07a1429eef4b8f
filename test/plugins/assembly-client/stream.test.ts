import { describe, expect, test } from 'bun:test'
import { SseParser } from '../../../core/sse.ts'
import { toChatCompletion } from '../../../plugins/assembly-client/response.ts'
import { type Usage } from '../../../plugins/chat-core/chat-completion.ts'
import { completionToStream, translateStream, type StreamEnd } from '../../../plugins/assembly-client/stream.ts'

const te = new TextEncoder()

/** An upstream body made of these chunks; optionally failing after them instead of closing. */
function upstream(chunks: string[], opts: { error?: Error; keepOpen?: boolean } = {}): ReadableStream<Uint8Array> & { cancelled: () => unknown } {
	let i = 0
	let cancelReason: unknown
	let wasCancelled = false
	const stream = new ReadableStream<Uint8Array>({
		pull(controller) {
			if (i < chunks.length) controller.enqueue(te.encode(chunks[i++]!))
			else if (opts.error) controller.error(opts.error)
			else if (!opts.keepOpen) controller.close()
		},
		cancel(reason) {
			wasCancelled = true
			cancelReason = reason
		},
	}) as ReadableStream<Uint8Array> & { cancelled: () => unknown }
	stream.cancelled = () => (wasCancelled ? (cancelReason ?? true) : false)
	return stream
}

const frames = (payloads: unknown[], done = true) =>
	payloads.map((p) => `data: ${typeof p === 'string' ? p : JSON.stringify(p)}\n\n`).concat(done ? ['data: [DONE]\n\n'] : [])

interface Run {
	raw: string
	data: string[]
	chunks: any[]
	ends: StreamEnd[]
	usages: Usage[]
}

async function run(body: ReadableStream<Uint8Array>, opts: { includeUsage?: boolean; id?: string } = {}): Promise<Run> {
	const ends: StreamEnd[] = []
	const usages: Usage[] = []
	const out = translateStream(body, {
		model: 'client-model',
		created: 1_790_000_123,
		id: opts.id,
		includeUsage: opts.includeUsage ?? false,
		onUsage: (u) => usages.push(u),
		onEnd: (r) => ends.push(r),
	})
	return { ...(await collect(out)), ends, usages }
}

async function collect(out: ReadableStream<Uint8Array>): Promise<{ raw: string; data: string[]; chunks: any[] }> {
	const parser = new SseParser()
	const data: string[] = []
	let raw = ''
	const td = new TextDecoder()
	const reader = out.getReader()
	for (;;) {
		const { value, done } = await reader.read()
		if (done) break
		expect(value).toBeInstanceOf(Uint8Array)
		raw += td.decode(value, { stream: true })
		for (const e of parser.push(value)) data.push(e.data)
	}
	for (const e of parser.end()) data.push(e.data)
	const chunks = data.filter((d) => d !== '[DONE]').map((d) => JSON.parse(d))
	return { raw, data, chunks }
}

/** Invariants every clean stream must satisfy (design.md, "OpenAI wire details"). */
function expectWellFormed(r: Run, includeUsage: boolean): void {
	expect(r.data.at(-1)).toBe('[DONE]')
	expect(r.data.filter((d) => d === '[DONE]')).toHaveLength(1)
	const ids = new Set(r.chunks.map((c) => c.id))
	expect(ids.size).toBe(1)
	expect([...ids][0]).toMatch(/^chatcmpl-/)
	for (const c of r.chunks) {
		expect(c.object).toBe('chat.completion.chunk')
		expect(c.created).toBe(1_790_000_123)
		expect(c.model).toBe('client-model')
		expect(Array.isArray(c.choices)).toBe(true)
		for (const choice of c.choices) expect(choice.index).toBe(0)
		if (!includeUsage) expect('usage' in c).toBe(false)
	}
	expect(r.chunks[0].choices[0].delta.role).toBe('assistant')
	expect(r.chunks.filter((c) => c.choices.some((ch: any) => ch.finish_reason != null))).toHaveLength(1)
	expect(r.ends).toHaveLength(1)
	expect(r.ends[0]!.clean).toBe(true)
}

const text = (r: Run) => r.chunks.map((c) => c.choices?.[0]?.delta?.content ?? '').join('')
const finishOf = (r: Run) => r.chunks.flatMap((c) => c.choices.map((ch: any) => ch.finish_reason)).find((f: unknown) => f != null)

/** §5.2, verified sequence. */
const VERIFIED = [
	'{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1790000000,"model":"qwen3.5-4b-32k","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],"usage":null}',
	'{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1790000000,"model":"qwen3.5-4b-32k","choices":[{"index":0,"delta":{"content":"Paris."},"logprobs":null,"finish_reason":null}],"usage":null}',
	'{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1790000000,"model":"qwen3.5-4b-32k","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}',
	'{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1790000000,"model":"qwen3.5-4b-32k","choices":[],"usage":{"prompt_tokens":24,"completion_tokens":8,"total_tokens":32},"system_fingerprint":"vllm-x"}',
]

/** §5.2, tool-call deltas. */
const TOOL_DELTAS = [
	'{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null}]}',
	'{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\\"city\\":\\"Paris\\"}"}}]},"finish_reason":null}]}',
]

describe('translateStream: the §5.2 verified sequence', () => {
	test('with include_usage: chunks rewritten, one usage-only chunk before [DONE]', async () => {
		const r = await run(upstream(frames(VERIFIED)), { includeUsage: true, id: 'chatcmpl-ours' })
		expectWellFormed(r, true)
		expect(text(r)).toBe('Paris.')
		expect(finishOf(r)).toBe('stop')
		expect(r.chunks.every((c) => c.id === 'chatcmpl-ours')).toBe(true)
		const last = r.chunks.at(-1)
		expect(last.choices).toEqual([])
		expect(last.usage).toEqual({ prompt_tokens: 24, completion_tokens: 8, total_tokens: 32, prompt_tokens_details: { cached_tokens: 0 } })
		expect(r.chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true)
		expect(r.chunks.filter((c) => c.choices.length === 0)).toHaveLength(1)
		expect(r.usages).toEqual([last.usage])
		expect(r.ends[0]).toEqual({ clean: true, finishReason: 'stop' })
		// Nothing of the upstream's own identity leaks.
		expect(r.raw).not.toContain('qwen3.5-4b-32k"')
		expect(r.raw).not.toContain('chatcmpl-1"')
	})

	test('without include_usage: no usage anywhere, but onUsage still reports it', async () => {
		const r = await run(upstream(frames(VERIFIED)), { includeUsage: false })
		expectWellFormed(r, false)
		expect(r.chunks.some((c) => c.choices.length === 0)).toBe(false)
		expect(r.raw).not.toContain('usage')
		expect(r.usages).toHaveLength(1)
		expect(r.usages[0]!.total_tokens).toBe(32)
	})

	test('the first chunk goes out as soon as the upstream role chunk arrives', async () => {
		const r = await run(upstream(frames(VERIFIED)))
		expect(r.chunks[0].choices[0].delta).toEqual({ role: 'assistant', content: '' })
		expect(r.chunks[1].choices[0].delta).toEqual({ content: 'Paris.' })
	})

	test('usage on every chunk (as the verified model sends it): the last one wins', async () => {
		const payloads = [
			{ choices: [{ index: 0, delta: { role: 'assistant', content: 'a' } }], usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 } },
			{ choices: [{ index: 0, delta: { content: 'b' } }], usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 } },
			{ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], usage: null },
		]
		const r = await run(upstream(frames(payloads)), { includeUsage: true })
		expectWellFormed(r, true)
		expect(r.chunks.at(-1).usage.completion_tokens).toBe(2)
		expect(r.usages.map((u) => u.completion_tokens)).toEqual([2])
	})

	test('every byte split of the upstream gives the same output', async () => {
		const whole = frames(VERIFIED).join('')
		const reference = await run(upstream([whole]), { includeUsage: true, id: 'chatcmpl-x' })
		const bytes = te.encode(whole)
		for (let cut = 1; cut < bytes.length; cut += 7) {
			const parts = [bytes.slice(0, cut), bytes.slice(cut)]
			const body = new ReadableStream<Uint8Array>({
				start(c) {
					for (const p of parts) c.enqueue(p)
					c.close()
				},
			})
			const r = await run(body, { includeUsage: true, id: 'chatcmpl-x' })
			expect(r.data).toEqual(reference.data)
		}
	})
})

describe('translateStream: tool calls', () => {
	test('§5.2 tool-call deltas: index, id, type, name on the first delta; arguments fragments; finish tool_calls', async () => {
		const r = await run(upstream(frames([...TOOL_DELTAS, '{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}'])))
		expectWellFormed(r, false)
		const deltas = r.chunks.flatMap((c) => c.choices.flatMap((ch: any) => ch.delta.tool_calls ?? []))
		expect(deltas[0]).toEqual({ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '' } })
		expect(deltas[1]).toEqual({ index: 0, function: { arguments: '{"city":"Paris"}' } })
		expect(finishOf(r)).toBe('tool_calls')
		expect(r.ends[0]!.finishReason).toBe('tool_calls')
	})

	test('finish_reason is tool_calls whenever a call was streamed, whatever upstream said', async () => {
		for (const said of ['stop', 'end_turn', 'tool_use', null]) {
			const r = await run(upstream(frames([...TOOL_DELTAS, { choices: [{ index: 0, delta: {}, finish_reason: said }] }])))
			expect(finishOf(r)).toBe('tool_calls')
		}
	})

	test('tool_use without any call streamed -> stop; Claude and Gemini reasons mapped', async () => {
		for (const [said, expected] of [
			['tool_use', 'stop'],
			['end_turn', 'stop'],
			['max_tokens', 'length'],
			['MAX_TOKENS', 'length'],
			['SAFETY', 'content_filter'],
			['weird', 'stop'],
		] as const) {
			const r = await run(upstream(frames([{ choices: [{ index: 0, delta: { content: 'x' } }] }, { choices: [{ index: 0, delta: {}, finish_reason: said }] }])))
			expect(finishOf(r)).toBe(expected)
		}
	})

	test('calls from different upstream choices get distinct indexes and ids; a split Claude answer collapses to index 0', async () => {
		const payloads = [
			{ choices: [{ index: 0, delta: { role: 'assistant', content: 'Let me look that up.' } }] },
			{ choices: [{ index: 0, delta: {}, finish_reason: 'tool_use' }] },
			{
				choices: [
					{ index: 1, delta: { tool_calls: [{ index: 0, id: 'toolu_A', type: 'function', function: { name: 'get_weather', arguments: '{"city":' } }] } },
				],
			},
			{ choices: [{ index: 2, delta: { tool_calls: [{ index: 0, id: 'toolu_B', type: 'function', function: { name: 'get_time', arguments: '{}' } }] } }] },
			{ choices: [{ index: 1, delta: { tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] } }] },
			{
				choices: [
					{ index: 1, delta: {}, finish_reason: 'tool_use' },
					{ index: 2, delta: {}, finish_reason: 'tool_use' },
				],
			},
		]
		const r = await run(upstream(frames(payloads)))
		expectWellFormed(r, false)
		expect(text(r)).toBe('Let me look that up.')
		const deltas = r.chunks.flatMap((c) => c.choices.flatMap((ch: any) => ch.delta.tool_calls ?? []))
		expect(deltas).toEqual([
			{ index: 0, id: 'toolu_A', type: 'function', function: { name: 'get_weather', arguments: '{"city":' } },
			{ index: 1, id: 'toolu_B', type: 'function', function: { name: 'get_time', arguments: '{}' } },
			{ index: 0, function: { arguments: '"Paris"}' } },
		])
		expect(finishOf(r)).toBe('tool_calls')
	})

	test('a missing id is generated on the first delta; object arguments are stringified; the name is sent once', async () => {
		const payloads = [
			{ choices: [{ index: 0, delta: { tool_calls: [{ index: 3, function: { name: 'f', arguments: { a: 1 } } }] } }] },
			{ choices: [{ index: 0, delta: { tool_calls: [{ index: 3, function: { name: 'f', arguments: '' } }] } }] },
		]
		const r = await run(upstream(frames(payloads)))
		const deltas = r.chunks.flatMap((c) => c.choices.flatMap((ch: any) => ch.delta.tool_calls ?? []))
		expect(deltas[0].index).toBe(0)
		expect(deltas[0].id).toMatch(/^call_[0-9a-f]{24}$/)
		expect(deltas[0].type).toBe('function')
		expect(deltas[0].function).toEqual({ name: 'f', arguments: '{"a":1}' })
		expect(deltas[1]).toEqual({ index: 0 })
	})

	test('parallel calls that reuse index 0 with new ids become separate calls', async () => {
		const payloads = [
			{ choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: 'a', function: { name: 'f', arguments: '{}' } }] } }] },
			{ choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: 'b', function: { name: 'g', arguments: '{}' } }] } }] },
		]
		const r = await run(upstream(frames(payloads)))
		const deltas = r.chunks.flatMap((c) => c.choices.flatMap((ch: any) => ch.delta.tool_calls ?? []))
		expect(deltas.map((d: any) => [d.index, d.id])).toEqual([
			[0, 'a'],
			[1, 'b'],
		])
	})

	test('extra fields of a tool-call delta (thought signatures) pass through', async () => {
		const sig = { google: { thought_signature: 's1' } }
		const r = await run(
			upstream(
				frames([
					{
						choices: [
							{ index: 0, delta: { tool_calls: [{ index: 0, id: 'a', type: 'function', function: { name: 'f', arguments: '{}' }, extra_content: sig }] } },
						],
					},
				]),
			),
		)
		const deltas = r.chunks.flatMap((c) => c.choices.flatMap((ch: any) => ch.delta.tool_calls ?? []))
		expect(deltas[0]).toEqual({ index: 0, id: 'a', type: 'function', function: { name: 'f', arguments: '{}' }, extra_content: sig })
	})

	test('deltas without index continue the current call', async () => {
		const payloads = [
			{ choices: [{ delta: { tool_calls: [{ id: 'a', function: { name: 'f', arguments: '{"x"' } }] } }] },
			{ choices: [{ delta: { tool_calls: [{ function: { arguments: ':1}' } }] } }] },
		]
		const r = await run(upstream(frames(payloads)))
		const deltas = r.chunks.flatMap((c) => c.choices.flatMap((ch: any) => ch.delta.tool_calls ?? []))
		expect(deltas).toEqual([
			{ index: 0, id: 'a', type: 'function', function: { name: 'f', arguments: '{"x"' } },
			{ index: 0, function: { arguments: ':1}' } },
		])
	})
})

describe('translateStream: content details', () => {
	test('reasoning_content deltas pass through (and vLLM `reasoning`)', async () => {
		const payloads = [
			{ choices: [{ index: 0, delta: { role: 'assistant', reasoning_content: 'think ' } }] },
			{ choices: [{ index: 0, delta: { reasoning: 'more' } }] },
			{ choices: [{ index: 0, delta: { content: 'answer' }, finish_reason: 'stop' }] },
		]
		const r = await run(upstream(frames(payloads)))
		expectWellFormed(r, false)
		expect(r.chunks.map((c) => c.choices[0]?.delta?.reasoning_content ?? '').join('')).toBe('think more')
		expect(text(r)).toBe('answer')
	})

	test('a finish_reason on a content chunk: content first, then one finish chunk', async () => {
		const r = await run(upstream(frames([{ choices: [{ index: 0, delta: { role: 'assistant', content: 'all at once' }, finish_reason: 'end_turn' }] }])))
		expectWellFormed(r, false)
		expect(r.chunks).toHaveLength(2)
		expect(r.chunks[0].choices[0]).toEqual({ index: 0, delta: { role: 'assistant', content: 'all at once' }, logprobs: null, finish_reason: null })
		expect(r.chunks[1].choices[0]).toEqual({ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' })
	})

	test('an empty answer still gets role, finish and [DONE]', async () => {
		const r = await run(upstream(frames([])))
		expectWellFormed(r, false)
		expect(r.chunks).toHaveLength(1)
		expect(r.chunks[0].choices[0]).toEqual({ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: 'stop' })
	})

	test('null choices, blank data lines, comments and event lines are tolerated', async () => {
		const body = upstream([
			': ping\n\n',
			'data: \n\n',
			'event: x\ndata: {"choices":null}\n\n',
			...frames([{ choices: [{ index: 0, delta: { content: 'ok' } }] }]),
		])
		const r = await run(body)
		expectWellFormed(r, false)
		expect(text(r)).toBe('ok')
	})

	test('without a given id a chatcmpl id is generated, identical on every chunk', async () => {
		const r = await run(upstream(frames(VERIFIED)))
		expect(r.chunks[0].id).toMatch(/^chatcmpl-[0-9a-f]{24}$/)
	})
})

describe('translateStream: broken streams', () => {
	const brokenEvent = { error: { message: 'Upstream stream ended before completion', type: 'api_error', param: null, code: 'upstream_stream_broken' } }

	test('upstream ends without [DONE]: error event, no [DONE], onEnd clean false', async () => {
		const r = await run(upstream(frames(VERIFIED.slice(0, 2), false)))
		expect(r.data).not.toContain('[DONE]')
		expect(text(r)).toBe('Paris.')
		expect(JSON.parse(r.data.at(-1)!)).toEqual(brokenEvent)
		expect(r.chunks.some((c) => c.choices?.some((ch: any) => ch.finish_reason != null))).toBe(false)
		expect(r.ends).toHaveLength(1)
		expect(r.ends[0]!.clean).toBe(false)
		expect(r.ends[0]!.error).toBeInstanceOf(Error)
	})

	test('upstream cut in the middle of a frame', async () => {
		const whole = frames(VERIFIED).join('')
		const r = await run(upstream([whole.slice(0, whole.indexOf('Paris') + 3)]))
		expect(r.data).not.toContain('[DONE]')
		expect(r.ends[0]!.clean).toBe(false)
		expect(JSON.parse(r.data.at(-1)!).error.type).toBe('api_error')
	})

	test('upstream read error (connection reset) mid-way', async () => {
		const r = await run(upstream(frames(VERIFIED.slice(0, 2), false), { error: new Error('ECONNRESET') }))
		expect(r.data).not.toContain('[DONE]')
		expect(JSON.parse(r.data.at(-1)!)).toEqual(brokenEvent)
		expect(r.ends[0]!.clean).toBe(false)
		expect(r.ends[0]!.error?.message).toBe('ECONNRESET')
	})

	test('usage seen before the break is still reported (those tokens were spent)', async () => {
		const r = await run(
			upstream(frames([{ choices: [{ index: 0, delta: { content: 'a' } }], usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 } }], false)),
		)
		expect(r.ends[0]!.clean).toBe(false)
		expect(r.usages).toHaveLength(1)
	})

	test.each([
		['{"error":{"message":"provider overloaded","code":529}}', 'provider overloaded'],
		['{"error":"boom","status":"error"}', 'boom'],
		['{"code":500,"message":"something went wrong","request_id":"r"}', 'something went wrong'],
	])('an error object mid-stream %s ends the stream as an error', async (payload, message) => {
		const r = await run(upstream([...frames([VERIFIED[0]!, VERIFIED[1]!], false), `data: ${payload}\n\n`, ...frames([VERIFIED[2]!])]))
		expect(r.data).not.toContain('[DONE]')
		const last = JSON.parse(r.data.at(-1)!)
		expect(last.error.type).toBe('api_error')
		expect(last.error.message).toContain(message)
		expect(r.ends[0]!.clean).toBe(false)
		expect(text(r)).toBe('Paris.')
	})

	test('a chunk that is not JSON is an error too', async () => {
		const r = await run(upstream(['data: {"choices":[{"delta":{"content":"a"}}]}\n\n', 'data: <html>oops</html>\n\n', 'data: [DONE]\n\n']))
		expect(r.data).not.toContain('[DONE]')
		expect(r.ends[0]!.clean).toBe(false)
	})

	test('anything after [DONE] is ignored and the upstream released', async () => {
		const body = upstream([...frames(VERIFIED), 'data: {"choices":[{"delta":{"content":"late"}}]}\n\n'], { keepOpen: true })
		const r = await run(body)
		expectWellFormed(r, false)
		expect(text(r)).toBe('Paris.')
		expect(body.cancelled()).not.toBe(false)
	})
})

describe('translateStream: cancellation and backpressure', () => {
	test('the client cancelling cancels the upstream reader and ends unclean', async () => {
		const body = upstream(frames([VERIFIED[0]!, VERIFIED[1]!], false), { keepOpen: true })
		const ends: StreamEnd[] = []
		const out = translateStream(body, { model: 'm', created: 1, includeUsage: false, onEnd: (r) => ends.push(r) })
		const reader = out.getReader()
		const first = await reader.read()
		expect(first.done).toBe(false)
		await reader.cancel('client went away')
		expect(body.cancelled()).toBe('client went away')
		expect(ends).toEqual([{ clean: false, finishReason: null }])
	})

	test('cancelling while a read is pending on a silent upstream', async () => {
		const body = upstream([], { keepOpen: true })
		const ends: StreamEnd[] = []
		const out = translateStream(body, { model: 'm', created: 1, includeUsage: false, onEnd: (r) => ends.push(r) })
		const reader = out.getReader()
		const pending = reader.read()
		await new Promise((r) => setTimeout(r, 5))
		await reader.cancel()
		expect((await pending).done).toBe(true)
		expect(body.cancelled()).not.toBe(false)
		expect(ends).toHaveLength(1)
		expect(ends[0]!.clean).toBe(false)
	})

	test('nothing is read from upstream before the client asks (pull-driven)', async () => {
		let pulls = 0
		const body = new ReadableStream<Uint8Array>(
			{
				pull(c) {
					pulls++
					c.enqueue(te.encode('data: {"choices":[{"delta":{"content":"x"}}]}\n\n'))
				},
			},
			{ highWaterMark: 0 },
		)
		const out = translateStream(body, { model: 'm', created: 1, includeUsage: false, onEnd: () => {} })
		await new Promise((r) => setTimeout(r, 10))
		expect(pulls).toBe(0)
		const reader = out.getReader()
		await reader.read()
		await reader.read()
		await new Promise((r) => setTimeout(r, 10))
		expect(pulls).toBeLessThanOrEqual(3)
		await reader.cancel()
	})

	test('onEnd is called exactly once on a clean end', async () => {
		const r = await run(upstream(frames(VERIFIED)))
		expect(r.ends).toHaveLength(1)
	})
})

describe('completionToStream', () => {
	const completion = toChatCompletion(
		{
			request_id: 'rq',
			choices: [
				{
					index: 0,
					message: { role: 'assistant', content: 'Let me look that up.', reasoning_content: 'hmm', thought_signature: 'sig' },
					finish_reason: 'tool_use',
				},
				{
					index: 1,
					message: {
						content: null,
						tool_calls: [
							{ id: 'toolu_01A', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
							{ id: 'toolu_01B', type: 'function', function: { name: 'get_time', arguments: { tz: 'CET' } } },
						],
					},
					finish_reason: 'tool_use',
				},
			],
			usage: { input_tokens: 310, prompt_tokens: 310, output_tokens: 42, completion_tokens: 42, total_tokens: 352 },
		},
		{ model: 'client-model', created: 1_790_000_123 },
	)

	test('role, reasoning, content, one chunk per tool call, finish, usage, [DONE]', async () => {
		const r = { ...(await collect(completionToStream(completion, { includeUsage: true }))), ends: [{ clean: true, finishReason: 'tool_calls' }], usages: [] }
		expectWellFormed(r, true)
		expect(r.chunks.every((c) => c.id === 'chatcmpl-rq')).toBe(true)
		const deltas = r.chunks.map((c) => c.choices[0]?.delta)
		expect(deltas[0]).toEqual({ role: 'assistant', content: '', thought_signature: 'sig' })
		expect(deltas[1]).toEqual({ reasoning_content: 'hmm' })
		expect(deltas[2]).toEqual({ content: 'Let me look that up.' })
		expect(deltas[3]).toEqual({
			tool_calls: [{ index: 0, id: 'toolu_01A', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
		})
		expect(deltas[4]).toEqual({ tool_calls: [{ index: 1, id: 'toolu_01B', type: 'function', function: { name: 'get_time', arguments: '{"tz":"CET"}' } }] })
		expect(r.chunks[5].choices[0]).toEqual({ index: 0, delta: {}, logprobs: null, finish_reason: 'tool_calls' })
		expect(r.chunks[6]).toMatchObject({ choices: [], usage: { prompt_tokens: 310, completion_tokens: 42, total_tokens: 352 } })
		expect(r.chunks).toHaveLength(7)
	})

	test('extra fields of a tool call survive fake streaming', async () => {
		const c = toChatCompletion(
			{ choices: [{ message: { tool_calls: [{ id: 'a', function: { name: 'f', arguments: '{}' }, extra_content: { s: 1 } }] } }] },
			{ model: 'm', created: 1 },
		)
		const r = await collect(completionToStream(c, { includeUsage: false }))
		expect(r.chunks[1].choices[0].delta.tool_calls).toEqual([
			{ index: 0, id: 'a', type: 'function', function: { name: 'f', arguments: '{}' }, extra_content: { s: 1 } },
		])
	})

	test('without include_usage: no usage chunk and no usage field', async () => {
		const r = await collect(completionToStream(completion, { includeUsage: false }))
		expect(r.data.at(-1)).toBe('[DONE]')
		expect(r.raw).not.toContain('usage')
		expect(r.chunks.every((c) => c.choices.length === 1)).toBe(true)
	})

	test('a plain text answer: role, content, finish, [DONE]', async () => {
		const plain = toChatCompletion(
			{ choices: [{ message: { content: 'Paris.' }, finish_reason: 'end_turn' }] },
			{ model: 'client-model', created: 1_790_000_123 },
		)
		const r = await collect(completionToStream(plain, { includeUsage: true }))
		expect(r.chunks.map((c) => c.choices[0]?.delta)).toEqual([{ role: 'assistant', content: '' }, { content: 'Paris.' }, {}])
		expect(r.chunks[2].choices[0].finish_reason).toBe('stop')
		expect(r.data.at(-1)).toBe('[DONE]')
	})

	test('the streamed form of a native stream and of its completion carry the same text', async () => {
		const native = await run(upstream(frames(VERIFIED)))
		const fake = await collect(
			completionToStream(toChatCompletion({ choices: [{ message: { content: 'Paris.' }, finish_reason: 'stop' }] }, { model: 'client-model', created: 1 }), {
				includeUsage: false,
			}),
		)
		expect(fake.chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe(text(native))
	})
})
