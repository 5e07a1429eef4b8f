/**
 * `bun run demo`: a whole round trip without an AssemblyAI key. Starts the fake AssemblyAI
 * gateway from the test suite on a local port, starts amb2api pointed at it (file storage in a
 * temporary directory), sends one chat through the official OpenAI SDK, and keeps both running
 * so you can open the panel and the docs. Ctrl-C stops both.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { buildApp } from '../core/kernel.ts'
import { createFakeGateway } from '../test/fake-gateway.ts'

const demoKeys = ['demo-key-aaaaaaaaaaaaaaaa1', 'demo-key-bbbbbbbbbbbbbbbb2']
const apiPassword = 'demo-api-password'
const panelPassword = 'demo-panel-password'
const port = Number(process.env.PORT ?? 7861)

const fake = createFakeGateway({ keys: Object.fromEntries(demoKeys.map((k) => [k, { limit: 30 }])) })
const fakeUrl = await fake.listen()
const dir = mkdtempSync(join(tmpdir(), 'amb2api-demo-'))
const gateway = await buildApp({
	PORT: String(port),
	API_PASSWORD: apiPassword,
	PANEL_PASSWORD: panelPassword,
	ASSEMBLY_API_KEYS: demoKeys.join(','),
	ASSEMBLY_ENDPOINT: `${fakeUrl}/v1/chat/completions`,
	CREDENTIALS_DIR: join(dir, 'creds'),
	LOG_FILE: join(dir, 'log.txt'),
	LOG_LEVEL: 'warning',
})
const server = Bun.serve({ hostname: '127.0.0.1', port, fetch: gateway.app.fetch, idleTimeout: 255 })
const base = `http://127.0.0.1:${server.port}`

console.log(`fake AssemblyAI gateway: ${fakeUrl}`)
console.log(`amb2api:                 ${base}  (storage: ${dir})`)
console.log(`  panel:    ${base}/ui        password: ${panelPassword}`)
console.log(`  API docs: ${base}/swagger`)
console.log(`  OpenAI base URL: ${base}/v1  API password: ${apiPassword}\n`)

const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: apiPassword })
const answer = await client.chat.completions.create({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'Hello from the demo' }] })
console.log(`chat through the OpenAI SDK -> ${JSON.stringify(answer.choices[0]?.message)}`)
process.stdout.write('streamed -> ')
for await (const chunk of await client.chat.completions.create({
	model: 'gpt-5',
	messages: [{ role: 'user', content: 'streaming works too' }],
	stream: true,
})) {
	process.stdout.write(chunk.choices[0]?.delta?.content ?? '')
}
console.log(
	`\n\ntry:  curl -s ${base}/v1/chat/completions -H 'authorization: Bearer ${apiPassword}' -H 'content-type: application/json' -d '{"model":"gpt-5","messages":[{"role":"user","content":"hi"}]}'`,
)
console.log(`      curl -s ${base}/admin/rate-limits -H 'authorization: Bearer ${panelPassword}'`)

if (process.env.DEMO_EXIT === '1') {
	await server.stop(true)
	await gateway.close()
	await fake.stop()
	process.exit(0)
}
const stop = async () => {
	await server.stop(true)
	await gateway.close()
	await fake.stop()
	process.exit(0)
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
