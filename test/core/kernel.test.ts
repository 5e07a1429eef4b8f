/**
 * The plugin contract and the kernel: plugins found from config, ordered by their needs, turned
 * off by DISABLE_PLUGINS, refused with one line when a need is missing; a plugin defined here
 * adds a route and a service that a second plugin uses.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { ConfigError, resolveConfig } from '../../core/config.ts'
import { buildApp, orderPlugins, selectPlugins } from '../../core/kernel.ts'
import { definePlugin, type Plugin } from '../../core/plugin.ts'
import { discoverPlugins } from '../../core/plugin-registry.ts'
import { MemoryStorage } from '../../core/storage.ts'
import { API_PASSWORD, harnessSet, PANEL_PASSWORD } from '../support.ts'

// A service of the test's own, typed through the same declaration merging the built-ins use.
interface Greeter {
	greet(name: string): string
}
declare module '../../core/plugin.ts' {
	interface Services {
		greeter: Greeter
	}
}

const greeterPlugin = definePlugin({
	name: 'greeter',
	description: 'provides a greeting service and a route',
	optional: true,
	needs: ['now'],
	provides: ['greeter'],
	setup: () => ({
		services: { greeter: { greet: (name: string) => `hello, ${name}` } },
		routes: new Elysia({ name: 'greeter-routes' }).get('/greeter/ping', () => ({ pong: true })),
	}),
})

const welcomePlugin = definePlugin({
	name: 'welcome',
	description: 'uses the greeting service of another plugin',
	optional: true,
	needs: ['greeter'],
	setup: ({ services }) => ({
		routes: new Elysia({ name: 'welcome-routes' }).get('/welcome/:name', ({ params }) => ({ text: services.greeter.greet(params.name) })),
	}),
})

const harnesses = harnessSet()
afterEach(() => harnesses.closeAll())

describe('plugin registry', () => {
	test('every folder under plugins/ is a plugin named as its folder', async () => {
		const names = (await discoverPlugins()).map((p) => p.name)
		for (const expected of [
			'openai-router',
			'assembly-client',
			'rate-limits',
			'usage-stats',
			'admin-panel',
			'docs',
			'health',
			'storage-file',
			'storage-redis',
			'storage-postgres',
			'storage-mongodb',
		]) {
			expect(names).toContain(expected)
		}
	})
})

describe('kernel', () => {
	test('a plugin defined in a test adds a route and a service; a second plugin uses that service', async () => {
		const builtins = await discoverPlugins()
		// Listed in the wrong order on purpose: the kernel orders by needs.
		const gateway = await buildApp(
			{ API_PASSWORD, PANEL_PASSWORD, LOG_LEVEL: 'error' },
			{ storage: new MemoryStorage(), plugins: [...builtins, welcomePlugin, greeterPlugin], log: { stdout: false, file: null } },
		)
		try {
			expect(gateway.plugins.indexOf('greeter')).toBeLessThan(gateway.plugins.indexOf('welcome'))
			expect(gateway.services.greeter?.greet('x')).toBe('hello, x')
			const ping = await gateway.app.handle(new Request('http://localhost/greeter/ping'))
			expect(await ping.json()).toEqual({ pong: true })
			const welcome = await gateway.app.handle(new Request('http://localhost/welcome/ada'))
			expect(await welcome.json()).toEqual({ text: 'hello, ada' })
		} finally {
			await gateway.close()
		}
	})

	test('turning off a plugin another one needs refuses to start with one line naming both', async () => {
		const builtins = await discoverPlugins()
		let error: unknown
		try {
			await buildApp(
				{ API_PASSWORD, PANEL_PASSWORD, DISABLE_PLUGINS: 'greeter' },
				{ storage: new MemoryStorage(), plugins: [...builtins, greeterPlugin, welcomePlugin], log: { stdout: false, file: null } },
			)
		} catch (err) {
			error = err
		}
		expect(error).toBeInstanceOf(ConfigError)
		expect((error as Error).message).toBe(
			'plugin welcome needs "greeter", which plugin greeter provides, but greeter is turned off (PLUGINS / DISABLE_PLUGINS)',
		)
	})

	test('a required plugin cannot be turned off; an unknown name is refused', async () => {
		const builtins = await discoverPlugins()
		expect(() => selectPlugins(builtins, resolveConfig({ DISABLE_PLUGINS: 'rate-limits' }))).toThrow(/rate-limits cannot be turned off/)
		expect(() => selectPlugins(builtins, resolveConfig({ DISABLE_PLUGINS: 'nope' }))).toThrow(/unknown plugin nope/)
	})

	test('PLUGINS lists what to load; required plugins come along, optional ones stay off', async () => {
		const builtins = await discoverPlugins()
		const names = selectPlugins(builtins, resolveConfig({ PLUGINS: 'docs' })).map((p) => p.name)
		expect(names).toContain('docs')
		expect(names).toContain('openai-router')
		expect(names).not.toContain('admin-panel')
		expect(names).not.toContain('usage-stats')
	})

	test('a cycle of needs is named', () => {
		const a = { name: 'a', description: '', optional: true, needs: ['greeter'], provides: ['pool'], setup: () => ({}) } as unknown as Plugin
		const b = { name: 'b', description: '', optional: true, needs: ['pool'], provides: ['greeter'], setup: () => ({}) } as unknown as Plugin
		expect(() => orderPlugins([a, b], [a, b], new Set())).toThrow('plugins need each other in a cycle: a -> b -> a')
	})

	test('storage plugins by priority: Redis > PostgreSQL > MongoDB > files', async () => {
		const builtins = await discoverPlugins()
		const { plugin: redis } = await import('../../plugins/storage-redis/plugin.ts')
		const { plugin: postgres } = await import('../../plugins/storage-postgres/plugin.ts')
		const { plugin: mongo } = await import('../../plugins/storage-mongodb/plugin.ts')
		const storages = builtins.filter((p) => 'kind' in p).map((p) => p.name)
		expect(storages.sort()).toEqual(['storage-file', 'storage-mongodb', 'storage-postgres', 'storage-redis'])
		expect(redis.priority).toBeLessThan(postgres.priority)
		expect(postgres.priority).toBeLessThan(mongo.priority)
		expect(redis.configured({ uri: 'redis://r', prefix: 'p' })).toBe(true)
		expect(redis.configured({ uri: null, prefix: 'p' })).toBe(false)
	})

	test('with the panel and Swagger turned off, /v1 serves and /ui and /swagger answer 404', async () => {
		const h = await harnesses.start({ env: { DISABLE_PLUGINS: 'admin-panel,docs' } })
		expect(h.gateway.plugins).not.toContain('admin-panel')
		expect(h.gateway.plugins).not.toContain('docs')
		const chat = await h.chat({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'hi' }] })
		expect(chat.status).toBe(200)
		expect((await h.call('/v1/models')).status).toBe(200)
		for (const path of ['/ui', '/swagger', '/swagger/json']) expect((await h.call(path)).status).toBe(404)
	})

	test('with usage statistics and client keys off, chats still work and their routes are gone', async () => {
		const h = await harnesses.start({ env: { DISABLE_PLUGINS: 'usage-stats,client-keys,daily-quota' } })
		expect((await h.chat({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'hi' }] })).status).toBe(200)
		for (const path of ['/admin/usage', '/admin/clients', '/admin/quotas']) expect((await h.admin(path)).status).toBe(404)
		expect((await h.admin('/admin/keys')).status).toBe(200)
	})
})

describe('docs/design.md', () => {
	test('the plugin table is the one the plugins declare (regenerate with `bun run docs:plugins`)', async () => {
		const { pluginTable, withTable } = await import('../../scripts/plugin-table.ts')
		const design = await Bun.file(new URL('../../docs/design.md', import.meta.url)).text()
		expect(withTable(design, await pluginTable())).toBe(design)
	})
})
