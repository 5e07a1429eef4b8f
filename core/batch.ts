/**
 * Group commit per key: at most one run in flight per key, and every item that arrives while it
 * runs joins the next run, which takes them all at once. Under load, k concurrent callers on one
 * hot key cost about two runs instead of k (and no retry loop that grows with k); alone, a
 * caller runs at once, with no added delay.
 */
export type Batched<I, O> = (key: string, item: I) => Promise<O>

/** `run` resolves to one result per item, in order (or rejects, failing the whole batch). */
export function keyedBatcher<I, O>(run: (key: string, items: I[]) => Promise<O[]>): Batched<I, O> {
	interface Waiting {
		item: I
		resolve: (value: O) => void
		reject: (err: unknown) => void
	}
	const queued = new Map<string, Waiting[]>()
	const running = new Set<string>()

	const drain = async (key: string): Promise<void> => {
		running.add(key)
		try {
			for (let batch = queued.get(key); batch?.length; batch = queued.get(key)) {
				queued.delete(key)
				try {
					const results = await run(
						key,
						batch.map((w) => w.item),
					)
					batch.forEach((w, i) => {
						if (i < results.length) w.resolve(results[i] as O)
						else w.reject(new Error(`batch for ${key} answered ${results.length} of ${batch.length} items`))
					})
				} catch (err) {
					for (const w of batch) w.reject(err)
				}
			}
		} finally {
			running.delete(key)
		}
	}

	return (key, item) =>
		new Promise<O>((resolve, reject) => {
			const list = queued.get(key)
			if (list) list.push({ item, resolve, reject })
			else queued.set(key, [{ item, resolve, reject }])
			if (!running.has(key)) void drain(key)
		})
}
