/**
 * Keeps the gateway serving while a shared backend (Redis, PostgreSQL, MongoDB) restarts.
 *
 * While the backend answers, every call goes to it and its answers are mirrored into an
 * in-process `MemoryStorage` (last good reads and writes). When a call fails and a `ping` fails
 * too (so it is a lost connection, not a bad request), the wrapper reports `onDown` once and
 * answers from the mirror, journaling what changes: settings patches, the final state of each
 * document written, counter deltas (including granted reservations) and prefix deletes. It
 * pings every `retryMs`; when the backend answers, it replays the journal, then reports `onUp`
 * once and goes back to the backend.
 *
 * A backend that keeps its connection open but stops answering (a paused process, a network
 * partition) is down too: every backend call has a timeout (`timeoutMs`), and a call that
 * outlives it marks the backend down at once (no confirming ping, which would hang as well) and
 * is answered from the mirror. The probe and the replay have the same timeout.
 *
 * A backend that comes back empty (a Redis restarted without its data) is detected by a marker:
 * a random value stored as the setting `storage_marker` at first contact, checked on every return
 * and every `markerCheckMs` while up. When it is gone, the first instance to notice writes its
 * in-memory state back (settings, every document, the counters it knows, which already include
 * the journal) and reports `onEmpty`; other instances see the new marker and carry on.
 *
 * What this cannot give: while down, instances do not share state (each counts on its own and
 * its quotas start from the last values it saw); a document re-put after the outage overwrites
 * what another instance wrote meanwhile; a call that failed at the very moment the connection
 * dropped, or that timed out, may still reach the backend and is journaled too (at most the
 * calls in flight at that moment count twice);
 * the journal lives in memory, so a process that exits while the backend is down loses it.
 */
import { randomBytes } from 'node:crypto'
import {
	type Counters,
	cloneJson,
	DOC_KINDS,
	type Doc,
	type DocKind,
	type DocMutation,
	type LogQuery,
	type LogRow,
	MemoryStorage,
	type ReserveResult,
	type Storage,
	type StorageKind,
} from './storage.ts'

export interface ResilienceOptions {
	/** Called once when the backend stops answering (not once per failed call). */
	onDown: (err: Error) => void
	/** Called once when it answers again and the journal has been replayed. */
	onUp: () => void
	/** Clock of the in-memory fallback (counter expiry). @default Date.now */
	now?: () => number
	/** How often to probe a backend that is down. @default 1000 */
	retryMs?: number
	/** Longest wait for one backend call; past it the backend counts as down. @default 800 */
	timeoutMs?: number
	/** Called when the backend came back without its data and this instance wrote its memory back. */
	onEmpty?: (restored: RestoredCounts) => void
	/** How often to check, while up, that the backend still holds its data. @default 1000 */
	markerCheckMs?: number
}

export interface RestoredCounts {
	settings: number
	docs: number
	counterGroups: number
}

/** The setting whose disappearance means the backend lost its data. */
export const STORAGE_MARKER = 'storage_marker'

/** A backend call that did not answer in time: the backend is down, whatever the connection says. */
export class StorageTimeoutError extends Error {
	constructor(ms: number) {
		super(`no answer within ${ms} ms`)
		this.name = 'StorageTimeoutError'
	}
}

export type ResilientStorage = Storage & { readonly healthy: boolean; readonly pending: number }

/** The fallback, with setters for values learnt from the backend. */
class Mirror extends MemoryStorage {
	replaceSettings(all: Record<string, unknown>): void {
		this.settings = cloneJson(all)
	}

	replaceDocs(kind: DocKind, docs: Doc[]): void {
		this.docs[kind] = new Map(docs.map((doc) => [doc.id, cloneJson(doc)]))
	}

	setDoc(kind: DocKind, id: string, doc: Doc | null): void {
		if (doc) this.docs[kind].set(id, cloneJson(doc))
		else this.docs[kind].delete(id)
	}

	/** Sets known absolute values; `replace` when they are the whole group (from a read). */
	setCounters(name: string, values: Counters, replace: boolean, expireAt?: number): void {
		let group = this.counters.get(name)
		// A group the mirror thinks expired was started afresh by the backend.
		if (!group || (group.expireAt !== undefined && group.expireAt <= this.now())) this.counters.set(name, (group = { values: {} }))
		if (replace) group.values = { ...values }
		else Object.assign(group.values, values)
		if (expireAt !== undefined) group.expireAt = expireAt
	}

	/** Everything held, to write back into a backend that lost its data. */
	everything(): { settings: Record<string, unknown>; docs: { kind: DocKind; doc: Doc }[]; counters: { name: string; values: Counters; expireAt?: number }[] } {
		const docs = DOC_KINDS.flatMap((kind) => [...this.docs[kind].values()].map((doc) => ({ kind, doc: cloneJson(doc) })))
		const now = this.now()
		const counters = [...this.counters]
			.filter(([, group]) => group.expireAt === undefined || group.expireAt > now)
			.map(([name, group]) => ({ name, values: { ...group.values }, expireAt: group.expireAt }))
		return { settings: cloneJson(this.settings), docs, counters }
	}

	/** The backend holds the log again: the rows kept while down are not needed here. */
	forgetLog(): void {
		this.log.clear()
	}

	/** Forgets groups under `prefix` that a complete read of that prefix did not return. */
	keepOnly(prefix: string, names: Set<string>): void {
		for (const name of [...this.counters.keys()]) {
			if (name.startsWith(prefix) && !names.has(name)) this.counters.delete(name)
		}
	}
}

type PendingAdd = { deltas: Counters; expireAt?: number }

/** Request-log rows kept for the replay while down; older ones are dropped (the log is bookkeeping, not a change someone asked for). */
const MAX_PENDING_LOG_ROWS = 10_000

class Resilient implements ResilientStorage {
	private up = true
	private lastError: Error | undefined
	private probeTimer: ReturnType<typeof setInterval> | undefined
	private probing: Promise<void> | undefined
	private closed = false
	private readonly mirror: Mirror
	private readonly retryMs: number
	private readonly timeoutMs: number
	/** The marker this instance last saw in the backend (undefined before the first contact). */
	private marker: string | undefined
	private markerCheck: Promise<void> | undefined
	/** A write-back that has not completed yet (it is retried on the next check). */
	private writeBackDue = false
	private readonly markerTimer: ReturnType<typeof setInterval>

	// The journal of changes made while down.
	private pendingSettings: Record<string, unknown> = {}
	/** First-start values decided while down: written only where still absent when the backend returns. */
	private pendingInits: Record<string, unknown> = {}
	private readonly pendingDocs = new Map<string, { kind: DocKind; id: string; doc: Doc | null }>()
	private readonly pendingDeletes: string[] = []
	private readonly pendingAdds = new Map<string, PendingAdd>()
	private pendingLog: LogRow[] = []
	/** The add being replayed: a prefix delete made meanwhile cancels putting it back on failure. */
	private replayingAdd: { name: string; cancelled: boolean } | undefined

	constructor(
		private readonly backend: Storage,
		private readonly options: ResilienceOptions,
	) {
		this.mirror = new Mirror(options.now ?? Date.now)
		this.retryMs = options.retryMs ?? 1000
		this.timeoutMs = options.timeoutMs ?? 800
		void this.checkMarker()
		this.markerTimer = setInterval(() => void this.checkMarker(), options.markerCheckMs ?? 1000)
		;(this.markerTimer as { unref?: () => void }).unref?.()
	}

	/** One check at a time; a failure is left to the calls and the probe to notice. */
	private checkMarker(): Promise<void> {
		if (!this.up || this.closed) return Promise.resolve()
		this.markerCheck ??= this.verifyMarker()
			.catch(() => {})
			.finally(() => {
				this.markerCheck = undefined
			})
		return this.markerCheck
	}

	/**
	 * Compares the backend's marker with the one last seen. First contact: adopt it, or set one
	 * (and learn every document, so a later write-back has them). Gone: the backend lost its data.
	 */
	private async verifyMarker(): Promise<void> {
		if (this.writeBackDue) return this.writeBack()
		const stored = (await this.timed(this.backend.loadSettings()))[STORAGE_MARKER]
		if (typeof stored === 'string' && stored === this.marker) return
		if (typeof stored === 'string' && this.marker !== undefined) {
			// Another instance found the backend empty, wrote its memory back and a new marker.
			this.marker = stored
			return
		}
		const fresh = randomBytes(12).toString('base64url')
		const landed = (await this.timed(this.backend.initSettings({ [STORAGE_MARKER]: fresh })))[STORAGE_MARKER]
		const firstContact = this.marker === undefined
		this.marker = typeof landed === 'string' ? landed : fresh
		if (firstContact) {
			for (const kind of DOC_KINDS) this.mirror.replaceDocs(kind, await this.timed(this.backend.listDocs(kind)))
			return
		}
		// Lost: the instance whose marker landed writes back what it holds; the others carry on.
		if (landed === fresh) {
			this.writeBackDue = true
			await this.writeBack()
		}
	}

	/** The mirror into an empty backend. The mirror already holds the journal's changes: the journal is dropped. */
	private async writeBack(): Promise<void> {
		const state = this.mirror.everything()
		this.pendingSettings = {}
		this.pendingInits = {}
		this.pendingDocs.clear()
		this.pendingDeletes.length = 0
		this.pendingAdds.clear()
		const { [STORAGE_MARKER]: _marker, ...settings } = state.settings
		if (Object.keys(settings).length) await this.timed(this.backend.saveSettings(settings))
		for (const { kind, doc } of state.docs) await this.timed(this.backend.putDoc(kind, doc))
		for (const { name, values, expireAt } of state.counters) await this.timed(this.backend.addCounters(name, values, expireAt))
		this.writeBackDue = false
		this.options.onEmpty?.({ settings: Object.keys(settings).length, docs: state.docs.length, counterGroups: state.counters.length })
	}

	/** The backend's answer, or a StorageTimeoutError once `timeoutMs` has passed (a late answer is dropped). */
	private timed<T>(op: Promise<T>): Promise<T> {
		let timer: ReturnType<typeof setTimeout> | undefined
		const expired = new Promise<never>((_, reject) => {
			timer = setTimeout(() => reject(new StorageTimeoutError(this.timeoutMs)), this.timeoutMs)
		})
		return Promise.race([op, expired]).finally(() => clearTimeout(timer))
	}

	get kind(): StorageKind {
		return this.backend.kind
	}

	get where(): string {
		return this.backend.where
	}

	get healthy(): boolean {
		return this.up
	}

	/** Changes made while down that wait to be replayed (the panel's storage page shows it). */
	get pending(): number {
		return Object.keys(this.pendingSettings).length + this.pendingDocs.size + this.pendingDeletes.length + this.pendingAdds.size
	}

	async ping(): Promise<void> {
		if (!this.up) throw new Error(`${this.backend.kind} storage is unreachable (${this.lastError?.message ?? 'no answer'}); serving from memory`)
		try {
			await this.timed(this.backend.ping())
		} catch (err) {
			this.markDown(err)
			throw err
		}
	}

	async close(): Promise<void> {
		this.closed = true
		this.stopProbe()
		clearInterval(this.markerTimer)
		await this.markerCheck
		// A last chance for the journal: wait for a running probe, then try once more.
		await this.probing
		if (!this.up) await this.probe()
		await this.backend.close()
	}

	/**
	 * Runs `op` on the backend while it is up; on a lost connection, runs `fallback` instead.
	 * An error while `ping` still succeeds is the backend's answer (bad input, a throwing
	 * `mutate`), so it is passed on.
	 */
	private async call<T>(op: () => Promise<T>, onOk: (value: T) => void, fallback: () => Promise<T>): Promise<T> {
		if (!this.up) return fallback()
		let value: T
		try {
			value = await this.timed(op())
		} catch (err) {
			if (!(err instanceof StorageTimeoutError) && this.up && (await this.backendAnswers())) throw err
			this.markDown(err)
			return fallback()
		}
		onOk(value)
		return value
	}

	private async backendAnswers(): Promise<boolean> {
		try {
			await this.timed(this.backend.ping())
			return true
		} catch {
			return false
		}
	}

	private markDown(err: unknown): void {
		this.lastError = err instanceof Error ? err : new Error(String(err))
		if (!this.up) return
		this.up = false
		this.options.onDown(this.lastError)
		if (this.closed) return
		this.probeTimer = setInterval(() => void this.probe(), this.retryMs)
		;(this.probeTimer as { unref?: () => void }).unref?.()
	}

	private stopProbe(): void {
		if (this.probeTimer) clearInterval(this.probeTimer)
		this.probeTimer = undefined
	}

	/** Pings; when the backend answers, replays the journal and goes back up. One at a time. */
	private probe(): Promise<void> {
		if (this.up) return Promise.resolve()
		if (this.probing) return this.probing
		const run = (async () => {
			try {
				await this.timed(this.backend.ping())
				// A backend that restarted empty gets the whole memory back (journal included) first.
				await this.verifyMarker()
				await this.replay()
			} catch (err) {
				this.lastError = err instanceof Error ? err : new Error(String(err))
			}
		})()
		this.probing = run
		void run.then(() => {
			if (this.probing === run) this.probing = undefined
		})
		return run
	}

	/**
	 * Replays one journal entry at a time, re-checking the journal after each (calls keep
	 * landing in it while this runs). The switch back to the backend happens in the same
	 * synchronous step as the check that the journal is empty, so nothing slips between.
	 */
	private async replay(): Promise<void> {
		for (;;) {
			if (Object.keys(this.pendingInits).length) {
				const fields = this.pendingInits
				this.pendingInits = {}
				try {
					// Another instance may have decided meanwhile: what landed there wins here too.
					this.mirror.replaceSettings({ ...(await this.mirror.loadSettings()), ...(await this.timed(this.backend.initSettings(fields))) })
				} catch (err) {
					this.pendingInits = { ...fields, ...this.pendingInits }
					throw err
				}
				continue
			}
			if (Object.keys(this.pendingSettings).length) {
				const patch = this.pendingSettings
				this.pendingSettings = {}
				try {
					await this.timed(this.backend.saveSettings(patch))
				} catch (err) {
					this.pendingSettings = { ...patch, ...this.pendingSettings }
					throw err
				}
				continue
			}
			const docEntry = this.pendingDocs.entries().next()
			if (!docEntry.done) {
				const [key, entry] = docEntry.value
				this.pendingDocs.delete(key)
				try {
					if (entry.doc) await this.timed(this.backend.putDoc(entry.kind, entry.doc))
					else await this.timed(this.backend.deleteDoc(entry.kind, entry.id))
				} catch (err) {
					if (!this.pendingDocs.has(key)) this.pendingDocs.set(key, entry)
					throw err
				}
				continue
			}
			// Prefix deletes before adds: a delete already dropped the adds journaled before it.
			const prefix = this.pendingDeletes[0]
			if (prefix !== undefined) {
				await this.timed(this.backend.deleteCounters(prefix))
				this.pendingDeletes.shift()
				continue
			}
			const addEntry = this.pendingAdds.entries().next()
			if (!addEntry.done) {
				const [name, entry] = addEntry.value
				this.pendingAdds.delete(name)
				const replaying = (this.replayingAdd = { name, cancelled: false })
				try {
					await this.timed(this.backend.addCounters(name, entry.deltas, entry.expireAt))
				} catch (err) {
					if (!replaying.cancelled) this.journalAdd(name, entry.deltas, entry.expireAt)
					throw err
				} finally {
					this.replayingAdd = undefined
				}
				continue
			}
			if (this.pendingLog.length) {
				const rows = this.pendingLog
				this.pendingLog = []
				try {
					await this.backend.appendLog(rows)
				} catch (err) {
					this.pendingLog = [...rows, ...this.pendingLog].slice(-MAX_PENDING_LOG_ROWS)
					throw err
				}
				continue
			}
			this.mirror.forgetLog()
			this.up = true
			this.stopProbe()
			this.options.onUp()
			return
		}
	}

	private journalAdd(name: string, deltas: Counters, expireAt?: number): void {
		const entry = this.pendingAdds.get(name) ?? { deltas: {} }
		for (const [field, delta] of Object.entries(deltas)) entry.deltas[field] = (entry.deltas[field] ?? 0) + delta
		if (expireAt !== undefined) entry.expireAt = expireAt
		this.pendingAdds.set(name, entry)
	}

	private journalDoc(kind: DocKind, id: string, doc: Doc | null): void {
		this.pendingDocs.set(`${kind}\n${id}`, { kind, id, doc: doc && cloneJson(doc) })
	}

	async loadSettings(): Promise<Record<string, unknown>> {
		const all = await this.call(
			() => this.backend.loadSettings(),
			(all) => this.mirror.replaceSettings(all),
			() => this.mirror.loadSettings(),
		)
		// The marker is this wrapper's own bookkeeping, no setting of anyone's.
		delete all[STORAGE_MARKER]
		return all
	}

	saveSettings(patch: Record<string, unknown>): Promise<void> {
		return this.call(
			() => this.backend.saveSettings(patch),
			() => void this.mirror.saveSettings(patch),
			async () => {
				await this.mirror.saveSettings(patch)
				for (const [field, value] of Object.entries(patch)) this.pendingSettings[field] = value === undefined ? null : cloneJson(value)
			},
		)
	}

	initSettings(fields: Record<string, unknown>): Promise<Record<string, unknown>> {
		return this.call(
			() => this.backend.initSettings(fields),
			(landed) => void this.mirror.saveSettings(landed),
			async () => {
				// Serving from memory: the mirror decides now; the replay writes only what is still absent then.
				const landed = await this.mirror.initSettings(fields)
				for (const [field, value] of Object.entries(landed)) if (this.pendingSettings[field] === undefined) this.pendingInits[field] = cloneJson(value)
				return landed
			},
		)
	}

	listDocs<T extends Doc>(kind: DocKind): Promise<T[]> {
		return this.call(
			() => this.backend.listDocs<T>(kind),
			(docs) => this.mirror.replaceDocs(kind, docs),
			() => this.mirror.listDocs<T>(kind),
		)
	}

	getDoc<T extends Doc>(kind: DocKind, id: string): Promise<T | null> {
		return this.call(
			() => this.backend.getDoc<T>(kind, id),
			(doc) => this.mirror.setDoc(kind, id, doc),
			() => this.mirror.getDoc<T>(kind, id),
		)
	}

	putDoc<T extends Doc>(kind: DocKind, doc: T): Promise<void> {
		return this.call(
			() => this.backend.putDoc(kind, doc),
			() => this.mirror.setDoc(kind, doc.id, doc),
			async () => {
				await this.mirror.putDoc(kind, doc)
				this.journalDoc(kind, doc.id, doc)
			},
		)
	}

	deleteDoc(kind: DocKind, id: string): Promise<boolean> {
		return this.call(
			() => this.backend.deleteDoc(kind, id),
			() => this.mirror.setDoc(kind, id, null),
			async () => {
				const removed = await this.mirror.deleteDoc(kind, id)
				this.journalDoc(kind, id, null)
				return removed
			},
		)
	}

	updateDoc<T extends Doc>(kind: DocKind, id: string, mutate: DocMutation<T>): Promise<T | null> {
		return this.call(
			() => this.backend.updateDoc(kind, id, mutate),
			(doc) => this.mirror.setDoc(kind, id, doc),
			async () => {
				let changed = false
				const doc = await this.mirror.updateDoc<T>(kind, id, (current) => {
					const next = mutate(current)
					changed = next !== undefined
					return next
				})
				if (changed) this.journalDoc(kind, id, doc)
				return doc
			},
		)
	}

	addCounters(name: string, deltas: Counters, expireAt?: number): Promise<Counters> {
		return this.call(
			() => this.backend.addCounters(name, deltas, expireAt),
			(values) => this.mirror.setCounters(name, values, false, expireAt),
			async () => {
				const values = await this.mirror.addCounters(name, deltas, expireAt)
				this.journalAdd(name, deltas, expireAt)
				return values
			},
		)
	}

	readCounters(prefix: string): Promise<Record<string, Counters>> {
		return this.call(
			() => this.backend.readCounters(prefix),
			(groups) => {
				for (const [name, values] of Object.entries(groups)) this.mirror.setCounters(name, values, true)
				this.mirror.keepOnly(prefix, new Set(Object.keys(groups)))
			},
			() => this.mirror.readCounters(prefix),
		)
	}

	deleteCounters(prefix: string): Promise<number> {
		return this.call(
			() => this.backend.deleteCounters(prefix),
			() => void this.mirror.deleteCounters(prefix),
			async () => {
				const removed = await this.mirror.deleteCounters(prefix)
				for (const name of [...this.pendingAdds.keys()]) if (name.startsWith(prefix)) this.pendingAdds.delete(name)
				if (this.replayingAdd?.name.startsWith(prefix)) this.replayingAdd.cancelled = true
				this.pendingDeletes.push(prefix)
				return removed
			},
		)
	}

	reserveCounter(name: string, field: string, limit: number, by = 1, expireAt?: number): Promise<ReserveResult> {
		return this.call(
			() => this.backend.reserveCounter(name, field, limit, by, expireAt),
			(result) => this.mirror.setCounters(name, { [field]: result.value }, false, result.granted ? expireAt : undefined),
			async () => {
				// Checked against the last values seen plus what was counted while down.
				const result = await this.mirror.reserveCounter(name, field, limit, by, expireAt)
				if (result.granted) this.journalAdd(name, { [field]: by }, expireAt)
				return result
			},
		)
	}

	appendLog(rows: LogRow[]): Promise<void> {
		return this.call(
			() => this.backend.appendLog(rows),
			() => {},
			async () => {
				await this.mirror.appendLog(rows)
				this.pendingLog.push(...rows)
				if (this.pendingLog.length > MAX_PENDING_LOG_ROWS) this.pendingLog = this.pendingLog.slice(-MAX_PENDING_LOG_ROWS)
			},
		)
	}

	queryLog(query: LogQuery): Promise<LogRow[]> {
		// While down only the rows written meanwhile are at hand.
		return this.call(
			() => this.backend.queryLog(query),
			() => {},
			() => this.mirror.queryLog(query),
		)
	}

	getLogRow(id: string): Promise<LogRow | null> {
		return this.call(
			() => this.backend.getLogRow(id),
			() => {},
			() => this.mirror.getLogRow(id),
		)
	}

	pruneLog(before: number, keep: number): Promise<number> {
		return this.call(
			() => this.backend.pruneLog(before, keep),
			() => {},
			async () => {
				const removed = await this.mirror.pruneLog(before, keep)
				const live = new Set((await this.mirror.queryLog({ limit: MAX_PENDING_LOG_ROWS })).map((row) => row.id))
				this.pendingLog = this.pendingLog.filter((row) => live.has(row.id))
				return removed
			},
		)
	}
}

export function withResilience(backend: Storage, options: ResilienceOptions): ResilientStorage {
	return new Resilient(backend, options)
}
