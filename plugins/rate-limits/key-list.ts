/**
 * The pool's key list: the `keys` documents (keys from ASSEMBLY_API_KEYS and keys added through the
 * admin API, one pool), cached in process and reloaded when older than `refreshMs` so other
 * instances' changes arrive. Every read and write of a stored KeyRecord happens in this file.
 */
import type { Logger } from '../../core/log.ts'
import { keyId } from '../../core/secrets.ts'
import type { Storage } from '../../core/storage.ts'
import type { KeyRecords } from './key-records.ts'
import type { KeyRecord, StoredKeyRecord } from './pool-types.ts'

export interface KeyListDeps {
	storage: Storage
	log: Logger
	now: () => number
	/** How stale the in-process copy may get (other instances' changes). */
	refreshMs: number
	/** Called for every key loaded, so the logger can scrub it. */
	onSecret?: (key: string) => void
	/** How key records are stored: admin keys sealed, env keys as id and state only (key-records.ts). */
	records: KeyRecords
}

export class KeyList {
	private keys: KeyRecord[] = []
	private loadedAt = -Infinity
	private loading: Promise<void> | null = null
	/** ASSEMBLY_API_KEYS: always in the pool (reload puts missing ones back). */
	private envKeys: readonly string[] = []

	constructor(private readonly deps: KeyListDeps) {}

	/** Puts the environment's keys into the pool (once each) and loads the pool. */
	async init(envKeys: readonly string[]): Promise<void> {
		this.envKeys = [...new Set(envKeys)]
		this.deps.records.setEnvKeys(this.envKeys)
		const envIds = new Set(this.envKeys.map(keyId))
		// A key that left ASSEMBLY_API_KEYS leaves the pool: the environment owns env keys.
		for (const record of await this.deps.storage.listDocs<StoredKeyRecord>('keys')) {
			if (record.source === 'env' && !envIds.has(record.id)) await this.deps.storage.deleteDoc('keys', record.id)
		}
		await this.reload()
	}

	newRecord(key: string, source: 'env' | 'admin'): KeyRecord {
		return { id: keyId(key), key, source, status: 'active', reason: null, changedAt: null, addedAt: this.deps.now(), cooldownUntil: null }
	}

	/** Env keys missing from storage (first start, or a shared backend that lost its data) are put back. */
	private async ensureEnvKeys(stored: KeyRecord[]): Promise<KeyRecord[]> {
		const added: KeyRecord[] = []
		for (const key of this.envKeys) {
			const record = this.newRecord(key, 'env')
			if (stored.some((k) => k.id === record.id)) continue
			const doc = await this.deps.records.toStored(record)
			const put = await this.deps.storage.updateDoc<StoredKeyRecord>('keys', record.id, (current) => current ?? doc)
			const back = put && (await this.deps.records.fromStored(put))
			if (back) added.push(back)
		}
		return added
	}

	async reload(): Promise<void> {
		const records = await this.deps.records.load(this.deps.storage)
		records.push(...(await this.ensureEnvKeys(records)))
		records.sort((a, b) => a.addedAt - b.addedAt || a.id.localeCompare(b.id))
		for (const record of records) this.deps.onSecret?.(record.key)
		this.keys = records
		this.loadedAt = this.deps.now()
	}

	/**
	 * The key list, reloaded when older than `refreshMs`; no promise at all on the hot path. While
	 * a reload runs, requests keep the list they have (other instances' changes arrive one reload
	 * later), so a slow backend never holds every request up once a second.
	 */
	fresh(): KeyRecord[] | Promise<KeyRecord[]> {
		if (this.deps.now() - this.loadedAt <= this.deps.refreshMs) return this.keys
		this.loading ??= this.reload()
			.catch((err) => this.deps.log.warn({ err: String(err) }, 'key list reload failed; using the last one'))
			.finally(() => {
				this.loading = null
			})
		return this.loadedAt === -Infinity ? this.loading.then(() => this.keys) : this.keys
	}

	get size(): number {
		return this.keys.length
	}

	/** A key by id: from the cached list, else from storage. */
	async find(id: string): Promise<Pick<KeyRecord, 'id' | 'source'> | null> {
		return (await this.fresh()).find((k) => k.id === id) ?? (await this.deps.storage.getDoc<StoredKeyRecord>('keys', id))
	}

	/** Stores a new record unless one with its id exists; resolves true when it was new. */
	async insert(record: KeyRecord): Promise<boolean> {
		const doc = await this.deps.records.toStored(record)
		let isNew = false
		await this.deps.storage.updateDoc<StoredKeyRecord>('keys', record.id, (current) => {
			isNew = current === null
			return current ? undefined : doc
		})
		return isNew
	}

	/** Atomically changes a stored record (absent: nothing happens, resolves null). */
	update(id: string, change: (record: StoredKeyRecord) => StoredKeyRecord): Promise<StoredKeyRecord | null> {
		return this.deps.storage.updateDoc<StoredKeyRecord>('keys', id, (k) => (k ? change(k) : undefined))
	}

	async remove(id: string): Promise<void> {
		await this.deps.storage.deleteDoc('keys', id)
	}
}
