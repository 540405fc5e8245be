"""Re-running site.yml on the live cluster (after molecule's idempotence step):
invalid input fails before anything changes, a dropped kafka_cluster_id keeps
the id on disk, and a property change restarts the nodes one at a time."""
import re
from datetime import datetime

from conftest import CONFIG, DATA_DIR, LOG_DIR, NAMES, wait_until

WATCHED = [CONFIG, "/etc/kafka/kafka/kafka.env", "/etc/kafka/kafka/log4j2.yaml",
           "/etc/systemd/system/kafka@.service", f"{DATA_DIR}/meta.properties"]


def fingerprint(cluster):
    """Checksums and mtimes of the managed files, plus each service's start time."""
    out = {}
    for name in NAMES:
        host = cluster.hosts[name]
        out[name] = host.check_output("stat -c '%n %Y' " + " ".join(WATCHED) + " && md5sum " + " ".join(WATCHED)
                                      + " && systemctl show kafka@kafka -p ExecMainStartTimestampMonotonic")
    return out


def meta(cluster, name):
    text = cluster.hosts[name].file(f"{DATA_DIR}/meta.properties").content_string
    return dict(re.findall(r"^([\w.]+)=(.*)$", text, re.M))


def test_invalid_inventory_fails_before_anything_changes(cluster, playbook):
    before = fingerprint(cluster)

    def duplicate_ids(gv):
        gv["kafka_node_id"] = 7  # the same node.id on all three hosts
    _rc, recap, output = playbook.run(duplicate_ids, expect_rc=2)
    assert "node id 7 is used by kafka1, kafka2, kafka3" in output, output[-3000:]
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
