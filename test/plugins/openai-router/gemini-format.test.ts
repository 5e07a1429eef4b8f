/**
 * Gemini-shaped bodies on /v1/chat/completions, sent with the official SDK's raw request: a text
 * chat, a system instruction, a function declaration with a tool call, a stream; answered in
 * OpenAI shape. Unknown shapes get a 400 that says what was expected.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import OpenAI from 'openai'
import { detectFormat, geminiToChat } from '../../../plugins/openai-router/gemini-format.ts'
import { TOOL_ARGUMENTS } from '../../fake-gateway.ts'
import { API_PASSWORD, type Harness, harnessSet } from '../../support.ts'

const harnesses = harnessSet()
afterEach(() => harnesses.closeAll())

const chats = (h: Harness) => h.fake.requests.filter((r) => r.path === '/v1/chat/completions')

async function sdk(h: Harness) {
	return new OpenAI({ baseURL: `${await h.listen()}/v1`, apiKey: API_PASSWORD, maxRetries: 0 })
}

const weather = {
	functionDeclarations: [
		{ name: 'get_weather', description: 'Weather in a city', parameters: { type: 'OBJECT', properties: { city: { type: 'STRING' } }, required: ['city'] } },
	],
}

describe('detectFormat', () => {
	test('OpenAI bodies, Gemini bodies, and everything else', () => {
		expect(detectFormat({ model: 'm', messages: [] })).toBe('openai')
		expect(detectFormat({ model: 'm', contents: [] })).toBe('gemini')
		expect(detectFormat({ model: 'm', generationConfig: {} })).toBe('gemini')
		expect(detectFormat({ model: 'm', system_instruction: { parts: [] } })).toBe('gemini')
		expect(detectFormat({ tools: [weather] })).toBe('gemini')
		expect(() => detectFormat({ model: 'm', input: 'hi' })).toThrow(/Expected an OpenAI chat body .* or a Gemini body/)
	})

	test('a functionResponse answers the call of the same name', () => {
		const chat = geminiToChat({
			model: 'm',
			contents: [
				{ role: 'user', parts: [{ text: 'weather?' }] },
				{ role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }] },
				{ role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { temp_c: 18 } } }] },
			],
		}) as { messages: any[] }
		const call = chat.messages[1].tool_calls[0]
		expect(call.function).toEqual({ name: 'get_weather', arguments: '{"city":"Paris"}' })
		expect(chat.messages[2]).toEqual({ role: 'tool', tool_call_id: call.id, name: 'get_weather', content: '{"temp_c":18}' })
	})
})

describe('Gemini bodies through the openai SDK', () => {
	test('a text chat with generationConfig', async () => {
		const h = await harnesses.start()
		const client = await sdk(h)
		const answer = await client.post<any>('/chat/completions', {
			body: {
				model: 'gemini-2.5-flash',
				contents: [{ role: 'user', parts: [{ text: 'Hello from Gemini' }] }],
				generationConfig: { temperature: 0.3, maxOutputTokens: 50 },
			},
		})
		expect(answer.object).toBe('chat.completion')
		expect(answer.choices[0].message).toMatchObject({ role: 'assistant', content: 'Echo: Hello from Gemini' })
		expect(chats(h)[0]!.body).toMatchObject({
			model: 'gemini-2.5-flash',
			temperature: 0.3,
			max_tokens: 50,
			messages: [{ role: 'user', content: 'Hello from Gemini' }],
		})
		// The request log records the detected format.
		await Bun.sleep(30)
		const line = h.logs.filter((l) => l.includes('"msg":"request"')).map((l) => JSON.parse(l))[0]
		expect(line.format).toBe('gemini')
	})

	test('a system instruction becomes the system message', async () => {
		const h = await harnesses.start()
		const client = await sdk(h)
		await client.post('/chat/completions', {
			body: { model: 'gemini-2.5-flash', systemInstruction: { parts: [{ text: 'Be brief.' }] }, contents: [{ role: 'user', parts: [{ text: 'hi there' }] }] },
		})
		expect(chats(h)[0]!.body.messages).toEqual([
			{ role: 'system', content: 'Be brief.' },
			{ role: 'user', content: 'hi there' },
		])
	})

	test('a function declaration and the tool call it brings back', async () => {
		const h = await harnesses.start()
		const client = await sdk(h)
		const answer = await client.post<any>('/chat/completions', {
			body: {
				model: 'gemini-2.5-flash',
				contents: [{ role: 'user', parts: [{ text: 'What is the weather in Paris?' }] }],
				tools: [weather],
				toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] } },
			},
		})
		const sent = chats(h)[0]!.body
		expect(sent.tools).toEqual([
			{
				type: 'function',
				function: {
					name: 'get_weather',
					description: 'Weather in a city',
					parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
				},
			},
		])
		expect(sent.tool_choice).toEqual({ type: 'function', function: { name: 'get_weather' } })
		expect(answer.choices[0].finish_reason).toBe('tool_calls')
		expect(answer.choices[0].message.tool_calls[0].function).toEqual({ name: 'get_weather', arguments: TOOL_ARGUMENTS })
	})

	test('a stream', async () => {
		const h = await harnesses.start()
		const client = await sdk(h)
		const stream = await client.post<any>('/chat/completions', {
			body: { model: 'gemini-2.5-flash', stream: true, contents: [{ role: 'user', parts: [{ text: 'stream this please' }] }] },
			stream: true,
		})
		let text = ''
		let finish: string | null = null
		for await (const chunk of stream as AsyncIterable<any>) {
			expect(chunk.object).toBe('chat.completion.chunk')
			text += chunk.choices[0]?.delta?.content ?? ''
			finish = chunk.choices[0]?.finish_reason ?? finish
		}
		expect(text).toBe('Echo: stream this please')
		expect(finish).toBe('stop')
		expect(chats(h)[0]!.body.stream).toBe(true)
	})

	test('an unknown shape: 400 that says what was expected, nothing sent upstream', async () => {
		const h = await harnesses.start()
		const client = await sdk(h)
		const error = await client.post('/chat/completions', { body: { model: 'gpt-5', input: 'hello' } }).then(
			() => null,
			(e: unknown) => e,
		)
		expect(error).toBeInstanceOf(OpenAI.BadRequestError)
		const e = error as InstanceType<typeof OpenAI.BadRequestError>
		expect(e.status).toBe(400)
		expect(e.message).toContain('"messages"')
		expect(e.message).toContain('"contents"')
		expect(e.code).toBe('unknown_body_format')
		expect(chats(h)).toHaveLength(0)
	})
})
