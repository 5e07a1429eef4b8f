/**
 * `/swagger` (Swagger UI) and `/swagger/json` (the OpenAPI document). The UI's assets are served
 * from our own routes out of `swagger-ui-dist`: the docs work offline, no CDN.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { openapi } from '@elysiajs/openapi'
import { Elysia } from 'elysia'

const require = createRequire(import.meta.url)

function asset(file: string): string {
	return readFileSync(require.resolve(`swagger-ui-dist/${file}`), 'utf8')
}

export const docs = (options: { version: string }) => {
	const css = asset('swagger-ui.css')
	const bundle = asset('swagger-ui-bundle.js')
	const cached = (body: string, type: string) => new Response(body, { headers: { 'content-type': type, 'cache-control': 'public, max-age=86400' } })
	return new Elysia({ name: 'docs', seed: options })
		.get('/swagger/assets/swagger-ui.css', () => cached(css, 'text/css; charset=utf-8'), { detail: { hide: true } })
		.get('/swagger/assets/swagger-ui-bundle.js', () => cached(bundle, 'text/javascript; charset=utf-8'), { detail: { hide: true } })
		.use(
			openapi({
				provider: 'swagger-ui',
				path: '/swagger',
				specPath: '/swagger/json',
				exclude: { paths: [/^\/ui/, /^\/swagger/] },
				swagger: { theme: '/swagger/assets/swagger-ui.css', cdn: '/swagger/assets/swagger-ui-bundle.js', autoDarkMode: false },
				documentation: {
					info: {
						title: 'amb2api',
						version: options.version,
						description:
							'OpenAI-compatible gateway in front of the AssemblyAI LLM Gateway. `/v1/*` takes the API password (or a client key) as a bearer token; `/admin/*` takes the panel password.',
					},
					tags: [
						{ name: 'OpenAI', description: 'The OpenAI-compatible API (chat completions, Responses)' },
						{ name: 'Anthropic', description: 'The Anthropic Messages API (x-api-key or bearer; Anthropic error envelope)' },
						{ name: 'Admin', description: 'Operator API (panel password)' },
						{ name: 'System', description: 'Health' },
					],
					components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' } } },
				},
			}),
		)
}
