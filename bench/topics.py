"""Benchmark: reconcile N topics with kafka_topic in one call vs a kafka-topics.sh loop.

Same run, same local three-node KRaft cluster (127.0.0.1), so the ratio is
meaningful on a noisy machine:
  baseline  `kafka-topics.sh --create` once per topic (what the seed notes and
            CLI-based automation do: one JVM start per topic)
  batch     one `kraft.kafka.kafka_topic` task with all N topics
  no-op     the same task again (nothing to change)
Each topic: 3 partitions, replication factor 3, two config overrides.
Prints one JSON object (also written to bench/results/topics.json).

usage: python bench/topics.py [--topics 200] [--cli-topics N]
  --cli-topics < --topics times the CLI loop on a sample and scales it per
  topic (said so in the output); the default runs the full loop.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests" / "integration"))
from kafka_local_cluster import KafkaLocalCluster, ansible_env, write_inventory  # noqa: E402

CONFIG = {"retention.ms": "86400000", "cleanup.policy": "delete"}


def topic_spec(name):
    return {"name": name, "partitions": 3, "replication_factor": 3, "config": dict(CONFIG)}


def run_cli_loop(cluster, names):
    started = time.monotonic()
    for name in names:
        args = ["--bootstrap-server", cluster.bootstrap, "--create", "--if-not-exists", "--topic", name,
                "--partitions", "3", "--replication-factor", "3"]
        for key, value in CONFIG.items():
            args += ["--config", "%s=%s" % (key, value)]
        cluster.cli("kafka-topics.sh", *args)
    return time.monotonic() - started


def task_seconds(task):
    duration = task["task"]["duration"]
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ"
    return (datetime.strptime(duration["end"], fmt) - datetime.strptime(duration["start"], fmt)).total_seconds()


def run_module_task(cluster, topics, tmp_dir):
    """Run kafka_topic once through ansible-playbook; return (wall s, task s, result)."""
    play = [{"hosts": "localhost", "gather_facts": False, "tasks": [{
        "name": "reconcile topics",
        "kraft.kafka.kafka_topic": {"bootstrap_servers": cluster.bootstrap_servers, "topics": topics},
    }]}]
    playbook = Path(tmp_dir) / "bench-topics.yml"
    playbook.write_text(json.dumps(play))
    started = time.monotonic()
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(write_inventory(tmp_dir)), str(playbook)],
        cwd=str(REPO_ROOT), env=ansible_env(tmp_dir), capture_output=True, text=True, timeout=1800, check=False)
    wall = time.monotonic() - started
    output = json.loads(proc.stdout[proc.stdout.index("{"):])
    task = output["plays"][0]["tasks"][0]
    result = task["hosts"]["localhost"]
    if result.get("failed"):
        raise SystemExit("kafka_topic failed: %s" % result.get("msg"))
    return wall, task_seconds(task), result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--topics", type=int, default=200)
    parser.add_argument("--cli-topics", type=int, default=None)
    args = parser.parse_args()
    cli_count = args.cli_topics or args.topics

    tmp_dir = tempfile.mkdtemp(prefix="kraft-bench-topics-")
    cluster = KafkaLocalCluster(tmp_dir)
    cluster.start()
    try:
        cli_seconds = run_cli_loop(cluster, ["cli-%04d" % i for i in range(cli_count)])
        topics = [topic_spec("mod-%04d" % i) for i in range(args.topics)]
        batch_wall, batch_task, first = run_module_task(cluster, topics, tmp_dir)
        noop_wall, noop_task, second = run_module_task(cluster, topics, tmp_dir)
    finally:
        cluster.stop()

    cli_for_n = cli_seconds / cli_count * args.topics
    report = {
        "benchmark": "topics",
        "topics": args.topics,
        "cli_topics_timed": cli_count,
        "cli_scaled": cli_count != args.topics,
        "cli_loop_s": round(cli_for_n, 2),
        "cli_per_topic_s": round(cli_seconds / cli_count, 3),
        "module_batch_task_s": round(batch_task, 2),
        "module_batch_wall_s": round(batch_wall, 2),
        "module_noop_task_s": round(noop_task, 2),
        "module_noop_wall_s": round(noop_wall, 2),
        "batch_changed": first.get("changed"),
        "noop_changed": second.get("changed"),
        "speedup_batch_vs_cli": round(cli_for_n / batch_task, 1),
        "targets": {"speedup_batch_vs_cli_min": 50, "module_noop_task_s_max": 2.0},
        "machine": {"cpus": os.cpu_count(), "kafka": cluster.version if hasattr(cluster, "version") else None,
                    "load_avg_1m_at_end": round(os.getloadavg()[0], 2)},
        "date": datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    report["targets_met"] = {
        "speedup": report["speedup_batch_vs_cli"] >= 50,
        "noop_under_2s": report["module_noop_task_s"] < 2.0 and report["noop_changed"] is False,
    }
    text = json.dumps(report, indent=2, sort_keys=True)
    print(text)
    (REPO_ROOT / "bench" / "results").mkdir(parents=True, exist_ok=True)
    (REPO_ROOT / "bench" / "results" / "topics.json").write_text(text + "\n")
    print("\n%-28s %10s" % ("topics (%d)" % args.topics, "seconds"))
    for key in ("cli_loop_s", "module_batch_task_s", "module_noop_task_s"):
        print("%-28s %10.2f" % (key, report[key]))
    print("%-28s %9.1fx" % ("speedup batch vs CLI", report["speedup_batch_vs_cli"]))


if __name__ == "__main__":
    main()
