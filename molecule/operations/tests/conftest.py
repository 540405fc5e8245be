"""Helpers of the molecule/operations zero-loss tests.

Operations run the way an operator runs them: ansible-playbook on the
controller with the scenario's inventory (a copy of it, edited where an
operator would edit group_vars). The load tool (tests/load/zero_loss.py) runs
on the controller too and reaches the brokers at their advertised addresses
(the containers' IPs), like any external client. Node-level facts (MainPID,
files) are read with `docker exec`: the containers are local.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

SCENARIO_DIR = Path(__file__).resolve().parent.parent
PROJECT_DIR = SCENARIO_DIR.parent.parent
LOAD_TOOL = PROJECT_DIR / "tests" / "load" / "zero_loss.py"
sys.path.insert(0, str(PROJECT_DIR / "tests" / "support"))

from polling import wait_until  # noqa: E402 (needs the sys.path entry above)
NODES = ["ops-kafka1", "ops-kafka2", "ops-kafka3"]
SPARE = "ops-kafka4"
UNIT = "kafka@kafka.service"
CLI_ENV = ["env", "LOG_DIR=/tmp/kafka-cli", "KAFKA_HEAP_OPTS=-Xmx160m"]
KAFKA_BIN = "/opt/kafka/current/bin"
ALL_STEPS = ["config", "restart", "kill", "gate", "leaders", "upgrade", "scaleout", "playbooks"]
# The steps CI runs by default (its time budget): the rolling ones, kill -9 and
# a failed health gate.
# KRAFT_OPS_STEPS=all runs every step (adds the upgrade, the scale-out and
# topics.yml / consumer_group_reset.yml / report.yml on the containers), or
# name them: KRAFT_OPS_STEPS="upgrade scaleout playbooks".
DEFAULT_STEPS = ["config", "restart", "kill", "gate", "leaders"]
_STEPS_ENV = os.environ.get("KRAFT_OPS_STEPS", "").replace(",", " ").split()
STEPS = ALL_STEPS if _STEPS_ENV == ["all"] else (_STEPS_ENV or DEFAULT_STEPS)
# Records per second offered by the load tool during each operation.
LOAD_RATE = os.environ.get("KRAFT_OPS_RATE", "200")


def step(name):
    """Mark a test as one selectable step of the scenario."""
    return pytest.mark.skipif(name not in STEPS, reason=f"step {name} not in KRAFT_OPS_STEPS={' '.join(STEPS)}")


def docker_exec(container, argv, check=True):
    proc = subprocess.run(["docker", "exec", container] + list(argv), capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{container}: {' '.join(argv)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return proc.stdout


def unit_state(container):
    """systemctl show of the Kafka unit as a dict (MainPID, ActiveState, NRestarts, monotonic times)."""
    out = docker_exec(container, ["systemctl", "show", UNIT, "-p", "MainPID", "-p", "ActiveState", "-p", "NRestarts",
                                  "-p", "ActiveEnterTimestampMonotonic", "-p", "ActiveExitTimestampMonotonic"])
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def main_pids(nodes):
    return {n: int(unit_state(n)["MainPID"]) for n in nodes}


def container_ip(container):
    out = subprocess.run(["docker", "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}",
                          container], capture_output=True, text=True, check=True).stdout
    return out.split()[0]


def bootstrap(nodes=None):
    return [f"{container_ip(n)}:9092" for n in (NODES if nodes is None else nodes)]


class Operator:
    """ansible-playbook against a copy of the molecule inventory."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.inventory_dir = workdir / "inventory"
        shutil.copytree(Path(os.environ["MOLECULE_INVENTORY_FILE"]).parent, self.inventory_dir)
        self.inventory = self.inventory_dir / "ansible_inventory.yml"
        self.ansible_playbook = str(Path(sys.executable).parent / "ansible-playbook")

    def set_group_vars(self, **changes):
        """Edit group_vars/kafka of the operator's inventory, as an operator would."""
        path = self.inventory_dir / "group_vars" / "kafka"
        data = yaml.safe_load(path.read_text()) or {}
        data.update(changes)
        path.write_text(yaml.safe_dump(data))

    def run(self, playbook, *args, extra_inventories=(), expect_rc=0):
        """Run a playbook (FQCN such as kraft.kafka.rolling_restart, or a path); return (rc, output, recap)."""
        cmd = [self.ansible_playbook, "-i", str(self.inventory)]
        for extra in extra_inventories:
            cmd += ["-i", str(extra)]
        cmd += [str(playbook)] + list(args)
        # JSON results: one line per message, whatever the scenario's callback settings.
        env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_CALLBACK_RESULT_FORMAT="json")
        started = time.monotonic()
        proc = subprocess.run(cmd, env=env, cwd=SCENARIO_DIR, capture_output=True, text=True, check=False)
        output = proc.stdout + proc.stderr
        print(f"\n$ {' '.join(cmd[1:])}\n  -> rc {proc.returncode} in {time.monotonic() - started:.0f}s")
        if expect_rc is not None and (proc.returncode != 0) != (expect_rc != 0):
            raise AssertionError(f"{playbook} exited {proc.returncode}, expected {expect_rc}:\n{output[-8000:]}")
        recap = {m.group(1): {"ok": int(m.group(2)), "changed": int(m.group(3)), "failed": int(m.group(4))}
                 for m in re.finditer(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=\d+\s+failed=(\d+)",
                                      output, re.M)}
        return proc.returncode, output, recap


@pytest.fixture(scope="session")
def operator(tmp_path_factory):
    return Operator(tmp_path_factory.mktemp("operator"))


class LoadRun:
    """zero_loss.py in the background during one operation."""

    def __init__(self, name, workdir):
        self.name = name
        self.workdir = workdir
        self.stop_file = workdir / f"{name}.stop"
        self.ready_file = workdir / f"{name}.ready"
        self.report_file = workdir / f"{name}.json"
        self.log_file = workdir / f"{name}.log"
        self.proc = None
        self.report = None

    def start(self):
        cmd = [sys.executable, str(LOAD_TOOL), "--bootstrap", ",".join(bootstrap()), "--topic", f"zero-loss-{self.name}",
               "--rate", LOAD_RATE, "--stop-file", str(self.stop_file), "--ready-file", str(self.ready_file),
               "--report", str(self.report_file)]
        with open(self.log_file, "w") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)

        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"load tool exited {self.proc.returncode}: {self.log_file.read_text()[-3000:]}")
            return self.ready_file.exists()
        wait_until(ready, timeout=120, interval=0.5, what=f"the first acknowledged record of {self.name}")

    def stop(self):
        self.stop_file.touch()
        try:
            self.proc.wait(timeout=900)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise
        if not self.report_file.exists():
            raise AssertionError(f"no report from the load tool: {self.log_file.read_text()[-3000:]}")
        self.report = json.loads(self.report_file.read_text())
        figures = {k: self.report[k] for k in ("acknowledged", "lost", "duplicated", "producer_errors", "max_stall_s",
                                               "duration_s", "sent", "read")}
        # One line per operation, easy to find in the CI log.
        print(f"\nZERO-LOSS {self.name}: {json.dumps(figures, sort_keys=True)}")
        if self.report.get("first_errors"):
            print(f"ZERO-LOSS {self.name} first producer errors: {self.report['first_errors']}")
        return self.report


@contextmanager
def zero_loss(name, tmp_path_factory):
    """Run the block under load, then assert that no acknowledged record was lost or duplicated."""
    run = LoadRun(name, tmp_path_factory.mktemp(f"load-{name}"))
    run.start()
    try:
        yield run
    finally:
        # Stop the producer even when the operation failed, so it does not
        # keep running (it also stops by itself after --max-duration).
        report = run.stop()
    assert report["acknowledged"] > 0, report
    assert report["lost"] == 0, report
    assert report["duplicated"] == 0, report


@contextmanager
def kafka_admin(bootstrap_servers):
    """A kafka-python admin client on the brokers, closed on exit."""
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="ops-test")
    try:
        yield admin
    finally:
        admin.close()


def leadership(bootstrap_servers):
    """(partitions not led by their preferred replica, leaders per broker id) over all topics."""
    with kafka_admin(bootstrap_servers) as admin:
        topics = admin.describe_topics()
    not_preferred = 0
    per_broker = {}
    for topic in topics:
        for part in topic["partitions"]:
            per_broker[part["leader_id"]] = per_broker.get(part["leader_id"], 0) + 1
            if part["replica_nodes"] and part["leader_id"] != part["replica_nodes"][0]:
                not_preferred += 1
    return not_preferred, per_broker


def replicas_per_broker(bootstrap_servers):
    with kafka_admin(bootstrap_servers) as admin:
        topics = admin.describe_topics()
    counts = {}
    for topic in topics:
        for part in topic["partitions"]:
            for replica in part["replica_nodes"]:
                counts[replica] = counts.get(replica, 0) + 1
    return counts


def features(container="ops-kafka1"):
    """Finalized feature levels as kafka-features.sh describes them, {feature: level name}."""
    out = docker_exec(container, CLI_ENV + [f"{KAFKA_BIN}/kafka-features.sh", "--bootstrap-server",
                                            ",".join(bootstrap()), "describe"])
    return {m.group(1): m.group(2) for m in re.finditer(r"Feature:\s*(\S+).*?FinalizedVersionLevel:\s*(\S+)", out)}
