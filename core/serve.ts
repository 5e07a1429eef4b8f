/**
 * Long streams and the server's idle timeout. Bun's `idleTimeout` (255 s at most) cuts a
 * response whose body is still streaming, however many bytes it writes (measured on Bun 1.4.5: a
 * stream writing every 0.5 s under `idleTimeout: 2` was reset after 4 s). An SSE answer therefore
 * lifts the timeout for its own request; it stays bounded by the upstream silence watchdog
 * (UPSTREAM_TIMEOUT) and ends when the client leaves. Every other request keeps the idle timeout.
 */

/** What a server offers to lift the idle timeout of one request (Bun's `server.timeout`). */
export interface IdleTimeoutControl {
	timeout(request: Request, seconds: number): void
}

export function liftIdleTimeoutForStreams(
	fetch: (request: Request) => Response | Promise<Response>,
): (request: Request, server?: IdleTimeoutControl) => Promise<Response> {
	return async (request, server) => {
		const response = await fetch(request)
		if (server && response.body && (response.headers.get('content-type') ?? '').startsWith('text/event-stream')) server.timeout(request, 0)
		return response
	}
}
