/** POST /admin/keys/{id}/test and POST /admin/keys/test, guarded by the panel password or session. */
import { Elysia, t } from 'elysia'
import { BadRequestError, NotFoundError } from '../../core/errors.ts'
import { type AdminAuth, requirePanelAuth } from '../admin-auth/admin-auth.ts'
import type { KeyTester } from '../assembly-client/key-test.ts'
import type { KeyTests } from './key-tests.ts'

export interface KeyTestRoutesDeps {
	auth: AdminAuth
	tests: KeyTests
	tester: KeyTester
}

const tags = ['Admin']
const security = [{ bearer: [] }]
const model = t.Optional(t.String({ minLength: 1, maxLength: 200 }))

export const keyTestRoutes = (deps: KeyTestRoutesDeps) => {
	/** A model the catalog does not list would test the model, not the key. */
	const checkModel = async (name: string | undefined) => {
		if (name !== undefined && !(await deps.tester.knows(name)))
			throw new BadRequestError(`Model ${name} is not in the upstream catalog.`, 'model', 'model_not_found')
	}
	return new Elysia({ name: 'key-test-routes', prefix: '/admin' })
		.onTransform(requirePanelAuth(deps.auth))
		.post(
			'/keys/test',
			async ({ body }) => {
				await checkModel(body?.model)
				const results = await deps.tests.testMany(body?.ids, body?.model)
				return { results: results.map(({ id, result }) => result ?? { id, error: 'key_not_found' }) }
			},
			{
				body: t.Optional(t.Object({ ids: t.Optional(t.Array(t.String({ minLength: 1, maxLength: 200 }), { minItems: 1, maxItems: 1000 })), model })),
				detail: {
					summary: 'Test every upstream key, or a batch',
					description:
						'Body (optional) `{"ids":[...],"model":"..."}`: without ids every key is tested. One one-token call per key on `model`, or the cheapest model of the catalog. Each result (time, status, latency) is kept with the key and shown in GET /admin/keys; a 401/403 bans the key with AUTO_BAN, else marks it failing; a success lifts the failing mark. Nearly every key refused at once is an incident: nothing is banned for it.',
					tags,
					security,
				},
			},
		)
		.post(
			'/keys/:id/test',
			async ({ params, body }) => {
				await checkModel(body?.model)
				const result = await deps.tests.test(params.id, body?.model)
				if (!result) throw new NotFoundError(`No key with id ${params.id}`, 'key_not_found')
				return result
			},
			{
				body: t.Optional(t.Object({ model })),
				detail: {
					summary: 'Test one upstream key',
					description:
						'Body (optional) `{"model":"..."}`: default the cheapest model of the catalog. Answers {id, key (masked), ok, status, latency_ms, model, text, at}; the result is kept with the key and learned from as POST /admin/keys/test says.',
					tags,
					security,
				},
			},
		)
}
