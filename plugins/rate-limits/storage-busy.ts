/** A shared backend that cannot settle a hot document in time: 503 with Retry-After, never 500. */
import { StorageBusyError } from '../../core/errors.ts'

/** Rethrows a backend's "still conflicting" failure as StorageBusyError; anything else as it is. */
export function storageBusy(err: unknown): never {
	if (err instanceof Error && /still conflicting/.test(err.message)) {
		throw new StorageBusyError('The shared rate-limit state is too contended to answer now; retry shortly.', 1)
	}
	throw err
}
