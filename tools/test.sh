#!/usr/bin/env bash
# The whole test suite, from a fresh machine: Python venv, Docker engine,
# base image, Kafka stand-in archives, then unit tests, the real-Kafka smoke
# test, module tests against a local 3-node KRaft cluster, quality gates and
# the Molecule scenarios. Each stage prints its duration.
#
# Environment:
#   KRAFT_TEST_STAGES   space-separated subset of stages to run (default: all)
#   KRAFT_MOLECULE_SCENARIOS  scenarios to run (default: "default single topologies secure operations")
#   (stage lab: tools/local/lab-check.sh, the README's make up lab and its playbooks)
#   KRAFT_OPS_STEPS           molecule/operations steps (default: config restart kill gate leaders; "all" adds upgrade scaleout playbooks)
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT" || exit
mkdir -p "$CACHE_DIR"
: >"$CACHE_DIR/stage-times.tsv"
T0=$(date +%s)

ALL_STAGES="venv docker image standin unit smoke integration docs lint sanity build molecule lab"
STAGES="${KRAFT_TEST_STAGES:-$ALL_STAGES}"
SCENARIOS="${KRAFT_MOLECULE_SCENARIOS:-default single topologies secure operations}"
want() { [[ " $STAGES " == *" $1 "* ]]; }

export PATH="$VENV_DIR/bin:$PATH"
export ANSIBLE_CONFIG="$REPO_ROOT/ansible.cfg"
export PY_COLORS=0 ANSIBLE_FORCE_COLOR=0 ANSIBLE_NOCOLOR=1

# pytest exits 5 when it collected nothing: that is a failure here, never a pass.
run_pytest() {
  local rc=0
  "$VENV_DIR/bin/pytest" "$@" || rc=$?
  if [[ $rc -eq 5 ]]; then die "pytest collected no tests in: $*"; fi
  return $rc
}

DEFAULT_VERSION="$(default_kafka_version)"
[[ -n "$DEFAULT_VERSION" ]] || die "cannot read kafka_version from roles/kafka_install/defaults/main.yml"

want venv && stage venv bash tools/venv.sh
want docker && stage docker bash tools/docker-up.sh
want image && for suite in bookworm trixie; do stage "base-image-$suite" bash tools/images/debian.sh "$suite"; done
want standin && stage kafka-standin bash tools/kafka-standin/build.sh "$DEFAULT_VERSION" 4.0.0
want unit && stage unit-tests run_pytest -q tests/unit
want smoke && stage smoke-real-kafka run_pytest -q tests/smoke
want integration && stage module-integration run_pytest -q tests/integration
want docs && stage docs bash tools/check-docs.sh
want docs && stage inventories bash tools/check-inventories.sh
want lint && stage ansible-lint ansible-lint --profile production
want lint && stage changelog bash tools/changelog.sh check
want sanity && stage ansible-test-sanity bash tools/sanity.sh

# Molecule runs the collection as users get it: built with ansible-galaxy and
# installed into a clean collections path (not this checkout).
if want build; then
  stage collection-build bash tools/build-install.sh
  export ANSIBLE_COLLECTIONS_PATH="$CACHE_DIR/installed-collections"
  log "ANSIBLE_COLLECTIONS_PATH=$ANSIBLE_COLLECTIONS_PATH (installed tarball)"
fi
if want molecule; then
  for scenario in $SCENARIOS; do
    if [[ $scenario == secure ]]; then
      # The secret grep reads the whole output of converge, idempotence and verify.
      # shellcheck disable=SC2016 # $1 is for the inner bash -c, not this shell
      stage molecule-secure bash -c 'set -o pipefail; molecule test -s secure 2>&1 | tee "$1"' _ "$CACHE_DIR/molecule-secure.log"
      stage molecule-secure-no-secrets bash molecule/secure/check_no_secrets.sh "$CACHE_DIR/molecule-secure.log"
    else
      stage "molecule-$scenario" molecule test -s "$scenario"
    fi
  done
fi

# The README's first command as a user runs it (make up at 4.0.0, every playbook,
# rollback under load, upgrade and finalisation, downgrade refusals, the README's
# tarball install), then make down: tools/local/lab-check.sh.
want lab && stage lab bash tools/local/lab-check.sh

log "=== stage times (seconds)"
column -t "$CACHE_DIR/stage-times.tsv" >&2 || cat "$CACHE_DIR/stage-times.tsv" >&2
log "=== all stages passed in $(($(date +%s) - T0))s"
