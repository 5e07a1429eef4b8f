/**
 * The log file, rotated by size: when the next batch of lines would take `log.txt` past
 * LOG_MAX_BYTES, it is renamed to `log.txt.1` (`.1` to `.2`, ..., the oldest beyond
 * LOG_BACKUP_COUNT removed) and a new `log.txt` is started. Lines are gathered and written
 * whole, and rotation happens only between writes, so no line is lost or split across files.
 *
 * Lines are gathered up to 4 KiB per write (a syscall per line cost ~5 % of CPU under load) and
 * a timer writes what waits every 250 ms; `flush` writes the rest at shutdown.
 */
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs'
import { Buffer } from 'node:buffer'
import { readFile } from 'node:fs/promises'
import { dirname } from 'node:path'

export interface LogFileOptions {
	path: string
	/** Rotate before the file would pass this size. 0 = never rotate. @default 20 MiB */
	maxBytes: number
	/** Rotated files kept (`.1` newest ... `.N` oldest). 0 = the full file is emptied instead. @default 3 */
	backupCount: number
	/** Reports a failed write or rotation once per failure (the logger cannot log into itself). */
	onError?: (err: Error) => void
}

const BATCH_BYTES = 4096
const FLUSH_MS = 250

export class RotatingLogFile {
	private fd: number
	private size: number
	private pending: string[] = []
	/** Characters waiting (bytes are counted once per write, not per line). */
	private pendingChars = 0
	private readonly timer: ReturnType<typeof setInterval>
	private closed = false

	constructor(private readonly options: LogFileOptions) {
		mkdirSync(dirname(options.path), { recursive: true })
		this.fd = openSync(options.path, 'a')
		this.size = fstatSync(this.fd).size
		this.timer = setInterval(() => this.flush(), FLUSH_MS)
		;(this.timer as { unref?: () => void }).unref?.()
	}

	/** pino calls this with one whole line (newline included). */
	write(line: string): void {
		if (this.closed) return
		this.pending.push(line)
		this.pendingChars += line.length
		if (this.pendingChars >= BATCH_BYTES) this.flush()
	}

	/** Writes every gathered line, rotating first when they would not fit. */
	flush(): void {
		if (this.pending.length === 0) return
		const chunk = this.pending.join('')
		this.pending = []
		this.pendingChars = 0
		try {
			const buffer = Buffer.from(chunk)
			const bytes = buffer.length
			if (this.options.maxBytes > 0 && this.size > 0 && this.size + bytes > this.options.maxBytes) this.rotate()
			let written = 0
			while (written < buffer.length) written += writeSync(this.fd, buffer, written)
			this.size += bytes
		} catch (err) {
			this.options.onError?.(err as Error)
		}
	}

	/** Shifts `.1`..`.N-1` up by one, the file to `.1`, and opens a new, empty file. */
	private rotate(): void {
		const { path, backupCount } = this.options
		closeSync(this.fd)
		if (backupCount > 0) {
			rmSync(`${path}.${backupCount}`, { force: true })
			for (let n = backupCount - 1; n >= 1; n--) if (existsSync(`${path}.${n}`)) renameSync(`${path}.${n}`, `${path}.${n + 1}`)
			renameSync(path, `${path}.1`)
			this.fd = openSync(path, 'a')
		} else {
			this.fd = openSync(path, 'w')
		}
		this.size = 0
	}

	/** pino's multistream flushes destinations through this name. */
	flushSync(): void {
		this.flush()
	}

	close(): void {
		if (this.closed) return
		this.flush()
		this.closed = true
		clearInterval(this.timer)
		closeSync(this.fd)
	}
}

/** The files of a rotated log, oldest first: `path.N` ... `path.1`, `path`. */
export function rotatedLogFiles(path: string): string[] {
	const files: string[] = []
	for (let n = 1; existsSync(`${path}.${n}`); n++) files.unshift(`${path}.${n}`)
	if (existsSync(path)) files.push(path)
	return files
}

/** Every line of a rotated log, oldest first (the panel's download), or null when there is no file. */
export async function readRotatedLog(path: string): Promise<string | null> {
	const files = rotatedLogFiles(path)
	if (files.length === 0) return null
	const parts = await Promise.all(files.map((f) => readFile(f, 'utf8').catch(() => '')))
	return parts.join('')
}

/** Synchronous variant for tests and tools. */
export function readRotatedLogSync(path: string): string {
	return rotatedLogFiles(path)
		.map((f) => readFileSync(f, 'utf8'))
		.join('')
}
