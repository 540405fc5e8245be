"""Every node: the service runs, as the kafka user, from the root-owned install,
with the unit's limits and stop behaviour, and logs only to its size-bounded
files (not a second time into journald)."""
import re
import warnings

import yaml
from conftest import LOG_DIR, UNIT, deployed_value

LOG4J_CONFIG = "/etc/kafka/kafka/log4j2.yaml"
TIMESPAN_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1, "min": 60, "h": 3600, "d": 86400}


def unit_property(host, name):
    return host.check_output(f"systemctl show {UNIT} -p {name} --value").strip()


def seconds(timespan):
    """systemd's timespan text ("3min", "2min 30s", "500ms") in seconds."""
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*(us|ms|s|min|h|d)\b", timespan)
    assert parts and "".join(f"{n}{u}" for n, u in parts) == timespan.replace(" ", ""), f"unparsed timespan {timespan!r}"
    return sum(float(n) * TIMESPAN_UNITS[u] for n, u in parts)


def main_pid(host):
    pid = int(unit_property(host, "MainPID"))
    assert pid > 0, "kafka@kafka has no main process"
    return pid


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


def test_jvm_runs_with_the_units_open_files_limit(host):
    expected = int(deployed_value("kafka_service", "kafka_service_limit_nofile"))
    assert unit_property(host, "LimitNOFILE") == str(expected)
    assert unit_property(host, "LimitNOFILESoft") == str(expected)
    # systemd cannot grant more than its own hard limit (setrlimit_closest):
    # on a real host that is far above the unit's value, but a container
    # inherits the Docker daemon's, which some test machines cap lower.
    ceiling = host.file("/proc/1/limits").content_string
    ceiling = int(re.search(r"^Max open files\s+\S+\s+(\d+)", ceiling, re.M).group(1))
    effective = min(expected, ceiling)
    if effective < expected:
        warnings.warn(f"{host.backend.get_hostname()}: PID 1's hard open-files limit {ceiling} is below "
                      f"LimitNOFILE={expected}; checking the JVM gets {ceiling}")
    # The limit the running JVM really has (the unit's main process is the
    # JVM itself: the launchers exec into it).
    pid = main_pid(host)
    assert "kafka.Kafka" in host.file(f"/proc/{pid}/cmdline").content_string.replace("\0", " ")
    limits = host.file(f"/proc/{pid}/limits").content_string
    m = re.search(r"^Max open files\s+(\S+)\s+(\S+)\s+files", limits, re.M)
    assert m, limits
    assert (m.group(1), m.group(2)) == (str(effective), str(effective))


def test_unit_stops_gracefully_and_restarts_on_failure(host):
    timeout = seconds(unit_property(host, "TimeoutStopUSec"))
    # Controlled shutdown (leaders moving away) needs time before SIGKILL.
    assert timeout >= 120
    assert timeout == int(deployed_value("kafka_service", "kafka_service_timeout_stop_sec"))
    assert unit_property(host, "KillSignal") == "15"  # SIGTERM
    assert unit_property(host, "Restart") == "on-failure"


def test_kafka_logs_are_not_duplicated_into_journald(host):
    server_log = host.file(f"{LOG_DIR}/server.log").content_string
    # A distinctive line of every start, so the check cannot pass on an empty log.
    started = [line for line in server_log.splitlines()
               if "Kafka Server started" in line or "Transition from STARTING to STARTED" in line]
    assert started, f"no start line in {LOG_DIR}/server.log"
    journal = host.check_output(f"journalctl -u {UNIT} --no-pager -o cat")
    # systemd's own "Started ..." lines are there: the unit's journal is readable.
    assert "Kafka (KRaft)" in journal, journal[-2000:]
    for line in started:
        assert line not in journal, f"server.log line also in journald: {line}"
    assert "Kafka Server started" not in journal and "Transition from STARTING to STARTED" not in journal
    # Nor any other of the unit's last journal lines.
    recent = host.check_output(f"journalctl -u {UNIT} --no-pager -o cat -n 200").splitlines()
    logged = set(server_log.splitlines())
    duplicated = [line for line in recent if line.strip() and line in logged]
    assert not duplicated, duplicated[:5]


def test_log4j2_bounds_the_log_files(host):
    # The rendered file is the one the JVM uses.
    assert f"-Dlog4j2.configurationFile={LOG4J_CONFIG}" in host.file(f"/proc/{main_pid(host)}/cmdline").content_string.replace("\0", " ")
    config = yaml.safe_load(host.file(LOG4J_CONFIG).content_string)["Configuration"]
    appenders = config["Appenders"]
    # Only rolling files: a Console appender would feed journald as well.
    assert list(appenders) == ["RollingFile"], list(appenders)
    size = str(deployed_value("kafka_config", "kafka_log4j_max_file_size"))
    max_files = int(deployed_value("kafka_config", "kafka_log4j_max_files"))
    rolling = appenders["RollingFile"]
    assert "KafkaAppender" in [a["name"] for a in rolling]
    for appender in rolling:
        assert appender["fileName"].startswith("${sys:kafka.logs.dir}/"), appender
        assert appender["filePattern"] == appender["fileName"] + ".%i", appender
        assert appender["SizeBasedTriggeringPolicy"]["size"] == size, appender
        assert int(appender["DefaultRolloverStrategy"]["max"]) == max_files, appender
    properties = {p["name"]: p["value"] for p in config["Properties"]["Property"]}
    assert properties["kafka.logs.dir"] == LOG_DIR
    # Every logger writes to one of those appenders.
    refs = [config["Loggers"]["Root"]["AppenderRef"]] + [lg["AppenderRef"] for lg in config["Loggers"]["Logger"] if "AppenderRef" in lg]
    names = {a["name"] for a in rolling}
    for ref in refs:
        for r in ref if isinstance(ref, list) else [ref]:
            assert r["ref"] in names, r
