/**
 * Logging: pino NDJSON to stdout and to LOG_FILE, plus a bounded in-memory ring that the
 * panel's live view reads (clearing the ring never loses the file).
 *
 * Secrets are removed where an entry is made: fields named like secrets are redacted by pino,
 * upstream keys are logged masked by the code that logs them, and as a last guard every line is
 * scrubbed of the exact secret strings registered here (keys, passwords) before it is written.
 */
import pino, { type Logger } from 'pino'
import type { LogLevel } from './config.ts'
import { RotatingLogFile } from './log-file.ts'
import { BufferedOutput } from './log-output.ts'
import { maskKey } from './secrets.ts'

export type { Logger }

const PINO_LEVEL: Record<LogLevel, pino.Level> = { debug: 'debug', info: 'info', warning: 'warn', error: 'error' }

/** Exact strings that must never be written; each is replaced by its mask. */
export class SecretRegistry {
	private readonly secrets = new Map<string, string>()
	/** Every secret in one alternation (longest first), rebuilt on change: one scan per line. */
	private pattern: RegExp | null = null

	add(secret: string | null | undefined, mask = maskKey(secret ?? '')): void {
		if (!secret || secret.length < 6 || this.secrets.get(secret) === mask) return
		this.secrets.set(secret, mask)
		const escaped = [...this.secrets.keys()].sort((a, b) => b.length - a.length).map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
		this.pattern = new RegExp(escaped.join('|'), 'g')
	}

	scrub(line: string): string {
		return this.pattern ? line.replace(this.pattern, (secret) => this.secrets.get(secret) ?? secret) : line
	}
}

/**
 * The last N log lines, newest last: a circular buffer, O(1) per line on the hot path. Every
 * line has a sequence number, so a reader can ask for the lines after the last one it saw.
 */
export class LogRing {
	private lines: (string | undefined)[]
	/** Lines written since start: the next line's sequence number. */
	private written = 0
	/** Sequence number of the oldest line still held after a clear. */
	private clearedAt = 0
	/**
	 * @param lineMax longest line held: a longer one (whatever slipped past the caps where entries
	 * are made) is kept as its level, time, message and first KiB, so the ring and the panel pages
	 * built from it stay small.
	 */
	constructor(
		readonly capacity = 2000,
		readonly lineMax = 16_384,
	) {
		this.lines = new Array(capacity)
	}

	write(line: string): void {
		const text = line.endsWith('\n') ? line.slice(0, -1) : line
		this.lines[this.written % this.capacity] = text.length > this.lineMax ? cutLine(text) : text
		this.written++
	}

	/** The sequence number the next line will get (a cursor that is past every line held). */
	get cursor(): number {
		return this.written
	}

	/** Lines with sequence number >= `from`, oldest first, parsed only here (when someone looks). */
	since(from: number): { seq: number; entry: Record<string, unknown> }[] {
		const out: { seq: number; entry: Record<string, unknown> }[] = []
		const first = Math.max(from, this.clearedAt, this.written - this.capacity, 0)
		for (let seq = first; seq < this.written; seq++) {
			const line = this.lines[seq % this.capacity]
			if (line === undefined) continue
			let entry: Record<string, unknown>
			try {
				entry = JSON.parse(line)
			} catch {
				entry = { msg: line }
			}
			out.push({ seq, entry })
		}
		return out
	}

	/** Oldest first. */
	entries(): Record<string, unknown>[] {
		return this.since(0).map((l) => l.entry)
	}

	clear(): void {
		this.lines = new Array(this.capacity)
		this.clearedAt = this.written
	}
}

/** An overlong NDJSON line as a short valid one: level, time and message when they come first (pino's order), and the line's start. */
function cutLine(line: string): string {
	const head = line.slice(0, 1024)
	const field = (name: string) => new RegExp(`"${name}":"((?:[^"\\\\]|\\\\.){0,200})"`).exec(head)?.[1]
	const decoded = (raw: string | undefined) => {
		if (raw === undefined) return undefined
		try {
			return JSON.parse(`"${raw}"`) as string
		} catch {
			return undefined
		}
	}
	return JSON.stringify({
		level: decoded(field('level')) ?? 'info',
		time: decoded(field('time')),
		msg: decoded(field('msg')) ?? '[log line cut]',
		line_cut: `${line.length} characters, first 1024 kept`,
		line_start: head,
	})
}

export interface LogOptions {
	level: LogLevel
	/** NDJSON file; null disables it (tests). */
	file: string | null
	/** Also write to stdout (default true). */
	stdout?: boolean
	secrets?: SecretRegistry
	ring?: LogRing
	/** Extra destination, e.g. a test capture. */
	extra?: { write(line: string): void }
	/** Size rotation of `file` (LOG_MAX_BYTES, LOG_BACKUP_COUNT). @default 20 MiB, 3 */
	rotation?: { maxBytes: number; backupCount: number }
}

export function createLogger(options: LogOptions): { log: Logger; secrets: SecretRegistry; ring: LogRing; flush: () => void } {
	const secrets = options.secrets ?? new SecretRegistry()
	const ring = options.ring ?? new LogRing()
	const level = PINO_LEVEL[options.level]
	// Every destination takes every level: the logger's own level is the one filter, so changing
	// it at run time (a stored LOG_LEVEL) reaches every destination.
	const streams: pino.StreamEntry[] = [{ level: 'trace', stream: ring }]
	// Lines are gathered up to 4 KiB per write instead of one write per line (log-output.ts,
	// log-file.ts); shutdown flushes what is left.
	const stdout = options.stdout !== false ? new BufferedOutput(1, (err) => console.error(`log output: ${err.message}`)) : null
	if (stdout) streams.push({ level: 'trace', stream: stdout })
	let file: RotatingLogFile | null = null
	if (options.file) {
		const rotation = options.rotation ?? { maxBytes: 20 * 1024 * 1024, backupCount: 3 }
		// The logger cannot log its own file's failure into that file: stderr, once per failure.
		file = new RotatingLogFile({ path: options.file, ...rotation, onError: (err) => console.error(`log file ${options.file}: ${err.message}`) })
		streams.push({ level: 'trace', stream: file })
	}
	if (options.extra) streams.push({ level: 'trace', stream: options.extra })
	const multi = pino.multistream(streams)
	const log = pino(
		{
			level,
			base: undefined,
			timestamp: pino.stdTimeFunctions.isoTime,
			formatters: { level: (label) => ({ level: label === 'warn' ? 'warning' : label }) },
			redact: {
				// No wildcards: they make fast-redact re-walk every entry; secrets are masked at the
				// source and scrubbed by `streamWrite` as the last guard anyway.
				paths: ['password', 'authorization', 'headers.authorization', 'headers.cookie', 'apiKey', 'secret'],
				censor: '[redacted]',
			},
			hooks: { streamWrite: (line) => secrets.scrub(line) },
		},
		multi,
	)
	/** Writes what is buffered and stops the timers (on shutdown). */
	const flush = () => {
		stdout?.flushSync()
		file?.close()
	}
	return { log, secrets, ring, flush }
}

/** A logger that writes nowhere, for unit tests that do not look at logs. */
export function silentLogger(): Logger {
	return pino({ level: 'silent' })
}
