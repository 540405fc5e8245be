"""Benchmark: deploy time of site.yml and its no-op re-run, on fresh containers.

Same run, same machine, so the ratios are meaningful on a noisy host:
  fresh_nojava   site.yml on three fresh containers without Java (the java role
                 refreshes apt and installs the JRE from the Debian archive)
  noop_nojava    site.yml again on that cluster (nothing to change)
  fresh_java     site.yml on three fresh containers with the JRE preinstalled
                 (an image committed once with openjdk-17-jre-headless), which
                 separates the package download from the collection's own work
  noop_java      site.yml again
Target: no-op re-run <= 25% of the fresh run (judged against fresh_java, the
stricter one) and changed=0 in the recap. Also the ten slowest tasks of each
fresh run (the task start->end spans that profile_tasks prints).

Writes bench/results/deploy.json. The cluster of the last deploy stays up with
--keep (make bench reuses it for the rolling-restart and throughput runs).

usage: python bench/deploy.py [--keep] [--skip-nojava]
"""
import argparse

import benchlib as b

TARGET_RATIO = 0.25


def one_round(image, tag):
    b.log("fresh containers from %s" % image)
    b.create_containers(image)
    fresh = b.deploy("deploy-fresh-%s" % tag)
    noop = b.deploy("deploy-noop-%s" % tag)
    return {
        "fresh_s": round(fresh["wall_s"], 1),
        "fresh_changed": fresh["changed"],
        "noop_s": round(noop["wall_s"], 1),
        "noop_changed": noop["changed"],
        "noop_changed_tasks": sorted({t["name"] for t in noop["tasks"]
                                      for r in t["hosts"].values() if r.get("changed")}),
        "ratio_noop_fresh": round(noop["wall_s"] / fresh["wall_s"], 3),
        "slowest_tasks_fresh": b.slowest_tasks(fresh),
        "slowest_tasks_noop": b.slowest_tasks(noop),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", action="store_true", help="leave the last cluster running")
    parser.add_argument("--skip-nojava", action="store_true", help="only the Java-preinstalled round")
    args = parser.parse_args()

    report = {"image": b.BASE_IMAGE, "heap": "384m", "nodes": len(b.NODES)}
    try:
        if not args.skip_nojava:
            report["nojava"] = one_round(b.BASE_IMAGE, "nojava")
        java_image = b.java_image()
        report["java_image"] = java_image
        report["java"] = one_round(java_image, "java")
    finally:
        if not args.keep:
            b.destroy_containers()

    judged = report["java"]
    report["targets"] = {"ratio_noop_fresh_max": TARGET_RATIO, "noop_changed": 0}
    report["targets_met"] = {
        "ratio": judged["ratio_noop_fresh"] <= TARGET_RATIO,
        "noop_changed_0": judged["noop_changed"] == 0 and report.get("nojava", judged)["noop_changed"] == 0,
    }
    b.write_result("deploy", report)

    rows = []
    for tag in ("nojava", "java"):
        if tag in report:
            r = report[tag]
            rows += [("fresh site.yml, Java %s" % ("installed by the role" if tag == "nojava" else "preinstalled"),
                      r["fresh_s"], "s"),
                     ("  no-op re-run (changed=%d)" % r["noop_changed"], r["noop_s"], "s"),
                     ("  ratio no-op / fresh", r["ratio_noop_fresh"], "(target <= %.2f)" % TARGET_RATIO)]
    b.print_table("deploy (3 containers)", rows)
    print("\nten slowest tasks, fresh run with Java preinstalled:")
    for t in judged["slowest_tasks_fresh"]:
        print("  %7.2fs  %s" % (t["s"], t["task"]))


if __name__ == "__main__":
    main()
