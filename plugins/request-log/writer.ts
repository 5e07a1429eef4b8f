/**
 * The request log's writer: one trace per chat request (handed to the chat core as its
 * recorder), rows written in batches off the request's path, retention applied as it goes.
 *
 * A finished trace is queued in memory (a push); every `flushMs` the queue becomes rows (price
 * looked up then) and one `appendLog` call. Retention runs after a write once `pruneEveryMs` has
 * passed or a tenth of `maxRows` was written since the last prune, so the log stays within
 * `days` and `maxRows` give or take one such step. If storage is slower than the traffic, the
 * queue is capped at `maxQueued` and the newest rows beyond it are dropped and counted: the
 * request log never holds requests back or grows memory without bound. A crash loses at most
 * the last `flushMs` of rows.
 */
import type { Logger } from '../../core/log.ts'
import type { LogQuery, LogRow, Storage } from '../../core/storage.ts'
import { DAY_MS } from '../../core/usage-day.ts'
import type { Principal } from '../api-auth/api-auth.ts'
import type { RequestRecorder, RequestTrace } from '../chat-core/call-trace.ts'
import type { ChatRequest } from '../chat-core/chat-request.ts'
import { toRow } from './row.ts'
import { Trace } from './trace.ts'

export interface RequestLogSettings {
	/** REQUEST_LOG_DAYS: rows older than this many days go. */
	days: number
	/** REQUEST_LOG_MAX_ROWS: beyond this many, the oldest go. */
	maxRows: number
}

export interface RequestLogDeps {
	storage: Storage
	log: Logger
	/** Wall clock (epoch ms): the time of each row. */
	now: () => number
	/** Monotonic clock (ms) for the stage timings. @default performance.now */
	clock?: () => number
}

export interface WriterOptions {
	/** @default 1000 */
	flushMs?: number
	/** @default 10_000 */
	pruneEveryMs?: number
	/** @default 20_000 */
	maxQueued?: number
}

export class RequestLog implements RequestRecorder {
	private queue: Trace[] = []
	private timer: ReturnType<typeof setInterval> | undefined
	private flushing: Promise<void> | undefined
	private lastPrune = 0
	private writtenSincePrune = 0
	/** Rows dropped because the queue was full or a write failed (since start). */
	dropped = 0
	/** Rows written (since start). */
	written = 0
	private readonly clock: () => number
	private readonly flushMs: number
	private readonly pruneEveryMs: number
	private readonly maxQueued: number
	private readonly instance = crypto.randomUUID().slice(0, 8)
	private sequence = 0
	private readonly sink = (trace: Trace) => {
		if (this.queue.length >= this.maxQueued) this.dropped++
		else this.queue.push(trace)
	}

	constructor(
		private readonly deps: RequestLogDeps,
		private readonly settings: RequestLogSettings,
		options: WriterOptions = {},
	) {
		this.clock = deps.clock ?? (() => performance.now())
		this.flushMs = options.flushMs ?? 1000
		this.pruneEveryMs = options.pruneEveryMs ?? 10_000
		this.maxQueued = options.maxQueued ?? 20_000
	}

	start(request: Request, principal: Principal, chat: ChatRequest, format?: string): RequestTrace {
		return new Trace(this.sink, this.clock, this.deps.now(), request, principal, chat, format)
	}

	/** Starts the background writer. */
	run(): void {
		if (this.timer) return
		this.timer = setInterval(() => void this.flush(), this.flushMs)
		;(this.timer as { unref?: () => void }).unref?.()
	}

	/** Stops the writer after writing what is queued. */
	async close(): Promise<void> {
		if (this.timer) clearInterval(this.timer)
		this.timer = undefined
		await this.flush()
	}

	/** Writes what is queued now (one at a time); never rejects. */
	async flush(): Promise<void> {
		while (this.flushing) await this.flushing
		if (!this.queue.length) return
		this.flushing = this.write().finally(() => {
			this.flushing = undefined
		})
		await this.flushing
	}

	private nextId(at: number): string {
		// Unique across instances, and ordered within one: time, instance, sequence.
		return `${at.toString(36)}-${this.instance}-${(this.sequence++).toString(36).padStart(6, '0')}`
	}

	private async write(): Promise<void> {
		const traces = this.queue
		this.queue = []
		let rows: LogRow[]
		try {
			rows = traces.map((trace) => toRow(trace, this.nextId(trace.at)))
			await this.deps.storage.appendLog(rows)
		} catch (err) {
			this.dropped += traces.length
			this.deps.log.warn({ err: String(err), rows: traces.length }, 'request log: could not write rows')
			return
		}
		this.written += rows.length
		this.writtenSincePrune += rows.length
		const now = this.deps.now()
		if (now - this.lastPrune >= this.pruneEveryMs || this.writtenSincePrune >= Math.max(100, this.settings.maxRows / 10)) await this.prune(now)
	}

	/** Applies REQUEST_LOG_DAYS and REQUEST_LOG_MAX_ROWS. */
	async prune(now = this.deps.now()): Promise<number> {
		this.lastPrune = now
		this.writtenSincePrune = 0
		try {
			return await this.deps.storage.pruneLog(now - this.settings.days * DAY_MS, this.settings.maxRows)
		} catch (err) {
			this.deps.log.warn({ err: String(err) }, 'request log: could not prune')
			return 0
		}
	}

	/** Rows newest first (the API and the pages read through this). */
	query(query: LogQuery): Promise<LogRow[]> {
		return this.deps.storage.queryLog(query)
	}

	get(id: string): Promise<LogRow | null> {
		return this.deps.storage.getLogRow(id)
	}
}
