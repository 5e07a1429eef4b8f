/**
 * Wall-clock date and time in a named time zone (IANA, e.g. Europe/Berlin), both ways, with Intl
 * only: a form shows an instant in the operator's zone, and the posted date and time are read back
 * in the zone the form says it used. Stored times stay UTC.
 */

const formats = new Map<string, Intl.DateTimeFormat>()

function formatFor(zone: string): Intl.DateTimeFormat {
	let found = formats.get(zone)
	if (!found) {
		found = new Intl.DateTimeFormat('en-US', {
			timeZone: zone,
			hourCycle: 'h23',
			year: 'numeric',
			month: '2-digit',
			day: '2-digit',
			hour: '2-digit',
			minute: '2-digit',
			second: '2-digit',
		})
		if (formats.size > 100) formats.clear()
		formats.set(zone, found)
	}
	return found
}

/** A zone name Intl knows (a posted field is checked before use). */
export function isTimeZone(zone: string): boolean {
	if (zone.length > 64 || !/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(zone)) return false
	try {
		formatFor(zone)
		return true
	} catch {
		return false
	}
}

/** The wall clock in `zone` at `ms`: `YYYY-MM-DD` and `HH:MM`. */
export function wallClock(ms: number, zone: string): { date: string; time: string } {
	const parts: Record<string, string> = {}
	for (const p of formatFor(zone).formatToParts(new Date(ms))) parts[p.type] = p.value
	return { date: `${parts.year}-${parts.month}-${parts.day}`, time: `${parts.hour}:${parts.minute}` }
}

/** How far `zone` is ahead of UTC at `ms`, in ms. */
function offsetAt(ms: number, zone: string): number {
	const parts: Record<string, string> = {}
	for (const p of formatFor(zone).formatToParts(new Date(ms))) parts[p.type] = p.value
	const asUtc = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second))
	return asUtc - Math.floor(ms / 1000) * 1000
}

/**
 * The instant a wall-clock `date` (`YYYY-MM-DD`) and `time` (`HH:MM`) name in `zone`, or null when
 * they are not a date and a time. A time skipped by a clock change reads as the instant after it.
 */
export function fromWallClock(date: string, time: string, zone: string): number | null {
	const d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date)
	const t = /^(\d{2}):(\d{2})$/.exec(time)
	if (!d || !t) return null
	const [year, month, day, hour, minute] = [d[1], d[2], d[3], t[1], t[2]].map(Number) as [number, number, number, number, number]
	if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59) return null
	const wall = Date.UTC(year, month - 1, day, hour, minute)
	// The day must exist (no 31 February).
	if (new Date(wall).getUTCDate() !== day) return null
	// The offset at the guess, then again at the result: right on both sides of a clock change.
	const first = wall - offsetAt(wall, zone)
	return wall - offsetAt(first, zone)
}
