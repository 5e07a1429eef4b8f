/**
 * Request bodies. MAX_BODY_SIZE is enforced while the body streams (chunked
 * bodies too), on every route, with a 413 in OpenAI error JSON; nothing reads past the limit.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import { connect } from 'node:net'
import { startGatewayProcess, type GatewayProcess } from '../gateway-process.ts'
import { API_PASSWORD, harnessSet, PANEL_PASSWORD } from '../support.ts'

const harnesses = harnessSet()
const processes: GatewayProcess[] = []
afterEach(async () => {
	await harnesses.closeAll()
	for (const p of processes.splice(0)) await p.stop()
})

const LIMIT = 64 * 1024

async function expect413(response: Response) {
	expect(response.status).toBe(413)
	const body = await response.json()
	expect(body.error).toMatchObject({ type: 'invalid_request_error', code: 'body_too_large' })
	expect(body.error.message).toContain('64 KB')
}

/** A body of `total` bytes in 16 KB chunks, without Content-Length; `pulled()` says how much was read. */
function chunkedBody(total: number) {
	let sent = 0
	const chunk = new Uint8Array(16 * 1024).fill(0x20)
	const stream = new ReadableStream<Uint8Array>({
		pull(controller) {
			if (sent >= total) return controller.close()
			sent += chunk.byteLength
			controller.enqueue(chunk)
		},
	})
	return { stream, pulled: () => sent }
}

describe('request body limit', () => {
	test('a Content-Length above MAX_BODY_SIZE: 413 in OpenAI error JSON, on chat and admin routes', async () => {
		const h = await harnesses.start({ env: { MAX_BODY_SIZE: '64kb' } })
		const big = JSON.stringify({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'x'.repeat(LIMIT) }] })
		await expect413(await h.chat(big))
		const keys = JSON.stringify({ keys: ['k'.repeat(LIMIT)] })
		await expect413(
			await h.admin('/admin/keys', { method: 'POST', body: keys, headers: { 'content-type': 'application/json', 'content-length': String(keys.length) } }),
		)
		expect(h.fake.requests.filter((r) => r.path === '/v1/chat/completions')).toHaveLength(0)
		// Just under the limit still works.
		expect((await h.chat({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'x'.repeat(LIMIT - 200) }] })).status).toBe(200)
	})

	test('a chunked body is counted while it streams and cut at the limit (chat and admin)', async () => {
		const h = await harnesses.start({ env: { MAX_BODY_SIZE: '64kb' } })
		const server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: h.gateway.fetch, maxRequestBodySize: Number.MAX_SAFE_INTEGER })
		try {
			for (const [path, auth] of [
				['/v1/chat/completions', API_PASSWORD],
				['/admin/keys', PANEL_PASSWORD],
			] as const) {
				const body = chunkedBody(8 * 1024 * 1024)
				const response = await fetch(`http://127.0.0.1:${server.port}${path}`, {
					method: 'POST',
					headers: { authorization: `Bearer ${auth}`, 'content-type': 'application/json' },
					body: body.stream,
					duplex: 'half',
				} as RequestInit)
				await expect413(response)
				// The server stopped reading near the limit, not after 8 MB.
				expect(body.pulled()).toBeLessThan(2 * 1024 * 1024)
			}
		} finally {
			await server.stop(true)
		}
	})

	test('the real server: a 150 MB Content-Length gets a JSON 413 at once (Bun alone gave an empty one)', async () => {
		const gw = await startGatewayProcess({ ASSEMBLY_API_KEYS: 'aai-key-alpha-000000000001' })
		processes.push(gw)
		const answer = await rawPost(gw.port, '/v1/chat/completions', 150 * 1024 * 1024)
		expect(answer.status).toBe(413)
		expect(JSON.parse(answer.body).error.code).toBe('body_too_large')
	})
})

/** Sends only the headers of a POST announcing `length` bytes, and reads the answer. */
function rawPost(port: number, path: string, length: number): Promise<{ status: number; body: string }> {
	return new Promise((resolve, reject) => {
		const socket = connect(port, '127.0.0.1', () => {
			socket.write(
				`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${API_PASSWORD}\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n{"model":`,
			)
		})
		let data = ''
		const done = () => {
			socket.destroy()
			const [head = '', ...rest] = data.split('\r\n\r\n')
			resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1] ?? 0), body: rest.join('\r\n\r\n') })
		}
		socket.on('data', (chunk) => {
			data += chunk.toString()
			const length = /content-length: (\d+)/i.exec(data)?.[1]
			const split = data.indexOf('\r\n\r\n')
			if (length !== undefined && split >= 0 && data.length - split - 4 >= Number(length)) done()
		})
		socket.on('end', done)
		socket.on('error', reject)
		setTimeout(() => done(), 10_000)
	})
}
