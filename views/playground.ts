/**
 * The playground: a form for one chat request (model, the gateway's parameters, a system and a
 * user message, tools as JSON, streamed or not), the exact upstream body before sending, and the
 * answer with its usage and cost after.
 */
import { html, type SafeHtml } from './html.ts'
import type { Translator } from './i18n/i18n.ts'
import { notice } from './layout.ts'

/** A tool definition as the form expects it: code, the same in every language. */
const TOOLS_EXAMPLE = '[{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {}}}}]'

export const EFFORTS = ['low', 'medium', 'high'] as const

/** What the operator typed, echoed back so a refused form keeps its values. */
export interface PlaygroundInput {
	model: string
	temperature: string
	max_tokens: string
	top_p: string
	reasoning_effort: string
	system: string
	user: string
	tools: string
	stream: boolean
}

export const EMPTY_INPUT: PlaygroundInput = {
	model: '',
	temperature: '',
	max_tokens: '',
	top_p: '',
	reasoning_effort: '',
	system: '',
	user: '',
	tools: '',
	stream: false,
}

/** A wrong field: its message is shown next to it. */
export interface FieldError {
	field: keyof PlaygroundInput
	text: string
}

/** What was sent upstream, before sending: the body and the Authorization line with the key masked. */
export interface PreviewView {
	url: string
	authorization: string | null
	body: string
}

export interface AnswerView {
	model: string
	stream: boolean
	content: string
	reasoning: string | null
	toolCalls: string | null
	finishReason: string | null
	usage: { prompt: number; completion: number; total: number } | null
	/** USD, or null when the model is unpriced (or pricing is off). */
	costUsd: number | null
	ms: number
}

export interface PlaygroundResult {
	preview?: PreviewView | null
	answer?: AnswerView | null
	fieldError?: FieldError | null
	error?: string | null
}

const fieldNote = (error: FieldError | null | undefined, field: keyof PlaygroundInput) =>
	error?.field === field ? html`<span class="field-error" id="pg-${field}-error" role="alert">${error.text}</span>` : ''

const invalid = (error: FieldError | null | undefined, field: keyof PlaygroundInput) =>
	error?.field === field ? html` aria-invalid="true" aria-describedby="pg-${field}-error"` : ''

export function playgroundForm(t: Translator, models: readonly string[] | null, input: PlaygroundInput, error?: FieldError | null): SafeHtml {
	const options = (models ?? []).map((m) => html`<option value="${m}"${m === input.model ? html` selected` : ''}>${m}</option>`)
	const efforts = EFFORTS.map((e) => html`<option value="${e}"${e === input.reasoning_effort ? html` selected` : ''}>${e}</option>`)
	return html`<form id="playground-form" method="post" action="/ui/playground/send" class="card stack">
<h2>${t('playground.request')}</h2>
${models === null ? notice(t, t('playground.noCatalog'), 'error') : ''}
<label for="pg-model">${t('playground.model')}</label>
<select id="pg-model" name="model" required${invalid(error, 'model')}><option value="">${t('playground.chooseModel')}</option>${options}</select>${fieldNote(error, 'model')}
<div class="row">
<label>${t('playground.temperature')} <input name="temperature" type="number" min="0" max="2" step="0.01" value="${input.temperature}"${invalid(error, 'temperature')}></label>${fieldNote(error, 'temperature')}
<label>${t('playground.maxTokens')} <input name="max_tokens" type="number" min="1" step="1" value="${input.max_tokens}"${invalid(error, 'max_tokens')}></label>${fieldNote(error, 'max_tokens')}
<label>${t('playground.topP')} <input name="top_p" type="number" min="0" max="1" step="0.01" value="${input.top_p}"${invalid(error, 'top_p')}></label>${fieldNote(error, 'top_p')}
<label>${t('playground.effort')} <select name="reasoning_effort"${invalid(error, 'reasoning_effort')}><option value="">${t('playground.effortNone')}</option>${efforts}</select></label>${fieldNote(error, 'reasoning_effort')}
</div>
<label for="pg-system">${t('playground.system')}</label>
<textarea id="pg-system" name="system" rows="3">${input.system}</textarea>
<label for="pg-user">${t('playground.user')}</label>
<textarea id="pg-user" name="user" rows="5" required${invalid(error, 'user')}>${input.user}</textarea>${fieldNote(error, 'user')}
<label for="pg-tools">${t('playground.tools')}</label>
<small>${t('playground.toolsHelp')} <code>${TOOLS_EXAMPLE}</code></small>
<textarea id="pg-tools" name="tools" rows="4"${invalid(error, 'tools')}>${input.tools}</textarea>${fieldNote(error, 'tools')}
<label><input type="checkbox" name="stream" value="1"${input.stream ? html` checked` : ''}> ${t('playground.stream')}</label>
<p><button type="submit" class="secondary" name="do" value="preview" formaction="/ui/playground/preview" hx-post="/ui/playground/preview" hx-target="#playground-result" hx-swap="outerHTML">${t(
		'playground.preview',
	)}</button>
<button type="submit" name="do" value="send" hx-post="/ui/playground/send" hx-target="#playground-result" hx-swap="outerHTML">${t('playground.send')}</button></p>
</form>`
}

const usd = (value: number) => `$${value < 0.01 ? value.toFixed(6) : value.toFixed(4)}`

function answerView(t: Translator, a: AnswerView): SafeHtml {
	const usage = a.usage
		? html`<dl class="figures"><dt>${t('playground.promptTokens')}</dt><dd>${a.usage.prompt}</dd><dt>${t('playground.completionTokens')}</dt><dd>${a.usage.completion}</dd><dt>${t(
				'playground.totalTokens',
			)}</dt><dd>${a.usage.total}</dd><dt>${t('playground.cost')}</dt><dd data-cost>${a.costUsd === null ? t('playground.unpriced') : usd(a.costUsd)}</dd><dt>${t(
				'playground.elapsed',
			)}</dt><dd>${a.ms} ms</dd></dl>`
		: html`<p>${t('playground.noUsage')}</p>`
	return html`<div class="card" data-answer>
<h2>${t('playground.answer')}</h2>
<p>${t('playground.answeredBy', { model: a.model })}${a.stream ? html` · ${t('playground.streamedNote')}` : ''}${a.finishReason ? html` · ${t('playground.finish')} <code>${a.finishReason}</code>` : ''}</p>
${a.reasoning ? html`<details><summary>${t('playground.reasoning')}</summary><pre class="wrap">${a.reasoning}</pre></details>` : ''}
<pre class="wrap" data-content>${a.content}</pre>
${a.toolCalls ? html`<h3>${t('playground.toolCalls')}</h3><pre class="wrap"><code>${a.toolCalls}</code></pre>` : ''}
${usage}</div>`
}

export function playgroundResult(t: Translator, result: PlaygroundResult): SafeHtml {
	const error = result.fieldError ? notice(t, result.fieldError.text, 'error') : notice(t, result.error, 'error')
	const preview = result.preview
		? html`<div class="card" data-preview><h2>${t('playground.upstreamRequest')}</h2><p>${t('playground.previewNote')}</p>
<pre class="wrap"><code>POST ${result.preview.url}
authorization: ${result.preview.authorization ?? t('playground.noKey')}
content-type: application/json

${result.preview.body}</code></pre></div>`
		: ''
	const answer = result.answer ? answerView(t, result.answer) : ''
	const empty = !error && !preview && !answer ? html`<p class="muted">${t('playground.empty')}</p>` : ''
	return html`<section id="playground-result" aria-live="polite">${error}${preview}${answer}${empty}</section>`
}

export function playgroundPage(t: Translator, models: readonly string[] | null, input: PlaygroundInput, result: PlaygroundResult): SafeHtml {
	return html`<p>${t('playground.intro')}</p>${playgroundForm(t, models, input, result.fieldError)}${playgroundResult(t, result)}`
}
