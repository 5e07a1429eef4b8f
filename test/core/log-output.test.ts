/** Standard output for log lines: gathered, in order, nothing lost, flushed at shutdown. */
import { describe, expect, test } from 'bun:test'
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BufferedOutput } from '../../core/log-output.ts'

describe('BufferedOutput', () => {
	test('10,000 lines arrive whole and in order, the last ones at flushSync', async () => {
		const dir = mkdtempSync(join(tmpdir(), 'amb2api-out-'))
		const path = join(dir, 'out.ndjson')
		const fd = openSync(path, 'w')
		const out = new BufferedOutput(fd)
		for (let i = 0; i < 10_000; i++) {
			out.write(`{"n":${i}}\n`)
			// Let the asynchronous writes run now and then, as the event loop would under load.
			if (i % 1000 === 999) await Bun.sleep(5)
		}
		await Bun.sleep(50)
		out.flushSync()
		closeSync(fd)
		const lines = readFileSync(path, 'utf8').trimEnd().split('\n')
		rmSync(dir, { recursive: true, force: true })
		expect(lines).toHaveLength(10_000)
		expect(lines.every((line, i) => line === `{"n":${i}}`)).toBe(true)
	})

	test('few lines wait for the timer, not for 4 KiB', async () => {
		const dir = mkdtempSync(join(tmpdir(), 'amb2api-out-'))
		const path = join(dir, 'out.ndjson')
		const fd = openSync(path, 'w')
		const out = new BufferedOutput(fd)
		out.write('{"only":1}\n')
		expect(readFileSync(path, 'utf8')).toBe('')
		await Bun.sleep(400)
		expect(readFileSync(path, 'utf8')).toBe('{"only":1}\n')
		out.flushSync()
		closeSync(fd)
		rmSync(dir, { recursive: true, force: true })
	})
})
