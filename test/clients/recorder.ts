/**
 * A tiny recording server that answers like the Anthropic Messages API and the OpenAI Responses
 * API, for finding out (and pinning down) what the real CLIs send. It records every request (method,
 * path with query, headers, parsed body) and answers:
 *
 * - `POST /v1/messages` (any query, e.g. `?beta=true`): the documented Messages SSE sequence when
 *   `stream: true`, else a `message` object; the text is `answer` (default 'Recorded answer.').
 * - `POST /v1/messages/count_tokens`: `{"input_tokens": N}`.
 * - `POST /v1/responses`: the documented Responses SSE sequence when `stream: true`, else a
 *   `response` object, with one `message` output item whose `output_text` is `answer`.
 * - `GET /v1/models`: a one-model list (Anthropic shape when `anthropic-version` is present).
 * - `HEAD`/`GET` anything else: 200 empty (connectivity probes); anything else: 404, recorded.
 *
 * Run it alone (`bun test/clients/recorder.ts [port]`) to point a CLI at it by hand; every request
 * is printed as one JSON line.
 */

export interface Recorded {
	method: string
	/** path plus query string, e.g. '/v1/messages?beta=true' */
	path: string
	headers: Record<string, string>
	body: unknown
}

/** A tool call the recorder answers with (Messages `tool_use` input / Responses `function_call` arguments). */
export interface ToolCall {
	name: string
	input: Record<string, unknown>
}

export interface Recorder {
	url: string
	requests: Recorded[]
	stop(): Promise<void>
}

const sse = (events: Array<[string, unknown]>): Response =>
	new Response(events.map(([event, data]) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`).join(''), {
		headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' },
	})

const asObject = (value: unknown): Record<string, unknown> => (value && typeof value === 'object' ? (value as Record<string, unknown>) : {})

/** A Messages answer with one text block: SSE when `body.stream` is true, else a `message` object. */
export function messages(body: Record<string, unknown>, answer: string, n = 1): Response {
	const model = String(body.model ?? 'claude-sonnet-4-6')
	const id = `msg_rec_${n}`
	const usage = { input_tokens: 12, output_tokens: 3, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 }
	if (body.stream !== true) {
		return Response.json({
			id,
			type: 'message',
			role: 'assistant',
			model,
			content: [{ type: 'text', text: answer }],
			stop_reason: 'end_turn',
			stop_sequence: null,
			usage,
		})
	}
	const words = answer.split(/(?<= )/)
	return sse([
		[
			'message_start',
			{
				type: 'message_start',
				message: { id, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } },
			},
		],
		['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }],
		['ping', { type: 'ping' }],
		...words.map((text): [string, unknown] => ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } }]),
		['content_block_stop', { type: 'content_block_stop', index: 0 }],
		['message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: usage.output_tokens } }],
		['message_stop', { type: 'message_stop' }],
	])
}

/** A streamed Messages answer that calls one tool: text preamble, then a `tool_use` block whose input arrives as `input_json_delta`s. */
export function messagesToolUse(body: Record<string, unknown>, tool: ToolCall, n = 1): Response {
	const model = String(body.model ?? 'claude-sonnet-4-6')
	const usage = { input_tokens: 12, output_tokens: 9, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 }
	const json = JSON.stringify(tool.input)
	const half = Math.floor(json.length / 2)
	return sse([
		[
			'message_start',
			{
				type: 'message_start',
				message: {
					id: `msg_rec_${n}`,
					type: 'message',
					role: 'assistant',
					model,
					content: [],
					stop_reason: null,
					stop_sequence: null,
					usage: { ...usage, output_tokens: 1 },
				},
			},
		],
		['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }],
		['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Let me run that.' } }],
		['content_block_stop', { type: 'content_block_stop', index: 0 }],
		['content_block_start', { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: `toolu_rec_${n}`, name: tool.name, input: {} } }],
		['content_block_delta', { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: json.slice(0, half) } }],
		['content_block_delta', { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: json.slice(half) } }],
		['content_block_stop', { type: 'content_block_stop', index: 1 }],
		['message_delta', { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: usage.output_tokens } }],
		['message_stop', { type: 'message_stop' }],
	])
}

/** A streamed Responses answer that calls one function: a `function_call` item whose arguments arrive as deltas. */
export function responsesFunctionCall(body: Record<string, unknown>, tool: ToolCall, n = 1): Response {
	const model = String(body.model ?? 'gpt-5')
	const base = {
		id: `resp_rec_${n}`,
		object: 'response',
		created_at: Math.floor(Date.now() / 1000),
		model,
		error: null,
		incomplete_details: null,
		store: false,
	}
	const args = JSON.stringify(tool.input)
	const half = Math.floor(args.length / 2)
	const itemId = `fc_rec_${n}`
	const item = { id: itemId, type: 'function_call', status: 'completed', call_id: `call_rec_${n}`, name: tool.name, arguments: args }
	const usage = {
		input_tokens: 12,
		input_tokens_details: { cached_tokens: 0 },
		output_tokens: 9,
		output_tokens_details: { reasoning_tokens: 0 },
		total_tokens: 21,
	}
	let seq = 0
	const ev = (type: string, data: Record<string, unknown>): [string, unknown] => [type, { type, sequence_number: seq++, ...data }]
	return sse([
		ev('response.created', { response: { ...base, status: 'in_progress', output: [], usage: null } }),
		ev('response.in_progress', { response: { ...base, status: 'in_progress', output: [], usage: null } }),
		ev('response.output_item.added', { output_index: 0, item: { ...item, status: 'in_progress', arguments: '' } }),
		ev('response.function_call_arguments.delta', { item_id: itemId, output_index: 0, delta: args.slice(0, half) }),
		ev('response.function_call_arguments.delta', { item_id: itemId, output_index: 0, delta: args.slice(half) }),
		ev('response.function_call_arguments.done', { item_id: itemId, output_index: 0, arguments: args }),
		ev('response.output_item.done', { output_index: 0, item }),
		ev('response.completed', { response: { ...base, status: 'completed', output: [item], usage } }),
	])
}

/** A Responses answer with one `message` output item: SSE when `body.stream` is true, else a `response` object. */
export function responses(body: Record<string, unknown>, answer: string, n = 1): Response {
	const model = String(body.model ?? 'gpt-5')
	const created_at = Math.floor(Date.now() / 1000)
	const respId = `resp_rec_${n}`
	const itemId = `msg_rec_${n}`
	const usage = {
		input_tokens: 12,
		input_tokens_details: { cached_tokens: 0 },
		output_tokens: 3,
		output_tokens_details: { reasoning_tokens: 0 },
		total_tokens: 15,
	}
	const part = { type: 'output_text', text: answer, annotations: [] }
	const item = { id: itemId, type: 'message', status: 'completed', role: 'assistant', content: [part] }
	const base = {
		id: respId,
		object: 'response',
		created_at,
		model,
		error: null,
		incomplete_details: null,
		instructions: body.instructions ?? null,
		parallel_tool_calls: body.parallel_tool_calls ?? true,
		tool_choice: body.tool_choice ?? 'auto',
		tools: body.tools ?? [],
		store: false,
		metadata: {},
	}
	if (body.stream !== true) return Response.json({ ...base, status: 'completed', output: [item], output_text: answer, usage })
	let seq = 0
	const ev = (type: string, data: Record<string, unknown>): [string, unknown] => [type, { type, sequence_number: seq++, ...data }]
	return sse([
		ev('response.created', { response: { ...base, status: 'in_progress', output: [], usage: null } }),
		ev('response.in_progress', { response: { ...base, status: 'in_progress', output: [], usage: null } }),
		ev('response.output_item.added', { output_index: 0, item: { ...item, status: 'in_progress', content: [] } }),
		ev('response.content_part.added', { item_id: itemId, output_index: 0, content_index: 0, part: { ...part, text: '' } }),
		...answer.split(/(?<= )/).map((delta) => ev('response.output_text.delta', { item_id: itemId, output_index: 0, content_index: 0, delta, logprobs: [] })),
		ev('response.output_text.done', { item_id: itemId, output_index: 0, content_index: 0, text: answer, logprobs: [] }),
		ev('response.content_part.done', { item_id: itemId, output_index: 0, content_index: 0, part }),
		ev('response.output_item.done', { output_index: 0, item }),
		ev('response.completed', { response: { ...base, status: 'completed', output: [item], usage } }),
	])
}

/** Has the conversation already carried a tool result back (Messages `tool_result` block / Responses `function_call_output` item)? */
function hasToolResult(body: Record<string, unknown>): boolean {
	const json = JSON.stringify(body.messages ?? body.input ?? [])
	return json.includes('"type":"tool_result"') || json.includes('"type":"function_call_output"')
}

/**
 * `tool`: answer a streamed Messages/Responses request with a call of this tool until the
 * conversation carries a tool result, then with the text answer (one tool round trip).
 */
export function startRecorder(options: { answer?: string; port?: number; tool?: ToolCall; onRequest?: (r: Recorded) => void } = {}): Recorder {
	const answer = options.answer ?? 'Recorded answer.'
	const requests: Recorded[] = []
	const server = Bun.serve({
		hostname: '127.0.0.1',
		port: options.port ?? 0,
		idleTimeout: 60,
		async fetch(request) {
			const url = new URL(request.url)
			const text = await request.text()
			let body: unknown = text
			try {
				body = text ? JSON.parse(text) : null
			} catch {}
			const rec: Recorded = { method: request.method, path: url.pathname + url.search, headers: Object.fromEntries(request.headers), body }
			requests.push(rec)
			options.onRequest?.(rec)
			const n = requests.length
			const json = asObject(body)
			if (request.method === 'POST' && url.pathname === '/v1/messages/count_tokens') return Response.json({ input_tokens: 42 })
			const callTool = options.tool && json.stream === true && !hasToolResult(json)
			if (request.method === 'POST' && url.pathname === '/v1/messages') return callTool ? messagesToolUse(json, options.tool!, n) : messages(json, answer, n)
			if (request.method === 'POST' && url.pathname === '/v1/responses')
				return callTool ? responsesFunctionCall(json, options.tool!, n) : responses(json, answer, n)
			if (request.method === 'GET' && url.pathname === '/v1/models') {
				if (request.headers.has('anthropic-version')) {
					const m = { type: 'model', id: 'claude-sonnet-4-6', display_name: 'Claude Sonnet 4.6', created_at: '2026-01-01T00:00:00Z' }
					return Response.json({ data: [m], has_more: false, first_id: m.id, last_id: m.id })
				}
				return Response.json({ object: 'list', data: [{ id: 'gpt-5', object: 'model', created: 0, owned_by: 'openai' }] })
			}
			if (request.method === 'HEAD' || request.method === 'GET') return new Response(null, { status: 200 })
			return Response.json({ error: { message: `no route ${request.method} ${url.pathname}` } }, { status: 404 })
		},
	})
	return {
		url: `http://127.0.0.1:${server.port}`,
		requests,
		stop: () => server.stop(true),
	}
}

if (import.meta.main) {
	const port = Number(process.argv[2] ?? 0)
	const recorder = startRecorder({ port, onRequest: (r) => console.log(JSON.stringify(r)) })
	console.error(`recording on ${recorder.url}`)
}
