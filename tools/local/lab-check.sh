#!/usr/bin/env bash
# CI stage `lab` (tools/test.sh): the README's first command as a user runs it,
# then everything the README promises on that lab (issues 17 and 22):
#   1. make up KAFKA_VERSION=4.0.0
#   2. every playbook of playbooks/ against inventories/local: read-only ones for
#      real, the others in check mode (controllers.yml must refuse the static quorum)
#   3. upgrade.yml to the default version without finalisation, then the rollback
#      to 4.0.0 under load (tests/load/zero_loss.py: 0 acknowledged records lost)
#   4. upgrade.yml + kafka_upgrade_finalize=true to the default version, re-run changed=0
#   5. the downgrade refusal after finalisation: site.yml and upgrade.yml with
#      kafka_version=4.0.0, check and normal mode: rc != 0, the guard's message,
#      changed=0, and on every node the same `current` link, unit state and start time
#   6. the README's install of the built tarball into a fresh venv and collections
#      path, then kraft.kafka.cluster_status against the lab
#   7. make down (also when a step fails)
# Every check fails the stage. Logs: .cache/lab/*.log.
source "$(dirname "$0")/../lib.sh"
cd "$REPO_ROOT" || exit
export PATH="$VENV_DIR/bin:$PATH"
export ANSIBLE_CONFIG="$REPO_ROOT/ansible.cfg"
LOGS="$CACHE_DIR/lab"
OLD=4.0.0
NEW="$(default_kafka_version)"
INVENTORY=inventories/local
NODES=(kafka1 kafka2 kafka3)
rm -rf "$LOGS"
mkdir -p "$LOGS"

cleanup() { make down >"$LOGS/down.log" 2>&1 || log "make down failed: $LOGS/down.log"; }
trap cleanup EXIT

# play NAME EXPECT_RC ARGS...: ansible-playbook against the lab, output in $LOGS/NAME.log.
play() {
  local name="$1" expect="$2" rc=0
  shift 2
  ansible-playbook -i "$INVENTORY" "$@" >"$LOGS/$name.log" 2>&1 || rc=$?
  if [[ $expect == ok && $rc -ne 0 ]] || [[ $expect == fail && $rc -eq 0 ]]; then
    tail -40 "$LOGS/$name.log" >&2
    die "$name: ansible-playbook $* exited $rc (expected $expect)"
  fi
  log "$name: rc=$rc changed=$(changed "$name")"
}

# changed NAME: sum of changed= over the PLAY RECAP of $LOGS/NAME.log.
changed() {
  awk '/^PLAY RECAP/ {recap=1; next} recap && /changed=/ {
         for (i = 1; i <= NF; i++) if ($i ~ /^changed=/) { split($i, a, "="); sum += a[2] } }
       END {print sum + 0}' "$LOGS/$1.log"
}

expect_changed() {  # NAME N
  local got
  got=$(changed "$1")
  [[ $got -eq $2 ]] || { tail -40 "$LOGS/$1.log" >&2; die "$1: changed=$got, expected $2"; }
}

expect_in_log() {  # NAME TEXT
  grep -qF -- "$2" "$LOGS/$1.log" || { tail -40 "$LOGS/$1.log" >&2; die "$1: the output lacks: $2"; }
}

# node_state: per node the `current` link target, unit state and start time.
node_state() {
  local node
  for node in "${NODES[@]}"; do
    printf '%s %s %s\n' "$node" "$(docker exec "kraft-local-$node" readlink /opt/kafka/current)" \
      "$(docker exec "kraft-local-$node" systemctl show kafka@kafka -p ActiveState -p ActiveEnterTimestampMonotonic --value | tr '\n' ' ')"
  done
}

expect_version_everywhere() {  # VERSION
  local node link state
  for node in "${NODES[@]}"; do
    link=$(docker exec "kraft-local-$node" readlink /opt/kafka/current)
    state=$(docker exec "kraft-local-$node" systemctl is-active kafka@kafka || true)
    [[ $link == */kafka_2.13-$1 && $state == active ]] ||
      die "$node: current -> $link, kafka@kafka $state (expected kafka_2.13-$1, active)"
  done
  log "every node: current -> kafka_2.13-$1, kafka@kafka active"
}

bootstrap() {
  local node ips=()
  for node in "${NODES[@]}"; do
    ips+=("$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "kraft-local-$node"):9092")
  done
  (IFS=,; echo "${ips[*]}")
}

# under_load NAME CMD...: run CMD while zero_loss.py produces; fail on any loss.
under_load() {
  local name="$1" dir="$LOGS/load-$1" pid verdict
  shift
  mkdir -p "$dir"
  "$VENV_DIR/bin/python" tests/load/zero_loss.py --bootstrap "$(bootstrap)" --topic "lab-$name" --rate 200 \
    --stop-file "$dir/stop" --ready-file "$dir/ready" --report "$dir/report.json" >"$dir/out.log" 2>&1 &
  pid=$!
  for _ in $(seq 120); do [[ -f $dir/ready ]] && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  [[ -f $dir/ready ]] || { cat "$dir/out.log" >&2; die "$name: the load did not start"; }
  "$@"
  touch "$dir/stop"
  wait "$pid" || true
  verdict=$("$VENV_DIR/bin/python" - "$dir/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ok = r["lost"] == 0 and r["duplicated"] == 0 and r["acknowledged"] > 0
print(("OK " if ok else "BAD ") + json.dumps({k: r[k] for k in ("acknowledged", "lost", "duplicated",
      "producer_errors", "max_stall_s")}, sort_keys=True))
PY
)
  log "ZERO-LOSS $name: $verdict"
  [[ $verdict == OK* ]] || die "$name: acknowledged records were lost or duplicated ($dir/report.json)"
}

# commit_group GROUP TOPIC: a consumer group that committed offsets on TOPIC and left (no members).
commit_group() {
  "$VENV_DIR/bin/python" - "$(bootstrap)" "$1" "$2" <<'PY'
import sys
from kafka import KafkaConsumer
consumer = KafkaConsumer(sys.argv[3], bootstrap_servers=sys.argv[1].split(','), group_id=sys.argv[2],
                         auto_offset_reset='earliest', enable_auto_commit=False, consumer_timeout_ms=10000)
read = sum(1 for _ in zip(range(100), consumer))
consumer.commit()
consumer.close()
assert read > 0, 'read nothing from %s' % sys.argv[3]
PY
}

# A lab left from an earlier run may be finalized at a newer release.
make down >"$LOGS/down-before.log" 2>&1 || true

# 1. The README's first command, at the older release.
log "make up KAFKA_VERSION=$OLD"
make up KAFKA_VERSION="$OLD" >"$LOGS/make-up.log" 2>&1 || { tail -40 "$LOGS/make-up.log" >&2; die "make up failed"; }
expect_in_log make-up "LeaderId"
expect_version_everywhere "$OLD"

# 2. Every playbook against the lab.
play site-check ok site.yml --check -e kafka_version="$OLD"
expect_changed site-check 0
play cluster_status ok playbooks/cluster_status.yml
play report ok playbooks/report.yml -e report_dir="$LOGS/report"
[[ -s $LOGS/report/report.md && -s $LOGS/report/report.html ]] || die "report.yml wrote no report.md/report.html"
play report-again ok playbooks/report.yml -e report_dir="$LOGS/report"
expect_changed report-again 0
play leader_rebalance ok playbooks/leader_rebalance.yml --check
play rebalance ok playbooks/rebalance.yml --check
play topics ok playbooks/topics.yml --check --diff
play rolling_restart ok playbooks/rolling_restart.yml --check
play controllers fail playbooks/controllers.yml --check
expect_in_log controllers "static"
# upgrade.yml runs for real below (and in check mode in step 5).
play finalize-check ok playbooks/upgrade_finalize.yml --check -e kafka_version="$OLD"
expect_changed finalize-check 0
expect_version_everywhere "$OLD"

# 3. Upgrade without finalisation, then roll back under load (its idempotence:
#    upgrade.yml's re-run in step 4).
play upgrade ok playbooks/upgrade.yml -e kafka_version="$NEW"
expect_version_everywhere "$NEW"
under_load rollback play rollback ok playbooks/upgrade.yml -e kafka_version="$OLD"
expect_version_everywhere "$OLD"
# The load left a topic: a group that committed on it and left, then the plan of
# its reset (check mode only plans).
commit_group lab-rehearsal lab-rollback
play consumer_group_reset ok playbooks/consumer_group_reset.yml --check -e kafka_reset_group=lab-rehearsal \
  -e kafka_reset_strategy=to_earliest -e '{"kafka_reset_topics": ["lab-rollback"]}'

# 4. Upgrade and finalize.
play upgrade-finalize ok playbooks/upgrade.yml -e kafka_version="$NEW" -e kafka_upgrade_finalize=true
expect_version_everywhere "$NEW"
play upgrade-finalize-again ok playbooks/upgrade.yml -e kafka_version="$NEW" -e kafka_upgrade_finalize=true
expect_changed upgrade-finalize-again 0

# 5. After finalisation every entry point refuses 4.0.0 with nothing changed.
before=$(node_state)
for entry in site.yml playbooks/upgrade.yml; do
  for mode in check normal; do
    name="refuse-$(basename "$entry" .yml)-$mode"
    args=("$entry" -e kafka_version="$OLD")
    [[ $mode == check ]] && args+=(--check)
    play "$name" fail "${args[@]}"
    expect_in_log "$name" "Kafka $OLD reads at most 4.0-IV3 (level 25)"
    expect_in_log "$name" "Nothing was changed."
    expect_changed "$name" 0
    after=$(node_state)
    [[ $after == "$before" ]] || die "$name changed a node: before: $before after: $after"
  done
done
log "downgrade refused by site.yml and upgrade.yml, check and normal mode, nothing changed"
grep -hF "reads at most" "$LOGS"/refuse-site-normal.log | head -1 >&2

# 6. The README's install of the built tarball, in a fresh venv and collections path.
bash tools/local/readme-install.sh "$LOGS/readme-install" >"$LOGS/readme-install.log" 2>&1 ||
  { tail -40 "$LOGS/readme-install.log" >&2; die "the README's install did not work"; }
expect_in_log readme-install "LeaderId"
log "README install: kraft.kafka.cluster_status from the installed tarball ran against the lab"
