/**
 * File storage: the in-memory engine of `MemoryStorage`, persisted as one JSON file per area
 * (settings.json, keys.json, clients.json, limits.json, counters.json) under `dir`.
 *
 * SINGLE PROCESS ONLY. The process holds the state and rewrites whole files, so two processes
 * on one directory overwrite each other's changes. Several instances need Redis, PostgreSQL or
 * MongoDB.
 *
 * Writes are atomic (temp file in the same directory, fsync, rename, fsync of the directory), so
 * a crash leaves either the old or the new file, never half of one.
 *
 * A change someone asked for (settings, upstream keys, client keys, quota limits, a usage reset)
 * is durable before it is acknowledged: its promise resolves only after the write that contains
 * it has been fsynced. Group commit: every change that arrives while a write is under way waits
 * for the next one, which carries them all, so a burst costs one write per round, not one each.
 * Per-request bookkeeping (rate windows in `limits`, usage and quota counters) is batched
 * instead: written within `flushDelayMs`, so a crash can lose that last moment of counting.
 * `close()` writes whatever is pending. Uses `node:fs/promises` only: the app also runs on Deno.
 *
 * The request log is one JSON row per line in requests.ndjson: a batch is appended (no fsync:
 * it is bookkeeping), and the file is rewritten atomically only when pruning has left it
 * twice as large as what it keeps, so pruning as it goes does not rewrite it every time.
 * `close()` rewrites it when rows were pruned since; after a crash, rows pruned since the last
 * rewrite come back until the next prune. A torn last line (a crash during an append) is skipped on load.
 */
import { appendFile, mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { type Counters, DOC_KINDS, type Doc, type DocKind, type LogRow, MemoryStorage, type StorageKind } from '../../core/storage.ts'
import { ServiceUnavailableError } from '../../core/errors.ts'
import { isObject } from '../../core/json.ts'

export interface FileStorageOptions {
	/** Directory of the data files; created with mode 0700 if missing (it holds upstream keys). */
	dir: string
	/** Clock for counter expiry. @default Date.now */
	now?: () => number
	/** How long a change may wait before its area is written. @default 50 */
	flushDelayMs?: number
}

type Area = 'settings' | DocKind | 'counters'
/** Temp files are `.<area>.json.<random>.tmp`: hidden, and never mistaken for a data file. */
const TEMP_FILE = /^\..*\.tmp$/
/** A failed write (disk full, permissions) is retried after this long. */
const RETRY_FAILED_WRITE_MS = 1000

type StoredGroup = { values: Counters; expireAt?: number }

const LOG_FILE = 'requests.ndjson'

/** Per-request bookkeeping: written in batches, not waited for (see the header). */
const BATCHED_AREAS: ReadonlySet<Area> = new Set<Area>(['limits', 'counters'])

/** A change could not be made durable: the operator's request fails honestly (503), nothing is claimed. */
export class StorageWriteError extends ServiceUnavailableError {
	constructor(cause: Error) {
		super(`The change could not be saved: file storage cannot write (${cause.message}).`, 'storage_write_failed')
	}
}

export class FileStorage extends MemoryStorage {
	override readonly kind: StorageKind = 'file'
	override readonly where: string
	/** Completed writes per area since start: lets tests see that changes are coalesced. */
	readonly writes = Object.fromEntries((['settings', ...DOC_KINDS, 'counters'] as Area[]).map((area) => [area, 0])) as Record<Area, number>

	private readonly dirty = new Set<Area>()
	/** Changes waiting to be acknowledged: settled by the next flush that starts after them. */
	private waiting: { resolve: () => void; reject: (err: Error) => void }[] = []
	private timer: ReturnType<typeof setTimeout> | undefined
	private flushing: Promise<void> | undefined
	private lastWriteError: Error | undefined
	private closed = false
	/** Lines in requests.ndjson, pruned rows included (they go at the next rewrite). */
	private logLines = 0
	/** Appends and rewrites of requests.ndjson, one at a time. */
	private logWrites: Promise<void> = Promise.resolve()

	constructor(
		private readonly dir: string,
		private readonly flushDelayMs: number,
		now: () => number,
	) {
		super(now)
		this.where = resolve(dir)
	}

	/** Reads the files (missing ones are empty areas) and removes temp files a crash left behind. */
	async load(): Promise<void> {
		await mkdir(this.dir, { recursive: true, mode: 0o700 })
		for (const name of await readdir(this.dir)) {
			if (TEMP_FILE.test(name)) await unlink(join(this.dir, name)).catch(() => {})
		}
		const settings = await this.readArea('settings')
		if (settings !== undefined) {
			if (!isObject(settings)) throw this.badFile('settings', 'expected an object')
			this.settings = settings
		}
		for (const kind of DOC_KINDS) {
			const docs = await this.readArea(kind)
			if (docs === undefined) continue
			if (!Array.isArray(docs)) throw this.badFile(kind, 'expected an array of documents')
			for (const doc of docs) {
				if (!isObject(doc) || typeof doc.id !== 'string') throw this.badFile(kind, 'a document without a string id')
				this.docs[kind].set(doc.id, doc as Doc)
			}
		}
		await this.loadLog()
		const counters = await this.readArea('counters')
		if (counters !== undefined) {
			if (!isObject(counters)) throw this.badFile('counters', 'expected an object of counter groups')
			const now = this.now()
			for (const [name, group] of Object.entries(counters)) {
				if (!isObject(group) || !isObject(group.values)) throw this.badFile('counters', `group ${JSON.stringify(name)} has no values`)
				const expireAt = typeof group.expireAt === 'number' ? group.expireAt : undefined
				if (expireAt !== undefined && expireAt <= now) continue
				this.counters.set(name, { values: group.values as Counters, expireAt })
			}
		}
	}

	protected override changed(area: Area | 'log', operator = false): Promise<void> | void {
		// The request log has a file of its own (appendLog, pruneLog).
		if (area === 'log') return
		this.dirty.add(area)
		if (BATCHED_AREAS.has(area) && !operator) {
			// After a failed write, do not hammer a full or read-only disk on every change.
			this.schedule(this.lastWriteError ? RETRY_FAILED_WRITE_MS : this.flushDelayMs)
			return
		}
		// Acknowledged only once on disk: wait for the next flush (group commit).
		const done = new Promise<void>((resolve, reject) => this.waiting.push({ resolve, reject }))
		this.schedule(0)
		return done
	}

	private async loadLog(): Promise<void> {
		let text: string
		try {
			text = await readFile(join(this.dir, LOG_FILE), 'utf8')
		} catch (err) {
			if ((err as { code?: string }).code === 'ENOENT') return
			throw err
		}
		for (const line of text.split('\n')) {
			if (!line) continue
			this.logLines++
			try {
				const row = JSON.parse(line) as LogRow
				if (isObject(row) && typeof row.id === 'string' && typeof row.at === 'number') this.log.set(row.id, { id: row.id, at: row.at, json: line })
			} catch {}
		}
	}

	/** Runs one append or rewrite of requests.ndjson after the ones before it. */
	private logWrite(write: () => Promise<void>): Promise<void> {
		const run = this.logWrites.then(write)
		this.logWrites = run.catch(() => {})
		return run
	}

	override async appendLog(rows: LogRow[]): Promise<void> {
		const fresh = rows.filter((row) => !this.log.has(row.id))
		if (!fresh.length) return
		await super.appendLog(fresh)
		this.logLines += fresh.length
		const text = fresh.map((row) => this.log.get(row.id)?.json ?? JSON.stringify(row)).join('\n') + '\n'
		await this.logWrite(() => appendFile(join(this.dir, LOG_FILE), text, { encoding: 'utf8', mode: 0o600 }))
	}

	override async pruneLog(before: number, keep: number): Promise<number> {
		const removed = await super.pruneLog(before, keep)
		if (this.logLines > this.log.size + Math.max(100, this.log.size)) await this.compactLog()
		return removed
	}

	/** Rewrites requests.ndjson with the rows kept. */
	private compactLog(): Promise<void> {
		return this.logWrite(async () => {
			// The rows are taken when the rewrite runs, so appends queued before it are in it.
			const rows = [...this.log.values()]
			await this.writeFile(LOG_FILE, rows.map((row) => row.json + '\n').join(''))
			this.logLines = rows.length
		})
	}

	/** Rejects while the last write failed, so /health shows that changes are not being saved. */
	override async ping(): Promise<void> {
		if (this.lastWriteError) throw new Error(`file storage in ${this.where} cannot write: ${this.lastWriteError.message}`)
	}

	override async close(): Promise<void> {
		this.closed = true
		if (this.timer) clearTimeout(this.timer)
		this.timer = undefined
		await this.flush()
		// Pruned rows still in the file must not come back after a restart.
		if (this.logLines !== this.log.size) await this.compactLog().catch(() => {})
		await this.logWrites
	}

	/** Writes every area changed since the last write. One flush runs at a time. */
	async flush(): Promise<void> {
		while (this.flushing) await this.flushing
		// Everyone waiting now has their change in memory: this write carries it.
		const waiting = this.waiting
		this.waiting = []
		if (this.dirty.size === 0) {
			for (const w of waiting) w.resolve()
			return
		}
		const areas = [...this.dirty]
		this.dirty.clear()
		let failure: Error | undefined
		this.flushing = (async () => {
			for (const area of areas) {
				try {
					// The snapshot is taken now; a change during the write marks the area dirty again.
					// Counters change with every request: compact; the rest indented for operators.
					const indent = area === 'counters' ? undefined : '\t'
					await this.writeArea(area, JSON.stringify(this.snapshot(area), null, indent) + '\n')
					this.writes[area]++
				} catch (err) {
					this.dirty.add(area)
					failure = err instanceof Error ? err : new Error(String(err))
				}
			}
		})()
		try {
			await this.flushing
		} finally {
			this.flushing = undefined
		}
		this.lastWriteError = failure
		if (failure) {
			const refusal = new StorageWriteError(failure)
			for (const w of waiting) w.reject(refusal)
			if (!this.closed) this.schedule(RETRY_FAILED_WRITE_MS)
			throw failure
		}
		for (const w of waiting) w.resolve()
	}

	private schedule(delayMs: number): void {
		if (this.closed) {
			// Closing writes what is pending; a change after that cannot be kept.
			if (this.waiting.length) void this.flush().catch(() => {})
			return
		}
		if (this.timer) {
			if (delayMs > 0) return
			// Someone waits for an acknowledgement: do not let it sit behind a batching delay.
			clearTimeout(this.timer)
		}
		this.timer = setTimeout(() => {
			this.timer = undefined
			// A failure is kept in lastWriteError (ping) and retried by flush itself.
			this.flush().catch(() => {})
		}, delayMs)
	}

	private snapshot(area: Area): unknown {
		if (area === 'settings') return this.settings
		if (area === 'counters') {
			const out: Record<string, StoredGroup> = {}
			const now = this.now()
			for (const [name, group] of this.counters) {
				if (group.expireAt !== undefined && group.expireAt <= now) continue
				out[name] = group.expireAt === undefined ? { values: group.values } : group
			}
			return out
		}
		return [...this.docs[area].values()]
	}

	private file(area: Area): string {
		return join(this.dir, `${area}.json`)
	}

	private async readArea(area: Area): Promise<unknown> {
		let text: string
		try {
			text = await readFile(this.file(area), 'utf8')
		} catch (err) {
			if ((err as { code?: string }).code === 'ENOENT') return undefined
			throw err
		}
		try {
			return JSON.parse(text)
		} catch (err) {
			// Refuse to start rather than overwrite the operator's data with an empty area.
			throw this.badFile(area, (err as Error).message)
		}
	}

	private badFile(area: Area, why: string): Error {
		return new Error(`file storage: ${this.file(area)} is not valid (${why}); repair or remove it`)
	}

	private writeArea(area: Area, text: string): Promise<void> {
		return this.writeFile(`${area}.json`, text)
	}

	private async writeFile(name: string, text: string): Promise<void> {
		const target = join(this.dir, name)
		const temp = join(this.dir, `.${name}.${crypto.randomUUID()}.tmp`)
		try {
			const handle = await open(temp, 'wx', 0o600)
			try {
				await handle.writeFile(text, 'utf8')
				await handle.sync()
			} finally {
				await handle.close()
			}
			await rename(temp, target)
		} catch (err) {
			await unlink(temp).catch(() => {})
			throw err
		}
		await syncDir(this.dir)
	}
}

/** Makes the rename itself durable. Best effort: not every OS can fsync a directory. */
async function syncDir(dir: string): Promise<void> {
	try {
		const handle = await open(dir, 'r')
		try {
			await handle.sync()
		} finally {
			await handle.close()
		}
	} catch {}
}

export async function createFileStorage(options: FileStorageOptions): Promise<FileStorage> {
	const storage = new FileStorage(options.dir, options.flushDelayMs ?? 50, options.now ?? Date.now)
	await storage.load()
	return storage
}
