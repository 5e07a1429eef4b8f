/**
 * Key tests: one cheap upstream call per key, kept with the key and learned from (key-pool's
 * recordTest), for the admin routes, the scheduled re-validation of banned and failing keys,
 * and the re-probe while an incident lasts.
 */
import type { Logger } from '../../core/log.ts'
import { maskKey } from '../../core/secrets.ts'
import type { KeyTester } from '../assembly-client/key-test.ts'
import type { KeyPool, KeyRecord } from '../rate-limits/key-pool.ts'

export interface KeyTestsDeps {
	pool: KeyPool
	tester: KeyTester
	log: Logger
	now: () => number
}

/** One test as the API answers it. */
export interface TestAnswer {
	id: string
	key: string
	ok: boolean
	status: number | null
	latency_ms: number
	model: string
	text: string
	at: string
}

/** Tests in flight at once when many keys are tested: enough to be quick, few enough to spare the upstream. */
const PARALLEL = 4

export class KeyTests {
	constructor(private readonly deps: KeyTestsDeps) {}

	/** Tests one key (null: no such key), keeps the result, and restores a banned key that answers when `restore`. */
	async test(id: string, model?: string, restore = false): Promise<TestAnswer | null> {
		const record = (await this.deps.pool.records()).find((k) => k.id === id)
		return record ? this.run(record, model, restore) : null
	}

	/** Tests these keys (absent: every key), PARALLEL at a time; unknown ids answer null. */
	async testMany(ids: readonly string[] | undefined, model?: string): Promise<{ id: string; result: TestAnswer | null }[]> {
		const records = await this.deps.pool.records()
		const wanted = ids ? [...new Set(ids)] : records.map((k) => k.id)
		const out: { id: string; result: TestAnswer | null }[] = wanted.map((id) => ({ id, result: null }))
		let next = 0
		const worker = async () => {
			for (let i = next++; i < wanted.length; i = next++) {
				const record = records.find((k) => k.id === wanted[i])
				if (record) (out[i] as { result: TestAnswer | null }).result = await this.run(record, model, false)
			}
		}
		await Promise.all(Array.from({ length: Math.min(PARALLEL, wanted.length) }, worker))
		return out
	}

	private async run(record: KeyRecord, model: string | undefined, restore: boolean): Promise<TestAnswer> {
		const masked = maskKey(record.key)
		const result = await this.deps.tester.test(record.key, masked, model)
		const at = this.deps.now()
		await this.deps.pool.recordTest(record.id, { at, ok: result.ok, status: result.status, ms: result.ms, model: result.model, text: result.text })
		if (restore && result.ok && record.status === 'banned') {
			await this.deps.pool.setStatus(record.id, 'active')
			this.deps.log.warn({ key: masked, model: result.model, was: record.reason }, 're-validation: a banned key answers again; restored')
		}
		return {
			id: record.id,
			key: masked,
			ok: result.ok,
			status: result.status,
			latency_ms: result.ms,
			model: result.model,
			text: result.text,
			at: new Date(at).toISOString(),
		}
	}

	/** Re-tests every banned and failing key with the cheapest model; a key that answers is restored. Resolves to how many were restored. */
	async revalidate(): Promise<number> {
		const due = (await this.deps.pool.records()).filter((k) => k.status === 'banned' || (k.status === 'active' && k.failing))
		let restored = 0
		for (const record of due) {
			const answer = await this.run(record, undefined, true)
			if (answer.ok) restored++
			if (!answer.ok) this.deps.log.info({ key: answer.key, status: answer.status }, 're-validation: key still refused')
		}
		return restored
	}

	/** While an incident lasts: one test on one key; its success ends the incident. Resolves whether it answered. */
	async reprobe(): Promise<boolean> {
		if (!this.deps.pool.incident()) return false
		const records = (await this.deps.pool.records()).filter((k) => k.status !== 'disabled')
		// A different key each time, so one dead key cannot keep an incident alive.
		const record = records[Math.floor(this.deps.now() / 1000) % Math.max(1, records.length)]
		if (!record) return false
		const answer = await this.run(record, undefined, false)
		if (!answer.ok) this.deps.pool.incidentProbed()
		return answer.ok
	}
}
