#!/usr/bin/env bash
# Builds a stand-in for ghcr.io/home-assistant/base-debian:<SUITE> (the multi-arch Debian base,
# the Dockerfile's default BUILD_FROM) from Debian packages only (no container registry is
# reachable in CI), for the container smoke test, which also tags it under that name. Prints
# the image tag. Cached: the tag carries a hash of this script, so it is built once per machine and again
# only when this script changes.
#
# What it has in common with the real base: the same Debian suite and apt sources, bash,
# ca-certificates, tzdata, ENTRYPOINT /init with s6 supervising /etc/services.d, and the paths
# the add-on's scripts use (/usr/bin/with-contenv, /run/s6/basedir/bin/halt,
# /run/s6-linux-init-container-results/exitcode). What it lacks: s6-overlay itself (its /init,
# s6-rc, cont-init.d, with-contenv's environment store), bashio, tempio. The shims below are
# small sh scripts around Debian's s6. Test-only addition: the host's extra CA certificates
# (NODE_EXTRA_CA_CERTS points at the bundle) so npm works behind a TLS-inspecting proxy.
#
# Needs root, debootstrap and podman (CONTAINERS_CONF as in .ci/run).
set -euo pipefail

SUITE=trixie
here=$(cd "$(dirname "$0")" && pwd)
# Extra CAs the host trusts (e.g. a TLS-inspecting egress proxy in CI) go into the stand-in
# too, or npm inside the build could not reach the registry; they are part of the cache key.
extra_cas=(/usr/local/share/ca-certificates/*.crt)
[ -e "${extra_cas[0]}" ] || extra_cas=()
hash=$(cat "$here/standin-base.sh" "${extra_cas[@]}" | sha256sum | cut -c1-12)
TAG="localhost/ecu-proxy-standin-base:${SUITE}-${hash}"

if podman image exists "$TAG"; then
  echo "$TAG"
  exit 0
fi

# One build at a time on this machine (several worktrees may run their tests at once).
exec 9>/tmp/ecu-proxy-standin-base.lock
flock 9
if podman image exists "$TAG"; then
  echo "$TAG"
  exit 0
fi

mirror=http://deb.debian.org/debian
if [ -r /etc/apt/sources.list.d/debian.sources ]; then
  found=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  mirror=${found:-$mirror}
fi

work=$(mktemp -d /tmp/ecu-proxy-standin.XXXXXX)
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"

echo "building $TAG from $mirror (debootstrap $SUITE, about a minute)" >&2
debootstrap --variant=minbase --include=bash,ca-certificates,tzdata,s6 \
  "$SUITE" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -20 "$work/debootstrap.log" >&2
  exit 1
}

# apt sources like a Debian image: the suite, its updates and security.
rm -f "$rootfs/etc/apt/sources.list"
security=${mirror%/debian}/debian-security
cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
if [ ${#extra_cas[@]} -gt 0 ]; then
  cp "${extra_cas[@]}" "$rootfs/usr/local/share/ca-certificates/"
  chroot "$rootfs" update-ca-certificates >/dev/null 2>&1
fi
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/archives/*.deb

# /init: what s6-overlay's /init does for legacy services — copy /etc/services.d to a writable
# scan directory, supervise it with s6-svscan, stop everything on SIGTERM, and exit with the code
# a finish script wrote to /run/s6-linux-init-container-results/exitcode.
cat >"$rootfs/init" <<'EOF'
#!/bin/sh
set -eu
results=/run/s6-linux-init-container-results
mkdir -p /run/service /run/s6/basedir/bin "$results"
printf '#!/bin/sh\nexec s6-svscanctl -t /run/service\n' >/run/s6/basedir/bin/halt
chmod 755 /run/s6/basedir/bin/halt
for dir in /etc/services.d/*/; do
  [ -d "$dir" ] && cp -a "$dir" /run/service/
done
s6-svscan /run/service &
svscan=$!
trap 's6-svscanctl -t /run/service' TERM INT
while kill -0 "$svscan" 2>/dev/null; do
  wait "$svscan" || true
done
code=$(cat "$results/exitcode" 2>/dev/null || true)
exit "${code:-0}"
EOF
# with-contenv: s6-overlay restores the container environment for the script; s6-svscan here
# already passes it on, so the shim only runs the interpreter.
cat >"$rootfs/usr/bin/with-contenv" <<'EOF'
#!/bin/sh
exec "$@"
EOF
chmod 755 "$rootfs/init" "$rootfs/usr/bin/with-contenv"

tar -C "$rootfs" -c . | podman import --quiet \
  --change 'ENTRYPOINT ["/init"]' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
  - "$TAG" >/dev/null
echo "$TAG"
