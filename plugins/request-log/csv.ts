/** Request-log rows as CSV (RFC 4180), safe to open in a spreadsheet. Pure. */
import type { LogRow } from '../../core/storage.ts'
import { COLUMNS } from './row.ts'

/** A cell: quoted when it must be; text a spreadsheet would run as a formula gets a leading quote. */
export function csvCell(value: unknown): string {
	if (value === null || value === undefined) return ''
	let text = String(value)
	if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`
	return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

export function toCsv(rows: readonly LogRow[]): string {
	const lines = [COLUMNS.join(',')]
	for (const row of rows) {
		lines.push(COLUMNS.map((column) => csvCell(column === 'time' ? new Date(row.at).toISOString() : row[column])).join(','))
	}
	return lines.join('\r\n') + '\r\n'
}
