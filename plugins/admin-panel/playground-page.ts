/**
 * /ui/playground: one chat request built from a form, previewed as the exact upstream body
 * (the key masked) and sent through the chat core like any /v1 request: admitted, pooled,
 * counted, logged with the client "panel". A streamed answer is read to its end on the server
 * and shown whole.
 */
import { Elysia } from 'elysia'
import { isObject } from '../../core/json.ts'
import { maskKey } from '../../core/secrets.ts'
import { SseParser } from '../../core/sse.ts'
import { layout } from '../../views/layout.ts'
import {
	type AnswerView,
	EFFORTS,
	EMPTY_INPUT,
	type FieldError,
	type PlaygroundInput,
	type PlaygroundResult,
	playgroundPage,
	playgroundResult,
} from '../../views/playground.ts'
import type { Translator } from '../../views/i18n/i18n.ts'
import { toGatewayBody } from '../assembly-client/request.ts'
import type { ModelCatalog } from '../assembly-client/model-catalog.ts'
import type { ChatCore } from '../chat-core/chat-core.ts'
import { readUsage, type Usage } from '../chat-core/chat-completion.ts'
import { type ChatRequest, parseChatRequest, type ToolDefinition } from '../chat-core/chat-request.ts'
import { checkNestingDepth } from '../chat-core/nesting-depth.ts'
import type { PriceBook } from '../pricing/price-book.ts'
import { endpointTier, requestTier } from '../pricing/tier.ts'
import type { KeyReport } from '../rate-limits/pool-types.ts'
import { guard, htmlResponse, isHtmx, message, type PanelKit, postedForm, themeFor, type Visitor } from './http.ts'

export interface PlaygroundDeps {
	chat: ChatCore
	catalog: Pick<ModelCatalog, 'ids'>
	pool: { report(): Promise<KeyReport[]> }
	/** Absent when the pricing plugin is off: the cost reads "unpriced". */
	pricing?: Pick<PriceBook, 'costOf'>
	/** ASSEMBLY_ENDPOINT and MODEL_REGION as in force now. */
	upstream: () => { endpoint: string; modelRegion: string | null }
}

/** The principal of a request sent from the panel: the request log's client column says "panel". */
export const PANEL_PRINCIPAL = { kind: 'panel' } as const

const LONGEST_TEXT = 200_000

function readInput(form: FormData): PlaygroundInput {
	const text = (name: string) => {
		const value = form.get(name)
		return typeof value === 'string' ? value.slice(0, LONGEST_TEXT) : ''
	}
	return {
		model: text('model').trim(),
		temperature: text('temperature').trim(),
		max_tokens: text('max_tokens').trim(),
		top_p: text('top_p').trim(),
		reasoning_effort: text('reasoning_effort').trim(),
		system: text('system'),
		user: text('user'),
		tools: text('tools'),
		stream: form.get('stream') === '1',
	}
}

/** The form as a ChatRequest, or the field that is wrong and why (in the visitor's language). */
export function chatRequestOf(t: Translator, input: PlaygroundInput, models: readonly string[] | null): { chat: ChatRequest } | { fieldError: FieldError } {
	const checked = buildChat(t, input, models)
	return 'field' in checked && typeof checked.field === 'string' && 'text' in checked ? { fieldError: checked as FieldError } : { chat: checked as ChatRequest }
}

function buildChat(t: Translator, input: PlaygroundInput, models: readonly string[] | null): ChatRequest | FieldError {
	if (!input.model) return { field: 'model', text: t('playground.needModel') }
	if (models !== null && !models.includes(input.model)) return { field: 'model', text: t('playground.unknownModel') }
	const number = (field: 'temperature' | 'top_p' | 'max_tokens', min: number, max: number, whole: boolean): number | FieldError | undefined => {
		const raw = input[field]
		if (raw === '') return undefined
		const value = Number(raw)
		if (!Number.isFinite(value) || value < min || value > max || (whole && !Number.isInteger(value)))
			return { field, text: whole ? t('playground.badWhole', { min }) : t('playground.badRange', { min, max }) }
		return value
	}
	const chat: ChatRequest = { model: input.model, messages: [] }
	for (const [field, min, max, whole] of [
		['temperature', 0, 2, false],
		['top_p', 0, 1, false],
		['max_tokens', 1, 10_000_000, true],
	] as const) {
		const value = number(field, min, max, whole)
		if (typeof value === 'object') return value
		if (value !== undefined) chat[field] = value
	}
	if (input.reasoning_effort) {
		if (!(EFFORTS as readonly string[]).includes(input.reasoning_effort)) return { field: 'reasoning_effort', text: t('playground.badEffort') }
		chat.reasoning = { effort: input.reasoning_effort }
	}
	if (input.system.trim()) chat.messages.push({ role: 'system', content: input.system })
	if (!input.user.trim()) return { field: 'user', text: t('playground.needUser') }
	chat.messages.push({ role: 'user', content: input.user })
	if (input.tools.trim()) {
		let tools: unknown
		try {
			tools = JSON.parse(input.tools)
		} catch {
			return { field: 'tools', text: t('playground.toolsNotJson') }
		}
		if (!Array.isArray(tools)) return { field: 'tools', text: t('playground.toolsNotList') }
		chat.tools = tools as ToolDefinition[]
	}
	if (input.stream) {
		chat.stream = true
		chat.stream_options = { include_usage: true }
	}
	try {
		// The same checks as a /v1 request (ChatCore.readBody bounds nesting there; the tools JSON
		// typed here gets the same bound): a tool without a name or a bad schema is refused at the field.
		try {
			checkNestingDepth(chat as unknown as Record<string, unknown>)
		} catch {
			return { field: 'tools', text: t('playground.toolsTooDeep') }
		}
		return parseChatRequest(chat)
	} catch (err) {
		return { field: input.tools.trim() ? 'tools' : 'user', text: message(err) }
	}
}

/** A chunk stream read to its end: the text, reasoning, tool calls, finish reason and usage. */
async function readStream(body: ReadableStream<Uint8Array>): Promise<Omit<AnswerView, 'stream' | 'costUsd' | 'ms'> & { rawUsage: Usage | null }> {
	const parser = new SseParser()
	const reader = body.getReader()
	let content = ''
	let reasoning = ''
	let model = ''
	let finishReason: string | null = null
	let usage: Usage | null = null
	const calls: Record<string, unknown>[] = []
	let failure: string | null = null
	for (;;) {
		const { done, value } = await reader.read()
		for (const event of done ? parser.end() : parser.push(value)) {
			if (event.data === '[DONE]') continue
			let chunk: unknown
			try {
				chunk = JSON.parse(event.data)
			} catch {
				continue
			}
			if (!isObject(chunk)) continue
			if (isObject(chunk.error)) failure = typeof chunk.error.message === 'string' ? chunk.error.message : JSON.stringify(chunk.error)
			if (typeof chunk.model === 'string') model = chunk.model
			usage = readUsage(chunk.usage) ?? usage
			const choice = Array.isArray(chunk.choices) ? chunk.choices[0] : undefined
			if (!isObject(choice)) continue
			if (typeof choice.finish_reason === 'string') finishReason = choice.finish_reason
			const delta = isObject(choice.delta) ? choice.delta : {}
			if (typeof delta.content === 'string') content += delta.content
			if (typeof delta.reasoning_content === 'string') reasoning += delta.reasoning_content
			if (Array.isArray(delta.tool_calls)) {
				for (const call of delta.tool_calls) {
					if (!isObject(call)) continue
					const index = typeof call.index === 'number' ? call.index : calls.length
					const fn = isObject(call.function) ? call.function : {}
					const known = calls[index] ?? { id: call.id, type: 'function', function: { name: '', arguments: '' } }
					const target = known.function as { name: string; arguments: string }
					if (typeof fn.name === 'string') target.name += fn.name
					if (typeof fn.arguments === 'string') target.arguments += fn.arguments
					calls[index] = known
				}
			}
		}
		if (done) break
	}
	if (failure !== null) throw new Error(failure)
	return {
		model,
		content,
		reasoning: reasoning || null,
		toolCalls: calls.length ? JSON.stringify(calls, null, 2) : null,
		finishReason,
		usage: usage ? { prompt: usage.prompt_tokens, completion: usage.completion_tokens, total: usage.total_tokens } : null,
		rawUsage: usage,
	}
}

export const playgroundRoutes = (kit: PanelKit, deps: PlaygroundDeps) => {
	const models = async () => {
		try {
			return await deps.catalog.ids()
		} catch {
			return null
		}
	}
	/** The fragment for htmx; the whole page (form with its values, then the result) for a browser without JavaScript. */
	const answer = async (request: Request, v: Visitor, input: PlaygroundInput, result: PlaygroundResult, status = 200) => {
		if (isHtmx(request)) return htmlResponse(playgroundResult(v.t, result).toString(), status)
		const url = new URL(request.url)
		const body = playgroundPage(v.t, await models(), input, result)
		return htmlResponse(
			layout(v.t('title.playground'), body, {
				t: v.t,
				csrf: v.csrf,
				page: 'playground',
				available: kit.available,
				now: kit.now(),
				theme: themeFor(request),
				path: url.pathname,
			}),
			status,
		)
	}
	/** The first upstream body as the chat core would send it; the bare translation when the upstream client cannot tell. */
	const upstreamBody = async (chat: ChatRequest) => {
		const built = await deps.chat.preview(chat)
		if (built) return built.body
		const { modelRegion } = deps.upstream()
		const stream = chat.stream === true
		return toGatewayBody(chat, { model: chat.model, stream, includeUsage: stream, ...(modelRegion ? { defaultModelRegion: modelRegion } : {}) })
	}
	const readForm = async (request: Request, v: Visitor) => {
		const input = readInput(await postedForm(kit, request, v))
		return { input, checked: chatRequestOf(v.t, input, await models()) }
	}
	return new Elysia({ name: 'panel-playground' })
		.get(
			'/ui/playground',
			async ({ request }) => {
				const v = await guard(kit, request)
				if (v instanceof Response) return v
				return answer(request, v, EMPTY_INPUT, {})
			},
			{ detail: { hide: true } },
		)
		.post(
			'/ui/playground/preview',
			async ({ request }) => {
				const v = await guard(kit, request)
				if (v instanceof Response) return v
				const { input, checked } = await readForm(request, v)
				if ('fieldError' in checked) return answer(request, v, input, { fieldError: checked.fieldError }, 400)
				const { chat } = checked
				const active = (await deps.pool.report().catch(() => [])).find((k) => k.status === 'active')
				const { endpoint } = deps.upstream()
				return answer(request, v, input, {
					preview: {
						url: endpoint,
						// The report holds the key masked already; anything else is masked here, so a raw key never shows.
						authorization: active ? (/^.{4}\.\.\..{4}$|^.{2}\*\*\*$/.test(active.key) ? active.key : maskKey(active.key)) : null,
						body: JSON.stringify(await upstreamBody(chat), null, 2),
					},
				})
			},
			{ parse: 'none', detail: { hide: true } },
		)
		.post(
			'/ui/playground/send',
			async ({ request }) => {
				const v = await guard(kit, request)
				if (v instanceof Response) return v
				const { input, checked } = await readForm(request, v)
				if ('fieldError' in checked) return answer(request, v, input, { fieldError: checked.fieldError }, 400)
				const { chat } = checked
				const started = Date.now()
				try {
					const result = await deps.chat.call(request, PANEL_PRINCIPAL, chat, { log: { format: 'playground' } })
					let shown: Omit<AnswerView, 'stream' | 'costUsd' | 'ms'> & { rawUsage: Usage | null }
					if (result.kind === 'stream') shown = await readStream(result.body)
					else {
						const c = result.completion
						const choice = c.choices[0]
						const u = c.usage ?? null
						shown = {
							model: c.model,
							content: choice?.message.content ?? '',
							reasoning: choice?.message.reasoning_content ?? null,
							toolCalls: choice?.message.tool_calls?.length ? JSON.stringify(choice.message.tool_calls, null, 2) : null,
							finishReason: choice?.finish_reason ?? null,
							usage: u ? { prompt: u.prompt_tokens, completion: u.completion_tokens, total: u.total_tokens } : null,
							rawUsage: u,
						}
					}
					const { endpoint } = deps.upstream()
					const tier = requestTier((await upstreamBody(chat)).model_region, endpointTier(endpoint))
					const model = shown.model || chat.model
					const cost = shown.rawUsage && deps.pricing ? deps.pricing.costOf(model, shown.rawUsage, tier) : null
					const { rawUsage: _, ...view } = shown
					return answer(request, v, input, { answer: { ...view, model, stream: chat.stream === true, costUsd: cost?.usd ?? null, ms: Date.now() - started } })
				} catch (err) {
					const status = isObject(err) && typeof err.status === 'number' && err.status >= 400 && err.status < 600 ? err.status : 502
					return answer(request, v, input, { error: v.t('playground.failed', { error: message(err) }) }, status)
				}
			},
			{ parse: 'none', detail: { hide: true } },
		)
}
