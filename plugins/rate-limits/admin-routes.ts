/**
 * `/admin/rate-limits` and `/admin/keys`, guarded as a whole by the panel password or session (one guard for the
 * group, so no admin route can be left open by accident).
 */
import { Elysia, t } from 'elysia'
import { BadRequestError, NotFoundError } from '../../core/errors.ts'
import { type AdminAuth, requirePanelAuth } from '../admin-auth/admin-auth.ts'
import { keyProblem } from './key-format.ts'
import type { KeyPool, KeyReport } from './key-pool.ts'
import { iso } from './pool-types.ts'

export interface AdminDeps {
	auth: AdminAuth
	pool: KeyPool
}

const tags = ['Admin']
const security = [{ bearer: [] }]
const ids = { type: 'array', items: { type: 'string', description: 'key id (a hash of the key)' } } as const
const keyList = {
	type: 'object',
	properties: {
		keys: {
			type: 'array',
			items: {
				type: 'object',
				properties: {
					id: { type: 'string', description: 'the handle every /admin/keys/{id} route takes' },
					key: { type: 'string', description: 'masked: abcd...wxyz' },
					source: { type: 'string', description: 'env or admin' },
					status: { type: 'string', description: 'active, disabled, banned, quota_exhausted, cooling or failing' },
					reason: { type: 'string', nullable: true },
					changed_at: { type: 'string', nullable: true },
					cooldown_until: { type: 'string', nullable: true },
					failing: { type: 'object', nullable: true, description: 'since, reason: refused with 401/403 without a ban; a success lifts it' },
					quota: { type: 'object', nullable: true, description: 'exhausted_until (next 07:00 UTC), models (spent per-model limits), reason' },
					last_test: { type: 'object', nullable: true, description: 'at, ok, status, latency_ms, model, text' },
					counts: { type: 'object', description: 'success, failure: upstream answers with this key (every instance)' },
					models: {
						type: 'object',
						description:
							'per model: status (active, exhausted, cooling, denied, unknown, quota_exhausted), limit, remaining, used, reset_in_seconds, last_used_at, reason',
					},
				},
			},
		},
		incident: { type: 'object', nullable: true, description: 'cause (auth or network), since, keys, message, last_probe_at' },
	},
} as const

const STATUSES = ['active', 'disabled', 'banned', 'cooling', 'failing', 'quota_exhausted'] as const

/** The incident as the API shows it. */
export const incidentView = (pool: KeyPool) => {
	const i = pool.incident()
	return i ? { cause: i.cause, since: iso(i.since), keys: i.keys, message: i.message, last_probe_at: iso(i.lastProbeAt) } : null
}

/** GET /admin/keys?status=&q=: `status` one or several (comma separated), `q` a piece of the id, masked key, reason or source. */
function filterKeys(keys: KeyReport[], status: string | undefined, q: string | undefined): KeyReport[] {
	let out = keys
	if (status) {
		const wanted = status
			.split(',')
			.map((s) => s.trim().toLowerCase())
			.filter(Boolean)
		const bad = wanted.find((s) => !(STATUSES as readonly string[]).includes(s))
		if (bad !== undefined)
			throw new BadRequestError(
				`status must be one of ${STATUSES.join(', ')} (comma separated); got ${JSON.stringify(bad).slice(0, 40)}`,
				'status',
				'invalid_status',
			)
		out = out.filter((k) => wanted.includes(k.status))
	}
	if (q) {
		const needle = q.toLowerCase()
		out = out.filter((k) => [k.id, k.key, k.source, k.reason ?? '', k.failing?.reason ?? ''].some((field) => field.toLowerCase().includes(needle)))
	}
	return out
}

export const keysAdmin = (deps: AdminDeps) =>
	new Elysia({ name: 'keys-admin', prefix: '/admin' })
		.onTransform(requirePanelAuth(deps.auth))
		.get(
			'/rate-limits',
			async ({ query }) => ({ rate_limits: filterKeys(await deps.pool.report(), query.status, query.q), incident: incidentView(deps.pool) }),
			{
				query: t.Object({ status: t.Optional(t.String({ maxLength: 200 })), q: t.Optional(t.String({ maxLength: 200 })) }),
				detail: {
					summary: 'Rate limits per key and model',
					description:
						'One entry per upstream key (masked): status and reason, and per model its own status, limit, remaining, used and reset_in_seconds, as learned from the upstream X-RateLimit-* headers (windows are per model: nothing here sums them). Filters as GET /admin/keys; `incident` as GET /admin/incident.',
					tags,
					security,
				},
			},
		)
		.get('/keys', async ({ query }) => ({ keys: filterKeys(await deps.pool.report(), query.status, query.q), incident: incidentView(deps.pool) }), {
			query: t.Object({ status: t.Optional(t.String({ maxLength: 200 })), q: t.Optional(t.String({ maxLength: 200 })) }),
			detail: {
				summary: 'List upstream keys (masked)',
				description:
					'Every key of the pool, masked, with its id: the handle of DELETE /admin/keys/{id} and POST /admin/keys/{id}/{enable,disable,unban,test}. `status` filters (active, disabled, banned, cooling, failing, quota_exhausted; comma separated), `q` matches a piece of the id, masked key, source or reason. Each key carries its failing mark, spent quota, last test and success/failure counts; `incident` is the upstream incident under way, if any.',
				tags,
				security,
				responses: { 200: { description: 'The key pool', content: { 'application/json': { schema: keyList } } } },
			},
		})
		.post(
			'/keys',
			async ({ body }) => {
				const keys = [...new Set(body.keys.map((k) => k.trim()).filter(Boolean))]
				if (!keys.length) throw new BadRequestError('keys must contain at least one non-empty key', 'keys')
				const bad = body.keys.map((k) => k.trim()).findIndex((k) => k !== '' && keyProblem(k) !== null)
				if (bad >= 0) throw new BadRequestError(`keys[${bad}] ${keyProblem(body.keys[bad]!.trim())}: not a usable upstream key.`, `keys[${bad}]`, 'invalid_key')
				return deps.pool.addKeys(keys)
			},
			{
				body: t.Object({ keys: t.Array(t.String({ minLength: 1, maxLength: 512 }), { minItems: 1, maxItems: 1000 }) }),
				detail: {
					summary: 'Add upstream keys',
					description: 'Body `{"keys":["key1","key2"]}`. Adds keys to the pool; a key already present is reported under duplicates. Answers key ids only.',
					tags,
					security,
					responses: {
						200: {
							description: 'Ids of the keys added and of those already present',
							content: { 'application/json': { schema: { type: 'object', properties: { added: ids, duplicates: ids } } } },
						},
					},
				},
			},
		)
		.get('/incident', () => ({ incident: incidentView(deps.pool) }), {
			detail: {
				summary: 'Upstream or network incident under way',
				description:
					'null, or {cause, since, keys, message, last_probe_at}: nearly every key failed the same way (cause auth: 401/403; network: no answer) within a short window, with no success between. While it lasts no key is banned for it, keys cool down for a few seconds only, and the pool re-probes; the first success ends it.',
				tags,
				security,
			},
		})
		.post(
			'/keys/batch',
			async ({ body }) => {
				const results: Record<string, string> = {}
				for (const id of new Set(body.ids)) {
					if (body.action === 'delete') {
						const r = await deps.pool.removeKey(id)
						results[id] = r === 'removed' ? 'removed' : r
					} else {
						const record = await deps.pool.setStatus(
							id,
							body.action === 'disable' ? 'disabled' : 'active',
							body.action === 'disable' ? 'disabled by the operator' : null,
						)
						results[id] = record ? record.status : 'not_found'
					}
				}
				return { action: body.action, results }
			},
			{
				body: t.Object({
					action: t.Union([t.Literal('enable'), t.Literal('disable'), t.Literal('delete')]),
					ids: t.Array(t.String({ minLength: 1, maxLength: 200 }), { minItems: 1, maxItems: 1000 }),
				}),
				detail: {
					summary: 'Enable, disable or delete many upstream keys',
					description:
						'Body `{"action":"enable"|"disable"|"delete","ids":[...]}`. Answers per id its new status, `removed`, `not_found`, or `env_key` (a key from ASSEMBLY_API_KEYS cannot be deleted here). Every change is stored before the answer. Batch tests: POST /admin/keys/test.',
					tags,
					security,
				},
			},
		)
		.post('/keys/prune-usage', async () => ({ removed: await deps.pool.pruneDeparted() }), {
			detail: {
				summary: 'Remove the usage data of keys that left the pool',
				description: 'Deletes the rate windows and success/failure counts of key ids no longer in the pool. Answers the ids whose data went.',
				tags,
				security,
			},
		})
		.delete(
			'/keys/:id',
			async ({ params }) => {
				const result = await deps.pool.removeKey(params.id)
				if (result === 'not_found') throw new NotFoundError(`No key with id ${params.id}`, 'key_not_found')
				if (result === 'env_key') throw new BadRequestError('This key comes from ASSEMBLY_API_KEYS: remove it there, or disable it here.', 'id', 'env_key')
				return { removed: params.id }
			},
			{ detail: { summary: 'Remove an upstream key added through the admin API', tags, security } },
		)
		.post(
			'/keys/:id/:action',
			async ({ params }) => {
				const action = params.action
				if (action !== 'enable' && action !== 'disable' && action !== 'unban') {
					throw new NotFoundError(`Unknown key action ${action}; use enable, disable or unban`, 'unknown_action')
				}
				const record = await deps.pool.setStatus(
					params.id,
					action === 'disable' ? 'disabled' : 'active',
					action === 'disable' ? 'disabled by the operator' : null,
				)
				if (!record) throw new NotFoundError(`No key with id ${params.id}`, 'key_not_found')
				return { id: record.id, status: record.status }
			},
			{
				detail: {
					summary: 'Enable, disable or unban an upstream key',
					description:
						'enable puts the key back in rotation and also lifts a ban and any cooldown; unban does the same for a banned key; disable takes it out. Answers {"id","status"}.',
					tags,
					security,
				},
			},
		)
