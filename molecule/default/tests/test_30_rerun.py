"""Re-running site.yml on the live cluster (after molecule's idempotence step):
invalid input fails before anything changes, a dropped kafka_cluster_id keeps
the id on disk, a node id that does not match the disk is refused, and a
property change restarts the nodes one at a time."""
import re
from datetime import datetime

import pytest
from conftest import CONFIG, DATA_DIR, LOG_DIR, NAMES
from polling import wait_until

WATCHED = [CONFIG, "/etc/kafka/kafka/kafka.env", "/etc/kafka/kafka/log4j2.yaml",
           "/etc/systemd/system/kafka@.service", f"{DATA_DIR}/meta.properties"]


def fingerprint(cluster):
    """Checksums and mtimes of the managed files, plus each service's start time
    and main PID (a restart changes both)."""
    out = {}
    for name in NAMES:
        host = cluster.hosts[name]
        out[name] = host.check_output("stat -c '%n %Y' " + " ".join(WATCHED) + " && md5sum " + " ".join(WATCHED)
                                      + " && systemctl show kafka@kafka -p ExecMainStartTimestampMonotonic -p MainPID")
        assert re.search(r"^MainPID=[1-9]\d*$", out[name], re.M), (name, out[name])  # running, not 0
    return out


def meta(cluster, name):
    text = cluster.hosts[name].file(f"{DATA_DIR}/meta.properties").content_string
    return dict(re.findall(r"^([\w.]+)=(.*)$", text, re.M))


def duplicate_ids(gv):
    gv["kafka_node_id"] = 7  # the same node.id on all three hosts


def controller_listener_dropped(gv):
    # An operator overrides listeners to "just the client port" and forgets
    # the controller listener that controller.listener.names still points at.
    gv["kafka_extra_properties"] = {"listeners": "PLAINTEXT://:9092"}


def replication_factor_above_brokers(gv):
    gv["kafka_replication_factor"] = 4  # three brokers only


@pytest.mark.parametrize("change, messages", [
    (duplicate_ids, ["node id 7 is used by kafka1, kafka2, kafka3"]),
    (controller_listener_dropped, [f"{n}: controller.listener.names CONTROLLER is not among listeners PLAINTEXT" for n in NAMES]),
    (replication_factor_above_brokers, ["default.replication.factor is 4 but there are only 3 broker(s)",
                                        "offsets.topic.replication.factor is 4 but there are only 3 broker(s)",
                                        "transaction.state.log.replication.factor is 4 but there are only 3 broker(s)"]),
], ids=["duplicate-node-ids", "controller-listener-missing", "replication-factor-above-brokers"])
def test_invalid_inventory_fails_before_anything_changes(cluster, playbook, change, messages):
    before = fingerprint(cluster)
    _rc, recap, output = playbook.run(change, expect_rc=2)
    flat = " ".join(output.split())
    for message in messages:
        assert message in flat, (message, output[-3000:])
    assert all(r["changed"] == 0 for r in recap.values()), recap
    assert fingerprint(cluster) == before


def test_foreign_cluster_id_is_refused_and_data_untouched(cluster, playbook):
    before = fingerprint(cluster)
    on_disk = meta(cluster, "kafka1")["cluster.id"]

    def other_id(gv):
        gv["kafka_cluster_id"] = "MkU3OEVBNTcwNTJENDM2Qk"
    _rc, recap, output = playbook.run(other_id, expect_rc=2)
    flat = " ".join(output.split())
    for name in NAMES:
        assert f"{name}: {DATA_DIR} has cluster id {on_disk}" in flat, output[-3000:]
    assert "kafka_cluster_id is MkU3OEVBNTcwNTJENDM2Qk" in flat
    assert all(r["changed"] == 0 for r in recap.values()), recap
    assert fingerprint(cluster) == before


def data_dirs(cluster, name):
    """Name and inode of every directory in the data dir (partitions and the
    metadata log): a reformat or a wiped directory shows up as a change."""
    return cluster.hosts[name].check_output(f"find {DATA_DIR} -mindepth 1 -maxdepth 1 -type d -printf '%f %i\\n' | sort")


def test_node_id_mismatch_is_refused_and_data_untouched(cluster, playbook):
    victim = "kafka2"
    on_disk = meta(cluster, victim)["node.id"]
    assert on_disk == str(cluster.node_ids[victim])
    # Unused by the other nodes, so kafka_config's validation passes and the
    # refusal must come from kafka_storage's look at meta.properties.
    wrong = max(cluster.node_ids.values()) + 40
    before = fingerprint(cluster)
    metas = {n: meta(cluster, n) for n in NAMES}
    dirs = {n: data_dirs(cluster, n) for n in NAMES}
    assert "__cluster_metadata-0" in dirs[victim], dirs[victim]

    _rc, recap, output = playbook.run(lambda gv: None, expect_rc=2, host_vars={victim: {"kafka_node_id": wrong}})
    flat = " ".join(output.split())
    assert "Refuse log directories formatted for another node" in flat, output[-3000:]
    assert f"{victim}: {DATA_DIR} belongs to node.id {on_disk}, but this host is node {wrong}" in flat, output[-3000:]
    # Only the host whose id changed is named.
    for other in NAMES:
        if other != victim:
            assert f"{other}: {DATA_DIR} belongs to node.id" not in flat
    assert all(r["changed"] == 0 for r in recap.values()), recap
    assert fingerprint(cluster) == before
    assert {n: meta(cluster, n) for n in NAMES} == metas
    assert {n: data_dirs(cluster, n) for n in NAMES} == dirs
    # The cluster still runs with the original ids.
    assert sorted(v["id"] for v in cluster.quorum_replication()) == sorted(cluster.node_ids.values())


def test_dropping_the_cluster_id_variable_keeps_the_id_and_formats_nothing(cluster, playbook):
    before = fingerprint(cluster)
    ids_before = {n: meta(cluster, n)["cluster.id"] for n in NAMES}
    assert len(set(ids_before.values())) == 1

    def drop_cluster_id(gv):
        gv.pop("kafka_cluster_id")
    _rc, recap, output = playbook.run(drop_cluster_id)
    assert set(recap) == set(NAMES), output[-3000:]
    assert all(r["changed"] == 0 and r["failed"] == 0 for r in recap.values()), recap
    assert {n: meta(cluster, n)["cluster.id"] for n in NAMES} == ids_before
    assert fingerprint(cluster) == before
    status = cluster.cli("kafka-metadata-quorum.sh", "describe --status")
    assert f"ClusterId:              {ids_before['kafka1']}" in status


def log_times(cluster, name, pattern, since):
    """Timestamps of server.log lines matching pattern, at or after since."""
    text = cluster.hosts[name].check_output(f"cat {LOG_DIR}/server.log")
    times = []
    for m in re.finditer(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})\] .*" + pattern, text, re.M):
        t = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f")
        if t >= since:
            times.append(t)
    return times


def test_property_change_restarts_nodes_one_at_a_time(cluster, playbook):
    current = int(re.search(r"^log\.retention\.check\.interval\.ms=(\d+)$",
                            cluster.hosts["kafka1"].file(CONFIG).content_string, re.M).group(1))
    wanted = 290000 if current != 290000 else 300000
    since = datetime.utcnow().replace(microsecond=0)

    def change_property(gv):
        gv["kafka_log_retention_check_interval_ms"] = wanted
    _rc, recap, output = playbook.run(change_property)
    assert all(r["failed"] == 0 and r["changed"] > 0 for r in recap.values()), recap

    # Every node was stopped (SIGTERM) and started exactly once ...
    windows = []
    for name in NAMES:
        stops = log_times(cluster, name, r"Terminating process due to signal SIGTERM", since)
        starts = log_times(cluster, name, r"Kafka Server started", since)
        assert len(stops) == 1 and len(starts) == 1, (name, stops, starts)
        assert starts[0] > stops[0]
        windows.append((stops[0], starts[0], name))
    # ... and one at a time: the next node went down only after the previous
    # one was back (and the health gate passed).
    windows.sort()
    for (_node, started, prev), (stopped, _start, nxt) in zip(windows, windows[1:]):
        assert stopped > started, f"{nxt} stopped at {stopped} before {prev} was back at {started}"

    # The new value is live on every broker.
    for name, node_id in cluster.node_ids.items():
        out = cluster.cli("kafka-configs.sh", f"--describe --all --entity-type brokers --entity-name {node_id}")
        assert f"log.retention.check.interval.ms={wanted} " in out, name
    wait_until(cluster.healthy, timeout=120, what="cluster healthy after the rolling restart")
