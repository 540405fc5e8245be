#!/usr/bin/env bash
# Every example inventory parses (ansible-inventory --graph) and the
# playbooks pass --syntax-check against it; the module examples under
# playbooks/examples/ pass --syntax-check against the inventory they are
# written for, and each of their plays matches hosts there.
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT" || exit
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
# The module examples target the "kafka" group and default to the brokers
# kafka1..3:9092, the hosts of inventories/three_node. Besides the syntax,
# check that every play of each example matches hosts there: a play whose
# pattern matches nothing would pass --syntax-check and do nothing.
examples_inventory=inventories/three_node
for playbook in playbooks/examples/*.yml; do
  [[ -e "$playbook" ]] || continue
  if ! "$VENV_DIR/bin/ansible-playbook" -i "$examples_inventory" --syntax-check "$playbook" >"$CACHE_DIR/syntax.out" 2>&1; then
    log "syntax-check $playbook with $examples_inventory: FAILED"; cat "$CACHE_DIR/syntax.out" >&2; fail=1
  elif ! "$VENV_DIR/bin/ansible-playbook" -i "$examples_inventory" --list-hosts "$playbook" >"$CACHE_DIR/syntax.out" 2>&1 \
      || grep -q 'hosts (0)' "$CACHE_DIR/syntax.out"; then
    log "list-hosts $playbook with $examples_inventory: FAILED (a play matches no host)"; cat "$CACHE_DIR/syntax.out" >&2; fail=1
  else
    log "syntax-check $playbook with $examples_inventory: ok ($(grep -c '^  play #' "$CACHE_DIR/syntax.out") plays)"
  fi
done
exit $fail
