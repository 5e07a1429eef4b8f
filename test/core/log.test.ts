import { afterEach, describe, expect, test } from 'bun:test'
import { createLogger, SecretRegistry } from '../../core/log.ts'
import { maskKey } from '../../core/secrets.ts'
import { assertNoSecrets, type Harness, KEYS, startHarness } from '../support.ts'

let h: Harness | null = null
afterEach(async () => {
	await h?.close()
	h = null
})

const capture = () => {
	const lines: string[] = []
	return { lines, extra: { write: (line: string) => void lines.push(line) } }
}

describe('logging', () => {
	test('one info line per request with model, masked key, status and latency', async () => {
		h = await startHarness()
		await h.chat({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'hello' }] })
		// The line is written after the response has gone out.
		await Bun.sleep(20)
		const lines = h.logs.filter((l) => l.includes('"msg":"request"')).map((l) => JSON.parse(l))
		expect(lines).toHaveLength(1)
		expect(lines[0]).toMatchObject({ level: 'info', method: 'POST', path: '/v1/chat/completions', status: 200, model: 'claude-sonnet-4-6' })
		expect(KEYS.map(maskKey)).toContain(lines[0].key)
		expect(typeof lines[0].ms).toBe('number')
		assertNoSecrets(h.logs)
	})

	test('message content is never logged at info', async () => {
		h = await startHarness({ env: { LOG_LEVEL: 'info' } })
		await h.chat({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'a very private prompt 4711' }] })
		expect(h.logs.some((l) => l.includes('private prompt 4711'))).toBe(false)
		expect(h.logs.some((l) => l.includes('Echo:'))).toBe(false)
	})

	test('LOG_LEVEL=warning drops info lines; error keeps only errors', () => {
		for (const [level, expected] of [
			['warning', ['warn', 'error']],
			['error', ['error']],
			['debug', ['debug', 'info', 'warn', 'error']],
		] as const) {
			const { lines, extra } = capture()
			const { log } = createLogger({ level, file: null, stdout: false, extra })
			log.debug('d')
			log.info('i')
			log.warn('w')
			log.error('e')
			const levels = lines.map((l) => JSON.parse(l).level)
			expect(levels).toEqual(expected.map((l) => (l === 'warn' ? 'warning' : l)))
		}
	})

	test('secrets are redacted where the entry is made and scrubbed as a last guard', () => {
		const { lines, extra } = capture()
		const secrets = new SecretRegistry()
		const key = 'aai-live-key-0123456789abcdef'
		secrets.add(key)
		secrets.add('panel-password-xyz', '[redacted]')
		const { log } = createLogger({ level: 'info', file: null, stdout: false, extra, secrets })
		log.info({ password: 'hunter2', headers: { authorization: 'Bearer abc' } }, 'login')
		log.info({ err: `upstream said: bad key ${key}` }, `oops ${key} and panel-password-xyz`)
		const all = lines.join('\n')
		expect(all).not.toContain('hunter2')
		expect(all).not.toContain('Bearer abc')
		expect(all).not.toContain(key)
		expect(all).not.toContain('panel-password-xyz')
		expect(all).toContain(maskKey(key))
	})

	test('the log file gets NDJSON', async () => {
		const file = `${process.env.TMPDIR ?? '/tmp'}/amb2api-log-${Date.now()}.txt`
		const { log, flush } = createLogger({ level: 'info', file, stdout: false })
		log.info({ a: 1 }, 'to the file')
		// Buffered, but written within the flush interval without anyone asking...
		await Bun.sleep(400)
		expect((await Bun.file(file).text()).length).toBeGreaterThan(0)
		log.info({ b: 2 }, 'second')
		// ...and at shutdown at once.
		flush()
		const text = await Bun.file(file).text()
		expect(JSON.parse(text.trim().split('\n')[0]!)).toMatchObject({ level: 'info', a: 1, msg: 'to the file' })
	})
})

describe('log ring', () => {
	test('keeps the newest lines, oldest first; clear empties it', async () => {
		const { LogRing } = await import('../../core/log.ts')
		const ring = new LogRing(3)
		for (let i = 1; i <= 5; i++) ring.write(`{"n":${i}}\n`)
		expect(ring.entries()).toEqual([{ n: 3 }, { n: 4 }, { n: 5 }])
		ring.clear()
		expect(ring.entries()).toEqual([])
		ring.write('not json')
		expect(ring.entries()).toEqual([{ msg: 'not json' }])
	})
})

describe('secret scrubbing', () => {
	test('one pass replaces every secret, regex characters and overlapping secrets included', () => {
		const secrets = new SecretRegistry()
		secrets.add('pass.word+(1)', 'MASK1')
		secrets.add('abcdef', 'MASK2')
		secrets.add('abcdefghij', 'MASK3')
		expect(secrets.scrub('a pass.word+(1) b abcdefghij c abcdef d passXword+(1)')).toBe('a MASK1 b MASK3 c MASK2 d passXword+(1)')
		expect(secrets.scrub('nothing here')).toBe('nothing here')
		expect(new SecretRegistry().scrub('x abcdef')).toBe('x abcdef')
	})
})
