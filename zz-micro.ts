import { buildApp } from './core/kernel.ts'
import { MemoryStorage } from './core/storage.ts'
import { createFakeGateway } from './test/fake-gateway.ts'
const keys = ['aai-key-alpha-000000000001', 'aai-key-bravo-000000000002']
const fake = createFakeGateway({ keys: Object.fromEntries(keys.map((k) => [k, {}])), limit: 1_000_000 })
const env = { API_PASSWORD: 'pw-api-123456', PANEL_PASSWORD: 'pw-panel-123456', ASSEMBLY_API_KEYS: keys.join(','), ASSEMBLY_ENDPOINT: 'http://fake.test/v1/chat/completions', LOG_LEVEL: 'info', DAILY_REQUEST_LIMIT: '0', DISABLE_PLUGINS: process.env.DIS ?? '' }
const g = await buildApp(env, { storage: new MemoryStorage(), fetch: ((i: RequestInfo | URL, init?: RequestInit) => fake.fetch(new Request(i, init))) as typeof fetch, log: { stdout: false, file: null } })
const body = JSON.stringify({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'hi there' }] })
const one = () => g.app.handle(new Request('http://localhost/v1/chat/completions', { method: 'POST', headers: { authorization: 'Bearer pw-api-123456', 'content-type': 'application/json' }, body })).then((r) => r.text())
for (let i = 0; i < 1000; i++) await one()
const results: number[] = []
for (let round = 0; round < 5; round++) {
	const c0 = process.cpuUsage(); const n = 3000
	for (let i = 0; i < n; i++) await one()
	const c = process.cpuUsage(c0); results.push((c.user + c.system) / n)
}
results.sort((a, b) => a - b)
console.log(process.cwd(), process.env.DIS ?? '', 'µs CPU/request (median of 5):', results[2]?.toFixed(1), 'min', results[0]?.toFixed(1))
await g.close(); await fake.stop()
process.exit(0)
