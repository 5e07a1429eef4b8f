/**
 * The long check, outside .ci/run: a real stream whose upstream is silent for 6 minutes, served
 * exactly as core/main.ts serves the app (Bun idleTimeout 255 s, SSE answers lift it) with the
 * default 15 s keep-alive, must reach the client whole.
 *
 *   bun scripts/long-stream-check.ts            # 6 minutes
 *   GAP_SECONDS=30 bun scripts/long-stream-check.ts
 */
import { liftIdleTimeoutForStreams } from '../core/serve.ts'
import { readStrict, assemble } from '../test/plugins/chat-core/strict-sse.ts'
import { API_PASSWORD, startHarness } from '../test/support.ts'

const gapMs = Number(process.env.GAP_SECONDS ?? 360) * 1000
const h = await startHarness({ env: { UPSTREAM_TIMEOUT: String(Math.ceil(gapMs / 1000) + 60), LOG_LEVEL: 'warning' } })
h.fake.fault('*', { kind: 'gap', afterChunks: 2, ms: gapMs })
const server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: liftIdleTimeoutForStreams(h.gateway.app.fetch), idleTimeout: 255 })
const t0 = performance.now()
let ok = false
try {
	const response = await fetch(`http://127.0.0.1:${server.port}/v1/chat/completions`, {
		method: 'POST',
		headers: { authorization: `Bearer ${API_PASSWORD}`, 'content-type': 'application/json' },
		body: JSON.stringify({ model: 'gpt-5', stream: true, messages: [{ role: 'user', content: 'a very long thought' }] }),
	})
	const s = await readStrict(response.body!, t0)
	const text = assemble(s.chunks).content
	ok = s.done && text === 'Echo: a very long thought'
	console.log(
		`silent ${gapMs / 1000} s upstream: ${s.comments.length} keep-alives, ended after ${(s.endedAt / 1000).toFixed(1)} s, [DONE] ${s.done}, text ${JSON.stringify(text)}`,
	)
} catch (err) {
	console.log(`cut after ${((performance.now() - t0) / 1000).toFixed(1)} s: ${String(err)}`)
}
await server.stop(true)
await h.close()
console.log(ok ? 'PASS' : 'FAIL')
process.exit(ok ? 0 : 1)
