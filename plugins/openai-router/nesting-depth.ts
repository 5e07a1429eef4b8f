/**
 * A bound on how deeply a request body may nest (issue 10, defect 8): `reasoning` or a tool's
 * `parameters` nested 100,000 levels overflowed the stack in JSON.stringify, a 500 that cost
 * quota. Checked once after parsing, iteratively (no recursion, so the check itself cannot
 * overflow), and refused with 400 naming the param. Pure.
 */
import { BadRequestError } from '../../core/errors.ts'

/** Deeper than any real request: JSON Schemas of tools rarely pass 20 levels. */
export const MAX_NESTING_DEPTH = 64

/** Throws 400 `nesting_too_deep` naming the top-level param (`tools[0]`, `reasoning`) that nests deeper than `max`. */
export function checkNestingDepth(body: Record<string, unknown>, max = MAX_NESTING_DEPTH): void {
	for (const [key, value] of Object.entries(body)) {
		if (value === null || typeof value !== 'object') continue
		if (Array.isArray(value)) {
			value.forEach((item, i) => {
				if (depthExceeds(item, max - 1)) throw tooDeep(`${key}[${i}]`, max)
			})
		} else if (depthExceeds(value, max - 1)) throw tooDeep(key, max)
	}
}

function tooDeep(param: string, max: number): BadRequestError {
	return new BadRequestError(`Invalid ${param}: nested deeper than ${max} levels.`, param, 'nesting_too_deep')
}

/** True when `root` has containers nested deeper than `limit` levels (root container = level 1). */
function depthExceeds(root: unknown, limit: number): boolean {
	if (root === null || typeof root !== 'object') return false
	const stack: [unknown, number][] = [[root, 1]]
	while (stack.length) {
		const [value, depth] = stack.pop() as [unknown, number]
		if (depth > limit) return true
		const children = Array.isArray(value) ? value : Object.values(value as Record<string, unknown>)
		for (const child of children) if (child !== null && typeof child === 'object') stack.push([child, depth + 1])
	}
	return false
}
