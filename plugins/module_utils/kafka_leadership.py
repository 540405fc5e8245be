# -*- coding: utf-8 -*-
# Copyright: kraft.kafka maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Leadership per broker and leader skew, shared by the modules that report or fix it.

kafka_leader_election (which elects), kafka_cluster_info (which reports) and
kafka_partition_rebalance (which moves replicas) must agree on what "skewed"
means, so the numbers are computed here once. Pure functions, no Kafka calls.

A partition state is a dict with at least:
  topic, partition, leader (None when offline), replicas (first = preferred), isr
Brokers are {broker_id: fenced (bool)} of the registered brokers.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


def partition_state(topic, raw):
    """A partition state from one partition of admin.describe_topics()."""
    leader = raw.get('leader_id')
    return dict(topic=topic, partition=raw['partition_index'],
                leader=leader if leader is not None and leader >= 0 else None,
                replicas=list(raw.get('replica_nodes') or []),
                isr=list(raw.get('isr_nodes') or []))


def preferred_replica(state):
    """The preferred leader: the first replica of the assignment (None without replicas)."""
    return state['replicas'][0] if state['replicas'] else None


def is_offline(state):
    return state['leader'] is None


def is_not_preferred(state):
    """Led, but by a replica other than the preferred one."""
    return state['leader'] is not None and bool(state['replicas']) and state['leader'] != state['replicas'][0]


def is_under_replicated(state):
    return state['leader'] is not None and len(state['isr']) < len(state['replicas'])


def preferred_unavailable_reason(state, preferred, brokers):
    """Why `preferred` cannot lead `state` now, or None when it can."""
    if preferred not in brokers:
        return 'preferred replica %d is not a registered broker' % preferred
    if brokers[preferred]:
        return 'preferred replica %d is fenced (stopped or not heartbeating)' % preferred
    if preferred not in state['isr']:
        return 'preferred replica %d is not in the ISR %s' % (preferred, state['isr'])
    return None


def is_electable(state, brokers):
    """A preferred election would move this partition's leadership now."""
    preferred = preferred_replica(state)
    if preferred is None or state['leader'] == preferred:
        return False
    return preferred_unavailable_reason(state, preferred, brokers) is None


def broker_leadership(states, brokers):
    """Leaders, preferred leaders and replicas per broker, sorted by id.

    Every registered broker has a row, and so has every broker id that is
    only named as a replica (registered=False, counted as fenced).
    """
    ids = set(brokers)
    for state in states:
        ids.update(state['replicas'])
    rows = dict((i, dict(id=i, leaders=0, preferred_leaders=0, replicas=0,
                         fenced=brokers.get(i, True), registered=i in brokers)) for i in ids)
    for state in states:
        if state['leader'] in rows:
            rows[state['leader']]['leaders'] += 1
        if preferred_replica(state) in rows:
            rows[preferred_replica(state)]['preferred_leaders'] += 1
        for replica in state['replicas']:
            rows[replica]['replicas'] += 1
    return [rows[i] for i in sorted(rows)]


def leader_skew(states, brokers, electable=None, rows=None):
    """Skew numbers of the partitions in scope.

    partitions, not_preferred (led by another replica than the preferred),
    offline (no leader), ratio (not_preferred / partitions, 4 places),
    electable (partitions a preferred election would move now; pass the
    size of a caller's own plan to override), max_leader_excess (largest
    leaders - preferred_leaders of a broker). `rows` may pass an already
    computed broker_leadership(states, brokers).
    """
    total = len(states)
    not_preferred = len([s for s in states if is_not_preferred(s)])
    if electable is None:
        electable = len([s for s in states if is_electable(s, brokers)])
    if rows is None:
        rows = broker_leadership(states, brokers)
    return dict(partitions=total, not_preferred=not_preferred,
                offline=len([s for s in states if is_offline(s)]),
                ratio=round(float(not_preferred) / total, 4) if total else 0.0,
                electable=electable,
                max_leader_excess=max([r['leaders'] - r['preferred_leaders'] for r in rows] + [0]))
