/**
 * Every model one chat request can reach upstream: `model`, then each `fallbacks[].model` (the
 * gateway tries them when the primary fails; a fallback without `model` inherits the primary's).
 * A client key's allow-list must cover all of them. Pure.
 */
import { BadRequestError } from '../../core/errors.ts'
import { isObject } from '../../core/json.ts'
import type { ChatRequest } from './chat-request.ts'

/** The fallback models, in order, without the primary; 400 naming the param when one is not a non-empty string. */
export function fallbackModels(chat: ChatRequest): string[] {
	const fallbacks = chat.fallbacks
	if (!Array.isArray(fallbacks)) return []
	const models: string[] = []
	fallbacks.forEach((entry: unknown, i) => {
		if (!isObject(entry) || entry.model === undefined || entry.model === null) return
		if (typeof entry.model !== 'string' || entry.model.trim() === '') {
			throw new BadRequestError(`Invalid fallbacks[${i}].model: expected a non-empty string.`, `fallbacks[${i}].model`, 'invalid_type')
		}
		models.push(entry.model)
	})
	return models
}
