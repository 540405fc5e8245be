"""Collect bench/results/<name>.json into bench/results/summary.json and print one table.

Each line: the headline figure of a benchmark, its target and whether it was
met, with the date of the result file it comes from (a benchmark not run this
time keeps its older file; the date shows that).
"""
import json
import os
from datetime import datetime, timezone
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def load(name):
    path = RESULTS / ("%s.json" % name)
    return json.loads(path.read_text()) if path.exists() else None


def rows_for(name, r):
    met = r.get("targets_met", {})
    if name == "deploy":
        j = r["java"]
        rows = []
        if "nojava" in r:
            rows.append(("fresh site.yml, Java installed by the role", "%.1f s" % r["nojava"]["fresh_s"], "", None))
            noop = "%.1f s, changed=%d" % (r["nojava"]["noop_s"], r["nojava"]["noop_changed"])
            rows.append(("no-op re-run after it", noop,
                         "ratio %.2f" % r["nojava"]["ratio_noop_fresh"], None))
        rows += [("fresh site.yml, Java preinstalled", "%.1f s" % j["fresh_s"], "", None),
                 ("no-op re-run / fresh", "%.1f s / %.1f s = %.2f" % (j["noop_s"], j["fresh_s"], j["ratio_noop_fresh"]),
                  "<= 0.25", met.get("ratio")),
                 ("no-op re-run changed", "changed=%d" % j["noop_changed"], "changed=0", met.get("noop_changed_0"))]
        return rows
    if name == "topics":
        return [("200 topics: kafka-topics.sh loop%s" % (" (scaled)" if r.get("cli_scaled") else ""),
                 "%.1f s" % r["cli_loop_s"], "", None),
                ("200 topics: kafka_topic batch", "%.2f s" % r["module_batch_task_s"], "", None),
                ("speed-up batch vs CLI", "%.0fx" % r["speedup_batch_vs_cli"], ">= 50x", met.get("speedup")),
                ("no-op reconcile of 200", "%.2f s" % r["module_noop_task_s"], "< 2 s", met.get("noop_under_2s"))]
    if name == "rolling":
        return [("%s, 3 nodes" % r["playbook"], "%.1f s" % r["playbook_s"], "", None),
                ("per node stop -> healthy (mean)", "%s s" % r["per_node_stop_to_healthy_mean_s"], "", None),
                ("broker's own restart -> healthy", "%s s" % r["baseline_stop_to_healthy_mean_s"], "", None),
                ("ratio per node / broker's own", "%sx" % r["ratio_per_node_vs_baseline_healthy"], "<= 1.5x",
                 met.get("close_to_baseline"))]
    if name == "throughput":
        consume = "%d vs %d (%.3fx)" % (r["consume_msg_s"]["ours"], r["consume_msg_s"]["stock"],
                                        r["ratio_consume_ours_vs_stock"])
        return [("produce msg/s, ours vs stock", "%d vs %d" % (r["produce_msg_s"]["ours"], r["produce_msg_s"]["stock"]),
                 "", None),
                ("ratio ours / stock (produce)", "%.3fx" % r["ratio_produce_ours_vs_stock"], ">= 1.0x", met.get("ratio")),
                ("produce msg/s, ours", "%d" % r["produce_msg_s"]["ours"], "> 7000", met.get("above_seed")),
                ("consume msg/s, ours vs stock", consume, "", None)]
    return []


def main():
    summary = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "cpus": os.cpu_count(),
               "benchmarks": {}}
    table = []
    for name in ("deploy", "topics", "rolling", "throughput"):
        r = load(name)
        if not r:
            continue
        summary["benchmarks"][name] = {"date": r.get("date"), "targets": r.get("targets"),
                                       "targets_met": r.get("targets_met"), "file": "bench/results/%s.json" % name}
        for label, value, target, ok in rows_for(name, r):
            table.append((name, label, value, target, "" if ok is None else ("met" if ok else "MISSED")))
    summary["all_targets_met"] = all(all(v.get("targets_met", {}).values()) for v in summary["benchmarks"].values())
    (RESULTS / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    widths = [max(len(row[i]) for row in table) if table else 0 for i in range(5)]
    print("\nbenchmark summary (bench/results/summary.json)")
    for row in table:
        print("  " + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())


if __name__ == "__main__":
    main()
