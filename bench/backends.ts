/**
 * The storage backends a benchmark gateway can run on, each in a namespace of its own that the
 * cleanups drop: file, Redis (own REDIS_PREFIX), PostgreSQL (own schema in search_path) and
 * MongoDB when MONGODB_URI is set (own database).
 * BENCH_REDIS_URI / BENCH_POSTGRES_DSN override the local defaults; BENCH_BACKENDS=file,redis
 * keeps only the named ones.
 */
export interface Backend {
	name: string
	/** The `storage` argument of `servers.ts gateway`. */
	storage: string
	/** Environment for that gateway process (its namespace). */
	env: Record<string, string>
}

export async function sharedBackends(namespace: string, cleanups: (() => Promise<void>)[]): Promise<Backend[]> {
	const only = process.env.BENCH_BACKENDS?.split(',').map((s) => s.trim())
	return (await allBackends(namespace, cleanups)).filter((b) => !only || only.includes(b.name))
}

async function allBackends(namespace: string, cleanups: (() => Promise<void>)[]): Promise<Backend[]> {
	const backends: Backend[] = [{ name: 'file', storage: 'file', env: {} }]
	const redisUri = process.env.BENCH_REDIS_URI ?? 'redis://127.0.0.1:6379'
	backends.push({ name: 'redis', storage: redisUri, env: { BENCH_NAMESPACE: namespace } })
	cleanups.push(async () => {
		const { default: Redis } = await import('ioredis')
		const redis = new Redis(redisUri, { lazyConnect: true, maxRetriesPerRequest: 1 })
		await redis.connect()
		const keys = await redis.keys(`${namespace}*`)
		if (keys.length) await redis.del(...keys)
		await redis.quit()
	})
	const pgBase = process.env.BENCH_POSTGRES_DSN ?? 'postgres://postgres@127.0.0.1:5432/test'
	try {
		const { default: postgres } = await import('postgres')
		const admin = postgres(pgBase, { max: 1, onnotice: () => {} })
		await admin.unsafe(`CREATE SCHEMA IF NOT EXISTS "${namespace}"`)
		cleanups.push(async () => {
			await admin.unsafe(`DROP SCHEMA IF EXISTS "${namespace}" CASCADE`)
			await admin.end()
		})
		const url = new URL(pgBase)
		url.searchParams.set('search_path', namespace)
		backends.push({ name: 'postgres', storage: url.toString(), env: {} })
	} catch (err) {
		console.log(`postgres skipped: ${String(err)}`)
	}
	if (process.env.MONGODB_URI) backends.push({ name: 'mongodb', storage: process.env.MONGODB_URI, env: { BENCH_NAMESPACE: namespace } })
	return backends
}
