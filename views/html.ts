/**
 * A tagged template that escapes every interpolation unless it is wrapped in `raw()` or is the
 * result of another `html` template. Arrays are joined. Escape by default: the panel shows key
 * names, model names and upstream error text.
 */
export class SafeHtml {
	constructor(readonly value: string) {}
	toString(): string {
		return this.value
	}
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

export function escapeHtml(text: string): string {
	return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c)
}

/** Marks trusted markup. Never pass user or upstream text here. */
export const raw = (markup: string): SafeHtml => new SafeHtml(markup)

function render(value: unknown): string {
	if (value === null || value === undefined || value === false) return ''
	if (value instanceof SafeHtml) return value.value
	if (Array.isArray(value)) return value.map(render).join('')
	return escapeHtml(String(value))
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
	let out = strings[0] ?? ''
	for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? '')
	return new SafeHtml(out)
}
