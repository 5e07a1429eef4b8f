/**
 * Long streams, the suite's version (bench/check-load.ts holds 1,000 streams for minutes):
 * long streams must not starve other requests. With 300 streams open on the real server (more
 * than Bun's default fetch cap of 256, which queued request 257 and later until a stream ended),
 * every stream gets its answer and a new short request is served at once. Without the raised
 * cap the gateway's own limit fits under Bun's, so a request beyond it is an immediate 503,
 * never a silent queue.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import { createFakeGateway, type FakeGateway } from './fake-gateway.ts'
import { startGatewayProcess, type GatewayProcess } from './gateway-process.ts'
import { rawPost, type RawStream } from './raw-http.ts'
import { API_PASSWORD, KEYS } from './support.ts'

let fake: FakeGateway | null = null
let gateway: GatewayProcess | null = null
let streams: RawStream[] = []
afterEach(async () => {
	for (const s of streams) s.close()
	streams = []
	await gateway?.stop()
	gateway = null
	await fake?.stop()
	fake = null
})

const MODEL = 'claude-sonnet-4-6'
const streamBody = JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], stream: true })
const shortBody = JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'short' }] })

async function setUp(fetchCap: number | null) {
	fake = createFakeGateway({ keys: { [KEYS[0]!]: {} }, limit: 1_000_000_000 })
	const fakeUrl = await fake.listen()
	// Every stream sends its first chunk and then stays open until the client leaves.
	fake.fault('*', { kind: 'stall', afterChunks: 1 }, { persistent: true })
	gateway = await startGatewayProcess(
		{ ASSEMBLY_API_KEYS: KEYS[0]!, ASSEMBLY_ENDPOINT: `${fakeUrl}/v1/chat/completions`, UPSTREAM_TIMEOUT: '600', RATE_LIMIT_MAX_WAIT: '0' },
		{ fetchCap },
	)
	// Learn the key's limit first, so the streams do not wait behind one probe.
	const warm = rawPost(gateway.port, '/v1/chat/completions', shortBody, { authorization: `Bearer ${API_PASSWORD}` })
	fake.clearFaults()
	expect(await warm.status).toBe(200)
	await warm.ended
	fake.fault('*', { kind: 'stall', afterChunks: 1 }, { persistent: true })
	return gateway
}

/** The fetch cap the shipped start command sets (`bun run start`), null when it sets none. */
async function shippedFetchCap(): Promise<number | null> {
	const pkg = (await Bun.file(new URL('../package.json', import.meta.url)).json()) as { scripts: Record<string, string> }
	const match = /BUN_CONFIG_MAX_HTTP_REQUESTS=(\d+)/.exec(pkg.scripts.start ?? '')
	return match ? Number(match[1]) : null
}

const open = (port: number, n: number) =>
	Array.from({ length: n }, () => rawPost(port, '/v1/chat/completions', streamBody, { authorization: `Bearer ${API_PASSWORD}` }))

describe('stream capacity', () => {
	test('300 open streams: all answered, and a short request is served while they stay open', async () => {
		// As `bun run start` and the Dockerfile start it.
		const cap = await shippedFetchCap()
		expect(cap).toBe(65535)
		expect(await Bun.file(new URL('../Dockerfile', import.meta.url)).text()).toContain('BUN_CONFIG_MAX_HTTP_REQUESTS=65535')
		const gw = await setUp(cap)
		streams = open(gw.port, 300)
		const statuses = await Promise.all(streams.map((s) => s.status))
		expect(statuses.filter((s) => s === 200)).toHaveLength(300)
		const upstreamOpen = fake!.requests.filter((r) => r.path === '/v1/chat/completions' && r.fault === 'stall').length
		expect(upstreamOpen).toBeGreaterThanOrEqual(300)

		fake!.clearFaults()
		const started = performance.now()
		const short = await fetch(`${gw.base}/v1/chat/completions`, {
			method: 'POST',
			headers: { authorization: `Bearer ${API_PASSWORD}`, 'content-type': 'application/json' },
			body: shortBody,
		})
		const ms = performance.now() - started
		expect(short.status).toBe(200)
		await short.text()
		expect(streams.every((s) => s.open)).toBe(true)
		console.log(`stream capacity: 300 streams open, a short chat answered in ${ms.toFixed(1)} ms`)
	}, 60_000)

	test("without BUN_CONFIG_MAX_HTTP_REQUESTS the gateway's limit fits Bun's cap: 503 at once beyond it, no queue", async () => {
		const gw = await setUp(null)
		expect(gw.output()).toContain('MAX_CONCURRENT_REQUESTS lowered from 2000 to 240')
		streams = open(gw.port, 245)
		const statuses = await Promise.all(streams.map((s) => s.status))
		expect(statuses.filter((s) => s === 200)).toHaveLength(240)
		expect(statuses.filter((s) => s === 503)).toHaveLength(5)
	}, 60_000)
})
