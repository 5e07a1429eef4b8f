/**
 * The one error plugin, registered first with global scope: every thrown catalogue error
 * becomes its status and OpenAI error JSON; Elysia's own errors (unknown route, unparsable body,
 * schema validation) get the same shape; anything else is a bug: logged, answered with a
 * generic 500 that leaks nothing. Every error JSON carries the request's id (`error.request_id`).
 */
import { Elysia } from 'elysia'
import { BadRequestError, GatewayError, InternalError, NotFoundError, PayloadTooLargeError } from './errors.ts'
import type { Logger, SecretRegistry } from './log.ts'
import { capText, PATH_MAX } from './log-fields.ts'
import { requestIdOf } from './request-id.ts'

export const errorHandler = (log: Logger, secrets?: SecretRegistry) => {
	// Every client-facing message goes through the same scrubber as the log.
	const scrub = secrets ? (text: string) => secrets.scrub(text) : undefined
	// Destructured on purpose: Elysia reads a hook's parameters to decide what each route must
	// prepare, and a hook taking the whole context makes every route parse cookies, query and body.
	const plugin = new Elysia({ name: 'error-handler' }).onError({ as: 'global' }, function renderError({ code, error, request, path, set }) {
		const response = render({ code, error, request, path })
		// The request's log line and metrics read the status from `set`: an unmatched route is a 404 there too.
		set.status = response.status
		return response
	})
	function render({ code, error, request, path }: { code: unknown; error: unknown; request: Request; path: string }): Response {
		const id = requestIdOf(request)
		if (error instanceof GatewayError) return error.toResponse(id, scrub)
		switch (code) {
			case 'NOT_FOUND':
				return new NotFoundError(`Unknown route: ${capText(request.method, 32)} ${capText(path, PATH_MAX)}`, 'unknown_route').toResponse(id, scrub)
			case 'PARSE':
				// A body cut at MAX_BODY_SIZE while Elysia parsed it (core/body-limit.ts) is a 413, not a 400.
				if ((error as { cause?: unknown }).cause instanceof PayloadTooLargeError) return (error as { cause: PayloadTooLargeError }).cause.toResponse(id, scrub)
				return new BadRequestError('Request body could not be parsed.', null, 'invalid_body').toResponse(id, scrub)
			case 'VALIDATION': {
				const first = (error as { all?: { path?: string; summary?: string; message?: string }[] }).all?.[0]
				const param = first?.path ? first.path.replace(/^\//, '').replace(/\//g, '.') : null
				return new BadRequestError(
					`Invalid request${param ? ` at ${param}` : ''}: ${first?.summary ?? first?.message ?? 'validation failed'}`,
					param,
					'invalid_request',
				).toResponse(id, scrub)
			}
			case 'INVALID_COOKIE_SIGNATURE':
				return new BadRequestError('Invalid cookie.', null, 'invalid_cookie').toResponse(id, scrub)
		}
		// A message may quote the client's input: capped like every logged field the client controls.
		const err =
			error instanceof Error ? { message: capText(error.message, 2000), stack: error.stack && capText(error.stack, 8000) } : capText(String(error), 2000)
		log.error({ request_id: id, err, path: capText(path, PATH_MAX) }, 'unhandled error')
		return new InternalError().toResponse(id, scrub)
	}
	return plugin
}
