/**
 * What an upstream key may look like, checked when a key is added (admin API, ASSEMBLY_API_KEYS),
 * not when a request fails with it: a key with a control character or a line break cannot be
 * sent in an `Authorization` header and would only fail later as a 502.
 *
 * AssemblyAI keys are 32 hex characters; other gateways' keys are longer and use `-`, `_`, `.`.
 * So: 8 to 512 printable ASCII characters, no spaces. Pure: no services.
 */
import { ConfigError, list, type Parser } from '../../core/config.ts'

export const KEY_MIN_LENGTH = 8
export const KEY_MAX_LENGTH = 512
const PRINTABLE = /^[\x21-\x7e]+$/

/** Why `key` cannot be an upstream key, or null when it can. Never quotes the key. */
export function keyProblem(key: string, minLength = KEY_MIN_LENGTH): string | null {
	if (key.length < minLength) return `is shorter than ${minLength} characters`
	if (key.length > KEY_MAX_LENGTH) return `is longer than ${KEY_MAX_LENGTH} characters`
	if (!PRINTABLE.test(key)) return 'contains a space, a control character or a non-ASCII character'
	return null
}

/**
 * ASSEMBLY_API_KEYS: the list parser, then every key checked for characters and length (the
 * message names its position, never the key). No minimum length here: an operator's short test
 * keys in the environment keep working.
 */
export const keyList: Parser<string[]> = (raw, name) => {
	const keys = list(raw, name)
	keys.forEach((key, i) => {
		const problem = keyProblem(key, 1)
		if (problem) throw new ConfigError(`${name}: key ${i + 1} ${problem}`)
	})
	return keys
}
