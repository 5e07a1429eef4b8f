/**
 * Group commit per key: at most one run in flight per key, and every item that arrives while it
 * runs joins the next run, which takes them all at once. Under load, k concurrent callers on one
 * hot key cost about two runs instead of k (and no retry loop that grows with k); alone, a
 * caller runs at once, with no added delay (unless `lingerMs` asks each run to wait that long
 * first, gathering more: for bookkeeping nobody waits on).
 */
export type Batched<I, O> = ((key: string, item: I) => Promise<O>) & {
	/** Resolves when every run started so far has ended. */
	idle(): Promise<void>
}

/** `run` resolves to one result per item, in order (or rejects, failing the whole batch). */
export function keyedBatcher<I, O>(run: (key: string, items: I[]) => Promise<O[]>, options: { lingerMs?: number } = {}): Batched<I, O> {
	interface Waiting {
		item: I
		resolve: (value: O) => void
		reject: (err: unknown) => void
	}
	const queued = new Map<string, Waiting[]>()
	const running = new Map<string, Promise<void>>()
	const linger = options.lingerMs ?? 0

	const drain = async (key: string): Promise<void> => {
		try {
			if (linger > 0) await new Promise((resolve) => setTimeout(resolve, linger))
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

	const batched = (key: string, item: I) =>
		new Promise<O>((resolve, reject) => {
			const list = queued.get(key)
			if (list) list.push({ item, resolve, reject })
			else queued.set(key, [{ item, resolve, reject }])
			if (!running.has(key)) running.set(key, drain(key))
		})
	return Object.assign(batched, {
		idle: async () => {
			while (running.size) await Promise.allSettled([...running.values()])
		},
	})
}
