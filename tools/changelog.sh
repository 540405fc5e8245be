#!/usr/bin/env bash
# The changelog of the version galaxy.yml names, kept current.
#
#   bash tools/changelog.sh check     (CI) fragments lint clean; no fragment
#                                     waits while galaxy.yml's version is
#                                     already in changelogs/changelog.yaml;
#                                     CHANGELOG.rst is what antsibull-changelog
#                                     generates from changelog.yaml
#   bash tools/changelog.sh release   fold the fragments into that version
#                                     and regenerate CHANGELOG.rst
#
# antsibull-changelog reads plugin descriptions with ansible-doc, which needs
# the collection under ansible_collections/kraft/kafka: both commands work in
# a scratch copy of that shape and copy the results back.
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT" || exit
export PATH="$VENV_DIR/bin:$PATH"

VERSION=$(python3 -c 'import sys, yaml; print(yaml.safe_load(open("galaxy.yml"))["version"])')
SCRATCH="$CACHE_DIR/changelog/ansible_collections/kraft/kafka"

scratch_copy() {
  rm -rf "$CACHE_DIR/changelog"
  mkdir -p "$SCRATCH"
  # Tracked and new (not ignored) files: what the next commit holds.
  git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$SCRATCH" 2>/dev/null || true
}

pending_fragments() {
  find changelogs/fragments -maxdepth 1 \( -name '*.yml' -o -name '*.yaml' \) | sort
}

version_released() {
  python3 - "$VERSION" <<'PY'
import sys, yaml
releases = yaml.safe_load(open("changelogs/changelog.yaml")).get("releases") or {}
sys.exit(0 if sys.argv[1] in releases else 1)
PY
}

case "${1:-check}" in
  check)
    antsibull-changelog lint
    if version_released && [[ -n "$(pending_fragments)" ]]; then
      die "changelog fragments wait while $VERSION is already in changelogs/changelog.yaml: $(pending_fragments | tr '\n' ' ')
    fold them in with: bash tools/changelog.sh release"
    fi
    scratch_copy
    (cd "$SCRATCH" && ANSIBLE_COLLECTIONS_PATH="$CACHE_DIR/changelog" antsibull-changelog generate)
    if ! diff -u CHANGELOG.rst "$SCRATCH/CHANGELOG.rst" >&2; then
      die "CHANGELOG.rst is not what changelogs/changelog.yaml generates; run: bash tools/changelog.sh release"
    fi
    log "changelog of $VERSION is current"
    ;;
  release)
    scratch_copy
    (cd "$SCRATCH" && ANSIBLE_COLLECTIONS_PATH="$CACHE_DIR/changelog" \
      antsibull-changelog release --version "$VERSION" --update-existing)
    cp "$SCRATCH/changelogs/changelog.yaml" changelogs/changelog.yaml
    cp "$SCRATCH/CHANGELOG.rst" CHANGELOG.rst
    pending_fragments | xargs -r rm -f
    log "folded the fragments into $VERSION: changelogs/changelog.yaml, CHANGELOG.rst"
    ;;
  *) die "usage: tools/changelog.sh [check|release]" ;;
esac
