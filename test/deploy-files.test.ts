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
			services: Record<string, { environment?: Record<string, string>; volumes?: string[]; depends_on?: Record<string, { condition: string }>; profiles?: string[]; healthcheck?: unknown }>
			volumes: Record<string, unknown>
		}
		expect(compose.services.amb2api.volumes).toContain('data:/data')
		expect(compose.services.amb2api.profiles).toBeUndefined()
		const variants: [string, string, string][] = [
			['amb2api-redis', 'REDIS_URI', 'redis'],
			['amb2api-postgres', 'POSTGRES_DSN', 'postgres'],
			['amb2api-mongodb', 'MONGODB_URI', 'mongodb'],
		]
		for (const [name, variable, backend] of variants) {
			const service = compose.services[name]
			expect(service.environment?.[variable]).toContain(`${backend}:`)
			expect(service.depends_on?.[backend].condition).toBe('service_healthy')
			expect(compose.services[backend].healthcheck).toBeDefined()
			expect(service.profiles).toEqual([backend])
		}
	})
})
