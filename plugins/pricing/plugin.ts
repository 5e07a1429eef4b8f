/** Model prices (upstream catalog, operator overrides) and the cost of a request; /admin/prices. */
import { definePlugin } from '../../core/plugin.ts'
import { PriceBook } from './price-book.ts'
import { pricesAdmin } from './routes.ts'

declare module '../../core/plugin.ts' {
	interface Services {
		/** Prices per model and tier, and `costOf` a request's usage. */
		pricing: PriceBook
	}
}

export const plugin = definePlugin({
	name: 'pricing',
	description: 'model prices from the upstream catalog or an override, the cost of each request (/admin/prices)',
	optional: true,
	needs: ['storage', 'log', 'now', 'adminAuth'],
	provides: ['pricing'],
	setup: async ({ services }) => {
		const pricing = new PriceBook({ storage: services.storage, log: services.log, now: services.now })
		await pricing.load()
		return { services: { pricing }, routes: pricesAdmin({ auth: services.adminAuth, book: pricing }) }
	},
})
