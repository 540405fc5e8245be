#!/usr/bin/env bash
# make bench: the benchmarks of bench/, each writing bench/results/<name>.json,
# then bench/results/summary.json and a table. Prepares what it needs the way
# tools/test.sh does (venv, Docker engine, base image, Kafka stand-in) and
# removes its containers (bench-kafka1..3, network kraft-bench) at the end.
#
#   bash bench/run.sh [deploy|rolling|throughput|topics ...]   (default: all)
#   BENCH="deploy topics" make bench
# Environment:
#   BENCH_TOPICS_ARGS   arguments of bench/topics.py (default: --topics 200,
#                       the full kafka-topics.sh loop)
#   BENCH_KEEP=1        leave the bench containers running at the end
#   BENCH_SNAPSHOT=1    benchmark a copy of the working tree taken now (under
#                       .cache/bench/src), so that edits made while the
#                       benchmarks run (a shared checkout) cannot change or
#                       break them half-way
source "$(dirname "$0")/../tools/lib.sh"
cd "$REPO_ROOT" || exit

ALL="deploy rolling throughput topics"
WANT="${*:-${BENCH:-$ALL}}"
for name in $WANT; do
  [[ " $ALL " == *" $name "* ]] || die "unknown benchmark '$name' (one of: $ALL)"
done
want() { [[ " $WANT " == *" $1 "* ]]; }

export PATH="$VENV_DIR/bin:$PATH"
export ANSIBLE_CONFIG="$REPO_ROOT/ansible.cfg"
export PY_COLORS=0 ANSIBLE_FORCE_COLOR=0 ANSIBLE_NOCOLOR=1
PY="$VENV_DIR/bin/python"
mkdir -p "$CACHE_DIR" bench/results

bash tools/venv.sh
if want deploy || want rolling || want throughput; then
  bash tools/docker-up.sh
  bash tools/images/debian.sh bookworm >/dev/null
fi
bash tools/kafka-standin/build.sh "$(default_kafka_version)"

if [[ "${BENCH_SNAPSHOT:-0}" == 1 ]]; then
  snap="$CACHE_DIR/bench/src"
  rm -rf "$snap" && mkdir -p "$snap/.cache/collections/ansible_collections/kraft"
  tar -C "$REPO_ROOT" --exclude=./.cache --exclude=./.venv --exclude=./.git -cf - . | tar -C "$snap" -xf -
  ln -s ../../../.. "$snap/.cache/collections/ansible_collections/kraft/kafka"
  export KRAFT_BENCH_SRC="$snap"
  log "benchmarking a snapshot of the working tree: $snap"
fi

teardown() {
  if [[ "${BENCH_KEEP:-0}" != 1 ]] && command -v docker >/dev/null; then
    (cd bench && "$PY" -c 'import benchlib; benchlib.destroy_containers()') || true
  fi
}
trap teardown EXIT

# Like lib.sh's stage, without touching tools/test.sh's stage-times file
# (other test runs may be using it).
bench_stage() {
  local name="$1" t0; shift
  t0=$(date +%s)
  log "=== $name"
  "$@"
  log "=== $name done in $(($(date +%s) - t0))s"
}

log "benchmarks: $WANT (other load on this machine: $(docker ps -q 2>/dev/null | wc -l) containers running, load $(cut -d' ' -f1 /proc/loadavg))"
# deploy leaves its last cluster running for rolling and throughput; those
# create one themselves when run alone.
want deploy && bench_stage bench-deploy "$PY" bench/deploy.py --keep
want rolling && bench_stage bench-rolling "$PY" bench/rolling.py
want throughput && bench_stage bench-throughput "$PY" bench/throughput.py
# topics runs its own local-process cluster: the containers go first so that
# they do not compete for the CPU.
teardown
# shellcheck disable=SC2086
want topics && bench_stage bench-topics "$PY" bench/topics.py ${BENCH_TOPICS_ARGS:---topics 200}
"$PY" bench/summary.py
