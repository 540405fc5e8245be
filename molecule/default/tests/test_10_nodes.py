"""Every node: the service runs, as the kafka user, from the root-owned install."""


def test_service_enabled_and_active(host):
    service = host.service("kafka@kafka")
    assert service.is_running
    assert service.is_enabled


def test_java_runs_as_kafka_user(host):
    procs = [p for p in host.process.filter(comm="java") if "kafka.Kafka" in p.args]
    assert len(procs) == 1, [p.args for p in procs]
    assert procs[0].user == "kafka"
    assert "/etc/kafka/kafka/server.properties" in procs[0].args


def test_kafka_cannot_rewrite_its_binaries(host):
    # The service account can read but not modify the install.
    assert host.run("runuser -u kafka -- test -w /opt/kafka/current/bin/kafka-server-start.sh").rc != 0
    assert host.run("runuser -u kafka -- test -w /opt/kafka/current/libs").rc != 0
    assert host.run("runuser -u kafka -- test -r /etc/kafka/kafka/server.properties").rc == 0
    assert host.run("runuser -u kafka -- test -w /etc/kafka/kafka/server.properties").rc != 0


def test_kafka_user_cannot_log_in(host):
    user = host.user("kafka")
    assert user.shell in ("/usr/sbin/nologin", "/sbin/nologin")
    assert not host.file(user.home).exists


def test_listeners_serve(host):
    # Bound on every interface (IPv4 or dual-stack IPv6, whatever the JVM picks).
    for port in (9092, 9093):
        listening = host.check_output(f"ss -Htln sport = :{port}")
        assert listening.strip(), f"nothing listens on {port}"
