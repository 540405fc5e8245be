"""Shared helpers for the molecule/default testinfra tests.

Cluster-level checks talk to Kafka the way an operator does: the Kafka CLI
inside a container (kafka-metadata-quorum.sh, kafka-topics.sh, ...) and a
kafka-python client on the host (which reaches the brokers through their
advertised listeners, like any external client).
"""
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import testinfra
import yaml

NAMES = ["kafka1", "kafka2", "kafka3"]
INSTANCE = "kafka"
UNIT = f"kafka@{INSTANCE}.service"
KAFKA_BIN = "/opt/kafka/current/bin"
DATA_DIR = f"/var/lib/kafka/{INSTANCE}"
LOG_DIR = f"/var/log/kafka/{INSTANCE}"
CONFIG = f"/etc/kafka/{INSTANCE}/server.properties"
# CLI tools as an operator runs them: small heap, logs outside the install dir.
CLI_ENV = "env LOG_DIR=/tmp/kafka-cli KAFKA_HEAP_OPTS=-Xmx160m"
SCENARIO_DIR = Path(__file__).resolve().parent.parent
ROLES_DIR = SCENARIO_DIR.parent.parent / "roles"
# tests/support (polling.wait_until) for the test modules.
sys.path.insert(0, str(SCENARIO_DIR.parent.parent / "tests" / "support"))


class Cluster:
    def __init__(self, inventory):
        self.inventory = inventory
        self.hosts = {n: testinfra.get_host(f"ansible://{n}", ansible_inventory=inventory) for n in NAMES}
        self.ips = {n: h.check_output("hostname -I").split()[0] for n, h in self.hosts.items()}
        self.node_ids = {n: int(re.search(r"^node\.id=(\d+)$", h.file(CONFIG).content_string, re.M).group(1))
                         for n, h in self.hosts.items()}
        self.names_by_id = {i: n for n, i in self.node_ids.items()}

    def bootstrap(self, exclude=()):
        return ",".join(f"{self.ips[n]}:9092" for n in NAMES if n not in exclude)

    def cli(self, tool, args, on="kafka1", exclude=()):
        """Run a Kafka CLI tool in a container against the cluster; return stdout."""
        cmd = f"{CLI_ENV} {KAFKA_BIN}/{tool} --bootstrap-server {self.bootstrap(exclude)} {args}"
        result = self.hosts[on].run(cmd)
        if result.rc != 0:
            raise RuntimeError(f"{tool} {args} failed ({result.rc}): {result.stderr[-2000:]}")
        return result.stdout

    def quorum_replication(self, on="kafka1", exclude=()):
        """kafka-metadata-quorum describe --replication as [{id, lag, status}]."""
        out = self.cli("kafka-metadata-quorum.sh", "describe --replication", on=on, exclude=exclude)
        rows = []
        for line in out.splitlines()[1:]:
            cols = line.split()
            if len(cols) >= 7 and cols[0].isdigit():
                rows.append({"id": int(cols[0]), "lag": int(cols[3]), "status": cols[6]})
        return rows

    def describe_topic(self, topic, on="kafka1", exclude=()):
        """kafka-topics --describe as [{partition, leader, replicas, isr}]."""
        out = self.cli("kafka-topics.sh", f"--describe --topic {topic}", on=on, exclude=exclude)
        parts = []
        for line in out.splitlines():
            m = re.search(r"Partition:\s*(\d+)\s+Leader:\s*(-?\d+|none)\s+Replicas:\s*([\d,]*)\s+Isr:\s*([\d,]*)", line)
            if m:
                parts.append({
                    "partition": int(m.group(1)),
                    "leader": int(m.group(2)) if m.group(2) != "none" else -1,
                    "replicas": [int(x) for x in m.group(3).split(",") if x],
                    "isr": [int(x) for x in m.group(4).split(",") if x],
                })
        return parts

    def broker_config(self, node_id, on="kafka1"):
        """kafka-configs --describe --all of one broker as {name: (value, synonyms)}.

        synonyms are the "SOURCE:name=value" entries Kafka lists, the
        effective one first (STATIC_BROKER_CONFIG: server.properties,
        DEFAULT_CONFIG: Kafka's built-in default), so a test can tell "the
        role set it" from "Kafka's default happens to match"."""
        out = self.cli("kafka-configs.sh", f"--describe --all --entity-type brokers --entity-name {node_id}", on=on)
        configs = {}
        for m in re.finditer(r"^\s+([\w.-]+)=(.*?) sensitive=\w+ synonyms=\{(.*)\}\s*$", out, re.M):
            configs[m.group(1)] = (m.group(2), [syn.strip() for syn in m.group(3).split(", ") if syn.strip()])
        if not configs:
            raise AssertionError(f"no configs parsed for broker {node_id}: {out[-2000:]}")
        return configs

    def healthy(self, exclude=()):
        """Three voters caught up and every partition of the test topics fully in sync."""
        voters = self.quorum_replication(exclude=exclude)
        ok = (len(voters) == 3 and any(v["status"] == "Leader" for v in voters)
              and all(v["lag"] == 0 for v in voters))
        if not ok:
            raise AssertionError(f"quorum not healthy: {voters}")
        out = self.cli("kafka-topics.sh", "--describe --under-replicated-partitions", exclude=exclude)
        if out.strip():
            raise AssertionError(f"under-replicated partitions: {out.strip()}")
        return True


@pytest.fixture(scope="session")
def cluster():
    return Cluster(os.environ["MOLECULE_INVENTORY_FILE"])


def scenario_vars():
    """The scenario's group_vars (molecule.yml provisioner.inventory), as deployed."""
    gv_file = Path(os.environ["MOLECULE_INVENTORY_FILE"]).parent / "group_vars" / "kafka"
    return (yaml.safe_load(gv_file.read_text()) or {}) if gv_file.exists() else {}


def deployed_value(role, name):
    """What site.yml used for variable name: the scenario's value if it sets
    one, else the role default. Tests compare against this instead of a
    number of their own, so they follow the role's defaults."""
    overrides = scenario_vars()
    if name in overrides:
        return overrides[name]
    defaults = yaml.safe_load((ROLES_DIR / role / "defaults" / "main.yml").read_text())
    return defaults[name]


class Playbook:
    """Re-run site.yml (through converge.yml) against a modified copy of the
    molecule inventory, the way an operator edits group_vars and re-runs."""

    def __init__(self, tmp_path_factory):
        self.source = Path(os.environ["MOLECULE_INVENTORY_FILE"]).parent
        self.tmp_path_factory = tmp_path_factory

    def run(self, group_vars_change, expect_rc=0, host_vars=None):
        """host_vars: {host: {variable: value}} written to host_vars/<host>
        of the copy (they win over group_vars, like an operator's per-host
        setting)."""
        inv = self.tmp_path_factory.mktemp("inventory")
        shutil.copytree(self.source, inv, dirs_exist_ok=True)
        gv_file = inv / "group_vars" / "kafka"
        group_vars = yaml.safe_load(gv_file.read_text()) or {}
        group_vars_change(group_vars)
        gv_file.write_text(yaml.safe_dump(group_vars))
        for host, variables in (host_vars or {}).items():
            hv_file = inv / "host_vars" / host
            hv_file.parent.mkdir(exist_ok=True)
            current = (yaml.safe_load(hv_file.read_text()) or {}) if hv_file.exists() else {}
            hv_file.write_text(yaml.safe_dump({**current, **variables}))
        env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
        cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inv / "ansible_inventory.yml"),
               str(SCENARIO_DIR / "converge.yml")]
        started = time.time()
        proc = subprocess.run(cmd, env=env, cwd=SCENARIO_DIR, capture_output=True, text=True, check=False)
        output = proc.stdout + proc.stderr
        if proc.returncode != expect_rc and not (expect_rc != 0 and proc.returncode != 0):
            raise AssertionError(f"site.yml exited {proc.returncode}, expected {expect_rc}:\n{output[-6000:]}")
        recap = {m.group(1): {"ok": int(m.group(2)), "changed": int(m.group(3)), "failed": int(m.group(4))}
                 for m in re.finditer(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=\d+\s+failed=(\d+)",
                                      output, re.M)}
        return started, recap, output


@pytest.fixture(scope="session")
def playbook(tmp_path_factory):
    return Playbook(tmp_path_factory)
