/**
 * The Prometheus text exposition format (version 0.0.4), small and dependency-free: counters,
 * gauges and histograms with labels. Each metric holds at most `maxSeries` label sets; later
 * ones are folded into one series whose labels all read "_other", so client-chosen values (model
 * names) cannot grow memory without bound.
 */

export type Labels = Record<string, string>

const escapeLabel = (value: string) => value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')
const escapeHelp = (value: string) => value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')

function labelText(labels: Labels, extra?: [string, string]): string {
	const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`)
	if (extra) pairs.push(`${extra[0]}="${escapeLabel(extra[1])}"`)
	return pairs.length ? `{${pairs.join(',')}}` : ''
}

function num(value: number): string {
	if (Number.isNaN(value)) return 'NaN'
	if (value === Number.POSITIVE_INFINITY) return '+Inf'
	if (value === Number.NEGATIVE_INFINITY) return '-Inf'
	return String(value)
}

abstract class Metric<S> {
	protected readonly series = new Map<string, { labels: Labels; value: S }>()
	abstract readonly type: 'counter' | 'gauge' | 'histogram'

	constructor(
		readonly name: string,
		readonly help: string,
		readonly labelNames: readonly string[],
		private readonly maxSeries = 1000,
	) {}

	protected abstract initial(): S

	/** Label values -> series, one map level per label: a lookup allocates nothing and builds no key. */
	private readonly tree = new Map<string, unknown>()

	/** The series of a label set (found by walking `tree`; this runs several times per request). */
	protected slot(labels: Labels): { labels: Labels; value: S } {
		const names = this.labelNames
		let node = this.tree
		for (let i = 0; i < names.length; i++) {
			const value = labels[names[i]!] ?? ''
			const next = node.get(value)
			if (next === undefined) return this.create(labels)
			if (i === names.length - 1) return next as { labels: Labels; value: S }
			node = next as Map<string, unknown>
		}
		// No labels at all: one series, kept under the empty key.
		return (this.series.get('') as { labels: Labels; value: S } | undefined) ?? this.create(labels)
	}

	/** A series not seen yet (or the folded "_other" one, once `maxSeries` is reached). */
	private create(labels: Labels): { labels: Labels; value: S } {
		const names = this.labelNames
		const ordered: Labels = {}
		for (const name of names) ordered[name] = this.series.size >= this.maxSeries ? '_other' : (labels[name] ?? '')
		const key = names.map((name) => ordered[name]).join('\u0001')
		const existing = this.series.get(key)
		if (existing) return existing
		const entry = { labels: ordered, value: this.initial() }
		this.series.set(key, entry)
		// Only real label sets enter the tree: folded ones keep going through create.
		if (names.length > 0 && !names.some((name) => ordered[name] === '_other' && labels[name] !== '_other')) {
			let node = this.tree
			for (let i = 0; i < names.length - 1; i++) {
				const value = ordered[names[i]!]!
				let next = node.get(value) as Map<string, unknown> | undefined
				if (next === undefined) {
					next = new Map()
					node.set(value, next)
				}
				node = next
			}
			node.set(ordered[names[names.length - 1]!]!, entry)
		}
		return entry
	}

	/** Forgets every series (gauges rebuilt at each scrape). */
	reset(): void {
		this.series.clear()
		this.tree.clear()
	}

	protected abstract lines(labels: Labels, value: S): string[]

	render(): string {
		const out = [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`]
		for (const { labels, value } of this.series.values()) out.push(...this.lines(labels, value))
		return out.join('\n')
	}
}

export class Counter extends Metric<{ n: number }> {
	readonly type = 'counter'
	protected initial() {
		return { n: 0 }
	}
	inc(labels: Labels = {}, by = 1): void {
		this.slot(labels).value.n += by
	}
	get(labels: Labels = {}): number {
		return this.slot(labels).value.n
	}
	protected lines(labels: Labels, value: { n: number }) {
		return [`${this.name}${labelText(labels)} ${num(value.n)}`]
	}
}

export class Gauge extends Metric<{ n: number }> {
	readonly type = 'gauge'
	protected initial() {
		return { n: 0 }
	}
	set(labels: Labels, value: number): void {
		this.slot(labels).value.n = value
	}
	inc(labels: Labels = {}, by = 1): void {
		this.slot(labels).value.n += by
	}
	protected lines(labels: Labels, value: { n: number }) {
		return [`${this.name}${labelText(labels)} ${num(value.n)}`]
	}
}

/** Seconds: the default buckets suit upstream calls from 5 ms to 5 minutes. */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]

export class Histogram extends Metric<{ counts: number[]; sum: number; count: number }> {
	readonly type = 'histogram'
	constructor(
		name: string,
		help: string,
		labelNames: readonly string[],
		readonly buckets: readonly number[] = LATENCY_BUCKETS,
		maxSeries?: number,
	) {
		super(name, help, labelNames, maxSeries)
	}
	protected initial() {
		return { counts: this.buckets.map(() => 0), sum: 0, count: 0 }
	}
	observe(labels: Labels, value: number): void {
		const s = this.slot(labels).value
		for (let i = 0; i < this.buckets.length; i++) if (value <= (this.buckets[i] as number)) s.counts[i] = (s.counts[i] ?? 0) + 1
		s.sum += value
		s.count++
	}
	protected lines(labels: Labels, value: { counts: number[]; sum: number; count: number }) {
		const out = this.buckets.map((le, i) => `${this.name}_bucket${labelText(labels, ['le', num(le)])} ${value.counts[i] ?? 0}`)
		out.push(`${this.name}_bucket${labelText(labels, ['le', '+Inf'])} ${value.count}`)
		out.push(`${this.name}_sum${labelText(labels)} ${num(value.sum)}`, `${this.name}_count${labelText(labels)} ${value.count}`)
		return out
	}
}

/** The whole exposition: every metric, one blank-free block each, ending in a newline. */
export function exposition(metrics: readonly { render(): string }[]): string {
	return `${metrics.map((m) => m.render()).join('\n')}\n`
}
