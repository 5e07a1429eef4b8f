/**
 * What a client controls costs a log line a few hundred bytes: a 4 MB model name or path does not
 * reach the log file, the panel's ring or the log fragment whole; the log file is downloaded as a
 * stream, whatever its size.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LogRing } from '../../core/log.ts'
import { session } from '../plugins/admin-panel/panel-support.ts'
import { harnessSet } from '../support.ts'

const harnesses = harnessSet()
const dirs: string[] = []
afterEach(async () => {
	await harnesses.closeAll()
	for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
})

const HUGE = 4 * 1024 * 1024

describe('client-controlled fields in logs', () => {
	test('a 4 MB model name and a 1 MB path are cut in the log line; the ring and the log fragment stay small', async () => {
		const h = await harnesses.start()
		const s = await session(h)
		const cursor = h.gateway.ring.cursor
		const model = 'm'.repeat(HUGE)
		for (let i = 0; i < 5; i++) {
			const answer = await h.chat({ model, messages: [{ role: 'user', content: 'hi' }] })
			expect(answer.status).toBeGreaterThanOrEqual(400)
			expect(answer.status).toBeLessThan(500)
			await answer.arrayBuffer()
		}
		const unmatched = await h.call(`/v1/${'p'.repeat(1024 * 1024)}`)
		expect(unmatched.status).toBe(404)
		expect((await unmatched.text()).length).toBeLessThan(4096)

		await Bun.sleep(100) // request lines are written after the answer
		const longest = Math.max(...h.logs.map((l) => l.length))
		expect(longest).toBeLessThan(4096)
		const requestLines = h.logs.filter((l) => l.includes('"msg":"request"') && l.includes('more characters'))
		expect(requestLines.length).toBeGreaterThanOrEqual(6)

		const ringBytes = h.gateway.ring.since(cursor).reduce((n, l) => n + JSON.stringify(l.entry).length, 0)
		expect(ringBytes).toBeLessThan(64 * 1024)
		const tail = await h.call(`/ui/fragments/logs?after=${cursor}&level=debug&q=`, { auth: null, headers: { cookie: s.cookie, 'hx-request': 'true' } })
		expect(tail.status).toBe(200)
		expect((await tail.text()).length).toBeLessThan(64 * 1024)
	})

	test('the ring keeps an overlong line as a short valid one', () => {
		const ring = new LogRing(10, 1000)
		ring.write(`${JSON.stringify({ level: 'error', time: '2026-01-01T00:00:00.000Z', big: 'x'.repeat(100_000), msg: 'boom' })}\n`)
		const [entry] = ring.entries()
		expect(entry).toMatchObject({ level: 'error', time: '2026-01-01T00:00:00.000Z' })
		expect(JSON.stringify(entry).length).toBeLessThan(2000)
		expect(String(entry?.line_cut)).toContain('100')
	})
})

describe('log file download', () => {
	test('streams the file with its length, however large (a sparse 2.2 GB file answers at once)', async () => {
		const dir = await mkdtemp(join(tmpdir(), 'amb2api-logdl-'))
		dirs.push(dir)
		const file = join(dir, 'log.txt')
		await writeFile(file, '{"level":"info","msg":"first line"}\n')
		await truncate(file, 2200 * 1024 * 1024)
		const h = await harnesses.start({ env: { LOG_FILE: file } })
		const s = await session(h)
		const begin = performance.now()
		const response = await h.call('/ui/logs/download', { auth: null, headers: { cookie: s.cookie } })
		expect(response.status).toBe(200)
		expect(response.headers.get('content-length')).toBe(String(2200 * 1024 * 1024))
		const reader = (response.body as ReadableStream<Uint8Array>).getReader()
		const first = await reader.read()
		await reader.cancel()
		expect(performance.now() - begin).toBeLessThan(2000)
		expect(new TextDecoder().decode(first.value).startsWith('{"level":"info","msg":"first line"}')).toBe(true)
	})

	test('a small file downloads whole; no file is a 404', async () => {
		const dir = await mkdtemp(join(tmpdir(), 'amb2api-logdl-'))
		dirs.push(dir)
		const file = join(dir, 'log.txt')
		await writeFile(file, 'a\nb\n')
		const h = await harnesses.start({ env: { LOG_FILE: file } })
		const s = await session(h)
		expect(await (await h.call('/ui/logs/download', { auth: null, headers: { cookie: s.cookie } })).text()).toBe('a\nb\n')
		await rm(file)
		expect((await h.call('/ui/logs/download', { auth: null, headers: { cookie: s.cookie } })).status).toBe(404)
	})
})
