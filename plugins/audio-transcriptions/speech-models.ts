/**
 * Which AssemblyAI speech models a transcription asks for (docs/upstream-speech.md §3), and what
 * an hour of audio costs on each (§7). Pure: no services.
 */
import { ConfigError, type Parser } from '../../core/config.ts'
import { BadRequestError } from '../../core/errors.ts'

/** OpenAI's transcription model names: served by the operator's default AssemblyAI models. */
export const OPENAI_SPEECH_MODELS: readonly string[] = ['whisper-1', 'gpt-4o-transcribe', 'gpt-4o-mini-transcribe']

/** The documented default pair (docs/upstream-speech.md §3). */
export const DEFAULT_SPEECH_MODELS: readonly string[] = ['universal-3-pro', 'universal-2']

/** USD per hour of audio as published (docs/upstream-speech.md §7); the rest are unpriced unless SPEECH_PRICES sets them. */
export const PUBLISHED_PRICES: Readonly<Record<string, number>> = { 'universal-2': 0.15, 'universal-3-5-pro': 0.21 }

/** A model name as AssemblyAI spells them (lower-case words, digits, dots and dashes). */
const MODEL_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/

export interface ResolvedSpeechModel {
	/** What the client asked for (checked against a client key's allow-list). */
	requested: string
	/** Sent upstream as `speech_models`, in priority order. */
	speechModels: string[]
	/** The model the key pool keeps windows, bans and usage under: the first of `speechModels`. */
	poolModel: string
}

export function resolveSpeechModel(requested: string, defaults: readonly string[]): ResolvedSpeechModel {
	if (OPENAI_SPEECH_MODELS.includes(requested)) {
		const speechModels = defaults.length > 0 ? [...defaults] : [...DEFAULT_SPEECH_MODELS]
		return { requested, speechModels, poolModel: speechModels[0] as string }
	}
	if (!MODEL_NAME.test(requested)) {
		throw new BadRequestError(
			`model ${JSON.stringify(requested.slice(0, 100))} is not a speech model name: use whisper-1, gpt-4o-transcribe or an AssemblyAI model such as universal-2.`,
			'model',
			'invalid_model',
		)
	}
	return { requested, speechModels: [requested], poolModel: requested }
}

/** `SPEECH_PRICES`: `model=usd_per_hour` pairs, comma separated, e.g. `universal-3-pro=0.21,universal-2=0.15`. */
export const speechPrices: Parser<Record<string, number>> = (raw, name) => {
	const out: Record<string, number> = {}
	for (const part of raw
		.split(',')
		.map((p) => p.trim())
		.filter(Boolean)) {
		const match = /^([a-z0-9][a-z0-9._-]{0,63})\s*=\s*(\d+(?:\.\d+)?)$/.exec(part)
		if (!match) throw new ConfigError(`${name}=${JSON.stringify(raw)}: must be model=usd_per_hour pairs, comma separated (e.g. universal-2=0.15)`)
		out[match[1] as string] = Number(match[2])
	}
	return out
}

/** USD per hour for `model`: the operator's price, else the published one, else null (unpriced). */
export function pricePerHour(model: string, overrides: Readonly<Record<string, number>>): number | null {
	return overrides[model] ?? PUBLISHED_PRICES[model] ?? null
}

/**
 * The cost of `seconds` of audio in micro-USD (counters are integers): billed per second at the
 * hourly rate (§7), rounded to the nearest micro-dollar per request. Null when unpriced.
 */
export function costMicroUsd(seconds: number, perHour: number | null): number | null {
	if (perHour === null) return null
	return Math.round((seconds * perHour * 1_000_000) / 3600)
}
