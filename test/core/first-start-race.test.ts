/**
 * Instances starting together on an empty shared backend (real Redis, real PostgreSQL): the
 * first-start bootstrap is set-if-absent, so exactly one instance prints the generated
 * passwords, every instance accepts them, and a panel session made on one works on the others.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { buildApp, type Gateway } from '../../core/kernel.ts'
import { sharedBackends } from '../shared-backends.ts'

const { backends, backend, cleanup } = sharedBackends('race')
afterAll(cleanup)

describe.each(Object.keys(backends))('first start of 4 instances together on one %s', (name) => {
	test('one instance prints, all accept the passwords, a session from one opens the others', async () => {
		const open = await backend(name)()
		const printed: string[][] = []
		const gateways: Gateway[] = await Promise.all(
			Array.from({ length: 4 }, async (_, i) => {
				const lines: string[] = []
				printed[i] = lines
				return buildApp({ LOG_LEVEL: 'error' }, { storage: await open(), print: (line) => lines.push(line), log: { stdout: false, file: null } })
			}),
		)
		try {
			// (Every instance may warn about SECRETS_KEY; only the passwords must be printed once.)
			const printers = printed.filter((lines) => lines.some((line) => line.includes('API password')))
			expect(printers).toHaveLength(1)
			const text = printers[0]?.join('\n') ?? ''
			const api = /API password[^:]*: (\S+)/.exec(text)?.[1]
			const panel = /Panel password[^:]*: (\S+)/.exec(text)?.[1]
			if (!api || !panel) throw new Error('no passwords printed')
			for (const g of gateways) {
				const models = await g.app.handle(new Request('http://localhost/v1/models', { headers: { authorization: `Bearer ${api}` } }))
				expect(models.status).toBe(200)
				const admin = await g.app.handle(new Request('http://localhost/admin/keys', { headers: { authorization: `Bearer ${panel}` } }))
				expect(admin.status).toBe(200)
			}
			// Log in on the first instance; the cookie opens the admin side of every other one.
			const login = await gateways[0]?.app.handle(
				new Request('http://localhost/ui/login', {
					method: 'POST',
					headers: { 'content-type': 'application/x-www-form-urlencoded' },
					body: `password=${encodeURIComponent(panel)}`,
				}),
			)
			const cookie = login?.headers.get('set-cookie')?.split(';')[0]
			if (!cookie) throw new Error(`login set no cookie (status ${login?.status})`)
			for (const g of gateways.slice(1)) {
				const admin = await g.app.handle(new Request('http://localhost/admin/keys', { headers: { cookie } }))
				expect(admin.status).toBe(200)
			}
		} finally {
			for (const g of gateways) await g.close()
		}
	}, 60_000)
})
