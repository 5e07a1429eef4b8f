/** A shared backend that cannot settle a hot document in time: 503 with Retry-After, never 500. */
import { StorageBusyError } from '../../core/errors.ts'

/** Rethrows a backend's "still conflicting" failure as StorageBusyError; anything else as it is. */
export function storageBusy(err: unknown): never {
	if (err instanceof Error && /still conflicting/.test(err.message)) {
		throw new StorageBusyError('The shared rate-limit state is too contended to answer now; retry shortly.', 1)
	}
	throw err
}

/** How long a reservation may wait for shared state before the request gets an honest 503. */
export const RESERVE_TIMEOUT_MS = 10_000

interface Deadline {
	at: number
	reject: (err: unknown) => void
}

/**
 * Reservations waiting, swept by one shared timer: most reservations answer at once from a
 * lease, so a timer, a Promise.race and a finally per request would cost more than the wait
 * they guard. The sweep runs every quarter second while anything waits.
 */
const waiting = new Set<Deadline>()
let sweeper: ReturnType<typeof setInterval> | undefined

function sweep(): void {
	const now = Date.now()
	for (const deadline of waiting) {
		if (deadline.at > now) continue
		waiting.delete(deadline)
		deadline.reject(new StorageBusyError('The shared rate-limit state did not answer in time; retry shortly.', 1))
	}
	if (waiting.size === 0 && sweeper !== undefined) {
		clearInterval(sweeper)
		sweeper = undefined
	}
}

/**
 * `work`, or StorageBusyError when it has not answered within `ms` (give or take the sweep's
 * quarter second). What it does afterwards still lands (at worst a slot counted that nobody
 * uses until the window resets: less headroom, never more).
 */
export function withinTime<T>(work: Promise<T>, ms = RESERVE_TIMEOUT_MS): Promise<T> {
	return new Promise<T>((resolve, reject) => {
		const deadline: Deadline = { at: Date.now() + ms, reject }
		waiting.add(deadline)
		if (sweeper === undefined) {
			sweeper = setInterval(sweep, Math.min(250, ms))
			// Never keeps a process alive on its own (Bun, Node); Deno's numeric ids have no unref.
			;(sweeper as { unref?: () => void }).unref?.()
		}
		work.then(
			(value) => {
				waiting.delete(deadline)
				resolve(value)
			},
			(err: unknown) => {
				waiting.delete(deadline)
				reject(err)
			},
		)
	})
}
