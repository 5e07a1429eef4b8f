/** Helpers for the tests of the overview, request log, performance and playground pages. */
import { expect } from 'bun:test'
import { MemoryStorage } from '../../../core/storage.ts'
import type { Harness } from '../../support.ts'

export const XSS = '<script>alert(1)</script>'

/** Memory storage whose request-log reads (and ping) can be made to fail. */
export class FlakyLogStorage extends MemoryStorage {
	failing = false
	override async queryLog(query: Parameters<MemoryStorage['queryLog']>[0]) {
		if (this.failing) throw new Error('request log read failed (test)')
		return super.queryLog(query)
	}
	override async getLogRow(id: string) {
		if (this.failing) throw new Error('request log read failed (test)')
		return super.getLogRow(id)
	}
}

/** A panel GET or POST as htmx sends it; the answer must be a fragment, not a page. */
export async function fragment(
	h: Harness,
	s: { cookie: string; csrf: string },
	path: string,
	init: { method?: string; form?: Record<string, string | string[]>; full?: boolean } = {},
) {
	const body = new URLSearchParams()
	for (const [k, v] of Object.entries(init.form ?? {})) for (const one of Array.isArray(v) ? v : [v]) body.append(k, one)
	const response = await h.call(path, {
		method: init.method ?? 'GET',
		auth: null,
		headers: {
			cookie: s.cookie,
			'x-csrf-token': s.csrf,
			...(init.full ? {} : { 'hx-request': 'true' }),
			...(init.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
		},
		body: init.form ? body : undefined,
	})
	const text = await response.text()
	if (!init.full) expect(text).not.toContain('<html')
	return { status: response.status, text, headers: response.headers }
}

/** Writes the request log's queued rows now (it writes every second by itself). */
export const flushLog = (h: Harness) => h.gateway.services.requestLog?.flush()
