#!/usr/bin/env bash
# Every module and every exported filter renders with ansible-doc (each
# filter has its docs file); every role has an argument spec that documents
# all of its defaults/main.yml variables.
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT" || exit
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
# Start from what the plugins export, so a filter added without its docs
# file fails here instead of going unnoticed (ansible-doc only renders the
# docs that exist). check_docs.py also fails for docs of no exported filter.
filters_out="$CACHE_DIR/filters.out"
if ! "$VENV_DIR/bin/python" tools/check_docs.py filters plugins/filter >"$filters_out"; then
  fail=1
fi
while IFS= read -r filter; do
  name="kraft.kafka.$filter"
  [[ -f "plugins/filter/$filter.yml" ]] || continue  # reported above
  if "$VENV_DIR/bin/ansible-doc" -t filter "$name" >/dev/null 2>"$CACHE_DIR/ansible-doc.err"; then
    log "ansible-doc filter $name: ok"
  else
    log "ansible-doc filter $name: FAILED"; cat "$CACHE_DIR/ansible-doc.err" >&2; fail=1
  fi
done <"$filters_out"
for role in roles/*/; do
  if [[ -f "$role/meta/argument_specs.yml" ]]; then
    log "argument spec $(basename "$role"): ok"
  else
    log "argument spec $(basename "$role"): MISSING"; fail=1
  fi
done
# Every role default is documented in the role's argument spec (entry point
# main), so ansible-doc -t role shows every variable a user can set.
"$VENV_DIR/bin/python" tools/check_docs.py role-defaults roles || fail=1
exit $fail
