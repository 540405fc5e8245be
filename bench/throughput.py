"""Benchmark: produce/consume throughput, collection config vs Kafka's stock server.properties.

The seed's load: 600,000 records of 300 bytes, acks=all, enable.idempotence=true,
to a new topic with 3 partitions, replication factor 3, min.insync.replicas=2
(kafka-producer-perf-test), then the whole topic read back
(kafka-consumer-perf-test). The Kafka tools run on this host (Java from
PATH/JAVA_HOME) out of the archive the cluster was deployed from.

Two configurations of the same three containers (same heap 384m, same JVM options):
  ours   the inventory as site.yml deploys it (bench/inventory)
  stock  site.yml with bench/vars/stock.yml: Kafka's stock config/server.properties
         values for every setting where the collection differs
Switching is a site.yml run (a rolling restart behind the health gates).
Rounds run in ABBA order (ours, stock, stock, ours, ...) so that drift in the
background load of this shared machine falls evenly on both.
Target: ours >= 1.0x stock and > 7,000 msg/s (the seed's figure).

Needs a running bench cluster (bench/deploy.py --keep), or creates one.
Writes bench/results/throughput.json.

usage: python bench/throughput.py [--records 600000] [--rounds 2] [--teardown]
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import tarfile
import time
import uuid
from pathlib import Path

import benchlib as b

TARGET_MSGS = 7000
STOCK_VARS = b.REPO_ROOT / "bench" / "vars" / "stock.yml"
PRODUCER_RE = re.compile(r"(\d+) records sent, ([\d.]+) records/sec \(([\d.]+) MB/sec\), ([\d.]+) ms avg latency,"
                         r" ([\d.]+) ms max latency")


def kafka_version():
    for line in (b.SRC / "roles" / "kafka_install" / "defaults" / "main.yml").read_text().splitlines():
        match = re.match(r'^kafka_version:\s*"?([0-9.]+)', line)
        if match:
            return match.group(1)
    raise SystemExit("no kafka_version in roles/kafka_install/defaults/main.yml")


def kafka_tools():
    """bin/ of the deployed archive, unpacked once under .cache/bench."""
    version = kafka_version()
    home = b.WORK_DIR / ("kafka_2.13-%s" % version)
    if not (home / "bin" / "kafka-producer-perf-test.sh").exists():
        archive = b.REPO_ROOT / ".cache" / "dist" / ("kafka_2.13-%s.tgz" % version)
        b.WORK_DIR.mkdir(parents=True, exist_ok=True)
        with tarfile.open(archive) as tar:
            tar.extractall(b.WORK_DIR)
    for tool in ("kafka-producer-perf-test.sh", "kafka-consumer-perf-test.sh"):
        if not (home / "bin" / tool).exists():
            raise SystemExit("%s is missing from %s" % (tool, home))
    return home / "bin"


def tool_env():
    env = dict(os.environ)
    env["KAFKA_HEAP_OPTS"] = "-Xmx512m -Xms512m"
    return env


def apply_config(name):
    extra = ["-e", "@%s" % STOCK_VARS] if name == "stock" else []
    run = b.deploy("throughput-config-%s-%d" % (name, int(time.time())), extra)
    b.wait_for(lambda: b.under_replicated(b.bootstrap_servers()) == 0, 300, "a healthy cluster")
    props = b.docker_exec("kafka1", "cat", "/etc/kafka/kafka/server.properties").stdout
    return {"site_s": round(run["wall_s"], 1), "changed": run["changed"],
            "offsets.topic.replication.factor": re.search(r"(?m)^offsets\.topic\.replication\.factor=(.*)$", props).group(1),
            "min.insync.replicas": (re.search(r"(?m)^min\.insync\.replicas=(.*)$", props) or [None, None])[1]}


def create_topic(servers, topic):
    from kafka.admin import NewTopic
    admin = b.admin_client(servers, timeout_ms=30000)
    try:
        admin.create_topics([NewTopic(topic, 3, 3, topic_configs={"min.insync.replicas": "2"})])
    finally:
        admin.close()
    # Leaders elected on every partition before the clock starts.
    b.wait_for(lambda: b.under_replicated(servers) == 0, 120, "topic %s fully replicated" % topic)


def delete_topic(servers, topic):
    admin = b.admin_client(servers, timeout_ms=30000)
    try:
        admin.delete_topics([topic])
    finally:
        admin.close()


def produce(bin_dir, servers, topic, records, size):
    proc = b.sh([str(bin_dir / "kafka-producer-perf-test.sh"), "--topic", topic, "--num-records", str(records),
                 "--record-size", str(size), "--throughput", "-1", "--bootstrap-server", ",".join(servers),
                 "--command-property", "acks=all", "enable.idempotence=true"],
                timeout=1800, env=tool_env())
    match = None
    for match in PRODUCER_RE.finditer(proc.stdout):
        pass
    if not match:
        raise SystemExit("no summary from kafka-producer-perf-test:\n%s" % proc.stdout[-2000:])
    sent, rate, mbs, avg_lat, max_lat = match.groups()
    if int(sent) != records:
        raise SystemExit("producer sent %s of %d records" % (sent, records))
    return {"records": int(sent), "msg_s": float(rate), "mb_s": float(mbs),
            "avg_latency_ms": float(avg_lat), "max_latency_ms": float(max_lat)}


def consume(bin_dir, servers, topic, records):
    proc = b.sh([str(bin_dir / "kafka-consumer-perf-test.sh"), "--bootstrap-server", ",".join(servers),
                 "--topic", topic, "--num-records", str(records), "--timeout", "60000",
                 "--group", "bench-%s" % uuid.uuid4().hex[:8]],
                timeout=1800, env=tool_env())
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    header = next(i for i, line in enumerate(lines) if line.startswith("start.time"))
    values = dict(zip([h.strip() for h in lines[header].split(",")],
                      [v.strip() for v in lines[header + 1].split(",")]))
    consumed = int(values["data.consumed.in.nMsg"])
    if consumed < records:
        raise SystemExit("consumer read %d of %d records" % (consumed, records))
    return {"records": consumed, "msg_s": float(values["nMsg.sec"]), "mb_s": float(values["MB.sec"]),
            "fetch_msg_s": float(values["fetch.nMsg.sec"])}


def build_report(runs, args, order, configs, java):
    def mean(name, side, key="msg_s"):
        values = [r[side][key] for r in runs if r["config"] == name and key in r[side]]
        return statistics.mean(values) if values else None

    def rounded(value, digits=0):
        return None if value is None else round(value, digits or None)

    report = {
        "load": {"records": args.records, "record_size": args.record_size, "acks": "all", "idempotence": True,
                 "partitions": 3, "replication_factor": 3, "min_insync_replicas": 2},
        "order": order, "runs": runs, "configs_applied": configs,
        "tools": {"where": "host", "java": java, "heap": "512m"},
        "cluster_heap": "384m",
        "produce_msg_s": {c: rounded(mean(c, "produce")) for c in ("ours", "stock")},
        "consume_msg_s": {c: rounded(mean(c, "consume")) for c in ("ours", "stock")},
        "produce_latency_avg_ms": {c: rounded(mean(c, "produce", "avg_latency_ms"), 1) for c in ("ours", "stock")},
    }
    report["ratio_produce_ours_vs_stock"] = round(report["produce_msg_s"]["ours"] / report["produce_msg_s"]["stock"], 3)
    report["ratio_consume_ours_vs_stock"] = round(report["consume_msg_s"]["ours"] / report["consume_msg_s"]["stock"], 3)
    report["targets"] = {"ratio_min": 1.0, "produce_msg_s_min": TARGET_MSGS}
    report["targets_met"] = {"ratio": report["ratio_produce_ours_vs_stock"] >= 1.0,
                             "above_seed": report["produce_msg_s"]["ours"] > TARGET_MSGS}
    return report


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=600000)
    parser.add_argument("--record-size", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2, help="ABBA pairs (each runs ours and stock twice)")
    parser.add_argument("--teardown", action="store_true", help="remove the bench containers at the end")
    parser.add_argument("--report-only", metavar="RUNS_JSON",
                        help="only rebuild the report from saved runs (.cache/bench/throughput-runs.json of an"
                             " interrupted benchmark)")
    args = parser.parse_args()

    if args.report_only:
        runs = json.loads(Path(args.report_only).read_text())
        report = build_report(runs, args, [r["config"] for r in runs], {}, None)
        report["interrupted_after_runs"] = len(runs)
        b.write_result("throughput", report)
        return

    bin_dir = kafka_tools()
    java = subprocess.run(["java", "-version"], capture_output=True, text=True, check=False).stderr.splitlines()
    b.ensure_cluster()
    servers = b.bootstrap_servers()
    order = []
    for _round in range(args.rounds):
        order += ["ours", "stock", "stock", "ours"]
    runs, configs, current = [], {}, None
    try:
        for i, name in enumerate(order):
            if name != current:
                b.log("configuration: %s" % name)
                configs.setdefault(name, []).append(apply_config(name))
                current = name
            topic = "bench-perf-%s-%d" % (name, i)
            create_topic(servers, topic)
            b.log("run %d/%d (%s): produce %d x %d B" % (i + 1, len(order), name, args.records, args.record_size))
            prod = produce(bin_dir, servers, topic, args.records, args.record_size)
            cons = consume(bin_dir, servers, topic, args.records)
            delete_topic(servers, topic)
            b.log("  produce %.0f msg/s, consume %.0f msg/s" % (prod["msg_s"], cons["msg_s"]))
            runs.append({"config": name, "topic": topic, "produce": prod, "consume": cons,
                         "load_avg_1m": round(os.getloadavg()[0], 1)})
            # Kept after every run: an interrupted benchmark still leaves its measurements.
            (b.WORK_DIR / "throughput-runs.json").write_text(json.dumps(runs, indent=2) + "\n")
        if current != "ours":
            apply_config("ours")
    finally:
        if args.teardown:
            b.destroy_containers()

    report = build_report(runs, args, order, configs, java[0] if java else None)
    b.write_result("throughput", report)

    rows = []
    for r in runs:
        rates = "%.0f / %.0f" % (r["produce"]["msg_s"], r["consume"]["msg_s"])
        rows.append(("%-5s produce / consume msg/s" % r["config"], rates, ""))
    rows += [("mean ours  produce", float(report["produce_msg_s"]["ours"]), "msg/s"),
             ("mean stock produce", float(report["produce_msg_s"]["stock"]), "msg/s"),
             ("ratio ours / stock (produce)", report["ratio_produce_ours_vs_stock"], "x (target >= 1.0)"),
             ("ratio ours / stock (consume)", report["ratio_consume_ours_vs_stock"], "x")]
    b.print_table("throughput (%d x %d B, acks=all, idempotent, RF 3)" % (args.records, args.record_size), rows)


if __name__ == "__main__":
    main()
