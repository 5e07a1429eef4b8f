#!/usr/bin/env bash
# Builds the Dockerfile unchanged and runs the image, without a container registry:
#   1. a stand-in for the base image (oven/bun:<version>-slim): a Debian rootfs made with
#      debootstrap from the mirror apt already uses, the host's Bun in /usr/local/bin, a "bun"
#      user (uid 1000), and the CA bundle the host trusts (NODE_EXTRA_CA_CERTS), which the package
#      registry needs; cached under /var/cache/amb2api-image between runs;
#   2. imported with `podman import`, tagged as the Dockerfile's FROM;
#   3. `podman build` (vfs storage, chroot isolation, --pull=never, --network host);
#   4. served with `buildah run` (the OCI runtime cannot set rlimits here), and checked: runs as
#      a non-root user; /health, /ui and /swagger answer; one chat goes through to a fake
#      upstream on the host.
# Prints exactly one result line: "image check: N passed, M failed" or "image check: skipped (...)".
# Exit status: 0 passed or skipped, 1 failed.
set -uo pipefail
cd "$(dirname "$0")/.."

log() { printf '[image] %s\n' "$*" >&2; }
skip() {
	echo "image check: skipped ($*)"
	exit 0
}
passed=0
failed=0
check() { # check <name> <command...>
	local name=$1
	shift
	if "$@"; then
		passed=$((passed + 1))
		log "ok: $name"
	else
		failed=$((failed + 1))
		log "FAILED: $name"
	fi
}

started=$(date +%s)
STORE=(--storage-driver vfs)
CACHE=/var/cache/amb2api-image
TAG=amb2api:image-check

# --- tools --------------------------------------------------------------------------------
if ! command -v podman >/dev/null || ! command -v buildah >/dev/null || ! command -v debootstrap >/dev/null; then
	log "installing podman, buildah and debootstrap"
	{ DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman buildah debootstrap uidmap; } >/dev/null 2>&1
fi
command -v podman >/dev/null && command -v buildah >/dev/null && command -v debootstrap >/dev/null ||
	skip "podman, buildah or debootstrap cannot be installed"
command -v bun >/dev/null || skip "no bun on the host to put into the stand-in base image"

BASE=$(sed -n 's/^FROM \([^ ]*\).*/\1/p' Dockerfile | head -1)
[ -n "$BASE" ] || { echo "image check: 0 passed, 1 failed (no FROM in the Dockerfile)"; exit 1; }
BUN_BIN=$(command -v bun)
CA=${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}
MIRROR=$(sed -n 's/^URIs: *\(http[^ ]*debian\)$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
# Otherwise the classic sources.list; no mirror of our own choosing, only the one apt already uses.
[ -n "$MIRROR" ] || MIRROR=$(sed -n 's/^deb \(http[^ ]*\) .*/\1/p' /etc/apt/sources.list 2>/dev/null | head -1)
[ -n "$MIRROR" ] || skip "no Debian mirror configured for apt"
SUITE=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")

# --- the stand-in base image ----------------------------------------------------------------
# The cache key: suite, the host's Bun binary and the CA bundle (a new Bun or CA makes a new rootfs).
RECIPE=2 # bump when the recipe below changes
key=$( (echo "$RECIPE"; cat "$BUN_BIN" "$CA") 2>/dev/null | sha256sum | cut -c1-16)
tarball="$CACHE/rootfs-$SUITE-$key.tar"
mkdir -p "$CACHE"
if [ ! -s "$tarball" ]; then
	log "making the stand-in rootfs ($SUITE from $MIRROR; once, then cached in $CACHE)"
	root=$(mktemp -d /var/tmp/amb2api-rootfs.XXXXXX)
	if ! debootstrap --variant=minbase "$SUITE" "$root" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1; then
		rm -rf "$root"
		tail -5 "$CACHE/debootstrap.log" >&2
		skip "debootstrap could not make a Debian rootfs (see $CACHE/debootstrap.log)"
	fi
	install -m 0755 "$BUN_BIN" "$root/usr/local/bin/bun"
	ln -sf bun "$root/usr/local/bin/bunx"
	chroot "$root" groupadd -g 1000 bun && chroot "$root" useradd -u 1000 -g bun -m -s /bin/sh bun
	mkdir -p "$root/etc/ssl/certs"
	cp "$CA" "$root/etc/ssl/certs/ca-certificates.crt"
	rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
	# mktemp made the directory 0700: as the rootfs' "/" it would lock out every user but root.
	chmod 0755 "$root"
	tar -C "$root" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
	rm -rf "$root"
fi
if ! podman "${STORE[@]}" image exists "$BASE" || [ "$(podman "${STORE[@]}" image inspect --format '{{index .Labels "amb2api.standin"}}' "$BASE" 2>/dev/null)" != "$key" ]; then
	log "importing the stand-in as $BASE"
	podman "${STORE[@]}" import \
		--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		--change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
		--change "LABEL amb2api.standin=$key" \
		--change 'CMD ["/usr/local/bin/bun"]' \
		"$tarball" "$BASE" >/dev/null || { echo "image check: 0 passed, 1 failed (podman import)"; exit 1; }
fi

# --- build the Dockerfile unchanged ---------------------------------------------------------
log "podman build (vfs, chroot isolation, --pull=never, --network host)"
build_start=$(date +%s)
previous=$(podman "${STORE[@]}" image inspect --format '{{.Id}}' "$TAG" 2>/dev/null)
if ! podman "${STORE[@]}" build --isolation chroot --pull=never --network host -t "$TAG" -f Dockerfile . >"$CACHE/build.log" 2>&1; then
	tail -20 "$CACHE/build.log" >&2
	echo "image check: 0 passed, 1 failed (podman build; log in $CACHE/build.log)"
	exit 1
fi
build_s=$(($(date +%s) - build_start))
# vfs keeps full copies: the image this run replaced goes (its cached layers stay for the next build).
current=$(podman "${STORE[@]}" image inspect --format '{{.Id}}' "$TAG")
[ -n "$previous" ] && [ "$previous" != "$current" ] && podman "${STORE[@]}" rmi "$previous" >/dev/null 2>&1
# Layers of earlier builds that nothing uses any more (vfs stores each as a full copy).
podman "${STORE[@]}" image prune -f >/dev/null 2>&1
size=$(podman "${STORE[@]}" image inspect --format '{{.Size}}' "$TAG")
log "built $TAG in ${build_s}s, $((size / 1000000)) MB"
passed=$((passed + 1))

# --- a fake upstream on the host ------------------------------------------------------------
work=$(mktemp -d)
fake_pid=
ctr=
serve_pid=
cleanup() {
	# Stop what this script started, by id: the served process tree, the fake upstream, the container.
	if [ -n "$serve_pid" ]; then
		local kids
		kids=$(ps -o pid= --ppid "$serve_pid" 2>/dev/null)
		for k in $kids; do
			for g in $(ps -o pid= --ppid "$k" 2>/dev/null); do kill "$g" 2>/dev/null; done
			kill "$k" 2>/dev/null
		done
		kill "$serve_pid" 2>/dev/null
		wait "$serve_pid" 2>/dev/null
	fi
	[ -n "$fake_pid" ] && kill "$fake_pid" 2>/dev/null && wait "$fake_pid" 2>/dev/null
	[ -n "$ctr" ] && buildah "${STORE[@]}" rm "$ctr" >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT

UPSTREAM_KEY=aai-image-check-key-0001
cat >"$work/fake.ts" <<EOF
import { createFakeGateway } from '$PWD/test/fake-gateway.ts'
const fake = createFakeGateway({ keys: { '$UPSTREAM_KEY': {} } })
console.log(await fake.listen())
EOF
bun "$work/fake.ts" >"$work/fake.out" 2>&1 &
fake_pid=$!
for _ in $(seq 1 50); do grep -q '^http://' "$work/fake.out" && break; sleep 0.1; done
fake_url=$(grep -m1 '^http://' "$work/fake.out")
[ -n "$fake_url" ] || { cat "$work/fake.out" >&2; echo "image check: $passed passed, 1 failed (fake upstream did not start)"; exit 1; }

# --- serve the image --------------------------------------------------------------------------
port=$(bun -e "const s = require('node:net').createServer(); s.listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close() })")
API=image-check-api-$RANDOM$RANDOM
PANEL=image-check-panel-$RANDOM$RANDOM
ctr=$(buildah "${STORE[@]}" from --pull-never "$TAG") || { echo "image check: $passed passed, 1 failed (buildah from)"; exit 1; }
buildah "${STORE[@]}" run --isolation chroot --network host \
	--env PORT="$port" --env HOST=127.0.0.1 --env API_PASSWORD="$API" --env PANEL_PASSWORD="$PANEL" \
	--env ASSEMBLY_API_KEYS="$UPSTREAM_KEY" --env ASSEMBLY_ENDPOINT="$fake_url/v1/chat/completions" \
	"$ctr" -- bun core/main.ts >"$work/serve.out" 2>&1 &
serve_pid=$!
up=0
for _ in $(seq 1 100); do
	curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && { up=1; break; }
	sleep 0.2
done
[ "$up" = 1 ] || { tail -20 "$work/serve.out" >&2; }

user=$(podman "${STORE[@]}" image inspect --format '{{.Config.User}}' "$TAG")
uid=$(buildah "${STORE[@]}" run --isolation chroot --network host "$ctr" -- id -u 2>/dev/null)
check "runs as a non-root user (USER=$user, uid ${uid:-?})" test -n "$uid" -a "$uid" != 0 -a -n "$user" -a "$user" != root
check "GET /health answers 200 ok" sh -c "curl -fsS http://127.0.0.1:$port/health | grep -q '\"status\":\"ok\"'"
check "GET /ui answers" sh -c "curl -fsS -o /dev/null http://127.0.0.1:$port/ui"
check "GET /swagger answers" sh -c "curl -fsS http://127.0.0.1:$port/swagger | grep -qi swagger"
curl -sS -m 20 -o "$work/chat.json" "http://127.0.0.1:$port/v1/chat/completions" -H "authorization: Bearer $API" -H 'content-type: application/json' \
	-d '{"model":"claude-sonnet-4-6","messages":[{"role":"user","content":"hello from the image"}]}' 2>"$work/chat.err"
check "one chat through the fake upstream on the host" grep -q 'Echo: hello from the image' "$work/chat.json"
if [ "$failed" != 0 ]; then
	log "server output:"
	tail -20 "$work/serve.out" >&2
	cat "$work/chat.json" "$work/chat.err" >&2 2>/dev/null
fi

log "total $(($(date +%s) - started))s (build ${build_s}s)"
echo "image check: $passed passed, $failed failed"
[ "$failed" = 0 ]
