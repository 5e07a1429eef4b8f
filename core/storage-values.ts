/**
 * The value checks every shared backend applies before a counter reaches the server: counters
 * are 64-bit integers there (HINCRBY, bigint, `$inc`), so a fraction or an unsafe integer is
 * refused here, the same way, rather than rounded differently by each server.
 */

/** Throws a RangeError unless `value` is a safe integer. */
export function checkInteger(what: string, value: number): void {
	if (!Number.isSafeInteger(value)) throw new RangeError(`${what} must be a safe integer, got ${value}`)
}

/** A reservation limit as the servers compare it: floored, within the safe integer range; NaN is refused. */
export function clampLimit(limit: number): number {
	if (Number.isNaN(limit)) throw new RangeError('limit must be a number')
	return Math.max(Number.MIN_SAFE_INTEGER, Math.min(Number.MAX_SAFE_INTEGER, Math.floor(limit)))
}
