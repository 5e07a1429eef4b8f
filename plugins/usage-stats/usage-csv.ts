/**
 * The usage export as CSV (RFC 4180): one row per usage day x upstream key x client key x model,
 * with requests, tokens by kind and cost (transcriptions: audio seconds and their cost). Pure.
 */
import { costUsd, NO_KEY, type UsageRow } from './usage-counts.ts'

export const CSV_COLUMNS = [
	'day',
	'key_id',
	'key',
	'client_id',
	'client',
	'model',
	'requests',
	'successes',
	'failures',
	'prompt_tokens',
	'uncached_prompt_tokens',
	'cache_read_tokens',
	'cache_write_5m_tokens',
	'cache_write_1h_tokens',
	'completion_tokens',
	'cost_usd',
	'unpriced_requests',
	'audio_seconds',
	'audio_cost_usd',
] as const

/** One CSV cell: quoted when it must be, and a leading formula character neutralised for spreadsheets. */
export function csvCell(value: string | number | null): string {
	if (value === null) return ''
	let text = String(value)
	if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`
	return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}

export function usageCsv(rows: readonly UsageRow[], names: { key(id: string): string | null; client(id: string): string | null }): string {
	const lines = [CSV_COLUMNS.join(',')]
	for (const { day, key, client, model, counts: c } of rows) {
		const uncached = Math.max(0, c.prompt_tokens - c.cached_tokens - c.cache_write_tokens - c.cache_write_1h_tokens)
		const cost = costUsd(c)
		const cells: (string | number | null)[] = [
			day,
			key === NO_KEY ? '' : key,
			key === NO_KEY ? 'no_key' : names.key(key),
			client === NO_KEY ? '' : client,
			client === NO_KEY ? '' : names.client(client),
			model,
			c.requests,
			c.successes,
			c.requests - c.successes - c.aborted,
			c.prompt_tokens,
			uncached,
			c.cached_tokens,
			c.cache_write_tokens,
			c.cache_write_1h_tokens,
			c.completion_tokens,
			// Nano-USD to USD with every digit kept (no float noise such as 0.30000000000000004).
			cost === null ? null : (c.cost_nusd / 1e9).toFixed(9).replace(/\.?0+$/, ''),
			c.unpriced_requests,
			c.audio_seconds,
			// Speech is priced per hour in micro-USD; none when only unpriced seconds were heard.
			c.audio_cost_micro_usd === 0 && c.audio_seconds_unpriced > 0 ? null : (c.audio_cost_micro_usd / 1e6).toFixed(6).replace(/\.?0+$/, ''),
		]
		lines.push(cells.map(csvCell).join(','))
	}
	return `${lines.join('\r\n')}\r\n`
}
