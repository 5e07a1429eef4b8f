/** The pure parts of audio-transcriptions: model names, prices, cost rounding, segments. */
import { describe, expect, test } from 'bun:test'
import { ConfigError } from '../../../core/config.ts'
import { BadRequestError } from '../../../core/errors.ts'
import { segmentsOf } from '../../../plugins/audio-transcriptions/openai-transcription.ts'
import { costMicroUsd, pricePerHour, resolveSpeechModel, speechPrices } from '../../../plugins/audio-transcriptions/speech-models.ts'

describe('speech models', () => {
	test("OpenAI's names use the default models; AssemblyAI's pass as they are; the pool model is the first", () => {
		expect(resolveSpeechModel('whisper-1', ['universal-3-pro', 'universal-2'])).toEqual({
			requested: 'whisper-1',
			speechModels: ['universal-3-pro', 'universal-2'],
			poolModel: 'universal-3-pro',
		})
		expect(resolveSpeechModel('gpt-4o-transcribe', []).speechModels).toEqual(['universal-3-pro', 'universal-2'])
		expect(resolveSpeechModel('universal-2', ['x'])).toEqual({ requested: 'universal-2', speechModels: ['universal-2'], poolModel: 'universal-2' })
	})

	test('a name that cannot be a model is a 400 naming model', () => {
		for (const bad of ['Universal 2', '../etc', 'a'.repeat(65), '']) {
			const err = (() => {
				try {
					resolveSpeechModel(bad, [])
				} catch (e) {
					return e
				}
			})()
			expect(err).toBeInstanceOf(BadRequestError)
			expect((err as BadRequestError).param).toBe('model')
		}
	})
})

describe('prices and cost', () => {
	test('operator prices beat published ones; a model without either is unpriced (null), never $0', () => {
		expect(pricePerHour('universal-2', {})).toBe(0.15)
		expect(pricePerHour('universal-2', { 'universal-2': 0.1 })).toBe(0.1)
		expect(pricePerHour('universal-3-pro', {})).toBeNull()
		expect(costMicroUsd(60, null)).toBeNull()
	})

	test('cost is per second at the hourly rate, in micro-USD, rounded per request', () => {
		expect(costMicroUsd(3600, 0.15)).toBe(150_000)
		expect(costMicroUsd(36, 0.15)).toBe(1500)
		// 7 s x 0.15 / 3600 = 291.67 micro-USD
		expect(costMicroUsd(7, 0.15)).toBe(292)
		expect(costMicroUsd(0, 0.15)).toBe(0)
	})

	test('SPEECH_PRICES parses model=price pairs and refuses anything else by name', () => {
		expect(speechPrices('universal-3-pro=0.21, universal-2=0.15', 'SPEECH_PRICES')).toEqual({ 'universal-3-pro': 0.21, 'universal-2': 0.15 })
		expect(() => speechPrices('universal-2:0.15', 'SPEECH_PRICES')).toThrow(ConfigError)
		expect(() => speechPrices('universal-2=-1', 'SPEECH_PRICES')).toThrow(/SPEECH_PRICES/)
	})
})

describe('segments', () => {
	test('words become segments at sentence ends, times in seconds', () => {
		const words = [
			{ text: 'Hello', start: 0, end: 400 },
			{ text: 'there.', start: 450, end: 900 },
			{ text: 'How', start: 1500, end: 1700 },
			{ text: 'are', start: 1710, end: 1900 },
			{ text: 'you?', start: 1910, end: 2300 },
			{ text: 'Fine', start: 3000, end: 3400 },
		]
		const segments = segmentsOf(words)
		expect(segments.map((s) => [s.id, s.start, s.end, s.text])).toEqual([
			[0, 0, 0.9, ' Hello there.'],
			[1, 1.5, 2.3, ' How are you?'],
			[2, 3, 3.4, ' Fine'],
		])
	})

	test('a long run without punctuation is cut every 30 words', () => {
		const words = Array.from({ length: 65 }, (_, i) => ({ text: `w${i}`, start: i * 100, end: i * 100 + 90 }))
		expect(segmentsOf(words).map((s) => s.text.trim().split(' ').length)).toEqual([30, 30, 5])
	})
})
