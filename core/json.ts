/** Small checks for JSON read from outside (request bodies, upstream answers, stored files). */

/** A JSON object: not null, not an array. */
export function isObject(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A non-empty string, else null. */
export function str(value: unknown): string | null {
	return typeof value === 'string' && value !== '' ? value : null
}
