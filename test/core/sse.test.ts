import { describe, expect, test } from 'bun:test'
import { DONE, SseParser, encodeComment, encodeEvent, type SseEvent } from '../../core/sse.ts'

const te = new TextEncoder()
const td = new TextDecoder()

function parseAll(chunks: Uint8Array[]): SseEvent[] {
	const parser = new SseParser()
	const events: SseEvent[] = []
	for (const chunk of chunks) events.push(...parser.push(chunk))
	events.push(...parser.end())
	return events
}

/** Every way to cut `bytes` in two, plus byte-by-byte. */
function splits(bytes: Uint8Array): Uint8Array[][] {
	const out: Uint8Array[][] = [[bytes]]
	for (let i = 1; i < bytes.length; i++) out.push([bytes.slice(0, i), bytes.slice(i)])
	out.push(Array.from(bytes, (b) => Uint8Array.of(b)))
	return out
}

describe('encoding', () => {
	test('one data line', () => {
		expect(td.decode(encodeEvent('{"a":1}'))).toBe('data: {"a":1}\n\n')
	})

	test('multi-line data becomes several data lines (any line ending)', () => {
		expect(td.decode(encodeEvent('a\nb\r\nc\rd'))).toBe('data: a\ndata: b\ndata: c\ndata: d\n\n')
	})

	test('event and id fields', () => {
		expect(td.decode(encodeEvent('x', { event: 'message_start', id: '7' }))).toBe('event: message_start\nid: 7\ndata: x\n\n')
	})

	test('CR or LF in event or id is refused (no frame injection)', () => {
		expect(() => encodeEvent('x', { event: 'a\ndata: injected' })).toThrow(TypeError)
		expect(() => encodeEvent('x', { id: '1\r2' })).toThrow(TypeError)
	})

	test('DONE and comments', () => {
		expect(DONE).toBeInstanceOf(Uint8Array)
		expect(td.decode(DONE)).toBe('data: [DONE]\n\n')
		expect(td.decode(encodeComment('keepalive'))).toBe(': keepalive\n\n')
		expect(td.decode(encodeComment('a\nb'))).toBe(': a\n: b\n\n')
	})

	test('what we encode, we parse back', () => {
		const data = 'line 1\nline 2 é 漢字 🎉\n\nafter blank'
		expect(parseAll([encodeEvent(data, { event: 'e', id: 'i' })])).toEqual([{ data, event: 'e', id: 'i' }])
	})
})

describe('SseParser', () => {
	const stream =
		'data: {"id":"chatcmpl-1","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}\n\n' +
		': keep-alive comment\n\n' +
		'data: {"choices":[{"delta":{"content":"Paris é 漢字 🎉"}}]}\r\n\r\n' +
		'event: custom\nid: 42\nretry: 1000\nunknown-field: x\ndata: first\ndata:second\n\n' +
		'data\n\n' +
		'data: [DONE]\n\n'
	const expected: SseEvent[] = [
		{ data: '{"id":"chatcmpl-1","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}' },
		{ data: '{"choices":[{"delta":{"content":"Paris é 漢字 🎉"}}]}' },
		{ data: 'first\nsecond', event: 'custom', id: '42' },
		{ data: '' },
		{ data: '[DONE]' },
	]

	test('parses a whole stream: comments and unknown fields skipped, multi-line data joined', () => {
		expect(parseAll([te.encode(stream)])).toEqual(expected)
	})

	test('frames split at every byte boundary (including inside UTF-8 characters) give the same events', () => {
		const bytes = te.encode(stream)
		for (const chunks of splits(bytes)) expect(parseAll(chunks)).toEqual(expected)
	})

	test('CR-only line endings, and a CRLF split between two chunks', () => {
		expect(parseAll([te.encode('data: a\r\rdata: b\r\r')])).toEqual([{ data: 'a' }, { data: 'b' }])
		const bytes = te.encode('data: a\r\n\r\ndata: b\r\n\r\n')
		for (const chunks of splits(bytes)) expect(parseAll(chunks)).toEqual([{ data: 'a' }, { data: 'b' }])
	})

	test('the §5.2 verified sequence parses into its five payloads', () => {
		const verified = [
			'{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1790000000,"model":"qwen3.5-4b-32k","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],"usage":null}',
			'{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1790000000,"model":"qwen3.5-4b-32k","choices":[{"index":0,"delta":{"content":"Paris."},"logprobs":null,"finish_reason":null}],"usage":null}',
			'{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1790000000,"model":"qwen3.5-4b-32k","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}',
			'{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1790000000,"model":"qwen3.5-4b-32k","choices":[],"usage":{"prompt_tokens":24,"completion_tokens":8,"total_tokens":32},"system_fingerprint":"vllm-x"}',
			'[DONE]',
		]
		const text = verified.map((d) => `data: ${d}\n\n`).join('')
		expect(parseAll([te.encode(text)]).map((e) => e.data)).toEqual(verified)
	})

	test('events are returned as soon as their blank line arrives', () => {
		const parser = new SseParser()
		expect(parser.push(te.encode('data: one\n'))).toEqual([])
		expect(parser.push(te.encode('\ndata: tw'))).toEqual([{ data: 'one' }])
		expect(parser.push(te.encode('o\n\n'))).toEqual([{ data: 'two' }])
		expect(parser.end()).toEqual([])
	})

	test('end() delivers an event that lacks its final blank line or line break', () => {
		expect(parseAll([te.encode('data: [DONE]')])).toEqual([{ data: '[DONE]' }])
		expect(parseAll([te.encode('data: [DONE]\n')])).toEqual([{ data: '[DONE]' }])
		expect(parseAll([te.encode('data: {"cut')])).toEqual([{ data: '{"cut' }])
		expect(parseAll([te.encode(': only a comment')])).toEqual([])
		expect(parseAll([])).toEqual([])
	})

	test('a blank line without data dispatches nothing', () => {
		expect(parseAll([te.encode('\n\n\nevent: x\n\n')])).toEqual([])
	})

	test('one very long line in many small chunks is linear, not quadratic', () => {
		const payload = 'x'.repeat(2_000_000)
		const bytes = te.encode(`data: ${payload}\n\n`)
		const parser = new SseParser()
		const started = performance.now()
		const events: SseEvent[] = []
		for (let i = 0; i < bytes.length; i += 64) events.push(...parser.push(bytes.subarray(i, i + 64)))
		const elapsed = performance.now() - started
		expect(events).toHaveLength(1)
		expect(events[0]!.data.length).toBe(payload.length)
		expect(elapsed).toBeLessThan(2000)
	})

	test('many small events in one big chunk are linear too', () => {
		const frame = 'data: {"choices":[{"delta":{"content":"a"}}]}\n\n'
		const bytes = te.encode(frame.repeat(50_000))
		const started = performance.now()
		const events = new SseParser().push(bytes)
		expect(events).toHaveLength(50_000)
		expect(performance.now() - started).toBeLessThan(2000)
	})
})
