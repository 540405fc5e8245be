"""Day-2 operations on a running cluster under load, in order; each must lose
and duplicate nothing that the cluster acknowledged (acks=all, idempotent
producer, replication factor 3, min.insync.replicas=2).

Steps: config, restart, kill, gate, leaders (the default, what CI runs), upgrade,
scaleout, playbooks (KRAFT_OPS_STEPS=all, or name the steps). Later steps build on the state earlier ones
leave (kill and gate leave leaders skewed for leaders; upgrade's version is kept by
scaleout), but each also works on its own. gate takes one node out and leaves the
cluster healthy again, so it sits before the steps that need all nodes.
"""
import json
import re

from kafka.errors import KafkaError

from conftest import (NODES, SCENARIO_DIR, PROJECT_DIR, SPARE, UNIT, bootstrap, container_ip, docker_exec, features,
                      kafka_admin, leadership, main_pids, replicas_per_broker, step, unit_state, wait_until, zero_loss)

NEW_VERSION = "4.4.0"
NODE_IDS = {n: int(n[-1]) for n in NODES + [SPARE]}


def restart_windows(nodes):
    """[(went_down, came_up, node)] from systemd's monotonic timestamps (one kernel: one clock), by went_down."""
    rows = []
    for node in nodes:
        state = unit_state(node)
        rows.append((int(state["ActiveExitTimestampMonotonic"]), int(state["ActiveEnterTimestampMonotonic"]), node))
    return sorted(rows)


def assert_one_at_a_time(windows):
    for (down, up, node), (next_down, _next_up, next_node) in zip(windows, windows[1:]):
        assert up > down, f"{node} did not come back after going down"
        assert next_down > up, f"{next_node} went down before {node} was back"


def quorum_leader(operator):
    _rc, out, _recap = operator.run(SCENARIO_DIR / "tests" / "health_gate.yml", "-e", gate_vars(NODES))
    return int(re.search(r"QUORUM_LEADER=(\d+)", out).group(1))


def gate_vars(nodes):
    ips = [f'"{ip}"' for ip in bootstrap(nodes)]
    ids = [str(NODE_IDS[n]) for n in nodes]
    return '{"gate_bootstrap": [%s], "gate_brokers": [%s]}' % (", ".join(ips), ", ".join(ids))


def total_changed(recap):
    return sum(r["changed"] for r in recap.values())


def printed_order(output, verb):
    match = re.search(verb + r" one at a time, each behind a health gate:\s*(.+?)\"?$", output, re.M)
    assert match, output[-4000:]
    return [name.strip() for name in match.group(1).strip().strip('"').split("->")]


@step("config")
def test_10_config_change_with_site(operator, tmp_path_factory):
    """A broker property changed in group_vars, applied by site.yml: one restart per node, behind gates."""
    before = main_pids(NODES)
    operator.set_group_vars(kafka_log_retention_hours=72)
    with zero_loss("config-change", tmp_path_factory):
        _rc, out, recap = operator.run("kraft.kafka.site")
    after = main_pids(NODES)
    assert all(after[n] != before[n] for n in NODES), (before, after)
    assert "Restart, wait, gate, next" in out
    assert all(recap[n]["changed"] > 0 for n in NODES), recap
    assert_one_at_a_time(restart_windows(NODES))
    for node in NODES:
        props = docker_exec(node, ["cat", "/etc/kafka/kafka/server.properties"])
        assert re.search(r"^log\.retention\.hours=72$", props, re.M), props


@step("restart")
def test_20_rolling_restart_check_mode(operator):
    """--check prints the order (quorum leader last) and restarts nothing; kafka_restart_hosts limits it."""
    leader = quorum_leader(operator)
    before = main_pids(NODES)
    _rc, out, _recap = operator.run("kraft.kafka.rolling_restart", "--check")
    order = printed_order(out, "Would restart")
    assert sorted(order) == sorted(NODES)
    assert NODE_IDS[order[-1]] == leader, (order, leader)

    _rc, out, _recap = operator.run("kraft.kafka.rolling_restart", "--check", "-e", "kafka_restart_hosts=ops-kafka3")
    assert printed_order(out, "Would restart") == ["ops-kafka3"]

    rc, out, _recap = operator.run("kraft.kafka.rolling_restart", "-e", "kafka_restart_hosts=ops-kafka9", expect_rc=2)
    assert "ops-kafka9, which are not hosts of this play" in out
    assert main_pids(NODES) == before


@step("restart")
def test_21_rolling_restart(operator, tmp_path_factory):
    """rolling_restart.yml restarts every node once, one at a time, controllers by id, the quorum leader last."""
    leader = quorum_leader(operator)
    before = main_pids(NODES)
    with zero_loss("rolling-restart", tmp_path_factory):
        _rc, out, recap = operator.run("kraft.kafka.rolling_restart")
    order = printed_order(out, "Restarting")
    after = main_pids(NODES)
    assert all(after[n] != before[n] for n in NODES), (before, after)
    windows = restart_windows(NODES)
    assert_one_at_a_time(windows)
    assert [w[2] for w in windows] == order
    assert NODE_IDS[order[-1]] == leader, (order, leader)
    assert out.count("Health gate: after restarting a node") >= 1
    assert total_changed(recap) == len(NODES), recap


@step("kill")
def test_30_kill_9_and_systemd_restart(operator, tmp_path_factory):
    """kill -9 of one node's JVM: systemd restarts it (Restart=on-failure), the cluster heals."""
    victim = "ops-kafka2"
    state = unit_state(victim)
    pid = int(state["MainPID"])
    assert docker_exec(victim, ["cat", f"/proc/{pid}/comm"]).strip() == "java"
    others = main_pids([n for n in NODES if n != victim])
    with zero_loss("kill-9", tmp_path_factory):
        docker_exec(victim, ["kill", "-9", str(pid)])

        def restarted():
            now = unit_state(victim)
            return now["ActiveState"] == "active" and int(now["MainPID"]) not in (0, pid)
        wait_until(restarted, timeout=120, what=f"systemd to restart {victim}")
        operator.run(SCENARIO_DIR / "tests" / "health_gate.yml", "-e", gate_vars(NODES))
    assert int(unit_state(victim)["NRestarts"]) == int(state["NRestarts"]) + 1
    assert main_pids(others) == others


def failed_task(output):
    """Name of the task whose failure ended the play: the last task header before the first failure."""
    fatal = re.search(r"^fatal: \[", output, re.M)
    assert fatal, output[-4000:]
    headers = re.findall(r"^TASK \[(.+?)\] \*", output[:fatal.start()], re.M)
    assert headers, output[-4000:]
    return headers[-1]


def assert_nothing_restarted(output):
    """No restart task ran and no order was printed: the play stopped before the first node."""
    assert not re.search(r"^TASK \[[^\]]*: Restart ops-", output, re.M), output[-4000:]
    assert "Restarting one at a time" not in output, output[-4000:]


def unfenced_brokers(servers):
    """Ids of the brokers the cluster reports registered and not fenced."""
    with kafka_admin(servers) as admin:
        cluster = admin.describe_cluster()
    return {b["broker_id"] for b in cluster["brokers"] if not b.get("is_fenced")}


def wait_healthy(operator, victim):
    """The victim's unit is active again and the cluster passes the health gate (so later steps start healthy)."""
    wait_until(lambda: unit_state(victim)["ActiveState"] == "active", timeout=120, what=f"{victim} to be active")
    operator.run(SCENARIO_DIR / "tests" / "health_gate.yml", "-e", gate_vars(NODES))


# A short gate: the cluster is known to be unhealthy, waiting the default 600s proves nothing more.
SHORT_GATE = ["-e", "kafka_service_health_timeout=30"]


@step("gate")
def test_35_stopped_node_refuses_rolling_restart(operator):
    """A node stopped with systemctl: rolling_restart.yml fails before its first restart, nothing is restarted."""
    victim = "ops-kafka3"
    others = [n for n in NODES if n != victim]
    operator.run(SCENARIO_DIR / "tests" / "health_gate.yml", "-e", gate_vars(NODES))
    before = main_pids(others)
    docker_exec(victim, ["systemctl", "stop", UNIT])
    try:
        assert unit_state(victim)["ActiveState"] == "inactive"
        rc, out, _recap = operator.run("kraft.kafka.rolling_restart", *SHORT_GATE, expect_rc=2)
        assert rc != 0
        # restart_all.yml checks that every node runs before its first health
        # gate: a stopped node is refused there, by name.
        assert failed_task(out).endswith("Check that every node of the cluster runs"), failed_task(out)
        assert f"{victim}: {UNIT} is not active. Nothing was restarted" in out, out[-4000:]
        assert_nothing_restarted(out)
        assert main_pids(others) == before
        assert unit_state(victim)["ActiveState"] == "inactive", "the play started the stopped node"
    finally:
        docker_exec(victim, ["systemctl", "start", UNIT])
    wait_healthy(operator, victim)
    assert main_pids(others) == before


@step("gate")
def test_36_failed_health_gate_halts_rolling_restart(operator):
    """A node whose unit runs but whose JVM hangs (SIGSTOP): the health gate before the first node fails the play."""
    victim = "ops-kafka3"
    operator.run(SCENARIO_DIR / "tests" / "health_gate.yml", "-e", gate_vars(NODES))
    before = main_pids(NODES)
    # A frozen JVM: systemd still reports the unit active (the pre-check
    # passes), the controllers fence the broker once its heartbeats stop.
    docker_exec(victim, ["kill", "-STOP", str(before[victim])])
    try:
        # Until the session times out the frozen broker still looks healthy and
        # the gate would pass; the play runs once the cluster knows.
        wait_until(lambda: NODE_IDS[victim] not in unfenced_brokers(bootstrap([n for n in NODES if n != victim])),
                   timeout=120, what=f"the controllers to fence the frozen broker of {victim}", tolerate=(AssertionError, KafkaError))
        assert unit_state(victim)["ActiveState"] == "active"
        rc, out, _recap = operator.run("kraft.kafka.rolling_restart", *SHORT_GATE, expect_rc=2)
        assert rc != 0
        assert failed_task(out).endswith("Health gate: before the rolling restart"), failed_task(out)
        assert "Kafka cluster not healthy after" in out, out[-4000:]
        assert_nothing_restarted(out)
        assert main_pids(NODES) == before
    finally:
        docker_exec(victim, ["kill", "-CONT", str(before[victim])])
    wait_healthy(operator, victim)
    assert main_pids(NODES) == before


@step("leaders")
def test_40_leader_rebalance(operator, tmp_path_factory):
    """leader_rebalance.yml moves leadership back to the preferred replicas; a re-run changes nothing."""
    servers = bootstrap()
    skew_before, leaders_before = leadership(servers)
    print(f"\nleaders before: {leaders_before} ({skew_before} partitions not on their preferred leader)")
    extra = '{"kafka_bootstrap_servers": [%s]}' % ", ".join(f'"{s}"' for s in servers)
    with zero_loss("leader-rebalance", tmp_path_factory):
        _rc, _out, recap = operator.run("kraft.kafka.leader_rebalance", "-e", extra)
    if skew_before:
        assert total_changed(recap) > 0, recap

    def balanced():
        skew, leaders = leadership(servers)
        return (skew, leaders) if skew == 0 else None

    skew_after, leaders_after = wait_until(balanced, timeout=60, what="every partition led by its preferred replica")
    print(f"leaders after: {leaders_after}")
    _rc, _out, recap = operator.run("kraft.kafka.leader_rebalance", "-e", extra)
    assert total_changed(recap) == 0, recap


@step("upgrade")
def test_50_upgrade_and_finalize(operator, tmp_path_factory):
    """upgrade.yml 4.0.0 -> 4.4.0 one node at a time, then finalization; refused before, no-op after."""
    assert features()["metadata.version"].startswith("4.0-"), features()
    # Finalization alone, while every node still runs 4.0.0: refused, nothing changes.
    _rc, out, _recap = operator.run("kraft.kafka.upgrade_finalize", "-e", f"kafka_version={NEW_VERSION}", expect_rc=2)
    assert "Not finalized: every node must run" in out, out[-4000:]
    before = main_pids(NODES)
    # The whole upgrade in check mode: predicts, changes nothing, says finalization has to wait.
    _rc, out, _recap = operator.run("kraft.kafka.upgrade", "--check", "-e", f"kafka_version={NEW_VERSION}",
                                    "-e", "kafka_upgrade_finalize=true")
    assert "Say that finalization waits for the binaries (check mode)" in out
    assert main_pids(NODES) == before
    assert "kafka_2.13-4.0.0" in docker_exec(NODES[0], ["readlink", "-f", "/opt/kafka/current"])
    with zero_loss("upgrade", tmp_path_factory):
        _rc, out, recap = operator.run("kraft.kafka.upgrade", "-e", f"kafka_version={NEW_VERSION}")
        after = main_pids(NODES)
        assert all(after[n] != before[n] for n in NODES), (before, after)
        assert_one_at_a_time(restart_windows(NODES))
        for node in NODES:
            log = docker_exec(node, ["grep", "-h", "Kafka version:", "/var/log/kafka/kafka/server.log"])
            assert f"Kafka version: {NEW_VERSION}" in log.splitlines()[-1], log
        # Binaries upgraded, levels not finalized yet (the old release could still be put back).
        assert features()["metadata.version"].startswith("4.0-")

        _rc, out, recap = operator.run("kraft.kafka.upgrade_finalize", "--check", "-e", f"kafka_version={NEW_VERSION}")
        assert "-> 4.4-IV2" in out, out[-4000:]
        assert features()["metadata.version"].startswith("4.0-")

        _rc, out, recap = operator.run("kraft.kafka.upgrade", "-e", f"kafka_version={NEW_VERSION}",
                                       "-e", "kafka_upgrade_finalize=true")
        assert total_changed(recap) == 1, recap  # the finalization; the binaries step had nothing left to do
        assert main_pids(NODES) == after
    levels = features()
    print(f"\nfeature levels after finalization: {levels}")
    assert levels["metadata.version"] == "4.4-IV2", levels
    # A static quorum keeps kraft.version 0 unless asked otherwise.
    assert levels.get("kraft.version") in ("0", None), levels
    # Both steps again (binaries and finalization): nothing to do.
    _rc, _out, recap = operator.run("kraft.kafka.upgrade", "-e", f"kafka_version={NEW_VERSION}",
                                    "-e", "kafka_upgrade_finalize=true")
    assert total_changed(recap) == 0, recap
    # The operator records the new version in the inventory.
    operator.set_group_vars(kafka_version=NEW_VERSION)


@step("scaleout")
def test_60_scale_out(operator, tmp_path_factory):
    """A fourth broker joins with the existing cluster id, the others keep running; rebalance.yml moves replicas."""
    scale_out = SCENARIO_DIR / "tests" / "scale_out.yml"
    # The inventory names the release the cluster runs (4.4.0 after the upgrade step, else 4.0.0).
    current = docker_exec(NODES[0], ["readlink", "-f", "/opt/kafka/current"]).strip()
    operator.set_group_vars(kafka_version=re.search(r"kafka_[\d.]+-(\S+)$", current).group(1))
    before = main_pids(NODES)
    with zero_loss("scale-out", tmp_path_factory):
        _rc, out, recap = operator.run("kraft.kafka.site", extra_inventories=[scale_out])
        assert main_pids(NODES) == before, "site.yml restarted an existing node while adding a broker"
        assert recap[SPARE]["changed"] > 0
        meta = {n: docker_exec(n, ["cat", "/var/lib/kafka/kafka/meta.properties"]) for n in NODES + [SPARE]}
        ids = {n: re.search(r"^cluster\.id=(\S+)$", m, re.M).group(1) for n, m in meta.items()}
        assert len(set(ids.values())) == 1, ids
        assert unit_state(SPARE)["ActiveState"] == "active"
        operator.run(SCENARIO_DIR / "tests" / "health_gate.yml", "-e", gate_vars(NODES + [SPARE]))

        if (PROJECT_DIR / "playbooks" / "rebalance.yml").exists():
            # Without facts (gather_facts: false) the inventory cannot derive the
            # containers' addresses; name the bootstrap servers, as its header shows.
            servers = '{"kafka_bootstrap_servers": [%s]}' % ", ".join(f'"{b}"' for b in bootstrap())
            print(f"\nreplicas per broker before rebalance.yml: {replicas_per_broker(bootstrap())}")
            _rc, out, recap = operator.run("kraft.kafka.rebalance", "-e", servers, extra_inventories=[scale_out])
            assert total_changed(recap) > 0, recap
            counts = replicas_per_broker(bootstrap())
            print(f"replicas per broker after rebalance.yml: {counts}")
            assert counts.get(NODE_IDS[SPARE], 0) > 0, counts
            _rc, out, recap = operator.run("kraft.kafka.rebalance", "-e", servers, extra_inventories=[scale_out])
            assert total_changed(recap) == 0, recap
        else:
            print("\nplaybooks/rebalance.yml not present: replicas not moved onto the new broker")
    _rc, _out, recap = operator.run("kraft.kafka.site", extra_inventories=[scale_out])
    assert total_changed(recap) == 0, recap
    assert main_pids(NODES) == before
    print(f"\nbrokers: {sorted(NODE_IDS.values())} at {[container_ip(n) for n in NODES + [SPARE]]}")


def committed_offsets(servers, group, topic):
    with kafka_admin(servers) as admin:
        offsets = admin.list_group_offsets({group: None}).get(group, {})
    return {tp.partition: meta.offset for tp, meta in offsets.items() if tp.topic == topic and meta.offset >= 0}


def consume_and_commit(servers, group, topic, records):
    """Produce `records` records, read them as `group` and commit: the group's lag is 0 after this."""
    from kafka import KafkaConsumer, KafkaProducer

    producer = KafkaProducer(bootstrap_servers=servers, acks="all")
    for index in range(records):
        producer.send(topic, b"order-%d" % index)
    producer.flush()
    producer.close()
    consumer = KafkaConsumer(topic, bootstrap_servers=servers, group_id=group, auto_offset_reset="earliest",
                             enable_auto_commit=False, consumer_timeout_ms=5000)
    seen = 0
    for _record in consumer:
        seen += 1
        if seen >= records:
            break
    consumer.commit()
    consumer.close()
    assert seen == records, f"read {seen} of {records} records"


@step("playbooks")
def test_70_topics_reset_report(operator, tmp_path):
    """topics.yml, consumer_group_reset.yml (reset and undo) and report.yml on the containers; re-runs change nothing."""
    servers = bootstrap()
    extra = '{"kafka_bootstrap_servers": [%s]}' % ", ".join(f'"{b}"' for b in servers)
    declared = tmp_path / "topics.json"
    declared.write_text(json.dumps({"kafka_topics": [
        {"name": "ops-orders", "partitions": 3, "replication_factor": 3, "config": {"retention.ms": "86400000"}},
        {"name": "ops-audit", "partitions": 1, "replication_factor": 3, "config": {"cleanup.policy": "compact"}},
    ]}))
    _rc, _out, recap = operator.run("kraft.kafka.topics", "-e", extra, "-e", f"@{declared}")
    assert total_changed(recap) > 0, recap
    described = topic_configs(servers, ["ops-orders", "ops-audit"])
    assert described["ops-orders"]["partitions"] == 3 and described["ops-orders"]["retention.ms"] == "86400000"
    assert described["ops-audit"]["cleanup.policy"] == "compact"
    _rc, _out, recap = operator.run("kraft.kafka.topics", "-e", extra, "-e", f"@{declared}")
    assert total_changed(recap) == 0, recap

    consume_and_commit(servers, "ops-billing", "ops-orders", 30)
    before = committed_offsets(servers, "ops-billing", "ops-orders")
    assert sum(before.values()) == 30, before
    backups = tmp_path / "backups"
    reset = ["-e", extra, "-e", "kafka_reset_group=ops-billing", "-e", "kafka_reset_strategy=to-earliest",
             "-e", '{"kafka_reset_topics": ["ops-orders"]}', "-e", "kafka_reset_confirm=true",
             "-e", f"kafka_reset_backup_dir={backups}"]
    _rc, out, recap = operator.run("kraft.kafka.consumer_group_reset", *reset)
    assert total_changed(recap) > 0, recap
    assert sum(committed_offsets(servers, "ops-billing", "ops-orders").values()) == 0
    saved = sorted(backups.glob("ops-billing-*.json"))
    assert len(saved) == 1 and (saved[0].stat().st_mode & 0o777) == 0o600, saved
    _rc, out, recap = operator.run("kraft.kafka.consumer_group_reset", *reset)
    assert total_changed(recap) == 0, recap
    assert len(sorted(backups.glob("ops-billing-*.json"))) == 1
    _rc, out, recap = operator.run("kraft.kafka.consumer_group_reset", "-e", extra, "-e", "kafka_reset_confirm=true",
                                   "-e", f"kafka_reset_restore_from={saved[0]}",
                                   "-e", f"kafka_reset_backup_dir={backups}")
    assert total_changed(recap) > 0, recap
    assert committed_offsets(servers, "ops-billing", "ops-orders") == before

    report = ["-e", extra, "-e", f"report_dir={tmp_path / 'report'}"]
    operator.run("kraft.kafka.report", *report)
    text = (tmp_path / "report" / "report.md").read_text()
    # The group was restored to its committed offsets of before: it exists and has no lag.
    assert "| ops-orders | 3 | 3 | 0 | 0 |" in text and "consumer group(s), none with lag" in text, text[:3000]
    _rc, _out, recap = operator.run("kraft.kafka.report", *report)
    assert total_changed(recap) == 0, recap


def topic_configs(servers, names):
    """{topic: {'partitions': n, dynamic config...}} as the brokers describe them."""
    from kafka.admin import ConfigResource

    found = {}
    with kafka_admin(servers) as admin:
        for name in names:
            described = admin.describe_topics([name])[0]
            configs = admin.describe_configs([ConfigResource("TOPIC", name)]).get("topic", {}).get(name, {})
            found[name] = {key: entry["value"] for key, entry in configs.items()
                           if entry.get("config_source") == "DYNAMIC_TOPIC_CONFIG"}
            found[name]["partitions"] = len(described["partitions"])
    return found
