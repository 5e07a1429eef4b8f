/**
 * Mode prefixes on model names, as the seed product spelled them: `假流式/` (or `fake-stream/`)
 * forces fake streaming, `流式抗截断/` (or `anti-truncation/`) turns on anti-truncation. They may
 * be combined in any order (`假流式/流式抗截断/claude-sonnet-4-6`). Pure: no services.
 */

export const FAKE_STREAM_PREFIXES = ['假流式/', 'fake-stream/'] as const
export const ANTI_TRUNCATION_PREFIXES = ['流式抗截断/', 'anti-truncation/'] as const

export interface ModelModes {
	/** The upstream model id, every known prefix removed. */
	model: string
	fakeStream: boolean
	antiTruncation: boolean
}

/** Strips every known prefix from the front of a model name and says which were there. */
export function readModelPrefixes(name: string): ModelModes {
	let model = name
	let fakeStream = false
	let antiTruncation = false
	for (;;) {
		const fake = FAKE_STREAM_PREFIXES.find((p) => model.startsWith(p))
		if (fake) {
			fakeStream = true
			model = model.slice(fake.length)
			continue
		}
		const anti = ANTI_TRUNCATION_PREFIXES.find((p) => model.startsWith(p))
		if (anti) {
			antiTruncation = true
			model = model.slice(anti.length)
			continue
		}
		return { model, fakeStream, antiTruncation }
	}
}

/** The model list with the prefixed variants the operator chose to show (the seed product's primary spellings). */
export function withPrefixedVariants(ids: readonly string[], show: { fakeStream: boolean; antiTruncation: boolean }): string[] {
	const out = [...ids]
	if (show.fakeStream) for (const id of ids) out.push(`${FAKE_STREAM_PREFIXES[0]}${id}`)
	if (show.antiTruncation) for (const id of ids) out.push(`${ANTI_TRUNCATION_PREFIXES[0]}${id}`)
	return out
}
