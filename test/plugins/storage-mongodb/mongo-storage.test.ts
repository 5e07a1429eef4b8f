/**
 * MongoDB has no server on the development machine: this runs the contract only when
 * MONGODB_URI names one (each store gets its own database, dropped afterwards).
 */
import { afterAll, describe } from 'bun:test'
import { MongoClient } from 'mongodb'
import type { Storage } from '../../../core/storage.ts'
import { createMongoStorage } from '../../../plugins/storage-mongodb/mongo-storage.ts'
import { storageContract } from '../../storage.contract.ts'

const uri = process.env.MONGODB_URI
const run = `amb2api_test_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`
const databases: string[] = []
let next = 0
const databaseOf = new WeakMap<Storage, string>()

async function open(database?: string): Promise<Storage> {
	const name = database ?? `${run}_${next++}`
	if (!database) databases.push(name)
	const storage = await createMongoStorage({ uri: uri!, database: name })
	databaseOf.set(storage, name)
	return storage
}

describe.skipIf(!uri)('mongodb (MONGODB_URI)', () => {
	storageContract('mongodb', () => open(), {
		reopen: (closed) => open(databaseOf.get(closed)),
		secondConnection: (of) => open(databaseOf.get(of)),
	})
})

afterAll(async () => {
	if (!uri) return
	const client = new MongoClient(uri)
	try {
		for (const name of databases) await client.db(name).dropDatabase()
	} finally {
		await client.close()
	}
})
