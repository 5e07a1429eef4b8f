/**
 * "A 2xx means durable" on the default backend: a real gateway process takes a burst of
 * `POST /admin/keys` and `POST /admin/clients`, is killed with SIGKILL in the middle of it, and
 * started again on the same directory. Every key and client key that was acknowledged must be
 * there (each client key was already shown to its owner).
 */
import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { sparePort } from '../../support.ts'

const MAIN = resolve(import.meta.dir, '../../../core/main.ts')
const dir = mkdtempSync(join(tmpdir(), 'amb2api-crash-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const PANEL = 'crash-test-panel-password-5e1'

async function start(port: number) {
	const proc = Bun.spawn(['bun', MAIN], {
		cwd: dir,
		env: {
			PATH: process.env.PATH ?? '',
			HOME: dir,
			HOST: '127.0.0.1',
			PORT: String(port),
			PANEL_PASSWORD: PANEL,
			API_PASSWORD: 'crash-api-pw',
			LOG_LEVEL: 'error',
		},
		stdout: 'ignore',
		stderr: 'ignore',
	})
	const base = `http://127.0.0.1:${port}`
	const deadline = Date.now() + 20_000
	for (;;) {
		try {
			if ((await fetch(`${base}/health`)).ok) return { proc, base }
		} catch {}
		if (Date.now() > deadline) throw new Error('gateway did not start')
		await Bun.sleep(50)
	}
}

const headers = { authorization: `Bearer ${PANEL}`, 'content-type': 'application/json' }

test('SIGKILL during a burst of admin writes loses no acknowledged key or client key', async () => {
	const port = await sparePort()
	const first = await start(port)
	const ackedKeys = new Set<string>()
	const ackedClients = new Set<string>()
	let stop = false
	let n = 0
	const worker = async (w: number) => {
		while (!stop) {
			const i = n++
			try {
				if (i % 2) {
					const r = await fetch(`${first.base}/admin/keys`, {
						method: 'POST',
						headers,
						body: JSON.stringify({ keys: [`crash-key-${w}-${i}-abcdefghijklmnop`] }),
					})
					if (r.ok) for (const id of ((await r.json()) as { added: string[] }).added) ackedKeys.add(id)
				} else {
					const r = await fetch(`${first.base}/admin/clients`, { method: 'POST', headers, body: JSON.stringify({ name: `client ${w}-${i}` }) })
					if (r.status === 201) ackedClients.add(((await r.json()) as { id: string }).id)
				}
			} catch {
				// The process died under this request: it was never acknowledged.
				return
			}
		}
	}
	const workers = Array.from({ length: 16 }, (_, w) => worker(w))
	// Kill while requests are in flight, once a good number were acknowledged.
	const deadline = Date.now() + 15_000
	while (ackedKeys.size + ackedClients.size < 300 && Date.now() < deadline) await Bun.sleep(20)
	first.proc.kill('SIGKILL')
	stop = true
	await Promise.all(workers)
	await first.proc.exited
	expect(ackedKeys.size + ackedClients.size).toBeGreaterThanOrEqual(300)

	const second = await start(await sparePort())
	try {
		const keys = (await (await fetch(`${second.base}/admin/keys`, { headers })).json()) as { keys: { id: string }[] }
		const clients = (await (await fetch(`${second.base}/admin/clients`, { headers })).json()) as { clients: { id: string }[] }
		const presentKeys = new Set(keys.keys.map((k) => k.id))
		const presentClients = new Set(clients.clients.map((c) => c.id))
		const lostKeys = [...ackedKeys].filter((id) => !presentKeys.has(id))
		const lostClients = [...ackedClients].filter((id) => !presentClients.has(id))
		expect({ lostKeys: lostKeys.length, lostClients: lostClients.length }).toEqual({ lostKeys: 0, lostClients: 0 })
	} finally {
		second.proc.kill('SIGTERM')
		await second.proc.exited
	}
}, 90_000)
