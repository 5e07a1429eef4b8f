/**
 * A bound on how deeply a request body may nest: `reasoning` or a tool's
 * `parameters` nested 100,000 levels overflowed the stack in JSON.stringify, a 500 that cost
 * quota. Checked once after parsing and refused with 400 naming the param. The walk recurses
 * at most `max` levels (it stops there), so the check itself cannot overflow. Pure.
 */
import { BadRequestError } from '../../core/errors.ts'

/** Deeper than any real request: JSON Schemas of tools rarely pass 20 levels. */
export const MAX_NESTING_DEPTH = 64

/** Throws 400 `nesting_too_deep` naming the top-level param (`tools[0]`, `reasoning`) that nests deeper than `max`. */
export function checkNestingDepth(body: Record<string, unknown>, max = MAX_NESTING_DEPTH): void {
	for (const key in body) {
		const value = body[key]
		if (value === null || typeof value !== 'object') continue
		if (Array.isArray(value)) {
			for (let i = 0; i < value.length; i++) if (tooDeep(value[i], max - 1)) throw refusal(`${key}[${i}]`, max)
		} else if (tooDeep(value, max - 1)) throw refusal(key, max)
	}
}

function refusal(param: string, max: number): BadRequestError {
	return new BadRequestError(`Invalid ${param}: nested deeper than ${max} levels.`, param, 'nesting_too_deep')
}

/** True when `value` holds containers nested more than `left` levels deep (itself included). */
function tooDeep(value: unknown, left: number): boolean {
	if (value === null || typeof value !== 'object') return false
	if (left <= 0) return true
	if (Array.isArray(value)) {
		for (let i = 0; i < value.length; i++) if (tooDeep(value[i], left - 1)) return true
		return false
	}
	for (const key in value as Record<string, unknown>) if (tooDeep((value as Record<string, unknown>)[key], left - 1)) return true
	return false
}
