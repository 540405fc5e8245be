"""Benchmark: rolling restart of the three-node bench cluster behind health gates.

  playbook   `ansible-playbook playbooks/rolling_restart.yml`: every node restarted
             one at a time, each followed by a health gate
             (kraft.kafka.kafka_cluster_health: quorum caught up, brokers
             unfenced, no under-replicated partitions). Per node "stop ->
             healthy" = end of the first health-gate task after systemd's
             ActiveExitTimestamp of that node (when the stop began).
  baseline   the broker's own time, same cluster, same run, outside Ansible:
             `systemctl restart` of one node (not the quorum leader), then
             polled from this host every 0.2 s: port open, broker unfenced
             (describe_cluster), no under-replicated partition. Done before
             and after the playbook; the mean is the baseline.
Target: no fixed sleeps in the gates, i.e. per-node time close to the
broker's own stop -> healthy time (ratio printed).

Without playbooks/rolling_restart.yml (or with --via-site) the rolling
restart comes from site.yml with a changed kafka_extra_properties value,
which restarts the nodes through the same kafka_service rolling tasks.

Needs a running bench cluster (bench/deploy.py --keep), or creates one.
Writes bench/results/rolling.json.

usage: python bench/rolling.py [--via-site] [--teardown]
"""
import argparse
import re
import statistics
import time

import benchlib as b

GATE_RE = re.compile(r"health|gate", re.I)
# A property whose value does not matter for the benchmark; toggled to make
# site.yml see a config change (only in --via-site mode).
TOGGLE_PROPERTY = "log.cleaner.backoff.ms"


def quorum_leader(servers):
    admin = b.admin_client(servers)
    try:
        quorum = admin.describe_metadata_quorum()
        return quorum["topics"][0]["partitions"][0]["leader_id"]
    finally:
        admin.close()


def baseline_restart(node, node_id, servers):
    """Restart one broker by hand and time it until it serves again."""
    server = servers[b.NODES.index(node)]
    b.wait_for(lambda: b.under_replicated(servers) == 0, 300, "a healthy cluster before the baseline")
    t0 = time.time()
    b.docker_exec(node, "systemctl", "restart", b.UNIT)
    b.wait_for(lambda: b.port_open(server, 0.5), 300, "port of %s" % node)
    t_port = time.time()
    b.wait_for(lambda: node_id in b.unfenced_brokers(servers), 300, "%s unfenced" % node)
    t_unfenced = time.time()
    b.wait_for(lambda: b.under_replicated(servers) == 0, 300, "no under-replicated partitions")
    t_healthy = time.time()
    sd = b.systemd_times(node)
    stop_began = sd.get("ActiveExitTimestamp") or t0
    return {
        "node": node,
        "shutdown_s": round(sd["InactiveEnterTimestamp"] - stop_began, 2),
        "stop_to_port_s": round(t_port - stop_began, 2),
        "stop_to_unfenced_s": round(t_unfenced - stop_began, 2),
        "stop_to_healthy_s": round(t_healthy - stop_began, 2),
    }


def per_node_from_run(run, before):
    """stop -> healthy per node from systemd timestamps and the gate tasks' end times."""
    tasks = run["tasks"]
    nodes = []
    for node in b.NODES:
        sd = b.systemd_times(node)
        stop_began = sd.get("ActiveExitTimestamp")
        if not stop_began or stop_began <= before.get(node, 0):
            nodes.append({"node": node, "restarted": False})
            continue
        first = next((i for i, t in enumerate(tasks) if GATE_RE.search(t["name"])
                      and t["start"].timestamp() >= stop_began), None)
        gate = before_gate = None
        if first is not None:
            # A gate can be an include followed by the module task(s): the
            # node is healthy at the end of the last task of that run of gate tasks.
            last = first
            while last + 1 < len(tasks) and GATE_RE.search(tasks[last + 1]["name"]):
                last += 1
            gate, before_gate = tasks[last], tasks[first - 1]
        entry = {
            "node": node, "restarted": True,
            "shutdown_s": round(sd["InactiveEnterTimestamp"] - stop_began, 2),
            "stop_to_jvm_start_s": round(sd["ExecMainStartTimestamp"] - stop_began, 2),
            "stop_to_healthy_s": round(gate["end"].timestamp() - stop_began, 2) if gate else None,
        }
        if gate:
            # The task before the gate waits for the node's ports: its end is
            # "port open"; what follows until the gate's end is the gate's cost.
            entry["stop_to_port_s"] = round(before_gate["end"].timestamp() - stop_began, 2)
            entry["gate_s"] = round(gate["end"].timestamp() - before_gate["end"].timestamp(), 2)
        nodes.append(entry)
    return nodes


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--via-site", action="store_true", help="restart through site.yml with a config change")
    parser.add_argument("--teardown", action="store_true", help="remove the bench containers at the end")
    args = parser.parse_args()

    playbook = "playbooks/rolling_restart.yml"
    via_site = args.via_site or not (b.SRC / playbook).exists()
    b.ensure_cluster()
    servers = b.bootstrap_servers()
    try:
        leader = quorum_leader(servers)
        base_node = next(n for i, n in enumerate(b.NODES, 1) if i != leader)
        baselines = [baseline_restart(base_node, b.NODES.index(base_node) + 1, servers)]

        before = {n: b.systemd_times(n).get("ActiveExitTimestamp") or 0 for n in b.NODES}
        b.wait_for(lambda: b.under_replicated(servers) == 0, 300, "a healthy cluster before the playbook")
        if via_site:
            extra = ["-e", '{"kafka_extra_properties": {"%s": %d}}' % (TOGGLE_PROPERTY, 15000 + int(time.time()) % 1000)]
            run = b.run_playbook("site.yml", "rolling-via-site", extra)
        else:
            run = b.run_playbook(playbook, "rolling-restart")
        nodes = per_node_from_run(run, before)

        baselines.append(baseline_restart(base_node, b.NODES.index(base_node) + 1, servers))
        if via_site:
            # Put the cluster back to the inventory's configuration (another rolling restart, not timed).
            b.deploy("rolling-restore")
    finally:
        if args.teardown:
            b.destroy_containers()

    restarted = [n for n in nodes if n.get("restarted") and n.get("stop_to_healthy_s") is not None]
    per_node_mean = statistics.mean(n["stop_to_healthy_s"] for n in restarted) if restarted else None
    base_healthy = statistics.mean(x["stop_to_healthy_s"] for x in baselines)
    base_unfenced = statistics.mean(x["stop_to_unfenced_s"] for x in baselines)
    report = {
        "playbook": "site.yml (config change)" if via_site else playbook,
        "via_site_config_change": via_site,
        "playbook_s": round(run["wall_s"], 1),
        "playbook_changed": run["changed"],
        "nodes": nodes,
        "nodes_restarted": len(restarted),
        "per_node_stop_to_healthy_mean_s": round(per_node_mean, 2) if per_node_mean else None,
        "baseline": baselines,
        "baseline_stop_to_unfenced_mean_s": round(base_unfenced, 2),
        "baseline_stop_to_healthy_mean_s": round(base_healthy, 2),
        "ratio_per_node_vs_baseline_healthy": round(per_node_mean / base_healthy, 2) if per_node_mean else None,
        "gate_overhead_per_node_s": round(per_node_mean - base_healthy, 2) if per_node_mean else None,
        "gate_after_port_mean_s": round(statistics.mean(n["gate_s"] for n in restarted), 2) if restarted else None,
        "baseline_port_to_healthy_mean_s": round(statistics.mean(x["stop_to_healthy_s"] - x["stop_to_port_s"]
                                                                 for x in baselines), 2),
        "slowest_tasks": b.slowest_tasks(run),
    }
    report["targets"] = {"note": "per-node time close to the broker's own stop->healthy (no fixed sleeps)",
                         "ratio_max": 1.5}
    report["targets_met"] = {"close_to_baseline": bool(per_node_mean) and per_node_mean / base_healthy <= 1.5
                             and len(restarted) == len(b.NODES)}
    b.write_result("rolling", report)

    rows = [("%s, 3 nodes" % report["playbook"], run["wall_s"], "s")]
    rows += [("  %s stop -> port / healthy" % n["node"],
              "%s / %s" % (n.get("stop_to_port_s", "-"), n.get("stop_to_healthy_s", "-")), "s") for n in nodes]
    rows += [("  mean per node", report["per_node_stop_to_healthy_mean_s"], "s"),
             ("baseline systemctl restart -> unfenced", report["baseline_stop_to_unfenced_mean_s"], "s"),
             ("baseline systemctl restart -> no URP", report["baseline_stop_to_healthy_mean_s"], "s"),
             ("ratio per node / baseline", report["ratio_per_node_vs_baseline_healthy"], "x"),
             ("port open -> healthy: gate task (mean)", report["gate_after_port_mean_s"], "s"),
             ("port open -> healthy: baseline poll (mean)", report["baseline_port_to_healthy_mean_s"], "s")]
    b.print_table("rolling restart", rows)


if __name__ == "__main__":
    main()
