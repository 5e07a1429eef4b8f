/**
 * A strict reader of the SSE bodies amb2api sends, for tests: every frame is either comment lines
 * only or `data:` lines only, every data payload is JSON or the final `[DONE]`, nothing follows
 * `[DONE]` or an error event, and the body ends on a frame boundary. Each frame carries the time
 * its last byte arrived, so tests can measure heartbeats and endings.
 */

export interface Frame {
	kind: 'comment' | 'event'
	/** The comment text, or the data payload. */
	text: string
	/** ms since `t0` when the frame's last byte arrived. */
	at: number
}

export interface StrictStream {
	frames: Frame[]
	/** Parsed JSON payloads of the data events, `[DONE]` excluded. */
	chunks: Record<string, any>[]
	comments: Frame[]
	done: boolean
	/** An error event ended the stream. */
	error: Record<string, any> | null
	/** ms since `t0` when the body ended. */
	endedAt: number
	firstByteAt: number | null
}

export async function readStrict(body: ReadableStream<Uint8Array>, t0: number = performance.now()): Promise<StrictStream> {
	const decoder = new TextDecoder()
	const reader = body.getReader()
	let buffer = ''
	let firstByteAt: number | null = null
	const frames: Frame[] = []
	const chunks: Record<string, any>[] = []
	let done = false
	let error: Record<string, any> | null = null
	for (;;) {
		const { value, done: end } = await reader.read()
		const at = performance.now() - t0
		if (end) break
		if (value.length > 0 && firstByteAt === null) firstByteAt = at
		buffer += decoder.decode(value, { stream: true })
		let cut = buffer.indexOf('\n\n')
		while (cut !== -1) {
			const frame = buffer.slice(0, cut)
			buffer = buffer.slice(cut + 2)
			if (done || error) throw new Error(`a frame after the end of the stream: ${JSON.stringify(frame)}`)
			const lines = frame.split('\n')
			if (lines.every((l) => l.startsWith(':'))) {
				frames.push({ kind: 'comment', text: lines.map((l) => l.slice(1).trim()).join('\n'), at })
			} else if (lines.every((l) => l.startsWith('data: '))) {
				const data = lines.map((l) => l.slice(6)).join('\n')
				frames.push({ kind: 'event', text: data, at })
				if (data === '[DONE]') done = true
				else {
					const parsed = JSON.parse(data) as Record<string, any>
					if (parsed.error) error = parsed
					else chunks.push(parsed)
				}
			} else {
				throw new Error(`a malformed frame (comment inside an event, or an unknown field): ${JSON.stringify(frame)}`)
			}
			cut = buffer.indexOf('\n\n')
		}
	}
	if (buffer !== '') throw new Error(`the stream ended inside a frame: ${JSON.stringify(buffer)}`)
	return { frames, chunks, comments: frames.filter((f) => f.kind === 'comment'), done, error, endedAt: performance.now() - t0, firstByteAt }
}

/** The text, tool calls (by index) and last usage a client assembles from the chunks. */
export function assemble(chunks: Record<string, any>[]): {
	content: string
	tools: { index: number; name: string; arguments: string }[]
	usage: any
	finish: string | null
} {
	let content = ''
	const tools = new Map<number, { index: number; name: string; arguments: string }>()
	let usage: any = null
	let finish: string | null = null
	for (const c of chunks) {
		if (c.usage) usage = c.usage
		const choice = c.choices?.[0]
		if (!choice) continue
		if (choice.finish_reason) finish = choice.finish_reason
		const d = choice.delta ?? {}
		if (typeof d.content === 'string') content += d.content
		for (const t of d.tool_calls ?? []) {
			const cur = tools.get(t.index) ?? { index: t.index, name: '', arguments: '' }
			if (t.function?.name) cur.name += t.function.name
			if (t.function?.arguments) cur.arguments += t.function.arguments
			tools.set(t.index, cur)
		}
	}
	return { content, tools: [...tools.values()], usage, finish }
}
