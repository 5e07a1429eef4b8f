/**
 * The caller of an OpenAI-style /v1 request: `Authorization: Bearer <API password or client
 * key>` (or `x-api-key`, which Anthropic clients send, where a route accepts it), checked through
 * the authenticator with the request, so wrong tokens are throttled per address. 401 in OpenAI
 * error JSON when it is missing or opens nothing. Every OpenAI-shaped route resolves its caller
 * here; /v1/messages renders its own envelope.
 */
import { AuthenticationError } from '../../core/errors.ts'
import { bearerToken } from '../../core/secrets.ts'
import type { ApiAuthenticator, Principal } from './api-auth.ts'

export async function bearerCaller(
	auth: ApiAuthenticator,
	headers: Record<string, string | undefined>,
	request: Request,
	options: { apiKeyHeader?: boolean } = {},
): Promise<Principal> {
	const token = bearerToken(headers.authorization) ?? (options.apiKeyHeader ? headers['x-api-key']?.trim() || null : null)
	if (!token) throw new AuthenticationError('Missing API key. Send "Authorization: Bearer <API password or client key>".', 'missing_api_key')
	const principal = await auth.authenticate(token, request)
	if (!principal) throw new AuthenticationError()
	return principal
}
