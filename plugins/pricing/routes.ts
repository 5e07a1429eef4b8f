/** GET/PUT /admin/prices: the price list with its sources, and the operator's overrides. */
import { Elysia, t } from 'elysia'
import { BadRequestError } from '../../core/errors.ts'
import { type AdminAuth, requirePanelAuth } from '../admin-auth/admin-auth.ts'
import type { PriceBook } from './price-book.ts'
import { type ModelPrices, readOverride } from './prices.ts'

const tags = ['Admin']
const security = [{ bearer: [] }]
const MODEL_ID = /^[A-Za-z0-9][A-Za-z0-9._:/@-]{0,199}$/

export const pricesAdmin = (deps: { auth: AdminAuth; book: PriceBook }) =>
	new Elysia({ name: 'prices-admin', prefix: '/admin' })
		.onTransform(requirePanelAuth(deps.auth))
		.get('/prices', async () => ({ unit: 'USD per million tokens', models: await deps.book.list() }), {
			detail: {
				summary: 'Model prices and their source',
				description:
					"Every model of the upstream catalog and every override: `prices` is what is charged (the override when there is one, else the catalog's `pricing`), `source` is `override`, `catalog` or `unpriced` (no price: its tokens are counted, its cost is unknown, never $0). Prices are USD per million tokens per tier (`global`, `us`, `eu`).",
				tags,
				security,
			},
		})
		.put(
			'/prices',
			async function putPrices({ body }) {
				const changes: Record<string, ModelPrices | null> = {}
				for (const [model, value] of Object.entries(body.prices)) {
					if (!MODEL_ID.test(model)) throw new BadRequestError(`Not a model id: ${JSON.stringify(model.slice(0, 60))}`, 'prices', 'invalid_model')
					if (value === null) {
						changes[model] = null
						continue
					}
					const prices = readOverride(value)
					if (typeof prices === 'string') throw new BadRequestError(`Prices of ${model}: ${prices}`, `prices.${model}`, 'invalid_prices')
					changes[model] = prices
				}
				await deps.book.setOverrides(changes)
				return { models: (await deps.book.list()).filter((row) => row.model in changes) }
			},
			{
				body: t.Object({ prices: t.Record(t.String({ minLength: 1, maxLength: 200 }), t.Unknown(), { maxProperties: 1000 }) }),
				detail: {
					summary: 'Override model prices',
					description:
						'`prices`: model id -> its prices (`global` required, `us`/`eu` optional; each `{prompt, completions, input_cache_read?, input_cache_write?, input_cache_write_1h?}` in USD per million tokens, 0..100000), or null to remove the override and use the catalog again. Stored before the answer; other instances use it within seconds.',
					tags,
					security,
				},
			},
		)
