"""The three nodes form one healthy KRaft cluster that stores and serves data
like the seed notes' manual checks (quorum, brokers, topics, produce/consume,
partition directories), and survives a graceful restart of one node."""
import re
import uuid

from conftest import DATA_DIR, NAMES, UNIT, scenario_vars
from polling import wait_until

from kafka import KafkaConsumer, KafkaProducer


def produce(bootstrap, topic, value):
    producer = KafkaProducer(bootstrap_servers=bootstrap.split(","), acks="all", retries=10,
                             request_timeout_ms=30000, max_block_ms=60000)
    try:
        meta = producer.send(topic, value).get(timeout=60)
    finally:
        producer.close(timeout=10)
    return meta


def consume_until(bootstrap, topic, value, timeout_ms=60000):
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap.split(","), auto_offset_reset="earliest",
                             enable_auto_commit=False, group_id=None, consumer_timeout_ms=timeout_ms)
    try:
        for record in consumer:
            if record.value == value:
                return record
    finally:
        consumer.close()
    return None


def test_quorum_has_leader_and_three_caught_up_voters(cluster):
    status = cluster.cli("kafka-metadata-quorum.sh", "describe --status")
    assert re.search(r"^LeaderId:\s+(\d+)$", status, re.M)
    assert re.search(r"^CurrentObservers:\s+\[\]$", status, re.M), status  # all three are voters

    def caught_up():
        voters = cluster.quorum_replication()
        return voters if len(voters) == 3 and all(v["lag"] == 0 for v in voters) else None
    voters = wait_until(caught_up, timeout=60, what="three voters with lag 0")
    assert sorted(v["id"] for v in voters) == sorted(cluster.node_ids.values())
    assert [v["status"] for v in voters].count("Leader") == 1


def test_three_brokers_registered_and_unfenced(cluster):
    out = cluster.cli("kafka-broker-api-versions.sh", "")
    brokers = [line for line in out.splitlines() if "(id:" in line]
    assert len(brokers) == 3, brokers
    assert all("isFenced: false" in line for line in brokers), brokers
    assert {int(line.split("(id:")[1].split()[0]) for line in brokers} == set(cluster.node_ids.values())


def test_brokers_report_the_derived_settings(cluster):
    overrides = scenario_vars()
    for name, node_id in cluster.node_ids.items():
        # kafka_config's sizing defaults: max(3, vCPUs / 2) network and
        # max(8, vCPUs) I/O threads, unless the scenario sets them.
        vcpus = int(cluster.hosts[name].check_output("nproc"))
        expected = {
            "min.insync.replicas": "2",
            "unclean.leader.election.enable": "false",
            "default.replication.factor": "3",
            "offsets.topic.replication.factor": "3",
            "transaction.state.log.replication.factor": "3",
            "transaction.state.log.min.isr": "2",
            "num.network.threads": str(overrides.get("kafka_num_network_threads", max(3, vcpus // 2))),
            "num.io.threads": str(overrides.get("kafka_num_io_threads", max(8, vcpus))),
        }
        configs = cluster.broker_config(node_id, on=name)
        # The live values ...
        assert {k: configs.get(k, (None,))[0] for k in expected} == expected, name
        # ... as set in server.properties, not Kafka's built-in defaults that
        # happen to be the same numbers (num.io.threads=8). min.insync.replicas
        # is also seeded as the cluster-wide dynamic default at bootstrap:
        # whatever the source, the static value must be there and agree.
        for key, value in expected.items():
            assert f"STATIC_BROKER_CONFIG:{key}={value}" in configs[key][1], (name, key, configs[key])
            assert not configs[key][1][0].startswith("DEFAULT_CONFIG:"), (name, key, configs[key])


def test_rf3_topic_spreads_leaders_and_keeps_full_isr(cluster):
    cluster.cli("kafka-topics.sh", "--create --if-not-exists --topic verify-rf3 --partitions 3 --replication-factor 3")

    def fully_replicated():
        parts = cluster.describe_topic("verify-rf3")
        return parts if len(parts) == 3 and all(len(p["isr"]) == 3 for p in parts) else None
    parts = wait_until(fully_replicated, timeout=60, what="3 partitions with ISR 3")
    ids = set(cluster.node_ids.values())
    assert {p["leader"] for p in parts} == ids, parts
    for p in parts:
        assert set(p["replicas"]) == ids and set(p["isr"]) == ids


def test_produced_message_is_consumed(cluster):
    value = f"hello-{uuid.uuid4()}".encode()
    produce(cluster.bootstrap(), "verify-rf3", value)
    record = consume_until(cluster.bootstrap(), "verify-rf3", value)
    assert record is not None, "message not consumed"


def test_rf3_partition_directories_exist_on_every_replica(cluster):
    for name in NAMES:
        for partition in range(3):
            assert cluster.hosts[name].file(f"{DATA_DIR}/verify-rf3-{partition}").is_directory, (name, partition)


def test_rf1_partition_lives_on_exactly_one_node(cluster):
    # The seed's tracing experiment: a replication-factor-1 topic has a
    # partition directory on exactly one node, its leader.
    cluster.cli("kafka-topics.sh", "--create --if-not-exists --topic verify-rf1 --partitions 1 "
                                   "--replication-factor 1 --config min.insync.replicas=1")
    parts = wait_until(lambda: cluster.describe_topic("verify-rf1"), timeout=60, what="verify-rf1 metadata")
    produce(cluster.bootstrap(), "verify-rf1", b"rf1")
    holders = [n for n in NAMES if cluster.hosts[n].file(f"{DATA_DIR}/verify-rf1-0").is_directory]
    assert len(holders) == 1, holders
    assert cluster.node_ids[holders[0]] == parts[0]["leader"]


def test_graceful_restart_keeps_the_cluster_serving(cluster):
    victim = "kafka3"
    others = [n for n in NAMES if n != victim]
    node = cluster.hosts[victim]
    node.check_output(f"systemctl stop {UNIT}")
    try:
        # Stopped by SIGTERM with a clean exit (143 counts as success), not killed.
        show = node.check_output(f"systemctl show {UNIT} -p Result -p ExecMainStatus")
        assert "Result=success" in show, show
        assert "shut down completed" in node.check_output("tail -n 200 /var/log/kafka/kafka/server.log")
        # The two others still elect leaders and accept acks=all writes (min ISR 2).
        value = f"while-down-{uuid.uuid4()}".encode()
        bootstrap = cluster.bootstrap(exclude=[victim])
        produce(bootstrap, "verify-rf3", value)
        assert consume_until(bootstrap, "verify-rf3", value) is not None
        leaders = {p["leader"] for p in cluster.describe_topic("verify-rf3", on=others[0], exclude=[victim])}
        assert cluster.node_ids[victim] not in leaders
    finally:
        node.check_output(f"systemctl start {UNIT}")
    # It rejoins: voter caught up again, full ISR everywhere.
    wait_until(cluster.healthy, timeout=180, interval=3, what="cluster healthy after the restart")
    parts = cluster.describe_topic("verify-rf3")
    assert all(cluster.node_ids[victim] in p["isr"] for p in parts), parts
