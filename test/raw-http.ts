/**
 * HTTP/1.1 over plain sockets, for load checks: a test process's own `fetch` is capped by Bun
 * (BUN_CONFIG_MAX_HTTP_REQUESTS, default 256) and would queue the client side of a load test.
 */
import { connect, type Socket } from 'node:net'

export interface RawStream {
	/** Resolves with the status once the response head arrived. */
	status: Promise<number>
	/** Resolves when the server closed the response (the stream ended), with the bytes of its body part. */
	ended: Promise<{ bytes: number; text: string }>
	/** Closes the socket (the client goes away). */
	close(): void
	readonly open: boolean
}

/** POSTs `body` as JSON with `Connection: close` and follows the answer as it streams. */
export function rawPost(port: number, path: string, body: string, headers: Record<string, string> = {}, keepText = false): RawStream {
	let socket: Socket
	let resolveStatus: (n: number) => void = () => {}
	let resolveEnded: (r: { bytes: number; text: string }) => void = () => {}
	const status = new Promise<number>((r) => (resolveStatus = r))
	const ended = new Promise<{ bytes: number; text: string }>((r) => (resolveEnded = r))
	let head = ''
	let gotHead = false
	let bytes = 0
	let text = ''
	let open = true
	const finish = () => {
		if (!open) return
		open = false
		if (!gotHead) resolveStatus(0)
		resolveEnded({ bytes, text })
	}
	const payload = Buffer.from(body)
	socket = connect(port, '127.0.0.1', () => {
		const extra = Object.entries(headers)
			.map(([k, v]) => `${k}: ${v}\r\n`)
			.join('')
		socket.write(
			`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${payload.length}\r\nConnection: close\r\n${extra}\r\n`,
		)
		socket.write(payload)
	})
	socket.on('data', (chunk: Buffer) => {
		bytes += chunk.length
		if (keepText) text += chunk.toString()
		if (!gotHead) {
			head += chunk.toString()
			const match = /^HTTP\/1\.1 (\d+)/.exec(head)
			if (match && head.includes('\r\n\r\n')) {
				gotHead = true
				resolveStatus(Number(match[1]))
				if (!keepText) head = ''
			}
		}
	})
	socket.on('close', finish)
	socket.on('error', finish)
	return {
		status,
		ended,
		close: () => socket.destroy(),
		get open() {
			return open
		},
	}
}
