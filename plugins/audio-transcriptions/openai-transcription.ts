/**
 * An AssemblyAI transcript in OpenAI's response formats: `json` ({text, usage}), `text`, `srt`
 * and `vtt` (AssemblyAI's own subtitles), and `verbose_json` (language, duration, segments,
 * and words when `timestamp_granularities[]` asks for them). Times in seconds, as OpenAI gives
 * them; AssemblyAI's are milliseconds (docs/upstream-speech.md §4). Pure: no services.
 */
import type { Transcript } from './speech-upstream.ts'
import type { ResponseFormat } from './transcription-form.ts'

interface Word {
	word: string
	start: number
	end: number
}

export interface Segment {
	id: number
	seek: number
	start: number
	end: number
	text: string
	tokens: number[]
	temperature: number
	avg_logprob: number
	compression_ratio: number
	no_speech_prob: number
}

const seconds = (ms: number) => Math.round(ms) / 1000

/** Words grouped into segments at sentence ends, at most 30 words each. */
export function segmentsOf(words: { text: string; start: number; end: number }[]): Segment[] {
	const segments: Segment[] = []
	let current: { text: string; start: number; end: number }[] = []
	const close = () => {
		const first = current[0]
		const last = current[current.length - 1]
		if (!first || !last) return
		segments.push({
			id: segments.length,
			seek: 0,
			start: seconds(first.start),
			end: seconds(last.end),
			text: ` ${current.map((w) => w.text).join(' ')}`,
			tokens: [],
			temperature: 0,
			avg_logprob: 0,
			compression_ratio: 0,
			no_speech_prob: 0,
		})
		current = []
	}
	for (const word of words) {
		current.push(word)
		if (/[.!?]["')\]]*$/.test(word.text) || current.length >= 30) close()
	}
	close()
	return segments
}

export function toOpenAITranscription(
	transcript: Transcript,
	format: ResponseFormat,
	options: { subtitles: string | null; granularities: readonly ('word' | 'segment')[]; seconds: number },
): Response {
	const text = transcript.text ?? ''
	switch (format) {
		case 'text':
			return new Response(`${text}\n`, { headers: { 'content-type': 'text/plain; charset=utf-8' } })
		case 'srt':
		case 'vtt':
			return new Response(options.subtitles ?? '', { headers: { 'content-type': 'text/plain; charset=utf-8' } })
		case 'json':
			return Response.json({ text, usage: { type: 'duration', seconds: options.seconds } })
		case 'verbose_json': {
			const words = transcript.words ?? []
			const wantWords = options.granularities.includes('word')
			const wantSegments = options.granularities.length === 0 || options.granularities.includes('segment')
			const lastEnd = words.length > 0 ? seconds((words[words.length - 1] as { end: number }).end) : 0
			return Response.json({
				task: 'transcribe',
				language: transcript.language_code ?? 'unknown',
				duration: options.seconds || lastEnd,
				text,
				...(wantSegments ? { segments: segmentsOf(words) } : {}),
				...(wantWords ? { words: words.map((w): Word => ({ word: w.text, start: seconds(w.start), end: seconds(w.end) })) } : {}),
				usage: { type: 'duration', seconds: options.seconds },
			})
		}
	}
}
