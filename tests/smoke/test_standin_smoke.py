"""Proof that the Kafka stand-in distribution is real Kafka.

For the collection's default version and for 4.0.0 (the seed's version):
verify the archive against its Apache-format .sha512, format a single-node
KRaft directory with the archive's own kafka-storage.sh, start
kafka-server-start.sh, create a topic and round-trip a message with
kafka-python, then stop the server with SIGTERM and check it shut down
cleanly.
"""
import hashlib
import os
import re
import signal
import socket
import subprocess
import tarfile
import uuid

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from polling import wait_until

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DIST_DIR = os.path.join(os.environ.get("KRAFT_CACHE_DIR", os.path.join(REPO_ROOT, ".cache")), "dist")


def default_kafka_version():
    path = os.path.join(REPO_ROOT, "roles", "kafka_install", "defaults", "main.yml")
    with open(path) as handle:
        match = re.search(r'^kafka_version:\s*"?([0-9.]+)"?', handle.read(), re.M)
    return match.group(1)


VERSIONS = sorted({default_kafka_version(), "4.0.0"})


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def apache_sha512(path):
    """Parse Apache's `gpg --print-md SHA512` format: 'name: HEX HEX ...' over lines."""
    with open(path) as handle:
        text = handle.read()
    return re.sub(r"\s+", "", text.split(":", 1)[1]).lower()


def wait_for(predicate, timeout, what):
    # Any error is "not yet": the server is still starting.
    wait_until(predicate, timeout, what, tolerate=(Exception,))


@pytest.fixture(params=VERSIONS)
def kafka_home(request, tmp_path):
    version = request.param
    archive = os.path.join(DIST_DIR, "kafka_2.13-%s.tgz" % version)
    assert os.path.exists(archive), "missing %s: run tools/kafka-standin/build.sh %s" % (archive, version)
    with open(archive, "rb") as handle:
        digest = hashlib.sha512(handle.read()).hexdigest()
    assert digest == apache_sha512(archive + ".sha512"), "sha512 of %s does not match its .sha512 file" % archive
    with tarfile.open(archive) as tar:
        tar.extractall(tmp_path)  # our own archive, built by tools/kafka-standin
    home = tmp_path / ("kafka_2.13-%s" % version)
    for part in ("bin/kafka-server-start.sh", "bin/kafka-storage.sh", "config/server.properties", "libs"):
        assert (home / part).exists(), "archive lacks %s" % part
    return version, home


def write_single_node_config(home, tmp_path):
    broker_port, controller_port = free_port(), free_port()
    config = tmp_path / "server.properties"
    config.write_text(
        "\n".join([
            "process.roles=broker,controller",
            "node.id=1",
            "controller.quorum.voters=1@127.0.0.1:%d" % controller_port,
            "listeners=PLAINTEXT://127.0.0.1:%d,CONTROLLER://127.0.0.1:%d" % (broker_port, controller_port),
            "advertised.listeners=PLAINTEXT://127.0.0.1:%d" % broker_port,
            "controller.listener.names=CONTROLLER",
            "inter.broker.listener.name=PLAINTEXT",
            "log.dirs=%s" % (tmp_path / "data"),
            "offsets.topic.replication.factor=1",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "share.coordinator.state.topic.replication.factor=1",
            "share.coordinator.state.topic.min.isr=1",
            "group.initial.rebalance.delay.ms=0",
        ]) + "\n"
    )
    return config, "127.0.0.1:%d" % broker_port


def test_standin_is_real_kafka(kafka_home, tmp_path):
    version, home = kafka_home
    config, bootstrap = write_single_node_config(home, tmp_path)
    env = dict(os.environ, KAFKA_HEAP_OPTS="-Xmx384m -Xms384m", LOG_DIR=str(tmp_path / "logs"))

    cluster_id = subprocess.run(
        [str(home / "bin/kafka-storage.sh"), "random-uuid"], env=env, check=True, capture_output=True, text=True
    ).stdout.strip()
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", cluster_id), cluster_id
    fmt = subprocess.run(
        [str(home / "bin/kafka-storage.sh"), "format", "-t", cluster_id, "-c", str(config)],
        env=env, capture_output=True, text=True, check=False,
    )
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr
    assert "Formatting" in fmt.stdout and "metadata.version" in fmt.stdout, fmt.stdout
    meta = (tmp_path / "data" / "meta.properties").read_text()
    assert "cluster.id=%s" % cluster_id in meta

    server = subprocess.Popen(
        [str(home / "bin/kafka-server-start.sh"), str(config)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        admin = None

        def topic_created():
            nonlocal admin
            admin = admin or KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
            admin.create_topics([NewTopic("smoke", 1, 1)])
            return True

        wait_for(topic_created, 120, "Kafka %s to accept a CreateTopics request" % version)
        assert "smoke" in admin.list_topics()
        admin.close()

        payload = ("hello from kraft.kafka %s %s" % (version, uuid.uuid4())).encode()
        producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
        producer.send("smoke", payload).get(timeout=60)
        producer.close()

        consumer = KafkaConsumer(
            "smoke", bootstrap_servers=bootstrap, auto_offset_reset="earliest",
            group_id="smoke-test", consumer_timeout_ms=30000,
        )
        received = []
        for record in consumer:  # stops after consumer_timeout_ms without records
            received.append(record.value)
            if record.value == payload:
                break
        consumer.close()
        assert payload in received, "the produced message was not consumed back"
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            status = server.wait(timeout=120)
        except subprocess.TimeoutExpired:
            server.kill()
            raise AssertionError("Kafka %s did not stop within 120s of SIGTERM" % version)

    # The JVM exits 143 (128 + SIGTERM) after running Kafka's shutdown hook.
    assert status in (0, 143), "unexpected exit status %s" % status
    log = (tmp_path / "logs" / "server.log").read_text()
    assert "shut down completed" in log, "no clean shutdown line in server.log"
    assert re.search(r"BrokerServer id=1\] Transition from SHUTTING_DOWN to SHUTDOWN", log)
    assert "Kafka Server started" in log
