#!/usr/bin/env bash
# Build a Debian base image with systemd as PID 1 and Python 3 for Ansible,
# from Debian's archive with debootstrap + docker import (no registry pull).
# Cached: the image tag carries a hash of this recipe and the host's apt
# configuration, so it is rebuilt only when one of them changes.
#
# usage: tools/images/debian.sh [bookworm|trixie]   -> prints the image name
source "$(dirname "$0")/../lib.sh"

SUITE="${1:-bookworm}"
case "$SUITE" in
  bookworm) NAME=debian12 ;;
  trixie) NAME=debian13 ;;
  *) die "unknown suite $SUITE (bookworm or trixie)" ;;
esac
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
PACKAGES="systemd,systemd-sysv,dbus,python3,python3-apt,sudo,procps,iproute2,ca-certificates,gnupg,locales,netbase,less"
# The host's Debian codename (empty on other distributions): its apt sources
# are rewritten from that codename to $SUITE, whichever release the host runs.
os_release() { sed -n "s/^$1=\"\{0,1\}\([^\"]*\)\"\{0,1\}\$/\1/p" /etc/os-release 2>/dev/null | head -1; }
HOST_ID="$(os_release ID)"
HOST_CODENAME="$(os_release VERSION_CODENAME)"
[[ $HOST_ID == debian ]] || HOST_CODENAME=""

# Local apt settings of the host (proxy, mirror, credentials): every file in
# apt.conf.d that no installed package ships (package-owned files there are
# hooks for programs the image does not have), and every auth file.
HOST_APT_CONF=()
for f in /etc/apt/apt.conf.d/* /etc/apt/auth.conf /etc/apt/auth.conf.d/*; do
  [[ -f $f ]] || continue
  if [[ $f == /etc/apt/apt.conf.d/* ]] && command -v dpkg-query >/dev/null && dpkg-query -S "$f" >/dev/null 2>&1; then
    continue
  fi
  HOST_APT_CONF+=("$f")
done
HOST_APT_SOURCES=()
if [[ -n $HOST_CODENAME ]]; then
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/debian.sources; do
    [[ -f $f ]] && HOST_APT_SOURCES+=("$f")
  done
fi

hash_inputs=("$0")
[[ ${#HOST_APT_SOURCES[@]} -gt 0 ]] && hash_inputs+=("${HOST_APT_SOURCES[@]}")
[[ ${#HOST_APT_CONF[@]} -gt 0 ]] && hash_inputs+=("${HOST_APT_CONF[@]}")
TAG="$(printf '%s %s %s\n' "$SUITE" "$PACKAGES" "${hash_inputs[*]}" | cat - "${hash_inputs[@]}" | sha256sum | cut -c1-12)"
IMAGE="kraft-kafka/$NAME"

if docker image inspect "$IMAGE:$TAG" >/dev/null 2>&1; then
  log "base image $IMAGE:$TAG is up to date (cached)"
  docker tag "$IMAGE:$TAG" "$IMAGE:latest"
  echo "$IMAGE:latest"
  exit 0
fi

command -v debootstrap >/dev/null || {
  log "installing debootstrap"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q debootstrap >/dev/null 2>&1 || {
    apt-get update -q >/dev/null
    apt-get install -y -q debootstrap >/dev/null
  }
}

ROOTFS="$CACHE_DIR/rootfs-$NAME"
rm -rf "$ROOTFS"
mkdir -p "$ROOTFS"
log "debootstrap $SUITE into $ROOTFS"
debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$ROOTFS" "$MIRROR" \
  >"$CACHE_DIR/debootstrap-$NAME.log" 2>&1 || {
  tail -30 "$CACHE_DIR/debootstrap-$NAME.log" >&2
  die "debootstrap $SUITE failed"
}

# Reuse the host's apt configuration so apt-get works inside containers,
# pointing the sources at the image's own suite (bookworm-updates ->
# trixie-updates, ...). A non-Debian host keeps debootstrap's sources.list
# ($MIRROR $SUITE main).
if [[ ${#HOST_APT_SOURCES[@]} -gt 0 ]]; then
  rm -f "$ROOTFS/etc/apt/sources.list"
  for f in "${HOST_APT_SOURCES[@]}"; do
    [[ $f == */sources.list ]] && ! grep -q '^deb ' "$f" && continue
    sed "s/\\<$HOST_CODENAME\\>/$SUITE/g" "$f" >"$ROOTFS$f"
  done
fi
for f in "${HOST_APT_CONF[@]}"; do
  mkdir -p "$ROOTFS$(dirname "$f")"
  cp -f "$f" "$ROOTFS$f"
done

# Container-friendly systemd: no gettys, no udev, no kernel tunables.
chroot "$ROOTFS" systemctl mask getty.target console-getty.service \
  systemd-udevd.service systemd-udev-trigger.service systemd-modules-load.service \
  sys-kernel-debug.mount sys-kernel-tracing.mount systemd-remount-fs.service \
  systemd-firstboot.service >/dev/null 2>&1 || true
: >"$ROOTFS/etc/machine-id"
echo "en_US.UTF-8 UTF-8" >"$ROOTFS/etc/locale.gen"
chroot "$ROOTFS" locale-gen >/dev/null 2>&1 || true
rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/*

log "importing $IMAGE:$TAG"
tar -C "$ROOTFS" -c . | docker import \
  --change 'ENV container=docker' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["/lib/systemd/systemd"]' \
  - "$IMAGE:$TAG" >/dev/null
docker tag "$IMAGE:$TAG" "$IMAGE:latest"
rm -rf "$ROOTFS"
log "built $IMAGE:$TAG"
echo "$IMAGE:latest"
