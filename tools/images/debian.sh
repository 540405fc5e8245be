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
HOST_APT_FILES=(/etc/apt/sources.list /etc/apt/sources.list.d/debian.sources /etc/apt/apt.conf.d/99artifact-registry)

hash_inputs=("$0")
for f in "${HOST_APT_FILES[@]}"; do [[ -f "$f" ]] && hash_inputs+=("$f"); done
TAG="$(printf '%s %s\n' "$SUITE" "$PACKAGES" | cat - "${hash_inputs[@]}" | sha256sum | cut -c1-12)"
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
# pointing the sources at the image's own suite.
rm -f "$ROOTFS/etc/apt/sources.list"
if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
  sed "s/bookworm/$SUITE/g" /etc/apt/sources.list.d/debian.sources >"$ROOTFS/etc/apt/sources.list.d/debian.sources"
fi
if [[ -f /etc/apt/sources.list ]] && grep -q '^deb ' /etc/apt/sources.list; then
  sed "s/bookworm/$SUITE/g" /etc/apt/sources.list >"$ROOTFS/etc/apt/sources.list"
fi
cp -f /etc/apt/apt.conf.d/99artifact-registry "$ROOTFS/etc/apt/apt.conf.d/" 2>/dev/null || true

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
