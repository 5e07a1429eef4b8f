/** PostgreSQL: shared state for several instances; chosen when POSTGRES_DSN is set and REDIS_URI is not. */
import { spec, str } from '../../core/config.ts'
import { defineStorage } from '../../core/plugin.ts'

export const plugin = defineStorage({
	name: 'storage-postgres',
	description: 'shared state in PostgreSQL (numbered migrations, atomic statements)',
	priority: 20,
	shared: true,
	settings: {
		dsn: spec<string | null>('POSTGRES_DSN', str, null, 'PostgreSQL storage, postgres://user@host:5432/db[?search_path=schema]', undefined, { secret: true }),
	},
	configured: (s) => s.dsn !== null,
	open: async (s, { now }) => (await import('./postgres-storage.ts')).createPostgresStorage({ dsn: s.dsn as string, now }),
})
