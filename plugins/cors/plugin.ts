/** CORS on /v1/* for browser clients (CORS_ALLOW_ORIGINS). */
import { list, spec } from '../../core/config.ts'
import { definePlugin } from '../../core/plugin.ts'
import { cors } from './cors.ts'

export const plugin = definePlugin({
	name: 'cors',
	description: 'CORS on /v1/* for browser clients: preflight and Access-Control-* headers (CORS_ALLOW_ORIGINS)',
	optional: true,
	settings: {
		origins: spec<string[]>(
			'CORS_ALLOW_ORIGINS',
			list,
			['*'],
			'origins allowed to call /v1/* from a browser, comma separated; * = any origin (without credentials); a list echoes the matching origin',
		),
	},
	setup: ({ settings }) => ({ routes: cors({ origins: settings.origins }) }),
})
