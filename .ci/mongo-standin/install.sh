#!/usr/bin/env bash
# Installs the MongoDB stand-in in this folder; a no-op when it is already here.
# - the runtime dependencies of the CongoDB engine, pinned in package.json + bun.lock;
# - the engine itself: dist_ts/congodb of @push.rocks/smartmongo 2.2.0, fetched with `npm pack`
#   (the package as a whole does not install: some of its many dependencies are missing from the
#   registry), checked against the registry's sha512, and extracted to ./congodb.
# Exits non-zero when anything fails; .ci/run then warns and the MongoDB tests skip.
set -euo pipefail
cd "$(dirname "$0")"
VERSION=2.2.0
INTEGRITY='sha512-ovVCNoJ3D0aBuKtoKaQWWQKvBngaGJq9fAPQigzji1EHsS1XyGpXWCpe5nq/ptGvBROOcpqZcOFEGAcrnb+OjA=='

timeout 300 bun install --frozen-lockfile --silent

if [ ! -f congodb/.version ] || [ "$(cat congodb/.version)" != "$VERSION" ]; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	(cd "$tmp" && timeout 120 npm pack --silent "@push.rocks/smartmongo@$VERSION" >/dev/null)
	tgz="$tmp/push.rocks-smartmongo-$VERSION.tgz"
	got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
	if [ "$got" != "$INTEGRITY" ]; then
		echo "smartmongo $VERSION tarball: integrity $got, expected $INTEGRITY" >&2
		exit 1
	fi
	tar -xzf "$tgz" -C "$tmp" package/dist_ts/congodb
	rm -rf congodb
	mv "$tmp/package/dist_ts/congodb" congodb
	echo "$VERSION" >congodb/.version
fi
