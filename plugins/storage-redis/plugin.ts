/** Redis: shared state for several instances; chosen when REDIS_URI is set (the highest priority). */
import { spec, str } from '../../core/config.ts'
import { defineStorage } from '../../core/plugin.ts'

export const plugin = defineStorage({
	name: 'storage-redis',
	description: 'shared state in Redis (Lua scripts, everything under REDIS_PREFIX)',
	priority: 10,
	shared: true,
	settings: {
		uri: spec<string | null>('REDIS_URI', str, null, 'Redis storage, redis:// or rediss:// (highest priority)', undefined, { secret: true }),
		prefix: spec('REDIS_PREFIX', str, 'AMB2API', 'namespace of every Redis key'),
	},
	configured: (s) => s.uri !== null,
	// Imported when chosen: a deployment on files never loads a database driver.
	open: async (s, { now }) => (await import('./redis-storage.ts')).createRedisStorage({ url: s.uri as string, prefix: s.prefix, now }),
})
