#!/usr/bin/env bash
# Create or update .venv with the controller and test requirements.
# Idempotent: pip runs only when a requirements file changed.
source "$(dirname "$0")/lib.sh"

PYTHON="${PYTHON:-python3}"
mkdir -p "$CACHE_DIR"
if [[ ! -x "$VENV_DIR/bin/python" ]]; then
  log "creating $VENV_DIR"
  "$PYTHON" -m venv "$VENV_DIR"
fi
stamp="$VENV_DIR/.requirements.sha"
want=$(recipe_hash "$REPO_ROOT/requirements.txt" "$REPO_ROOT/requirements-test.txt")
if [[ "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
  log "installing Python requirements into $VENV_DIR"
  "$VENV_DIR/bin/pip" install -q --upgrade pip wheel
  "$VENV_DIR/bin/pip" install -q -r "$REPO_ROOT/requirements-test.txt"
  echo "$want" >"$stamp"
else
  log "Python requirements up to date"
fi

# Make this checkout importable as the collection kraft.kafka without
# installing it: ansible.cfg points collections_path at this folder.
coll="$CACHE_DIR/collections/ansible_collections/kraft"
mkdir -p "$coll"
if [[ "$(readlink "$coll/kafka" 2>/dev/null)" != "$REPO_ROOT" ]]; then
  ln -sfn "$REPO_ROOT" "$coll/kafka"
fi
