#!/usr/bin/env bash
# Build the collection tarball with ansible-galaxy and install it into a
# clean collections path, the way users get it. Prints the path to use as
# ANSIBLE_COLLECTIONS_PATH so later stages run the INSTALLED collection
# (a broken build_ignore or a missing file then fails CI).
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT" || exit
OUT="$CACHE_DIR/build"
INSTALLED="$CACHE_DIR/installed-collections"
rm -rf "$OUT" "$INSTALLED"
mkdir -p "$OUT" "$INSTALLED"
"$VENV_DIR/bin/ansible-galaxy" collection build --force --output-path "$OUT" . >&2
tarball=$(ls "$OUT"/kraft-kafka-*.tar.gz)
log "built $(basename "$tarball") ($(du -h "$tarball" | cut -f1), $(tar -tzf "$tarball" | wc -l) files)"
# Nothing of the test platform or local state may ship.
if tar -tzf "$tarball" | grep -E '^(\.cache|\.venv|\.git|\.pytest_cache|tools|tests/output)/|/__pycache__/' >&2; then
  die "the collection tarball contains files that build_ignore should exclude (listed above)"
fi
"$VENV_DIR/bin/ansible-galaxy" collection install --offline --no-deps --force -p "$INSTALLED" "$tarball" >&2
[[ -f "$INSTALLED/ansible_collections/kraft/kafka/MANIFEST.json" ]] || die "install produced no MANIFEST.json"
echo "$INSTALLED"
