/**
 * `/admin/rate-limits` and `/admin/keys`, guarded as a whole by the panel password or session (one guard for the
 * group, so no admin route can be left open by accident).
 */
import { Elysia, t } from 'elysia'
import { BadRequestError, NotFoundError } from '../../core/errors.ts'
import { type AdminAuth, requirePanelAuth } from '../admin-auth/admin-auth.ts'
import { keyProblem } from './key-format.ts'
import type { KeyPool } from './key-pool.ts'

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
					status: { type: 'string', description: 'active, disabled, banned or cooling' },
					reason: { type: 'string', nullable: true },
					changed_at: { type: 'string', nullable: true },
					cooldown_until: { type: 'string', nullable: true },
					models: { type: 'object', description: 'per model: status, limit, remaining, used, reset_in_seconds, last_used_at, reason' },
				},
			},
		},
	},
} as const

export const keysAdmin = (deps: AdminDeps) =>
	new Elysia({ name: 'keys-admin', prefix: '/admin' })
		.onTransform(requirePanelAuth(deps.auth))
		.get('/rate-limits', async () => ({ rate_limits: await deps.pool.report() }), {
			detail: {
				summary: 'Rate limits per key and model',
				description:
					'One entry per upstream key (masked): status and reason, and per model limit, remaining, used and reset_in_seconds, as learned from the upstream X-RateLimit-* headers.',
				tags,
				security,
			},
		})
		.get('/keys', async () => ({ keys: await deps.pool.report() }), {
			detail: {
				summary: 'List upstream keys (masked)',
				description: 'Every key of the pool, masked, with its id: the handle of DELETE /admin/keys/{id} and POST /admin/keys/{id}/{enable,disable,unban}.',
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
