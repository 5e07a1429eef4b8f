/**
 * A body as it may be written to the debug log: serialized, scrubbed of every registered secret
 * *before* it is cut (so no half secret survives the cut), and capped at `max` characters.
 */
import type { SecretRegistry } from './log.ts'

export function loggableBody(value: unknown, max: number, secrets: SecretRegistry): string {
	let text: string
	try {
		text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value))
	} catch {
		text = String(value)
	}
	const clean = secrets.scrub(text)
	return clean.length > max ? `${clean.slice(0, max)}…[${clean.length - max} more characters]` : clean
}
