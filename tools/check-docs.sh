#!/usr/bin/env bash
# Every module and filter renders with ansible-doc; every role has an
# argument spec.
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"
export ANSIBLE_CONFIG="$REPO_ROOT/ansible.cfg"
fail=0
for f in plugins/modules/*.py; do
  name="kraft.kafka.$(basename "$f" .py)"
  if "$VENV_DIR/bin/ansible-doc" -t module "$name" >/dev/null 2>"$CACHE_DIR/ansible-doc.err"; then
    log "ansible-doc module $name: ok"
  else
    log "ansible-doc module $name: FAILED"; cat "$CACHE_DIR/ansible-doc.err" >&2; fail=1
  fi
done
for f in plugins/filter/*.yml; do
  [[ -e "$f" ]] || continue
  name="kraft.kafka.$(basename "$f" .yml)"
  if "$VENV_DIR/bin/ansible-doc" -t filter "$name" >/dev/null 2>"$CACHE_DIR/ansible-doc.err"; then
    log "ansible-doc filter $name: ok"
  else
    log "ansible-doc filter $name: FAILED"; cat "$CACHE_DIR/ansible-doc.err" >&2; fail=1
  fi
done
for role in roles/*/; do
  if [[ -f "$role/meta/argument_specs.yml" ]]; then
    log "argument spec $(basename "$role"): ok"
  else
    log "argument spec $(basename "$role"): MISSING"; fail=1
  fi
done
exit $fail
