/**
 * The overview's and the performance page's figures, read from the request log and computed at
 * most once every FIGURES_TTL_MS per question, however many panels poll them (the admin API and
 * the panel share this one cache).
 */
import { dayStart } from '../../core/usage-day.ts'
import { type ModelPerformance, type Overview, overview, performance } from './stats.ts'
import type { RequestLog, RequestLogSettings } from './writer.ts'

/** A panel polls every few seconds per open tab: one read per question per this period. */
export const FIGURES_TTL_MS = 2000

export interface PerformanceFigures {
	window_ms: number
	from: number
	to: number
	truncated: boolean
	models: ModelPerformance[]
}

export class RequestFigures {
	private readonly figures = new Map<string, { at: number; value: Promise<unknown> }>()

	constructor(
		private readonly requests: Pick<RequestLog, 'query'>,
		private readonly settings: RequestLogSettings,
		private readonly now: () => number,
	) {}

	private cached<T>(key: string, compute: () => Promise<T>): Promise<T> {
		const now = this.now()
		const hit = this.figures.get(key)
		if (hit && now - hit.at < FIGURES_TTL_MS) return hit.value as Promise<T>
		const value = compute()
		this.figures.set(key, { at: now, value })
		value.catch(() => this.figures.delete(key))
		return value
	}

	private readAll(from: number) {
		return this.requests.query({ from, limit: this.settings.maxRows })
	}

	/** The longest window a question may cover: what retention keeps. */
	get maxWindowMs(): number {
		return this.settings.days * 86_400_000
	}

	/** Today's figures (the usage day, from 07:00 UTC) and the last hour per minute. */
	overview(): Promise<Overview> {
		return this.cached('overview', async () => {
			const now = this.now()
			const from = dayStart(now)
			const hourAgo = now - 3_600_000
			const [today, lastHour] = await Promise.all([this.readAll(from), from <= hourAgo ? Promise.resolve(null) : this.readAll(hourAgo)])
			const hour = lastHour ?? today.filter((row) => row.at >= hourAgo)
			return overview(today, hour, from, now, today.length >= this.settings.maxRows)
		})
	}

	/** Per model over the last `windowMs` (the caller checks it against maxWindowMs). */
	performance(windowMs: number): Promise<PerformanceFigures> {
		return this.cached(`performance ${windowMs}`, async () => {
			const now = this.now()
			const rows = await this.readAll(now - windowMs)
			return { window_ms: windowMs, from: now - windowMs, to: now, truncated: rows.length >= this.settings.maxRows, models: performance(rows) }
		})
	}
}
