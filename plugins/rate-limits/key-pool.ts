/**
 * The key pool: which upstream key serves a request, and what each answer teaches us about it.
 * This file composes the pool's concerns, one per file:
 * - key-list.ts: the stored key records, cached in process (one pool of env and admin keys);
 * - window-store.ts: the per key+model rate windows in storage (logic in rate-window.ts);
 * - blocks.ts: what this instance knows blocks a key, and the requests waiting for a change;
 * - selection.ts: selection and rotation (acquire);
 * - learning.ts: learning from outcomes (lease.settle);
 * - operator-actions.ts: add/remove keys, enable/disable/ban, the report;
 * - incident-guard.ts: nearly every key failing at once is an incident, not dead keys;
 * - key-counts.ts: per-key success and failure counts.
 */
import type { Logger } from '../../core/log.ts'
import type { Storage } from '../../core/storage.ts'
import { Blocks } from './blocks.ts'
import { IncidentGuard, type IncidentGuardOptions } from './incident-guard.ts'
import { KeyCounts } from './key-counts.ts'
import { KeyList } from './key-list.ts'
import type { KeyRecords } from './key-records.ts'
import { Learning } from './learning.ts'
import { OperatorActions } from './operator-actions.ts'
import type { AcquireOptions, Incident, KeyGate, KeyPoolOptions, KeyRecord, KeyReport, KeyStatus, KeyTestRecord, Lease, StoredKeyRecord } from './pool-types.ts'
import { Selection } from './selection.ts'
import { WindowStore } from './window-store.ts'

export type {
	AcquireOptions,
	Incident,
	KeyChoice,
	KeyGate,
	KeyPoolOptions,
	KeyRecord,
	KeyReport,
	KeyStatus,
	KeyTestRecord,
	Lease,
	Outcome,
	QuotaState,
	StoredKeyRecord,
} from './pool-types.ts'
export { KeysExhaustedError } from './pool-types.ts'

export interface KeyPoolDeps {
	storage: Storage
	log: Logger
	/** Daily quotas; absent = none. */
	gate?: KeyGate
	now?: () => number
	/** Called for every key the pool learns, so the logger can scrub it. */
	onSecret?: (key: string) => void
	/** How key records are stored: admin keys sealed, env keys as id and state only (key-records.ts). */
	records: KeyRecords
	/** The mass-failure guard's window and share (tests). */
	incident?: IncidentGuardOptions
}

export class KeyPool {
	private readonly keys: KeyList
	private readonly selection: Selection
	private readonly operator: OperatorActions
	private readonly windows: WindowStore
	private readonly guard: IncidentGuard
	private readonly counts: KeyCounts
	private readonly learning: Learning
	/** Daily quotas, when the daily-quota plugin is on (it registers itself). */
	private gate: KeyGate | undefined

	constructor(deps: KeyPoolDeps, options: KeyPoolOptions) {
		const now = deps.now ?? Date.now
		this.gate = deps.gate
		this.keys = new KeyList({ storage: deps.storage, log: deps.log, now, refreshMs: options.refreshMs ?? 1000, onSecret: deps.onSecret, records: deps.records })
		const windows = new WindowStore(deps.storage, options.probeTtlMs, { max: options.leaseMax ?? 32, ms: options.leaseMs ?? 1000 }, now)
		this.windows = windows
		const blocks = new Blocks()
		this.guard = new IncidentGuard(now, deps.incident)
		this.counts = new KeyCounts(deps.storage)
		this.operator = new OperatorActions({ keys: this.keys, windows, blocks, now, counts: this.counts, gate: () => this.gate })
		const learning = new Learning({
			keys: this.keys,
			windows,
			blocks,
			log: deps.log,
			now,
			options,
			guard: this.guard,
			counts: this.counts,
			setStatus: (id, status, reason) => this.operator.setStatus(id, status, reason),
		})
		this.learning = learning
		this.selection = new Selection({ keys: this.keys, windows, blocks, learning, now, options, gate: () => this.gate })
	}

	/** Gives back the rate-window slots this instance leased and did not use (shutdown). */
	async close(): Promise<void> {
		await Promise.all([this.windows.close(), this.counts.flush()])
	}

	/** Forgets the rate windows of models no longer in the catalog (idle for 10 minutes). */
	pruneModels(models: ReadonlySet<string>): Promise<number> {
		return this.windows.pruneModels(models, 600_000)
	}

	/** A gate checked after the rate window (the daily quota). */
	setGate(gate: KeyGate): void {
		this.gate = gate
	}

	/** Puts the environment's keys into the pool (once each) and loads the pool. */
	init(envKeys: readonly string[]): Promise<void> {
		return this.keys.init(envKeys)
	}

	reload(): Promise<void> {
		return this.keys.reload()
	}

	get size(): number {
		return this.keys.size
	}

	/**
	 * A key with headroom for `model`, reserved. Waits for a reset at most `maxWaitMs` away (and
	 * for an in-flight probe); otherwise throws 429 with Retry-After, or 503 when no key can serve.
	 */
	acquire(model: string, options: AcquireOptions = {}): Promise<Lease> {
		return this.selection.acquire(model, options)
	}

	/** The key itself, for the one caller that must send it outside a request (the panel's key test). Env keys live only in memory. */
	async secretOf(id: string): Promise<string | null> {
		const current = this.keys.fresh()
		return (Array.isArray(current) ? current : await current).find((k) => k.id === id)?.key ?? null
	}

	addKeys(keys: readonly string[]): Promise<{ added: string[]; duplicates: string[] }> {
		return this.operator.addKeys(keys)
	}

	removeKey(id: string): Promise<'removed' | 'not_found' | 'env_key'> {
		return this.operator.removeKey(id)
	}

	setStatus(id: string, status: KeyStatus, reason: string | null = null): Promise<StoredKeyRecord | null> {
		return this.operator.setStatus(id, status, reason)
	}

	forgetQuotaBlocks(): void {
		this.operator.forgetQuotaBlocks()
	}

	report(): Promise<KeyReport[]> {
		return this.operator.report()
	}

	/** The upstream or network incident under way (this instance's verdict), if any. */
	incident(): Incident | null {
		return this.guard.incident
	}

	/** A re-probe of an incident failed (its time is shown). */
	incidentProbed(): void {
		this.guard.probed()
	}

	/** The keys with their state, secrets included: for the key tests only. */
	async records(): Promise<readonly KeyRecord[]> {
		return this.keys.fresh()
	}

	/**
	 * Keeps a key test with the key (every instance sees it) and learns from it as from a
	 * request: a success lifts the failing mark (and ends an incident), a 401/403 bans with
	 * AUTO_BAN or marks the key failing, unless nearly every key fails that way at once.
	 */
	async recordTest(id: string, test: KeyTestRecord): Promise<boolean> {
		const record = (await this.keys.fresh()).find((k) => k.id === id)
		if (!record) return false
		this.counts.add(id, test.ok)
		await this.keys.update(id, (k) => ({ ...k, lastTest: test }))
		await this.learning.learnFromTest(record, test)
		await this.keys.reload()
		return true
	}

	/** Removes the rate windows and counts of keys that left the pool; resolves to their ids. */
	pruneDeparted(): Promise<string[]> {
		return this.operator.pruneDeparted()
	}
}
