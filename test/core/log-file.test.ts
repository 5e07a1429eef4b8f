/**
 * Log rotation by size (LOG_MAX_BYTES, LOG_BACKUP_COUNT): the file is renamed to `.1` (and the
 * older ones up by one) before it would pass the size; no line is lost or split across files;
 * the oldest beyond the count is removed; the panel's download and live tail follow it; failures
 * are logged at warning, never info.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readRotatedLogSync, RotatingLogFile, rotatedLogFiles } from '../../core/log-file.ts'
import { type Harness, startHarness } from '../support.ts'
import { session } from '../plugins/admin-panel/panel-support.ts'

const dirs: string[] = []
const tempLog = () => {
	const dir = mkdtempSync(join(tmpdir(), 'amb2api-log-'))
	dirs.push(dir)
	return join(dir, 'log.txt')
}
let h: Harness | null = null
afterEach(async () => {
	await h?.close()
	h = null
	for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

const line = (i: number) => `${JSON.stringify({ n: i, msg: `line ${i} ${'x'.repeat(i % 97)}` })}\n`

describe('RotatingLogFile', () => {
	test('rotates by rename before the size is passed; every line once, whole, in order', () => {
		const path = tempLog()
		const file = new RotatingLogFile({ path, maxBytes: 4096, backupCount: 100 })
		const all: string[] = []
		for (let i = 0; i < 2000; i++) {
			all.push(line(i))
			file.write(line(i))
			if (i % 37 === 0) file.flush()
		}
		file.close()
		const files = rotatedLogFiles(path)
		expect(files.length).toBeGreaterThan(10)
		expect(files.at(-1)).toBe(path)
		expect(files[0]).toBe(`${path}.${files.length - 1}`)
		for (const f of files) {
			const text = readFileSync(f, 'utf8')
			// A batch never crosses a rotation: each file ends at a line's end and keeps the size, but for a single oversize batch.
			expect(text.endsWith('\n')).toBe(true)
			expect(statSync(f).size).toBeLessThanOrEqual(4096 + 4096 + 200)
		}
		expect(readRotatedLogSync(path)).toBe(all.join(''))
	})

	test('keeps LOG_BACKUP_COUNT files: the oldest go, the rest is a whole, ordered tail', () => {
		const path = tempLog()
		const file = new RotatingLogFile({ path, maxBytes: 2048, backupCount: 2 })
		const all: string[] = []
		for (let i = 0; i < 500; i++) {
			all.push(line(i))
			file.write(line(i))
			file.flush()
		}
		file.close()
		expect(existsSync(`${path}.1`) && existsSync(`${path}.2`)).toBe(true)
		expect(existsSync(`${path}.3`)).toBe(false)
		const kept = readRotatedLogSync(path)
		expect(all.join('').endsWith(kept)).toBe(true)
		expect(kept.startsWith('{"n":')).toBe(true)
		for (const f of rotatedLogFiles(path)) expect(statSync(f).size).toBeLessThanOrEqual(2048)
	})

	test('a file that exists is appended to and its size counted', () => {
		const path = tempLog()
		const first = new RotatingLogFile({ path, maxBytes: 1024, backupCount: 1 })
		first.write('a'.repeat(900) + '\n')
		first.close()
		const second = new RotatingLogFile({ path, maxBytes: 1024, backupCount: 1 })
		second.write('b'.repeat(300) + '\n')
		second.close()
		expect(readFileSync(`${path}.1`, 'utf8')).toBe('a'.repeat(900) + '\n')
		expect(readFileSync(path, 'utf8')).toBe('b'.repeat(300) + '\n')
	})
})

describe('the gateway log', () => {
	test('LOG_MAX_BYTES rotates log.txt; the panel download has every line of every file, oldest first', async () => {
		const path = tempLog()
		h = await startHarness({ logFile: path, env: { LOG_FILE: path, LOG_MAX_BYTES: '8kb', LOG_BACKUP_COUNT: '50', LOG_LEVEL: 'info' } })
		for (let i = 0; i < 60; i++) expect((await h.chat({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: `hello ${i}` }] })).status).toBe(200)
		await Bun.sleep(50)
		const { cookie } = await session(h)
		// Every line written so far reaches the files (the 250 ms timer, or the next batch).
		await Bun.sleep(300)
		expect(existsSync(`${path}.1`)).toBe(true)
		const download = await h.call('/ui/logs/download', { auth: null, headers: { cookie } })
		expect(download.status).toBe(200)
		const lines = (await download.text()).split('\n').filter(Boolean)
		const chats = lines.map((l) => JSON.parse(l)).filter((e) => e.msg === 'request' && e.path === '/v1/chat/completions')
		expect(chats).toHaveLength(60)
		// In order: the request lines' times never go back.
		const times = chats.map((e) => Date.parse(e.time))
		expect(times).toEqual([...times].sort((a, b) => a - b))
		// The live tail reads the in-memory ring: it is not cut by the rotation.
		const tail = await h.call('/ui/logs', { auth: null, headers: { cookie } })
		expect(tail.status).toBe(200)
		expect(await tail.text()).toContain('/v1/chat/completions')
	})

	test('failures are logged at warning, never info: a 5xx answer and a failed upstream attempt', async () => {
		h = await startHarness({ env: { LOG_LEVEL: 'info', RETRY_429_MAX_RETRIES: '0' } })
		h.fake.fault('*', { kind: 'status', status: 500 })
		const res = await h.chat({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'hi' }] })
		expect(res.status).toBeGreaterThanOrEqual(500)
		await Bun.sleep(30)
		const entries = h.logs.map((l) => JSON.parse(l) as { level: string; msg: string; status?: number })
		const access = entries.find((e) => e.msg === 'request')
		expect(access?.level).toBe('warning')
		const attempt = entries.find((e) => e.msg === 'upstream refused')
		expect(attempt?.level).toBe('warning')
		expect(entries.filter((e) => e.level === 'info' && (e.status ?? 0) >= 500)).toEqual([])
	})
})
