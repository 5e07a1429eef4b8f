/**
 * Who is calling: the peer address of the connection, and the client behind a trusted reverse
 * proxy. The runtime entry (main.ts for Bun, main.deno.ts for Deno) records each request's peer
 * address here; `X-Forwarded-For` and `X-Forwarded-Proto` are believed only when the peer is one
 * of the configured trusted proxies (TRUSTED_PROXY), never from anyone else.
 */

const peers = new WeakMap<Request, string>()

/** `::ffff:1.2.3.4` and `1.2.3.4` are one address. */
export function normalizeAddress(address: string): string {
	const trimmed = address.trim().toLowerCase()
	return trimmed.startsWith('::ffff:') && trimmed.includes('.') ? trimmed.slice(7) : trimmed
}

/** Called by the runtime entry for each request it serves. */
export function setPeerAddress(request: Request, address: string | null | undefined): void {
	if (address) peers.set(request, normalizeAddress(address))
}

/** A request rebuilt from another (a body wrapped in a counter) keeps its peer. */
export function copyPeerAddress(from: Request, to: Request): void {
	const address = peers.get(from)
	if (address) peers.set(to, address)
}

/** The connection's peer, or `unknown` (app.handle in tests, or a runtime that does not say). */
export function peerAddress(request: Request): string {
	return peers.get(request) ?? 'unknown'
}

/**
 * The client's address: the peer, or, when the peer is a trusted proxy, the right-most
 * `X-Forwarded-For` entry that is not itself a trusted proxy.
 */
export function clientAddress(request: Request, trusted: ReadonlySet<string>): string {
	const peer = peerAddress(request)
	if (!trusted.has(peer)) return peer
	const forwarded = (request.headers.get('x-forwarded-for') ?? '').split(',').map(normalizeAddress).filter(Boolean)
	for (let i = forwarded.length - 1; i >= 0; i--) {
		const hop = forwarded[i] as string
		if (!trusted.has(hop)) return hop
	}
	return peer
}

/** Whether the client reached us over HTTPS: the URL's scheme, or a trusted proxy's `X-Forwarded-Proto`. */
export function isHttps(request: Request, trusted: ReadonlySet<string>): boolean {
	if (request.url.startsWith('https:')) return true
	if (!trusted.has(peerAddress(request))) return false
	const proto = request.headers.get('x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase()
	return proto === 'https'
}
