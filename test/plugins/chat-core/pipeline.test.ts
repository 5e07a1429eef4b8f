/** The pipeline on its own, with a stub upstream client: what dialects built on it rely on. */
import { describe, expect, test } from 'bun:test'
import type { ChatCall, ChatResult } from '../../../plugins/chat-core/upstream-call.ts'
import { MARKER_INSTRUCTION, withMarkerInstruction } from '../../../plugins/chat-core/anti-truncation.ts'
import { ChatPipeline, type StreamModeSettings } from '../../../plugins/chat-core/pipeline.ts'
import { readStrict } from './strict-sse.ts'

const settings: StreamModeSettings = {
	keepAliveMs: 80,
	fakeStream: { all: false, models: [], heartbeatMs: 3000, heartbeat: 'comment', charsPerSecond: 0, listModels: false },
	antiTruncation: { all: false, models: [], maxContinuations: 3, listModels: false },
}

const enc = new TextEncoder()

function stub(calls: ChatCall[]): { chat(call: ChatCall): Promise<ChatResult> } {
	return {
		async chat(call) {
			calls.push(call)
			let step = 0
			const body = new ReadableStream<Uint8Array>({
				async pull(c) {
					if (step === 0)
						c.enqueue(
							enc.encode(
								'data: {"id":"x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":"hi"},"finish_reason":null}]}\n\n',
							),
						)
					else if (step === 1) {
						await Bun.sleep(300)
						c.enqueue(enc.encode('data: [DONE]\n\n'))
					} else c.close()
					step++
				},
			})
			return { kind: 'stream', body, masked: 'abcd...wxyz', attempts: 1 }
		},
	}
}

const catalog = { info: async () => ({ id: 'gpt-5', supportedParameters: ['stream'] }) }

describe('ChatPipeline', () => {
	test('a real stream gets keep-alives; keepAlive: false leaves them to the dialect, which can call keepAlive()', async () => {
		const calls: ChatCall[] = []
		const pipeline = new ChatPipeline({ client: stub(calls), catalog, now: Date.now }, settings)
		const request = { model: 'gpt-5', stream: true, messages: [{ role: 'user' as const, content: 'x' }] }
		const signal = new AbortController().signal
		const wrapped = await pipeline.chat({ request, signal })
		if (wrapped.kind !== 'stream') throw new Error('expected a stream')
		expect((await readStrict(wrapped.body)).comments.length).toBeGreaterThanOrEqual(2)
		const bare = await pipeline.chat({ request, signal, keepAlive: false })
		if (bare.kind !== 'stream') throw new Error('expected a stream')
		expect((await readStrict(bare.body)).comments).toHaveLength(0)
		const dialect = await pipeline.chat({ request, signal, keepAlive: false })
		if (dialect.kind !== 'stream') throw new Error('expected a stream')
		expect((await readStrict(pipeline.keepAlive(dialect.body))).comments.length).toBeGreaterThanOrEqual(2)
		expect(wrapped.modes).toEqual({ model: 'gpt-5', stream: 'real', antiTruncation: false })
		expect(calls.map((c) => c.request.model)).toEqual(['gpt-5', 'gpt-5', 'gpt-5'])
	})

	test('the upstream sees the bare model name', async () => {
		const calls: ChatCall[] = []
		const pipeline = new ChatPipeline({ client: stub(calls), catalog, now: Date.now }, settings)
		const result = await pipeline.chat({
			request: { model: 'anti-truncation/gpt-5', messages: [{ role: 'user', content: 'x' }], stream: true },
			signal: new AbortController().signal,
		})
		expect(result.modes.antiTruncation).toBe(true)
		expect(calls[0]!.request.model).toBe('gpt-5')
		if (result.kind === 'stream') await result.body.cancel()
	})

	test('the marker instruction joins an existing system message, string or parts', () => {
		const asText = withMarkerInstruction({
			model: 'm',
			messages: [
				{ role: 'system', content: 'Be kind.' },
				{ role: 'user', content: 'x' },
			],
		})
		expect(asText.messages).toHaveLength(2)
		expect(asText.messages[0]!.content).toBe(`Be kind.\n\n${MARKER_INSTRUCTION}`)
		const asParts = withMarkerInstruction({
			model: 'm',
			messages: [
				{ role: 'system', content: [{ type: 'text', text: 'Be kind.' }] },
				{ role: 'user', content: 'x' },
			],
		})
		expect(asParts.messages[0]!.content).toEqual([
			{ type: 'text', text: 'Be kind.' },
			{ type: 'text', text: MARKER_INSTRUCTION },
		])
	})
})
