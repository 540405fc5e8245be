# Shared helpers for the tools/ scripts. Sourced, not executed.
# shellcheck shell=bash
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE_DIR="${KRAFT_CACHE_DIR:-$REPO_ROOT/.cache}"
VENV_DIR="${KRAFT_VENV_DIR:-$REPO_ROOT/.venv}"
export REPO_ROOT CACHE_DIR VENV_DIR

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# stage NAME CMD...: run a stage and print how long it took, so CI logs show
# where the time goes.
stage() {
  local name="$1"; shift
  local t0 t1
  t0=$(date +%s)
  log "=== stage: $name"
  "$@"
  t1=$(date +%s)
  log "=== stage: $name done in $((t1 - t0))s"
  printf '%s\t%s\n' "$name" "$((t1 - t0))" >>"$CACHE_DIR/stage-times.tsv"
}

# Hash of files, for "rebuild only when the recipe changes" caches.
recipe_hash() { cat "$@" | sha256sum | cut -c1-16; }

# Default Kafka version of the collection (single source of truth:
# roles/kafka_install/defaults/main.yml).
default_kafka_version() {
  sed -n 's/^kafka_version: *"\{0,1\}\([0-9.]*\)"\{0,1\}.*/\1/p' \
    "$REPO_ROOT/roles/kafka_install/defaults/main.yml" | head -1
}
