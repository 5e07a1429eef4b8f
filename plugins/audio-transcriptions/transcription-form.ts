/**
 * The multipart form of `POST /v1/audio/transcriptions`, as OpenAI defines it: `file`, `model`,
 * `language`, `prompt`, `response_format`, `timestamp_granularities[]`, `temperature`. The body is
 * counted while it streams in and refused at the size limit (413) before the rest is read; an
 * empty file or a format AssemblyAI does not take is a 400. Pure: no services.
 */
import { BadRequestError, GatewayError } from '../../core/errors.ts'

export type ResponseFormat = 'json' | 'text' | 'srt' | 'vtt' | 'verbose_json'
export const RESPONSE_FORMATS: readonly ResponseFormat[] = ['json', 'text', 'srt', 'vtt', 'verbose_json']

export interface TranscriptionForm {
	file: { name: string; bytes: Uint8Array }
	model: string
	language: string | null
	prompt: string | null
	responseFormat: ResponseFormat
	/** `word` and/or `segment` (verbose_json); empty = segments only, as OpenAI does. */
	granularities: ('word' | 'segment')[]
}

/** Room for the other fields and the multipart framing around the file. */
const FORM_OVERHEAD = 64 * 1024

/** File extensions AssemblyAI lists (docs/upstream-speech.md §6); a name without one is left to the upstream. */
const SUPPORTED_EXTENSIONS = new Set(
	(
		'3ga 8svx aac ac3 aif aiff alac amr ape au dss flac flv m4a m4b m4p m4r mp3 mpga ogg oga mogg opus qcp tta voc wav wma wv ' +
		'webm mts m2ts ts mov mp2 mp4 m4v mxf mpeg'
	).split(' '),
)

export const fileTooLarge = (maxBytes: number) =>
	new GatewayError(
		`The audio file is larger than ${Math.round(maxBytes / 1024 / 1024)} MB (SPEECH_MAX_FILE_SIZE).`,
		{ status: 413, type: 'invalid_request_error' },
		{ code: 'file_too_large', param: 'file' },
	)

/** The same bytes; errors once more than `maxBytes` went through, so the rest is never read. */
function counted(body: ReadableStream<Uint8Array>, maxBytes: number, onTooLarge: () => void): ReadableStream<Uint8Array> {
	let seen = 0
	return body.pipeThrough(
		new TransformStream<Uint8Array, Uint8Array>({
			transform(chunk, controller) {
				seen += chunk.byteLength
				if (seen > maxBytes) {
					onTooLarge()
					controller.error(fileTooLarge(maxBytes))
				} else controller.enqueue(chunk)
			},
		}),
	)
}

const text = (form: FormData, name: string): string | null => {
	const value = form.get(name)
	return typeof value === 'string' ? value : null
}

export async function readTranscriptionForm(request: Request, maxFileBytes: number): Promise<TranscriptionForm> {
	const type = request.headers.get('content-type') ?? ''
	if (!/^multipart\/form-data\s*;/i.test(type)) {
		throw new BadRequestError('The body must be multipart/form-data with the audio in a field named "file".', null, 'invalid_content_type')
	}
	const maxBody = maxFileBytes + FORM_OVERHEAD
	const declared = Number(request.headers.get('content-length') ?? Number.NaN)
	if (Number.isFinite(declared) && declared > maxBody) throw fileTooLarge(maxFileBytes)
	if (request.body === null) throw new BadRequestError('The request has no body; send the audio in a field named "file".', 'file', 'missing_file')
	let tooLarge = false
	let form: FormData
	try {
		form = await new Response(
			counted(request.body, maxBody, () => (tooLarge = true)),
			{ headers: { 'content-type': type } },
		).formData()
	} catch {
		if (tooLarge) throw fileTooLarge(maxFileBytes)
		if (request.signal.aborted) throw new BadRequestError('The client went away while sending the body.', null, 'body_incomplete')
		throw new BadRequestError('The multipart body could not be parsed.', null, 'invalid_body')
	}

	const file = form.get('file')
	if (file === null || typeof file === 'string')
		throw new BadRequestError('The audio file is missing: send it in a field named "file".', 'file', 'missing_file')
	if (file.size === 0) throw new BadRequestError('The audio file is empty.', 'file', 'empty_file')
	if (file.size > maxFileBytes) throw fileTooLarge(maxFileBytes)
	const name = file.name || 'audio'
	const extension = /\.([A-Za-z0-9]+)$/.exec(name)?.[1]?.toLowerCase()
	if (extension !== undefined && !SUPPORTED_EXTENSIONS.has(extension)) {
		throw new BadRequestError(
			`Invalid file format ${JSON.stringify(extension)}. Supported formats: ${[...SUPPORTED_EXTENSIONS].sort().join(', ')}.`,
			'file',
			'unsupported_file_format',
		)
	}

	const model = text(form, 'model')?.trim() ?? ''
	if (!model) throw new BadRequestError('model is required (e.g. whisper-1).', 'model', 'missing_model')
	const responseFormat = (text(form, 'response_format')?.trim() || 'json') as ResponseFormat
	if (!RESPONSE_FORMATS.includes(responseFormat)) {
		throw new BadRequestError(`response_format must be one of ${RESPONSE_FORMATS.join(', ')}.`, 'response_format', 'invalid_response_format')
	}
	const language = text(form, 'language')?.trim() || null
	if (language !== null && !/^[A-Za-z]{2,3}(?:[_-][A-Za-z]{2,4})?$/.test(language)) {
		throw new BadRequestError('language must be a language code such as en or en_us.', 'language', 'invalid_language')
	}
	const temperature = text(form, 'temperature')
	// Accepted and ignored (AssemblyAI's temperature means something else), but still checked.
	if (temperature !== null && temperature.trim() !== '') {
		const t = Number(temperature)
		if (!Number.isFinite(t) || t < 0 || t > 1) throw new BadRequestError('temperature must be a number between 0 and 1.', 'temperature', 'invalid_temperature')
	}
	const granularities: ('word' | 'segment')[] = []
	for (const value of [...form.getAll('timestamp_granularities[]'), ...form.getAll('timestamp_granularities')]) {
		if (value !== 'word' && value !== 'segment') {
			throw new BadRequestError('timestamp_granularities[] must be word or segment.', 'timestamp_granularities', 'invalid_timestamp_granularities')
		}
		if (!granularities.includes(value)) granularities.push(value)
	}
	return {
		file: { name, bytes: new Uint8Array(await file.arrayBuffer()) },
		model,
		language,
		prompt: text(form, 'prompt') || null,
		responseFormat,
		granularities,
	}
}
