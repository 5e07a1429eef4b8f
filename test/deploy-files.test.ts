/**
 * No Docker engine runs on the CI machine, so the image and compose file cannot be built here;
 * these checks keep their promises from rotting: non-root, exec-form CMD, health check, a volume
 * for file storage, and one compose variant per backend with its URI preset.
 */
import { describe, expect, test } from 'bun:test'
import { resolve } from 'node:path'

const root = resolve(import.meta.dir, '..')
const read = (file: string) => Bun.file(resolve(root, file)).text()

describe('Dockerfile', () => {
	test('non-root, exec-form CMD, HEALTHCHECK on /health, the app files copied', async () => {
		const text = await read('Dockerfile')
		expect(text).toMatch(/^USER (?!root)\S+/m)
		expect(text).toMatch(/^CMD \["bun", "core\/main\.ts"\]/m)
		expect(text).toMatch(/^HEALTHCHECK .*\n?.*\/health/m)
		for (const dir of ['core', 'plugins', 'views']) expect(text).toContain(`COPY ${dir} ./${dir}`)
		expect(text).toContain('bun install --frozen-lockfile')
		expect(text).toMatch(/^VOLUME \["\/data"\]/m)
	})
})

describe('docker-compose.yml', () => {
	test('files by default with a volume; each shared backend has a variant with its URI and a healthy dependency', async () => {
		const compose = Bun.YAML.parse(await read('docker-compose.yml')) as {
			services: Record<
				string,
				{
					environment?: Record<string, string>
					volumes?: string[]
					depends_on?: Record<string, { condition: string }>
					profiles?: string[]
					healthcheck?: unknown
				}
			>
			volumes: Record<string, unknown>
		}
		const serviceNamed = (name: string) => {
			const service = compose.services[name]
			if (!service) throw new Error(`docker-compose.yml has no service ${name}`)
			return service
		}
		expect(serviceNamed('amb2api').volumes).toContain('data:/data')
		expect(serviceNamed('amb2api').profiles).toBeUndefined()
		const variants: [string, string, string][] = [
			['amb2api-redis', 'REDIS_URI', 'redis'],
			['amb2api-postgres', 'POSTGRES_DSN', 'postgres'],
			['amb2api-mongodb', 'MONGODB_URI', 'mongodb'],
		]
		for (const [name, variable, backend] of variants) {
			const service = serviceNamed(name)
			expect(service.environment?.[variable]).toContain(`${backend}:`)
			expect(service.depends_on?.[backend]?.condition).toBe('service_healthy')
			expect(serviceNamed(backend).healthcheck).toBeDefined()
			expect(service.profiles).toEqual([backend])
		}
	})
})

describe('deploy/multi-instance (several instances behind nginx)', () => {
	type Service = {
		build?: string
		ports?: string[]
		expose?: string[]
		environment?: Record<string, string>
		healthcheck?: { test: string[] }
		depends_on?: Record<string, { condition: string }>
		volumes?: string[]
		stop_grace_period?: string
	}

	test('compose: scalable gateways without host ports, on Redis, health-checked, the proxy the only way in', async () => {
		const compose = Bun.YAML.parse(await read('deploy/multi-instance/compose.yml')) as { services: Record<string, Service> }
		const { amb2api, proxy, redis } = compose.services as Record<'amb2api' | 'proxy' | 'redis', Service>
		// --scale needs gateways that publish no fixed host port.
		expect(amb2api.ports).toBeUndefined()
		expect(amb2api.expose).toEqual(['7861'])
		expect(amb2api.build).toBe('../..')
		expect(amb2api.environment?.REDIS_URI).toBe('redis://redis:6379/0')
		expect(amb2api.healthcheck?.test.join(' ')).toContain('/health')
		expect(amb2api.depends_on?.redis?.condition).toBe('service_healthy')
		expect(amb2api.stop_grace_period).toBeDefined()
		expect(proxy.ports).toEqual(['7861:80'])
		expect(proxy.volumes).toContain('./nginx.conf:/etc/nginx/nginx.conf:ro')
		expect(proxy.depends_on?.amb2api?.condition).toBe('service_healthy')
		expect(redis.healthcheck).toBeDefined()
	})

	test('nginx.conf: round robin (nothing sticky), long unbuffered streams, forwarded client address, no POST replays', async () => {
		const conf = await read('deploy/multi-instance/nginx.conf')
		const active = conf
			.split('\n')
			.map((line) => line.replace(/#.*/, '').trim())
			.filter(Boolean)
			.join('\n')
		expect(active).toMatch(/upstream amb2api \{[^}]*server amb2api:7861/)
		for (const sticky of ['ip_hash', 'hash ', 'sticky', 'least_conn']) expect(active).not.toContain(sticky)
		expect(active).toContain('proxy_buffering off;')
		const timeout = Number(/proxy_read_timeout (\d+)s;/.exec(active)?.[1])
		expect(timeout).toBeGreaterThanOrEqual(3600)
		expect(active).toContain('proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;')
		expect(active).toContain('proxy_set_header X-Forwarded-Proto $scheme;')
		expect(active).toContain('proxy_http_version 1.1;')
		expect(active).not.toContain('non_idempotent')
		expect(active).toMatch(/location = \/health/)
		// Braces balance: a typo here would only show once someone runs nginx.
		expect((active.match(/\{/g) ?? []).length).toBe((active.match(/\}/g) ?? []).length)
	})
})
