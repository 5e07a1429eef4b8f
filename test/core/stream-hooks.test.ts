/**
 * The one stream wrapper: hooks added to a stream it made join that stream (no second layer), and
 * `beforeEnd` holds the reader's end until what it awaits is done (a budgeted answer ends only
 * once its cost is stored).
 */
import { describe, expect, test } from 'bun:test'
import { hookStream } from '../../core/stream-hooks.ts'

const bytes = (text: string) => new TextEncoder().encode(text)

function source(...chunks: string[]): ReadableStream<Uint8Array> {
	return new ReadableStream<Uint8Array>({
		start(c) {
			for (const chunk of chunks) c.enqueue(bytes(chunk))
			c.close()
		},
	})
}

describe('hookStream', () => {
	test('hooking a hooked stream adds to it instead of wrapping it again', () => {
		const once = hookStream(source('a'), { onClose: () => {} })
		expect(hookStream(once, { onEnd: () => {} })).toBe(once)
	})

	test('beforeEnd: every chunk passes, then the end waits for it; end hooks run after it', async () => {
		const order: string[] = []
		let settle!: () => void
		const settled = new Promise<void>((resolve) => {
			settle = resolve
		})
		const stream = hookStream(source('data: 1\n\n', 'data: [DONE]\n\n'), {
			beforeEnd: async () => {
				order.push('before')
				await settled
				order.push('settled')
			},
			onEnd: (how) => order.push(`end:${how}`),
		})
		const reader = stream.getReader()
		expect(new TextDecoder().decode((await reader.read()).value)).toBe('data: 1\n\n')
		expect(new TextDecoder().decode((await reader.read()).value)).toBe('data: [DONE]\n\n')
		let done = false
		const last = reader.read().then((r) => {
			done = r.done
		})
		await Bun.sleep(20)
		// The source ended, but the reader does not see the end until the awaited work is done.
		expect(done).toBe(false)
		expect(order).toEqual(['before'])
		settle()
		await last
		expect(done).toBe(true)
		expect(order).toEqual(['before', 'settled', 'end:end'])
	})

	test('beforeEnd that fails still ends the stream', async () => {
		const stream = hookStream(source('x'), { beforeEnd: () => Promise.reject(new Error('storage down')) })
		expect(await new Response(stream).text()).toBe('x')
	})

	test('a cancelled stream does not run beforeEnd', async () => {
		let ran = false
		const stream = hookStream(source('x', 'y'), {
			beforeEnd: async () => {
				ran = true
			},
		})
		const reader = stream.getReader()
		await reader.read()
		await reader.cancel()
		expect(ran).toBe(false)
	})
})
