/**
 * Storage backends by name, imported lazily so a deployment on files never loads a database
 * driver. Adding a backend = one file in plugins/ + one line here (the `satisfies` makes a
 * missing one a compile error).
 */
import type { Config, StorageChoice } from './config.ts'
import type { Storage } from './storage.ts'

type Opener = (config: Config['storage'], now: () => number) => Promise<Storage>

export const STORAGE_BACKENDS = {
	redis: async (s, now) => (await import('../plugins/storage-redis/redis-storage.ts')).createRedisStorage({ url: s.redisUri as string, prefix: s.redisPrefix, now }),
	postgres: async (s, now) => (await import('../plugins/storage-postgres/postgres-storage.ts')).createPostgresStorage({ dsn: s.postgresDsn as string, now }),
	mongodb: async (s, now) =>
		(await import('../plugins/storage-mongodb/mongo-storage.ts')).createMongoStorage({ uri: s.mongoUri as string, database: s.mongoDatabase, now }),
	file: async (s, now) => (await import('../plugins/storage-file/file-storage.ts')).createFileStorage({ dir: s.credentialsDir, now }),
} satisfies Record<StorageChoice, Opener>

/** Opens the configured backend; a configured backend that cannot be reached fails start-up. */
export async function openStorage(config: Config['storage'], now: () => number = Date.now): Promise<Storage> {
	return STORAGE_BACKENDS[config.kind](config, now)
}
