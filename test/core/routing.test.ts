/**
 * The Host header must never change which route answers. Elysia's default
 * fast path assumed a host of at least 4 characters, so `GET /v1/admin/keys` with `Host: gw`
 * reached `/admin/keys`, and `GET /health` with `Host: x` was a 404.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import { harnessSet, PANEL_PASSWORD } from '../support.ts'

const harnesses = harnessSet()
afterEach(() => harnesses.closeAll())

const get = (h: Awaited<ReturnType<typeof harnesses.start>>, url: string) =>
	h.gateway.app.handle(new Request(url, { headers: { authorization: `Bearer ${PANEL_PASSWORD}` } }))

describe('routing ignores the Host header', () => {
	test('/v1/admin/keys with Host gw is 404, never the admin key list', async () => {
		const h = await harnesses.start()
		for (const path of ['/v1/admin/keys', '/v1/ui', '/v1/swagger/json', '/v1/admin/rate-limits']) {
			const response = await get(h, `http://gw${path}`)
			expect(response.status).toBe(404)
			expect(await response.text()).not.toContain('"keys"')
		}
		// The real route still answers under any host.
		expect((await get(h, 'http://gw/admin/keys')).status).toBe(200)
	})

	test('/health answers 200 whatever the Host, short or long', async () => {
		const h = await harnesses.start()
		for (const host of ['x', 'gw', 'a.b', 'localhost', 'gateway.example.com:8443', '[::1]:7861']) {
			expect((await get(h, `http://${host}/health`)).status).toBe(200)
		}
	})

	test('through a real server, a Host header of one letter routes on the path', async () => {
		const h = await harnesses.start()
		const base = await h.listen()
		const { port } = new URL(base)
		for (const [host, path, status] of [
			['x', '/health', 200],
			['gw', '/v1/admin/keys', 404],
			['gw', '/admin/keys', 200],
		] as const) {
			// fetch sets Host from the URL; a raw request sends exactly the Host we want.
			const raw = await rawGet(Number(port), path, host)
			expect(raw.status).toBe(status)
		}
	})
})

/** One HTTP/1.1 GET over a plain socket, with the Host header as given. */
async function rawGet(port: number, path: string, host: string): Promise<{ status: number }> {
	const { connect } = await import('node:net')
	return new Promise((resolve, reject) => {
		const socket = connect(port, '127.0.0.1', () => {
			socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${PANEL_PASSWORD}\r\nConnection: close\r\n\r\n`)
		})
		let data = ''
		socket.on('data', (chunk) => {
			data += chunk.toString()
		})
		socket.on('end', () => resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(data)?.[1] ?? 0) }))
		socket.on('error', reject)
	})
}
