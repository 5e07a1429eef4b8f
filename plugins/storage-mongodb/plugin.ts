/** MongoDB: shared state for several instances; chosen when MONGODB_URI is set and neither Redis nor PostgreSQL is. */
import { spec, str } from '../../core/config.ts'
import { defineStorage } from '../../core/plugin.ts'

export const plugin = defineStorage({
	name: 'storage-mongodb',
	description: 'shared state in MongoDB (findOneAndUpdate with $inc)',
	priority: 30,
	shared: true,
	settings: {
		uri: spec<string | null>('MONGODB_URI', str, null, 'MongoDB storage, mongodb:// or mongodb+srv://', undefined, { secret: true }),
		database: spec('MONGODB_DATABASE', str, 'amb2api', 'MongoDB database name'),
	},
	configured: (s) => s.uri !== null,
	open: async (s, { now }) => (await import('./mongo-storage.ts')).createMongoStorage({ uri: s.uri as string, database: s.database, now }),
})
