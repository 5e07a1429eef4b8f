/** The Swagger document carries the key admin API's body and answer shapes (docs/api.md, "The key admin API"). */
import { afterEach, expect, test } from 'bun:test'
import { harnessSet } from '../../support.ts'

const harnesses = harnessSet()
afterEach(() => harnesses.closeAll())

test('/swagger/json: POST /admin/keys takes {keys} and answers {added, duplicates}; GET lists ids', async () => {
	const h = await harnesses.start()
	const spec = (await (await h.call('/swagger/json', { auth: null })).json()) as { paths: Record<string, Record<string, Record<string, unknown>>> }
	const post = spec.paths['/admin/keys']?.post as { requestBody: unknown; responses: Record<string, unknown> }
	expect(JSON.stringify(post.requestBody)).toContain('"keys"')
	const answer = JSON.stringify(post.responses['200'])
	expect(answer).toContain('"added"')
	expect(answer).toContain('"duplicates"')
	const documented = spec.paths['/admin/keys']?.get as { responses: Record<string, unknown> } | undefined
	if (!documented) throw new Error('GET /admin/keys is not documented')
	const list = JSON.stringify(documented.responses['200'])
	for (const field of ['"id"', '"key"', '"status"', '"models"']) expect(list).toContain(field)
	// The shape documented is the shape served.
	const added = (await (await h.admin('/admin/keys', { method: 'POST', json: { keys: ['aai-key-delta-000000000004'] } })).json()) as Record<string, unknown>
	expect(Object.keys(added).sort()).toEqual(['added', 'duplicates'])
	const listed = (await (await h.admin('/admin/keys')).json()) as { keys: Record<string, unknown>[] }
	expect(Object.keys(listed.keys[0] ?? {})).toEqual(expect.arrayContaining(['id', 'key', 'status', 'models']))
})
