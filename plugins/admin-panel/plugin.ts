/** /ui: the operator's panel, server-rendered HTML with htmx partials; a page per concern, shown when its plugin is on. */
import type { AnyElysia } from 'elysia'
import { definePlugin } from '../../core/plugin.ts'
import { clientsPage } from './clients-page.ts'
import type { PanelKit } from './http.ts'
import { keysPage } from './keys-page.ts'
import { logsPage } from './logs-page.ts'
import { modelsPage } from './models-page.ts'
import { overviewPage } from './overview-page.ts'
import { performancePage } from './performance-page.ts'
import { playgroundRoutes } from './playground-page.ts'
import { quotasPage } from './quotas-page.ts'
import { requestsPage } from './requests-page.ts'
import { panelShell } from './routes.ts'
import { settingsPage } from './settings-page.ts'
import { storagePage } from './storage-page.ts'
import { usagePage } from './usage-page.ts'

export const plugin = definePlugin({
	name: 'admin-panel',
	description: 'the operator panel at /ui (server-rendered HTML + htmx)',
	optional: true,
	needs: ['adminAuth', 'pool', 'storage', 'settings', 'settingsWatch', 'ring', 'now'],
	uses: ['usage', 'quota', 'clientKeys', 'catalog', 'modelSelection', 'keyTester', 'keyTests', 'requestLog', 'requestFigures', 'chat', 'pricing'],
	setup: ({ services: s, config, loaded }) => {
		const available = new Set<string>(['overview', 'keys', 'settings', 'logs', 'storage'])
		if (s.catalog && s.modelSelection) available.add('models')
		if (s.usage) available.add('usage')
		if (s.requestLog) available.add('requests')
		if (s.requestFigures) available.add('performance')
		if (s.quota) available.add('quotas')
		if (s.clientKeys) available.add('clients')
		if (s.chat && s.catalog) available.add('playground')
		const kit: PanelKit = { auth: s.adminAuth, available, now: s.now }
		let routes: AnyElysia = panelShell(kit)
			.use(overviewPage(kit, { pool: s.pool, storage: s.storage, ...(s.requestFigures ? { figures: s.requestFigures } : {}) }))
			.use(keysPage(kit, { pool: s.pool, storage: s.storage, keyTests: s.keyTests, keyTester: s.keyTester, catalog: s.catalog }))
			.use(settingsPage(kit, { catalog: s.settings, watch: s.settingsWatch }))
			.use(logsPage(kit, { ring: s.ring, file: config.log.file || null }))
			.use(storagePage(kit, { storage: s.storage, shared: !loaded.includes('storage-file') && s.storage.kind !== 'memory', incident: () => s.pool.incident() }))
		if (s.catalog && s.modelSelection) routes = routes.use(modelsPage(kit, { catalog: s.catalog, selection: s.modelSelection, pricing: s.pricing }))
		if (s.requestLog) routes = routes.use(requestsPage(kit, { requests: s.requestLog }))
		if (s.requestFigures) routes = routes.use(performancePage(kit, { figures: s.requestFigures }))
		if (s.usage) routes = routes.use(usagePage(kit, { usage: s.usage, pool: s.pool, clientKeys: s.clientKeys }))
		if (s.quota) routes = routes.use(quotasPage(kit, { quota: s.quota, pool: s.pool, catalog: s.catalog }))
		if (s.clientKeys) routes = routes.use(clientsPage(kit, { clientKeys: s.clientKeys }))
		if (s.chat && s.catalog) {
			const settings = s.settings
			// Read at each request: the settings page may change them while the app runs.
			const upstream = () => {
				const view = settings.view()
				const value = (env: string) => view.find((x) => x.env === env)?.value
				const endpoint = value('ASSEMBLY_ENDPOINT')
				const region = value('MODEL_REGION')
				return { endpoint: typeof endpoint === 'string' ? endpoint : '', modelRegion: typeof region === 'string' && region ? region : null }
			}
			routes = routes.use(playgroundRoutes(kit, { chat: s.chat, catalog: s.catalog, pool: s.pool, ...(s.pricing ? { pricing: s.pricing } : {}), upstream }))
		}
		return { routes }
	},
})
