/**
 * A MongoDB stand-in for CI, where no `mongod` can be installed: the CongoDB engine of
 * @push.rocks/smartmongo 2.2.0 (a MongoDB-wire-compatible server in TypeScript, in memory),
 * installed by `.ci/mongo-standin/install.sh`, with run-time bridges for the gaps that matter to
 * plugins/storage-mongodb. It is NOT MongoDB: unique and TTL indexes, transactions, and anything
 * the bridges below paper over are not checked against a real server.
 *
 * `bun test/mongo-standin/server.ts [port]` listens on 127.0.0.1 (a spare port when none is
 * given), prints `mongodb://127.0.0.1:<port>/?serverMonitoringMode=poll` as its one line on
 * stdout once it answers, and runs until it is killed.
 *
 * The bridges (each one patches the engine's own classes, nothing is copied):
 * 1. Any `_id` type. The in-memory store keys documents by `_id.toHexString()` and turns every
 *    other `_id` into an ObjectId (a string `_id` is rejected). Here documents are keyed by
 *    `idKey(_id)`: ObjectIds as before, anything else by its type and EJSON text.
 * 2. Aggregation-pipeline updates (`updateOne(filter, [{ $set: ... }])`), which the engine
 *    refuses: the pipeline runs on the one document through the engine's own mingo Aggregator,
 *    and `_id` is kept.
 * 3. A duplicate `_id` answers E11000, as MongoDB does, on insert and on an upsert that matched
 *    nothing but collides (a findAndModify too, which the engine would answer with code 1).
 * 4. The hello reply carries a stable `topologyVersion.processId` (the engine makes a new one per
 *    reply, which tells driver 7 the server restarted, and it drops its pool). The URI keeps
 *    `serverMonitoringMode=poll` as well.
 */
import { resolve } from 'node:path'

const ENGINE = resolve(import.meta.dir, '../../.ci/mongo-standin/congodb')

/** Starts the stand-in; resolves with its URI and a stop function. */
export async function startMongoStandin(port = 0): Promise<{ uri: string; stop: () => Promise<void> }> {
	const congo: any = await import(`${ENGINE}/index.js`)
	const { HelloHandler }: any = await import(`${ENGINE}/server/handlers/HelloHandler.js`)
	const { MemoryStorageAdapter, UpdateEngine, IndexEngine, plugins } = congo
	const { ObjectId, EJSON } = plugins.bson

	// --- 1. any _id type ---------------------------------------------------------------------
	const idKey = (id: any): string => (id instanceof ObjectId ? id.toHexString() : `${typeof id}:${EJSON.stringify(id, { relaxed: false })}`)
	const store = MemoryStorageAdapter.prototype
	store.insertOne = async function (db: string, coll: string, doc: any) {
		const collection = this.ensureCollection(db, coll)
		const stored = { ...doc, _id: doc._id ?? new ObjectId() }
		const key = idKey(stored._id)
		if (collection.has(key)) throw duplicateKey(db, coll, stored._id)
		collection.set(key, stored)
		return stored
	}
	store.findById = async function (db: string, coll: string, id: unknown) {
		return this.ensureCollection(db, coll).get(idKey(id)) ?? null
	}
	store.updateById = async function (db: string, coll: string, id: unknown, doc: any) {
		const collection = this.ensureCollection(db, coll)
		if (!collection.has(idKey(id))) return false
		collection.set(idKey(id), doc)
		return true
	}
	store.deleteById = async function (db: string, coll: string, id: unknown) {
		return this.ensureCollection(db, coll).delete(idKey(id))
	}
	// The index engine (createIndexes, listIndexes) also files documents by `_id.toHexString()`:
	// it gets a view of the store whose documents carry a key object instead of their `_id`.
	const initialize = IndexEngine.prototype.initialize
	IndexEngine.prototype.initialize = function () {
		if (!this.keyedView) {
			const storage = this.storage
			this.storage = Object.create(storage, {
				findAll: {
					value: async (db: string, coll: string) =>
						(await storage.findAll(db, coll)).map((doc: any) => ({ ...doc, _id: { toHexString: () => idKey(doc._id) } })),
				},
			})
			this.keyedView = true
		}
		return initialize.call(this)
	}

	// --- 2. aggregation-pipeline updates -----------------------------------------------------
	const applyUpdate = UpdateEngine.applyUpdate
	UpdateEngine.applyUpdate = function (doc: any, update: unknown, arrayFilters?: unknown) {
		if (!Array.isArray(update)) return applyUpdate.call(this, doc, update, arrayFilters)
		const [out] = new plugins.mingo.Aggregator(update).run([UpdateEngine.deepClone(doc)])
		return { ...out, _id: doc._id }
	}

	// --- 3. E11000 on a duplicate _id --------------------------------------------------------
	function duplicateKey(db: string, coll: string, id: unknown) {
		const text = EJSON.stringify(id, { relaxed: true })
		return Object.assign(new Error(`E11000 duplicate key error collection: ${db}.${coll} index: _id_ dup key: { _id: ${text} }`), {
			code: 11000,
			codeName: 'DuplicateKey',
			keyPattern: { _id: 1 },
			keyValue: { _id: id },
		})
	}
	// The update command already answers a thrown error's code as a write error, and the command
	// router answers it as a command error (findAndModify): both carry 11000 now. The insert
	// command matches on "Duplicate key" (capital D), so it gets its code from the error as well.

	// --- 4. a stable hello -------------------------------------------------------------------
	const processId = new ObjectId()
	const hello = HelloHandler.prototype.handle
	HelloHandler.prototype.handle = async function (context: unknown) {
		const reply = await hello.call(this, context)
		reply.topologyVersion = { processId, counter: plugins.bson.Long.fromNumber(0) }
		return reply
	}

	const server = new congo.CongoServer({ host: '127.0.0.1', port })
	await server.start()
	const actual = (server.server.address() as { port: number }).port
	return { uri: `mongodb://127.0.0.1:${actual}/?serverMonitoringMode=poll`, stop: () => server.stop() }
}

if (import.meta.main) {
	const { uri, stop } = await startMongoStandin(Number(process.argv[2] ?? 0))
	console.log(uri)
	for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => stop().finally(() => process.exit(0)))
}
