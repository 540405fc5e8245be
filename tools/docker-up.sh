#!/usr/bin/env bash
# Make a Docker engine available: install Debian's docker.io when dockerd is
# missing, start dockerd when nothing answers on the socket, wait for it.
# A no-op when `docker info` already works; touches nothing else.
source "$(dirname "$0")/lib.sh"

if docker info >/dev/null 2>&1; then
  log "Docker engine already running"
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
  log "installing Debian's docker.io"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  # --no-install-recommends: no extra services (e.g. a second containerd config)
  apt-get install -y -q --no-install-recommends docker.io iptables >/dev/null
fi
command -v docker >/dev/null 2>&1 || die "docker client missing after installing docker.io"

mkdir -p "$CACHE_DIR"
if ! pgrep -x dockerd >/dev/null 2>&1; then
  log "starting dockerd (log: $CACHE_DIR/dockerd.log)"
  # setsid: keep dockerd alive after this script's shell exits.
  setsid dockerd >"$CACHE_DIR/dockerd.log" 2>&1 </dev/null &
fi

for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    log "Docker engine up: $(docker version --format '{{.Server.Version}}' 2>/dev/null)"
    exit 0
  fi
  sleep 1
done
tail -20 "$CACHE_DIR/dockerd.log" >&2 || true
die "dockerd did not answer on its socket within 60s"
