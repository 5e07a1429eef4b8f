/**
 * The real Claude Code CLI (`@anthropic-ai/claude-code`, pinned in .ci/clients/package.json),
 * headless (`claude -p ... --output-format json`), offline, against
 *   1. test/clients/recorder.ts, a stand-in Messages server: pins down what this CLI version sends;
 *   2. amb2api itself on a real port, with the fake AssemblyAI upstream behind it: the answer must
 *      come back through the key pool. Skips while `POST /v1/messages` answers 404 (the route is
 *      the anthropic-messages plugin's).
 * Skips entirely when the binary is absent (`.ci/run` installs it: `bun install` in .ci/clients).
 *
 * What Claude Code 2.1.332 sends for one `-p` prompt (recorded; the dialect must serve all of it):
 * - exactly ONE request, `POST /v1/messages?beta=true` (note the query string), no HEAD/GET probe,
 *   no `count_tokens`, no `/v1/models`, no small-model side call (title, quota check), when
 *   CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1. (Model discovery via `GET /v1/models` exists behind
 *   CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY; off by default.)
 * - headers: `x-api-key: <ANTHROPIC_API_KEY>` (or `authorization: Bearer <ANTHROPIC_AUTH_TOKEN>`,
 *   then no x-api-key), `anthropic-version: 2023-06-01`, `anthropic-beta: claude-code-20250219,
 *   interleaved-thinking-2025-05-14,context-management-2025-06-27,thinking-token-count-2026-05-13,
 *   advanced-tool-use-2025-11-20,effort-2025-11-24`, `anthropic-dangerous-direct-browser-access: true`,
 *   `x-app: cli`, `x-claude-code-session-id`, `user-agent: claude-cli/<version> (external, sdk-cli)`,
 *   `x-stainless-*` (retry count, timeout 600), `accept: application/json`,
 *   `accept-encoding: gzip, deflate, br, zstd`; body is plain JSON (~87 kB), not compressed.
 * - body fields: `model`, `messages`, `system`, `tools`, `metadata` ({user_id: a JSON *string*}),
 *   `max_tokens: 32000`, `thinking: {type: "adaptive", display: "omitted"}` (not "enabled" with a
 *   budget), `context_management: {edits: [{type: "clear_thinking_20251015", keep: "all"}]}`,
 *   `output_config: {effort: "high"}`, `stream: true`. No temperature.
 * - `system`: an array of 3 text blocks (a billing-header line, then two with
 *   `cache_control: {type: "ephemeral"}`).
 * - `messages`: one user message whose content is 9 text blocks: 8 `<system-reminder>` blocks,
 *   then the prompt itself as the LAST block, carrying `cache_control: {type: "ephemeral"}`.
 * - `tools`: 12 custom tools {name, description, input_schema} (Agent, Bash, Edit, Read, Write,
 *   ToolSearch, Skill, ...); every input_schema has `$schema` (draft 2020-12) and
 *   `additionalProperties: false`; one tool, `DeferredToolPlaceholder`, has `defer_loading: true`
 *   (advanced-tool-use beta). No `tool_choice`.
 * - it reads the SSE stream (`message_start`, `content_block_start/delta/stop`, `ping`,
 *   `message_delta` with stop_reason and usage, `message_stop`) and prints the text blocks as
 *   `result`; `usage` in the JSON output is the stream's usage.
 * - tool round trip (recorded with a `tool_use` of Bash, allowed by `--allowedTools 'Bash(echo:*)'`):
 *   it accepts the tool_use input as `input_json_delta` fragments after a text block, runs the tool,
 *   and sends a second `POST /v1/messages?beta=true` with the whole conversation again: the
 *   assistant turn replayed as [text, tool_use{id, name, input: object}], then ONE user message
 *   holding only `{type: "tool_result", tool_use_id, content: "<string>", is_error: false,
 *   cache_control: {type: "ephemeral"}}` (content a plain string, with a <system-reminder> appended).
 * - outbound: with the switches in test/clients/cli.ts, nothing but the base URL; without them it
 *   tries `api.anthropic.com:443` (telemetry) twice per run.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { CLAUDE_CODE_VERSION, claudeCommand, describeRun, runClaudeCode } from '../../clients/cli.ts'
import { startRecorder } from '../../clients/recorder.ts'
import { fakeAnswer, TOOL_ARGUMENTS } from '../../fake-gateway.ts'
import { API_PASSWORD, assertNoSecrets, type Harness, KEYS, PANEL_PASSWORD, startHarness } from '../../support.ts'

const MODEL = 'claude-sonnet-4-6'
const claude = claudeCommand()
const NO_CLI = `Claude Code ${CLAUDE_CODE_VERSION} is not installed in .ci/clients (run .ci/run, or: cd .ci/clients && bun install --frozen-lockfile)`
if (!claude) console.warn(`skip: ${NO_CLI}`)

/** Does amb2api serve POST /v1/messages yet? (404 = the anthropic-messages plugin is not there.) */
async function messagesRouteServed(): Promise<boolean> {
	const h = await startHarness()
	try {
		const response = await h.call('/v1/messages', {
			method: 'POST',
			auth: null,
			headers: { 'x-api-key': API_PASSWORD, 'anthropic-version': '2023-06-01' },
			json: { model: MODEL, max_tokens: 16, messages: [{ role: 'user', content: 'probe' }] },
		})
		await response.body?.cancel()
		return response.status !== 404
	} finally {
		await h.close()
	}
}
const routeServed = claude ? await messagesRouteServed() : false
const NO_ROUTE = 'amb2api answers 404 on POST /v1/messages (the anthropic-messages plugin is not merged): Claude Code against amb2api skipped'
if (claude && !routeServed) console.warn(`skip: ${NO_ROUTE}`)

describe.skipIf(!claude)(`Claude Code ${CLAUDE_CODE_VERSION} (real CLI) against the recording server`, () => {
	test('one -p prompt: one streamed POST /v1/messages?beta=true with the recorded shape; the answer is printed', async () => {
		const recorder = startRecorder({ answer: 'Recorded answer from the stand-in.' })
		try {
			const run = await runClaudeCode({ cmd: claude!, baseUrl: recorder.url, apiKey: 'rec-key-1', prompt: 'Say hello to the recorder', model: MODEL })
			expect(run.code, describeRun(run)).toBe(0)
			expect(run.json?.is_error).toBe(false)
			expect(run.json?.result).toBe('Recorded answer from the stand-in.')
			expect(run.egress).toEqual([])

			expect(recorder.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /v1/messages?beta=true'])
			const [req] = recorder.requests
			const h = req!.headers
			expect(h['x-api-key']).toBe('rec-key-1')
			expect(h.authorization).toBeUndefined()
			expect(h['anthropic-version']).toBe('2023-06-01')
			expect(h['anthropic-beta']).toContain('claude-code-20250219')
			expect(h['content-encoding']).toBeUndefined()
			const body = req!.body as Record<string, any>
			expect(body.model).toBe(MODEL)
			expect(body.stream).toBe(true)
			expect(typeof body.max_tokens).toBe('number')
			expect(Array.isArray(body.system)).toBe(true)
			expect(body.system.every((b: any) => b.type === 'text')).toBe(true)
			expect(body.messages).toHaveLength(1)
			const content = body.messages[0].content
			expect(body.messages[0].role).toBe('user')
			expect(content.at(-1)).toMatchObject({ type: 'text', text: 'Say hello to the recorder', cache_control: { type: 'ephemeral' } })
			expect(content.every((b: any) => b.type === 'text')).toBe(true)
			expect(body.tools.length).toBeGreaterThan(0)
			for (const tool of body.tools) {
				expect(typeof tool.name).toBe('string')
				expect(tool.input_schema.type).toBe('object')
			}
			// fields the dialect must accept (or ignore) rather than reject:
			console.info(
				`[claude-code] body fields: ${Object.keys(body).join(', ')}; thinking=${JSON.stringify(body.thinking)}; tools=${body.tools.map((t: any) => t.name).join(',')}`,
			)
		} finally {
			await recorder.stop()
		}
	}, 90_000)

	test('ANTHROPIC_AUTH_TOKEN travels as Authorization: Bearer (and no x-api-key)', async () => {
		const recorder = startRecorder()
		try {
			const run = await runClaudeCode({ cmd: claude!, baseUrl: recorder.url, apiKey: 'rec-bearer-2', auth: 'bearer', prompt: 'hi', model: MODEL })
			expect(run.code, describeRun(run)).toBe(0)
			expect(recorder.requests).toHaveLength(1)
			expect(recorder.requests[0]!.headers.authorization).toBe('Bearer rec-bearer-2')
			expect(recorder.requests[0]!.headers['x-api-key']).toBeUndefined()
		} finally {
			await recorder.stop()
		}
	}, 90_000)
	test('a tool round trip: tool_use streamed as input_json_delta runs (Bash echo), the tool_result comes back in the next request', async () => {
		const recorder = startRecorder({ answer: 'Tool done.', tool: { name: 'Bash', input: { command: 'echo amb2api-tool-ok', description: 'Print a marker' } } })
		try {
			const run = await runClaudeCode({
				cmd: claude!,
				baseUrl: recorder.url,
				apiKey: 'rec-key-3',
				prompt: 'Run the echo',
				model: MODEL,
				extraArgs: ['--allowedTools', 'Bash(echo:*)'],
			})
			expect(run.code, describeRun(run)).toBe(0)
			expect(run.json?.result).toBe('Tool done.')
			expect(run.json?.num_turns).toBe(2)
			expect(recorder.requests.map((r) => r.path)).toEqual(['/v1/messages?beta=true', '/v1/messages?beta=true'])
			// turn 2 replays the assistant turn (text + tool_use with the input as an object), then one
			// user message holding only the tool_result: content a string, is_error false, cache_control set
			const second = (recorder.requests[1]!.body as Record<string, any>).messages
			expect(second).toHaveLength(3)
			expect(second[1]).toEqual({
				role: 'assistant',
				content: [
					{ type: 'text', text: 'Let me run that.' },
					{ type: 'tool_use', id: 'toolu_rec_1', name: 'Bash', input: { command: 'echo amb2api-tool-ok', description: 'Print a marker' } },
				],
			})
			expect(second[2].role).toBe('user')
			expect(second[2].content).toHaveLength(1)
			expect(second[2].content[0]).toMatchObject({ type: 'tool_result', tool_use_id: 'toolu_rec_1', is_error: false })
			expect(second[2].content[0].content).toStartWith('amb2api-tool-ok\n')
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

describe.skipIf(!claude || !routeServed)(`Claude Code ${CLAUDE_CODE_VERSION} (real CLI) against amb2api`, () => {
	async function gateway(): Promise<Harness> {
		if (!h) {
			h = await startHarness()
			base = await h.listen()
		}
		return h
	}

	async function ask(auth: 'x-api-key' | 'bearer', apiKey: string, marker: string) {
		const h = await gateway()
		h.fake.reset()
		const run = await runClaudeCode({ cmd: claude!, baseUrl: base, apiKey, auth, prompt: `Please repeat ${marker}`, model: MODEL })
		expect(run.code, describeRun(run)).toBe(0)
		expect(run.json?.is_error, describeRun(run)).toBe(false)
		expect(run.egress).toEqual([])
		// the answer came from the upstream, through the key pool: exactly one chat served, on a pool key
		const served = h.fake.requests.filter((r) => r.path === '/v1/chat/completions' && r.status === 200)
		expect(served).toHaveLength(1)
		expect(KEYS).toContain(served[0]!.key!)
		expect(served[0]!.model).toBe(MODEL)
		expect(JSON.stringify(served[0]!.body.messages)).toContain(`Please repeat ${marker}`)
		// and Claude Code printed it: the fake answers 'Echo: <text of the last user message>', and
		// Claude Code's last user message is its <system-reminder> blocks followed by the prompt (the
		// echo is cut at max_tokens words, so compute it from what the fake received)
		const expected = fakeAnswer(served[0]!.body).text
		expect(expected).toStartWith('Echo: <system-reminder>')
		expect(run.json?.result).toBe(expected)
		return run
	}

	test('a tool round trip through the pool: the fake calls the first tool, Claude Code sends the tool_result back, the echo of it is printed', async () => {
		const h = await gateway()
		h.fake.reset()
		// the fake upstream calls the first tool offered (Claude Code's "Agent") with {"city":"Paris"} when the
		// last user message mentions the weather; Claude Code rejects that input and sends an is_error
		// tool_result, and the fake answers a tool result with 'Echo: <tool content>'
		const run = await runClaudeCode({ cmd: claude!, baseUrl: base, apiKey: API_PASSWORD, prompt: 'What is the weather in Paris?', model: MODEL })
		expect(run.code, describeRun(run)).toBe(0)
		expect(run.json?.is_error, describeRun(run)).toBe(false)
		expect(run.json?.num_turns).toBe(2)
		const served = h.fake.requests.filter((r) => r.path === '/v1/chat/completions' && r.status === 200)
		expect(served).toHaveLength(2)
		expect(fakeAnswer(served[0]!.body).toolCall?.name).toBe(served[0]!.body.tools[0].function.name)
		const replay = served[1]!.body.messages as Array<Record<string, any>>
		expect(replay.at(-1)!.role).toBe('tool')
		expect(replay.some((m) => m.role === 'assistant' && m.tool_calls?.[0]?.function?.arguments === TOOL_ARGUMENTS)).toBe(true)
		const expected = fakeAnswer(served[1]!.body).text
		expect(expected).toStartWith('Echo: ')
		expect(run.json?.result).toBe(expected)
	}, 90_000)

	test('x-api-key with the API password: the fake upstream answer is printed', async () => {
		await ask('x-api-key', API_PASSWORD, 'marker-7f3a')
	}, 90_000)

	test('Authorization: Bearer with a client key: answered too', async () => {
		const h = await gateway()
		const created = await h.call('/admin/clients', { method: 'POST', auth: PANEL_PASSWORD, json: { name: 'claude-code' } })
		expect(created.status).toBe(201)
		const { key } = (await created.json()) as { key: string }
		clientKeys.push(key)
		await ask('bearer', key, 'marker-b41c')
	}, 90_000)
})
