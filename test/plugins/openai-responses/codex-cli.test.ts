/**
 * The real Codex CLI (`@openai/codex`, pinned in .ci/clients/package.json), headless
 * (`codex exec`), offline, against
 *   1. test/clients/recorder.ts, a stand-in Responses server: pins down what this CLI version sends;
 *   2. amb2api itself on a real port, with the fake AssemblyAI upstream behind it: the answer must
 *      come back through the key pool. Skips while `POST /v1/responses` answers 404 (the route is
 *      the openai-responses plugin's).
 * Skips entirely when the binary is absent (`.ci/run` installs it: `bun install` in .ci/clients).
 *
 * Configuration (test/clients/cli.ts writes it into a temporary CODEX_HOME/config.toml): a custom
 * provider `[model_providers.amb2api]` with `base_url = "<gateway>/v1"`, `env_key` naming the
 * variable that holds the API password or client key, `wire_api = "responses"` (the only value
 * Codex accepts now), retries off; `check_for_update_on_startup = false`, analytics and feedback
 * off, and `[features] plugins = remote_plugin = apps = false` (else the curated-plugin sync tries
 * github.com, api.github.com and chatgpt.com on every start).
 *
 * What Codex 0.171.0 sends for one `exec` prompt (recorded; the dialect must serve all of it):
 * - exactly ONE request, `POST <base_url>/responses`; no `/models` probe, no HEAD/GET.
 * - headers: `authorization: Bearer <key>`, `accept: text/event-stream`, `content-type:
 *   application/json` (body not compressed), `accept-encoding: zstd,gzip`, `originator:
 *   codex_exec`, `session-id`, `thread-id`, `x-client-request-id`, `x-codex-window-id`,
 *   `x-codex-beta-features: remote_compaction_v2`, `x-codex-turn-metadata` (JSON),
 *   `user-agent: codex_exec/0.171.0 (...)`.
 * - body: `model`, `stream: true`, `input`, `tools`, `tool_choice: "auto"`,
 *   `parallel_tool_calls: true`, `reasoning: {summary: "auto"}` (no effort), `store: false`,
 *   `include: ["reasoning.encrypted_content"]`, `prompt_cache_key`, `client_metadata` (an object
 *   of strings, not an official field). NO `instructions`, NO `max_output_tokens`, no temperature.
 * - `input`: 4 items, each `{type: "message", id: "msg_...", role, content: [{type: "input_text",
 *   text}]}`: two with role `developer` (the system prompt, then skills), one `user`
 *   (<environment_context>), then the prompt as the last `user` message.
 * - `tools`: 9 entries; 7 `{type: "function", name, description, strict: false, parameters}`
 *   (exec_command, write_stdin, request_user_input, view_image, get_goal, create_goal,
 *   update_goal), one `{type: "namespace", name: "multi_agent_v1", description, tools: [function
 *   tools]}` and one `{type: "web_search", external_web_access: false}`. A dialect that accepts
 *   only function tools must drop (or flatten) the other two instead of rejecting the request.
 * - function-call round trip (recorded with a `function_call` of exec_command): stateless, no
 *   `previous_response_id`; the second request repeats every input item and appends the
 *   `function_call` item exactly as the server streamed it in `response.output_item.done` (`id`,
 *   `status`, `name`, `arguments` string, `call_id`), then `{type: "function_call_output", id:
 *   "fco_...", call_id, output: "<string>"}`. So output item ids must be accepted back as input.
 * - it needs the typed SSE events; it prints the text of the final `message` item on stdout (and
 *   to `-o <file>`), and everything else (banner, warnings, "tokens used") on stderr.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { CODEX_VERSION, codexCommand, describeRun, runCodex } from '../../clients/cli.ts'
import { startRecorder } from '../../clients/recorder.ts'
import { fakeAnswer, TOOL_ARGUMENTS } from '../../fake-gateway.ts'
import { API_PASSWORD, assertNoSecrets, type Harness, KEYS, PANEL_PASSWORD, startHarness } from '../../support.ts'

const MODEL = 'gpt-5'
const codex = codexCommand()
const NO_CLI = `Codex CLI ${CODEX_VERSION} is not installed in .ci/clients (run .ci/run, or: cd .ci/clients && bun install --frozen-lockfile)`
if (!codex) console.warn(`skip: ${NO_CLI}`)

/** Does amb2api serve POST /v1/responses yet? (404 = the openai-responses plugin is not there.) */
async function responsesRouteServed(): Promise<boolean> {
	const h = await startHarness()
	try {
		const response = await h.call('/v1/responses', { method: 'POST', json: { model: MODEL, input: 'probe' } })
		await response.body?.cancel()
		return response.status !== 404
	} finally {
		await h.close()
	}
}
const routeServed = codex ? await responsesRouteServed() : false
const NO_ROUTE = 'amb2api answers 404 on POST /v1/responses (the openai-responses plugin is not merged): Codex CLI against amb2api skipped'
if (codex && !routeServed) console.warn(`skip: ${NO_ROUTE}`)

describe.skipIf(!codex)(`Codex CLI ${CODEX_VERSION} (real CLI) against the recording server`, () => {
	test('one exec prompt: one streamed POST /v1/responses with the recorded shape; the answer is printed', async () => {
		const recorder = startRecorder({ answer: 'Recorded answer from the stand-in.' })
		try {
			const run = await runCodex({ cmd: codex!, baseUrl: `${recorder.url}/v1`, apiKey: 'rec-key-1', prompt: 'Say hello to the recorder', model: MODEL })
			expect(run.code, describeRun(run)).toBe(0)
			expect(run.stdout.trim()).toBe('Recorded answer from the stand-in.')
			expect(run.lastMessage.trim()).toBe('Recorded answer from the stand-in.')
			expect(run.egress).toEqual([])

			expect(recorder.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /v1/responses'])
			const [req] = recorder.requests
			expect(req!.headers.authorization).toBe('Bearer rec-key-1')
			expect(req!.headers.accept).toBe('text/event-stream')
			expect(req!.headers['content-encoding']).toBeUndefined()
			const body = req!.body as Record<string, any>
			expect(body.model).toBe(MODEL)
			expect(body.stream).toBe(true)
			expect(body.store).toBe(false)
			expect(body.previous_response_id).toBeUndefined()
			expect(Array.isArray(body.input)).toBe(true)
			for (const item of body.input) {
				expect(item.type).toBe('message')
				expect(['developer', 'user']).toContain(item.role)
				expect(item.content.every((p: any) => p.type === 'input_text')).toBe(true)
			}
			expect(body.input.at(-1)).toMatchObject({ role: 'user', content: [{ type: 'input_text', text: 'Say hello to the recorder' }] })
			const kinds = new Set(body.tools.map((t: any) => t.type))
			expect(kinds.has('function')).toBe(true)
			console.info(
				`[codex] body fields: ${Object.keys(body).join(', ')}; tool types: ${[...kinds].join(', ')}; input roles: ${body.input.map((i: any) => i.role).join(',')}`,
			)
		} finally {
			await recorder.stop()
		}
	}, 90_000)
	test('a function-call round trip: stateless, the next request replays the function_call item and adds a function_call_output', async () => {
		const recorder = startRecorder({ answer: 'Tool done.', tool: { name: 'exec_command', input: { cmd: 'echo amb2api-tool-ok' } } })
		try {
			const run = await runCodex({ cmd: codex!, baseUrl: `${recorder.url}/v1`, apiKey: 'rec-key-2', prompt: 'Run the echo', model: MODEL })
			expect(run.code, describeRun(run)).toBe(0)
			expect(run.lastMessage.trim()).toBe('Tool done.')
			expect(recorder.requests.map((r) => r.path)).toEqual(['/v1/responses', '/v1/responses'])
			const first = recorder.requests[0]!.body as Record<string, any>
			const second = recorder.requests[1]!.body as Record<string, any>
			// no previous_response_id: the whole conversation is sent again, plus two items
			expect(second.previous_response_id).toBeUndefined()
			expect(second.input).toHaveLength(first.input.length + 2)
			expect(second.input.slice(0, first.input.length)).toEqual(first.input)
			// the function_call item comes back as the server sent it (its id too) ...
			expect(second.input.at(-2)).toEqual({
				type: 'function_call',
				status: 'completed',
				id: 'fc_rec_1',
				name: 'exec_command',
				arguments: '{"cmd":"echo amb2api-tool-ok"}',
				call_id: 'call_rec_1',
			})
			// ... followed by the output: a string (its text depends on whether the sandbox could run the command)
			expect(second.input.at(-1)).toMatchObject({ type: 'function_call_output', call_id: 'call_rec_1' })
			expect(typeof second.input.at(-1).output).toBe('string')
		} finally {
			await recorder.stop()
		}
	}, 90_000)
})

/** One gateway (real port, fake upstream in-process) for the runs against amb2api, started on first use. */
let h: Harness | null = null
let base = ''
/** client keys created below: like the API password, they may appear in no log line */
const clientKeys: string[] = []
afterAll(async () => {
	try {
		if (h) assertNoSecrets(h.logs, clientKeys)
	} finally {
		await h?.close()
	}
})

describe.skipIf(!codex || !routeServed)(`Codex CLI ${CODEX_VERSION} (real CLI) against amb2api`, () => {
	async function gateway(): Promise<Harness> {
		if (!h) {
			h = await startHarness()
			base = await h.listen()
		}
		return h
	}

	async function ask(apiKey: string, marker: string) {
		const h = await gateway()
		h.fake.reset()
		const run = await runCodex({ cmd: codex!, baseUrl: `${base}/v1`, apiKey, prompt: `Please repeat ${marker}`, model: MODEL })
		expect(run.code, describeRun(run)).toBe(0)
		expect(run.egress).toEqual([])
		// the answer came from the upstream, through the key pool: exactly one chat served, on a pool key
		const served = h.fake.requests.filter((r) => r.path === '/v1/chat/completions' && r.status === 200)
		expect(served).toHaveLength(1)
		expect(KEYS).toContain(served[0]!.key!)
		expect(served[0]!.model).toBe(MODEL)
		expect(JSON.stringify(served[0]!.body.messages)).toContain(`Please repeat ${marker}`)
		// and Codex printed it: the fake answers 'Echo: <text of the last user message>', here the prompt
		expect(fakeAnswer(served[0]!.body).text).toBe(`Echo: Please repeat ${marker}`)
		expect(run.lastMessage.trim(), describeRun(run)).toBe(`Echo: Please repeat ${marker}`)
		expect(run.stdout.trim()).toBe(`Echo: Please repeat ${marker}`)
		return run
	}

	test('a function-call round trip through the pool: the fake calls the first tool, Codex sends the output back, the echo of it is printed', async () => {
		const h = await gateway()
		h.fake.reset()
		// the fake upstream calls the first tool offered (Codex's exec_command) with {"city":"Paris"} when the
		// last user message mentions the weather; Codex answers with a function_call_output (an error
		// about the arguments), and the fake answers a tool result with 'Echo: <tool content>'
		const run = await runCodex({ cmd: codex!, baseUrl: `${base}/v1`, apiKey: API_PASSWORD, prompt: 'What is the weather in Paris?', model: MODEL })
		expect(run.code, describeRun(run)).toBe(0)
		const served = h.fake.requests.filter((r) => r.path === '/v1/chat/completions' && r.status === 200)
		expect(served).toHaveLength(2)
		expect(fakeAnswer(served[0]!.body).toolCall?.name).toBe(served[0]!.body.tools[0].function.name)
		const replay = served[1]!.body.messages as Array<Record<string, any>>
		expect(replay.at(-1)!.role).toBe('tool')
		expect(replay.some((m) => m.role === 'assistant' && m.tool_calls?.[0]?.function?.arguments === TOOL_ARGUMENTS)).toBe(true)
		const expected = fakeAnswer(served[1]!.body).text
		expect(expected).toStartWith('Echo: ')
		expect(run.lastMessage.trim()).toBe(expected!.trim())
	}, 90_000)

	test('the API password: the fake upstream answer is printed', async () => {
		await ask(API_PASSWORD, 'marker-c0d3')
	}, 90_000)

	test('a client key: answered too', async () => {
		const h = await gateway()
		const created = await h.call('/admin/clients', { method: 'POST', auth: PANEL_PASSWORD, json: { name: 'codex' } })
		expect(created.status).toBe(201)
		const { key } = (await created.json()) as { key: string }
		clientKeys.push(key)
		await ask(key, 'marker-e9d1')
	}, 90_000)
})
