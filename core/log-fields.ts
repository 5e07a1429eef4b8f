/**
 * Caps on what a client controls where it reaches a log line (a model name, a path, a client
 * key's name): a 4 MB `model` must cost a log line a few hundred bytes, not 4 MB in the file,
 * in the panel's ring and in every page that shows it.
 */

/** Longest string field a request's log line keeps. */
export const FIELD_MAX = 256
/** Longest path a request's log line keeps. */
export const PATH_MAX = 512

/** `text` cut to `max` characters, saying how much was cut. */
export function capText(text: string, max: number): string {
	return text.length > max ? `${text.slice(0, max)}…[${text.length - max} more characters]` : text
}
