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

/**
 * `work`, or StorageBusyError when it has not answered within `ms`. What it does afterwards
 * still lands (at worst a slot counted that nobody uses until the window resets: less headroom,
 * never more).
 */
export function withinTime<T>(work: Promise<T>, ms = RESERVE_TIMEOUT_MS): Promise<T> {
	let timer: ReturnType<typeof setTimeout> | undefined
	const late = new Promise<never>((_, reject) => {
		timer = setTimeout(() => reject(new StorageBusyError('The shared rate-limit state did not answer in time; retry shortly.', 1)), ms)
	})
	return Promise.race([work, late]).finally(() => clearTimeout(timer))
}
