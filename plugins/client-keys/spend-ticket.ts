/**
 * The settlement of one admitted request against its client key's budget and tokens per minute.
 * Admission reserved an estimate (nano-USD in the budget period's group, tokens in the minute's
 * group); each upstream answer of the request settles its real cost and tokens: the first one
 * replaces the estimate (adds real minus estimate), later ones (anti-truncation continuations)
 * add in full. A request that got no answer gives the estimate back (`close`).
 *
 * Writes that a budget or a rate limit depends on go straight to storage and are tracked, so the
 * answer can wait for them (`settled`); the display-only spend of today is batched.
 */
import type { Logger } from '../../core/log.ts'
import type { Counters, Storage } from '../../core/storage.ts'
import type { SpendTicket } from '../api-auth/api-auth.ts'

export interface CounterGroup {
	name: string
	expireAt?: number
}

export interface TicketPlan {
	/** The budget period's group (field `nusd`), where the cost estimate was reserved. */
	budget: CounterGroup | null
	estimateNusd: number
	/** The minute's group (field `tokens`), where the token estimate was reserved. */
	rate: CounterGroup | null
	estimateTokens: number
	/** Spend groups that only show spend (today's, when the budget is not daily): batched. */
	display: CounterGroup[]
}

export interface TicketDeps {
	storage: Storage
	log: Logger
	/** Adds deltas in the background, merged with others for a short while. */
	later(name: string, deltas: Counters, expireAt?: number): void
}

export class Ticket implements SpendTicket {
	private reserved = true
	private readonly pending = new Set<Promise<void>>()
	readonly binding: boolean

	constructor(
		private readonly deps: TicketDeps,
		private readonly plan: TicketPlan,
	) {
		this.binding = plan.budget !== null || plan.rate !== null
	}

	settle(actual: { tokens: number; nusd: number }): void {
		const first = this.reserved
		this.reserved = false
		const nusd = Math.max(0, Math.round(actual.nusd))
		const tokens = Math.max(0, Math.round(actual.tokens))
		const { budget, rate, display } = this.plan
		if (budget) this.write(budget, { nusd: nusd - (first ? this.plan.estimateNusd : 0) })
		if (rate) this.write(rate, { tokens: tokens - (first ? this.plan.estimateTokens : 0) })
		if (nusd > 0) for (const group of display) this.deps.later(group.name, { nusd }, group.expireAt)
	}

	/** Gives the estimate back when nothing was settled. */
	async close(): Promise<void> {
		if (!this.reserved) return this.settled()
		this.reserved = false
		const { budget, rate } = this.plan
		if (budget && this.plan.estimateNusd) this.write(budget, { nusd: -this.plan.estimateNusd })
		if (rate && this.plan.estimateTokens) this.write(rate, { tokens: -this.plan.estimateTokens })
		return this.settled()
	}

	async settled(): Promise<void> {
		while (this.pending.size) await Promise.all(this.pending)
	}

	private write(group: CounterGroup, deltas: Counters): void {
		const delta = Object.values(deltas)[0]
		if (!delta) return
		const done = this.deps.storage
			.addCounters(group.name, deltas, group.expireAt)
			.then(() => {})
			.catch((err) => this.deps.log.warn({ counter: group.name, err: String(err) }, 'client spend could not be settled'))
			.finally(() => this.pending.delete(done))
		this.pending.add(done)
	}
}
