"""Shared pieces of the container benchmarks (deploy, rolling restart, throughput).

The bench cluster: three Debian containers with systemd as PID 1 (the
Molecule options that work on these machines: cgroupns host, /sys/fs/cgroup
read-only, tmpfs /run /run/lock /tmp, no --privileged), named bench-kafka1..3
on their own Docker network, deployed by site.yml with bench/inventory.
Ansible runs with the json stdout callback so every task's start/end and the
recap counts are read as data (the same start->end spans profile_tasks
prints); the raw output of each run is kept under .cache/bench/.
"""
import json
import os
import socket
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO_ROOT / "bench" / "results"
WORK_DIR = REPO_ROOT / ".cache" / "bench"
INVENTORY = REPO_ROOT / "bench" / "inventory"
# The collection checkout that is benchmarked (site.yml, playbooks, roles,
# ansible.cfg): this one, or a snapshot (e.g. `git archive HEAD` unpacked, with
# .cache/collections/ansible_collections/kraft/kafka linking to it) when the
# working tree is in the middle of an edit.
SRC = Path(os.environ.get("KRAFT_BENCH_SRC", REPO_ROOT)).resolve()
VENV_BIN = Path(os.environ.get("KRAFT_VENV_DIR", REPO_ROOT / ".venv")) / "bin"

NODES = ["kafka1", "kafka2", "kafka3"]
CONTAINER_PREFIX = "bench-"
NETWORK = "kraft-bench"
BASE_IMAGE = "kraft-kafka/debian12:latest"
JAVA_IMAGE = "kraft-kafka/bench-java"
JAVA_PACKAGE = "openjdk-17-jre-headless"
UNIT = "kafka@kafka.service"
BROKER_PORT = 9092


def log(msg):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


def sh(args, check=True, capture=True, timeout=None, **kwargs):
    proc = subprocess.run(args, capture_output=capture, text=True, timeout=timeout, check=False, **kwargs)
    if check and proc.returncode != 0:
        raise SystemExit("command failed (%d): %s\n%s%s" % (
            proc.returncode, " ".join(args), proc.stdout or "", proc.stderr or ""))
    return proc


def container(node):
    return CONTAINER_PREFIX + node


# ---------------------------------------------------------------- containers

def destroy_containers():
    names = [container(n) for n in NODES]
    sh(["docker", "rm", "-f", "-v"] + names, check=False)
    sh(["docker", "network", "rm", NETWORK], check=False)


def create_containers(image):
    """Fresh containers (any old ones removed first)."""
    destroy_containers()
    sh(["docker", "network", "create", NETWORK])
    for node in NODES:
        sh(["docker", "run", "-d", "--name", container(node), "--hostname", node,
            "--network", NETWORK, "--cgroupns", "host",
            "--tmpfs", "/run", "--tmpfs", "/run/lock", "--tmpfs", "/tmp",
            "-v", "/sys/fs/cgroup:/sys/fs/cgroup:ro", image, "/lib/systemd/systemd"])
    # systemd must be up before Ansible talks to it (systemd_service, daemon-reload).
    for node in NODES:
        wait_for(lambda n=node: sh(["docker", "exec", container(n), "systemctl", "is-system-running"],
                                   check=False).stdout.strip() in ("running", "degraded"),
                 60, "systemd in %s" % container(node))


def containers_running():
    proc = sh(["docker", "inspect", "-f", "{{.State.Running}}"] + [container(n) for n in NODES], check=False)
    return proc.returncode == 0 and proc.stdout.split() == ["true"] * len(NODES)


def docker_exec(node, *args, check=True, timeout=None):
    return sh(["docker", "exec", container(node)] + list(args), check=check, timeout=timeout)


def container_ip(node):
    return sh(["docker", "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
               container(node)]).stdout.strip()


def bootstrap_servers():
    return ["%s:%d" % (container_ip(n), BROKER_PORT) for n in NODES]


def java_image():
    """An image with the JRE preinstalled, built once per base image (cached by its id)."""
    base_id = sh(["docker", "image", "inspect", "-f", "{{.Id}}", BASE_IMAGE]).stdout.strip()
    tag = "%s:%s" % (JAVA_IMAGE, base_id.split(":")[-1][:12])
    if sh(["docker", "image", "inspect", tag], check=False).returncode == 0:
        return tag
    log("building %s (base image + %s)" % (tag, JAVA_PACKAGE))
    name = "bench-java-build"
    sh(["docker", "rm", "-f", name], check=False)
    sh(["docker", "run", "-d", "--name", name, BASE_IMAGE, "sleep", "infinity"])
    try:
        sh(["docker", "exec", "-e", "DEBIAN_FRONTEND=noninteractive", name, "sh", "-c",
            "apt-get update -q && apt-get install -y -q --no-install-recommends %s && apt-get clean"
            % JAVA_PACKAGE], timeout=1200)
        sh(["docker", "commit", "--change", 'CMD ["/lib/systemd/systemd"]', name, tag])
    finally:
        sh(["docker", "rm", "-f", name], check=False)
    return tag


# ---------------------------------------------------------------- ansible

def ansible_env():
    env = dict(os.environ)
    env.update(
        PATH="%s:%s" % (VENV_BIN, env.get("PATH", "")),
        ANSIBLE_CONFIG=str(SRC / "ansible.cfg"),
        ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
        ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
        ANSIBLE_RETRY_FILES_ENABLED="0",
        ANSIBLE_NOCOLOR="1",
    )
    return env


def _parse_ts(value):
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)


def run_playbook(playbook, label, extra_args=(), timeout=3600):
    """Run ansible-playbook on the bench inventory; return a summary dict.

    tasks: [{name, start, end, seconds, hosts: {host: result}}] in run order;
    stats: the recap per host; wall_s: wall-clock seconds of the whole run.
    """
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    args = [str(VENV_BIN / "ansible-playbook"), "-i", str(INVENTORY), str(SRC / playbook)] + list(extra_args)
    log("ansible-playbook %s (%s)" % (playbook, label))
    started = time.monotonic()
    proc = subprocess.run(args, cwd=str(SRC), env=ansible_env(), capture_output=True, text=True,
                          timeout=timeout, check=False)
    wall = time.monotonic() - started
    raw_path = WORK_DIR / ("%s.json" % label)
    raw_path.write_text(proc.stdout)
    (WORK_DIR / ("%s.stderr" % label)).write_text(proc.stderr)
    try:
        output = json.loads(proc.stdout[proc.stdout.index("{"):])
    except ValueError:
        raise SystemExit("%s: no JSON output (rc %d), see %s\n%s"
                         % (label, proc.returncode, raw_path, proc.stderr[-3000:]))
    tasks = []
    for play in output.get("plays", []):
        for task in play.get("tasks", []):
            duration = task["task"].get("duration", {})
            if "start" not in duration or "end" not in duration:
                continue
            start, end = _parse_ts(duration["start"]), _parse_ts(duration["end"])
            tasks.append({"name": task["task"]["name"], "start": start, "end": end,
                          "seconds": (end - start).total_seconds(), "hosts": task.get("hosts", {})})
    stats = output.get("stats", {})
    failed = proc.returncode != 0 or any(s.get("failures") or s.get("unreachable") for s in stats.values())
    if failed:
        msgs = ["%s/%s: %s" % (t["name"], h, r.get("msg")) for t in tasks for h, r in t["hosts"].items()
                if r.get("failed") or r.get("unreachable")]
        raise SystemExit("%s failed (rc %d), see %s:\n%s" % (label, proc.returncode, raw_path, "\n".join(msgs[-5:])))
    return {"wall_s": wall, "tasks": tasks, "stats": stats,
            "changed": sum(s.get("changed", 0) for s in stats.values())}


def slowest_tasks(run, count=10):
    """The count longest tasks (name, seconds), like profile_tasks' summary."""
    ordered = sorted(run["tasks"], key=lambda t: t["seconds"], reverse=True)[:count]
    return [{"task": t["name"], "s": round(t["seconds"], 2)} for t in ordered]


def deploy(label, extra_args=()):
    return run_playbook("site.yml", label, extra_args)


def ensure_cluster():
    """Reuse a running bench cluster, or create one (Java preinstalled) and deploy it."""
    if containers_running() and all(port_open(s) for s in bootstrap_servers()):
        log("reusing the running bench cluster")
        return
    create_containers(java_image())
    deploy("ensure-cluster")


# ---------------------------------------------------------------- kafka / polling

def wait_for(predicate, timeout, what, interval=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise SystemExit("timed out after %ss waiting for %s" % (timeout, what))


def port_open(server, timeout=1.0):
    host, port = server.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            return True
    except OSError:
        return False


def admin_client(servers, timeout_ms=5000):
    from kafka.admin import KafkaAdminClient
    return KafkaAdminClient(bootstrap_servers=servers, client_id="kraft-kafka-bench",
                            request_timeout_ms=timeout_ms, bootstrap_timeout_ms=timeout_ms)


def unfenced_brokers(servers):
    """Broker ids the controller reports registered and unfenced (a fresh client each poll)."""
    try:
        admin = admin_client(servers, timeout_ms=3000)
    except Exception:  # broker still starting: keep polling
        return set()
    try:
        cluster = admin.describe_cluster()
        return {b["broker_id"] for b in cluster["brokers"] if not b.get("is_fenced")}
    except Exception:
        return set()
    finally:
        admin.close()


def under_replicated(servers):
    """Number of under-replicated partitions (None when the cluster cannot answer)."""
    try:
        admin = admin_client(servers, timeout_ms=3000)
    except Exception:
        return None
    try:
        topics = admin.describe_topics()
        return sum(1 for t in topics for p in t["partitions"]
                   if len(p["isr_nodes"]) < len(p["replica_nodes"]) or p["leader_id"] < 0)
    except Exception:
        return None
    finally:
        admin.close()


def systemd_times(node):
    """Timestamps (epoch seconds, microsecond resolution) systemd recorded for the Kafka unit on node."""
    props = ["ActiveExitTimestamp", "InactiveEnterTimestamp", "ExecMainStartTimestamp", "ActiveEnterTimestamp"]
    out = docker_exec(node, "systemctl", "show", UNIT, "--timestamp=us+utc",
                      *["-p%s" % p for p in props]).stdout
    times = {}
    for line in out.splitlines():
        key, _sep, value = line.partition("=")
        value = value.strip()
        # "Wed 2026-11-25 17:32:56.395227 UTC"
        times[key] = (datetime.strptime(value, "%a %Y-%m-%d %H:%M:%S.%f UTC").replace(tzinfo=timezone.utc).timestamp()
                      if value else None)
    return times


# ---------------------------------------------------------------- results

def write_result(name, report):
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    report.setdefault("benchmark", name)
    report.setdefault("date", datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
    report.setdefault("machine", machine())
    text = json.dumps(report, indent=2, sort_keys=True, default=str)
    (RESULTS_DIR / ("%s.json" % name)).write_text(text + "\n")
    print(text)
    return report


def machine():
    mem_kb = 0
    with open("/proc/meminfo") as handle:
        for line in handle:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    return {"cpus": os.cpu_count(), "mem_gib": round(mem_kb / 1048576, 1),
            "load_avg_1m_at_end": round(os.getloadavg()[0], 2),
            "docker_containers_running": len(sh(["docker", "ps", "-q"], check=False).stdout.split())}


def print_table(title, rows):
    """rows: [(label, value, unit)]"""
    print("\n%s" % title)
    width = max(len(r[0]) for r in rows)
    for label, value, unit in rows:
        shown = ("%.2f" % value) if isinstance(value, float) else str(value)
        print("  %-*s %12s %s" % (width, label, shown, unit))
