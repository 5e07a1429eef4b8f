/**
 * How upstream key records are stored, and read back.
 *
 * - An admin-added key is stored sealed (AES-256-GCM, core/secret-box.ts) in `sealed`, with its
 *   record id as additional data: the ciphertext opens in that record only.
 * - An env key (ASSEMBLY_API_KEYS) is never stored: its record holds the id (a hash of the key)
 *   and its state (status, ban reason, cooldown). Only the environment can turn it back into a
 *   key, so a key removed from the environment is gone.
 * - Records of earlier versions held the key in plain text (`key`). They are read as they are,
 *   and rewritten (`upgrade`): env keys lose the field, admin keys are sealed. Values sealed by
 *   SECRETS_KEY_PREVIOUS are rewritten under SECRETS_KEY. Each rewrite is one atomic
 *   compare-and-swap of one record, so a process that dies halfway leaves every record either as
 *   it was or rewritten, both readable, and the next start carries on.
 */
import type { Logger } from '../../core/log.ts'
import { type SecretBox, SecretBoxError } from '../../core/secret-box.ts'
import { keyId } from '../../core/secrets.ts'
import type { Storage } from '../../core/storage.ts'
import type { KeyRecord, StoredKeyRecord } from './pool-types.ts'

/** What `upgrade` did, for the start-up log and tests. */
export interface UpgradeReport {
	sealed: number
	resealed: number
	envStripped: number
	unreadable: number
}

const withoutKey = (doc: StoredKeyRecord): StoredKeyRecord => {
	const { key: _plain, ...rest } = doc
	return rest
}

export class KeyRecords {
	/** ASSEMBLY_API_KEYS of this instance, by id. */
	private env = new Map<string, string>()
	/**
	 * Keys this instance has opened, by id. The id is a hash of the key, so a record's key never
	 * changes: when another instance reseals a record under a key this one does not hold yet
	 * (rotation under way), this instance keeps serving it. The sealed text is kept too, so the
	 * key list refresh (every second) decrypts only what changed.
	 */
	private opened = new Map<string, { sealed: string; key: string }>()
	/** Ids already reported as unreadable, so the log says it once per key. */
	private reported = new Set<string>()

	constructor(
		private readonly box: SecretBox,
		private readonly log: Logger,
	) {}

	setEnvKeys(keys: readonly string[]): void {
		this.env = new Map(keys.map((k) => [keyId(k), k]))
	}

	/** The record as it is stored: env keys without the key, admin keys sealed. */
	async toStored(record: KeyRecord): Promise<StoredKeyRecord> {
		const { key, ...state } = record
		if (record.source === 'env') return state
		return { ...state, sealed: await this.box.seal(key, record.id) }
	}

	/** The record with its key, or null when this instance cannot have it (another env, another SECRETS_KEY). */
	async fromStored(doc: StoredKeyRecord): Promise<KeyRecord | null> {
		const { sealed, key: legacy, ...state } = doc
		let key: string | undefined
		if (doc.source === 'env') key = this.env.get(doc.id)
		else if (typeof sealed === 'string') key = await this.openSealed(doc.id, sealed)
		else if (typeof legacy === 'string' && keyId(legacy) === doc.id) key = legacy
		return key === undefined ? null : { ...state, key }
	}

	private async openSealed(id: string, sealed: string): Promise<string | undefined> {
		const known = this.opened.get(id)
		if (known?.sealed === sealed) return known.key
		try {
			const key = await this.box.open(sealed, id)
			if (keyId(key) !== id) throw new SecretBoxError('sealed value does not match its record id')
			this.opened.set(id, { sealed, key })
			return key
		} catch (err) {
			if (known !== undefined) return known.key
			if (!this.reported.has(id)) {
				this.reported.add(id)
				this.log.error(
					{ keyId: id, err: err instanceof Error ? err.message : String(err) },
					'stored upstream key cannot be decrypted with SECRETS_KEY / SECRETS_KEY_PREVIOUS; left out of the pool',
				)
			}
			return undefined
		}
	}

	/**
	 * Every record this instance can use, with its key. Records still in plain text or sealed by
	 * SECRETS_KEY_PREVIOUS are rewritten first (on the first start after an upgrade or a
	 * rotation, and whenever an instance not yet rotated wrote one).
	 */
	async load(storage: Storage): Promise<KeyRecord[]> {
		let docs = await storage.listDocs<StoredKeyRecord>('keys')
		if (docs.some((d) => this.needsUpgrade(d))) {
			const done = await this.upgrade(storage, docs)
			if (done.sealed || done.resealed || done.envStripped) {
				this.log.info({ ...done }, 'stored upstream keys rewritten: plain text encrypted, env keys removed, or resealed under SECRETS_KEY')
			}
			docs = await storage.listDocs<StoredKeyRecord>('keys')
		}
		const out: KeyRecord[] = []
		for (const doc of docs) {
			const record = await this.fromStored(doc)
			if (record) out.push(record)
		}
		return out
	}

	/** Whether a stored record needs a rewrite: plain text, or sealed by a previous key this box holds. */
	needsUpgrade(doc: StoredKeyRecord): boolean {
		if (typeof doc.key === 'string') return true
		return typeof doc.sealed === 'string' && this.box.isStale(doc.sealed) && this.box.knows(doc.sealed.split('.')[1] ?? '')
	}

	/**
	 * Rewrites the given records that need it (migration of plain text, rotation to SECRETS_KEY),
	 * one atomic compare-and-swap each: a record another writer changed meanwhile is left to it.
	 */
	async upgrade(storage: Storage, docs: readonly StoredKeyRecord[]): Promise<UpgradeReport> {
		const report: UpgradeReport = { sealed: 0, resealed: 0, envStripped: 0, unreadable: 0 }
		for (const doc of docs) {
			if (!this.needsUpgrade(doc)) continue
			const before = doc.sealed ?? doc.key
			if (doc.source === 'env') {
				const done = await storage.updateDoc<StoredKeyRecord>('keys', doc.id, (cur) => (cur && typeof cur.key === 'string' ? withoutKey(cur) : undefined))
				if (done && done.key === undefined) report.envStripped++
				continue
			}
			const record = await this.fromStored(doc)
			if (!record) {
				report.unreadable++
				continue
			}
			const sealed = await this.box.seal(record.key, doc.id)
			let wrote = false
			await storage.updateDoc<StoredKeyRecord>('keys', doc.id, (cur) => {
				wrote = false
				if (!cur || (cur.sealed ?? cur.key) !== before) return undefined
				wrote = true
				return { ...withoutKey(cur), sealed }
			})
			if (wrote) report[typeof doc.key === 'string' ? 'sealed' : 'resealed']++
		}
		return report
	}
}
