/**
 * The timers of key health: the re-probe while an incident lasts (checked every second, run
 * every `probeMs`), and re-validation every `revalidateMs` (0 = off). Settings are read at each
 * tick, so a stored change applies without a restart. One run of each at a time.
 */
import type { Logger } from '../../core/log.ts'
import type { KeyTests } from './key-tests.ts'

export interface ScheduleOptions {
	revalidateMs: () => number
	probeMs: () => number
}

const TICK_MS = 1000

export class HealthSchedule {
	private timer: ReturnType<typeof setInterval> | undefined
	private lastProbe = 0
	private lastRevalidation = Date.now()
	private probing = false
	private revalidating: Promise<unknown> | null = null

	constructor(
		private readonly tests: KeyTests,
		private readonly log: Logger,
		private readonly options: ScheduleOptions,
	) {}

	start(): void {
		this.timer = setInterval(() => this.tick(), TICK_MS)
		;(this.timer as { unref?: () => void }).unref?.()
	}

	private tick(): void {
		// Real time: these are intervals between runs, not times shown to anyone.
		const now = Date.now()
		if (!this.probing && now - this.lastProbe >= this.options.probeMs()) {
			this.probing = true
			this.lastProbe = now
			void this.tests
				.reprobe()
				.catch((err) => this.log.warn({ err: String(err) }, 'incident re-probe failed'))
				.finally(() => {
					this.probing = false
				})
		}
		const every = this.options.revalidateMs()
		if (every > 0 && !this.revalidating && now - this.lastRevalidation >= every) {
			this.lastRevalidation = now
			this.revalidating = this.tests
				.revalidate()
				.then((restored) => restored && this.log.info({ restored }, 're-validation restored keys'))
				.catch((err) => this.log.warn({ err: String(err) }, 're-validation failed'))
				.finally(() => {
					this.revalidating = null
				})
		}
	}

	async stop(): Promise<void> {
		clearInterval(this.timer)
		await this.revalidating
	}
}
