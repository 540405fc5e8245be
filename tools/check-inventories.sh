#!/usr/bin/env bash
# Every example inventory parses (ansible-inventory --graph) and the
# playbooks pass --syntax-check against it.
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"
export ANSIBLE_CONFIG="${ANSIBLE_CONFIG:-$REPO_ROOT/ansible.cfg}"
fail=0
for inventory in inventories/*/; do
  inventory="${inventory%/}"
  [[ -f "$inventory/hosts.yml" ]] || continue
  if "$VENV_DIR/bin/ansible-inventory" -i "$inventory" --graph >"$CACHE_DIR/inventory.out" 2>&1 \
      && grep -q '@kafka' "$CACHE_DIR/inventory.out"; then
    log "inventory $inventory: ok ($(grep -c -- '--' "$CACHE_DIR/inventory.out") entries)"
  else
    log "inventory $inventory: FAILED"; cat "$CACHE_DIR/inventory.out" >&2; fail=1
  fi
  for playbook in site.yml playbooks/*.yml; do
    if ! "$VENV_DIR/bin/ansible-playbook" -i "$inventory" --syntax-check "$playbook" >"$CACHE_DIR/syntax.out" 2>&1; then
      log "syntax-check $playbook with $inventory: FAILED"; cat "$CACHE_DIR/syntax.out" >&2; fail=1
    fi
  done
done
exit $fail
