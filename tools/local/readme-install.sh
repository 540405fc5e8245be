#!/usr/bin/env bash
# Runs the README's "Install the collection" block verbatim (the ```sh block
# after the marker `<!-- ci: tools/local/readme-install.sh -->`), from the
# checkout, with HOME pointing at an empty directory: a fresh venv, a fresh
# collections path, the tarball built from this checkout, and
# kraft.kafka.cluster_status against the running lab (tools/local/lab-check.sh).
#   usage: tools/local/readme-install.sh WORKDIR
source "$(dirname "$0")/../lib.sh"
cd "$REPO_ROOT" || exit
work="${1:?usage: $0 WORKDIR}"
rm -rf "$work"
mkdir -p "$work/home"
block="$work/readme-install.sh"
awk '/<!-- ci: tools\/local\/readme-install.sh -->/ {armed=1; next}
     armed && /^```sh$/ {inside=1; next}
     inside && /^```$/ {exit}
     inside {print}' README.md >"$block"
[[ -s $block ]] || die "README.md has no sh block after <!-- ci: tools/local/readme-install.sh -->"
log "running the README's install block:"
cat "$block" >&2
# Only the venv tool of this checkout leaves the environment; pip may reuse its download cache.
env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME="$work/home" \
  PIP_CACHE_DIR="${PIP_CACHE_DIR:-$HOME/.cache/pip}" ANSIBLE_NOCOLOR=1 \
  bash -euxo pipefail "$block"
