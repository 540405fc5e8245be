# -*- coding: utf-8 -*-
# Copyright: kraft.kafka maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Replica placement plan of kraft.kafka.kafka_partition_rebalance (pure, no Kafka calls).

Goal: every target broker holds a balanced share of the replicas (and of the
preferred leaders), with as few replica moves as possible, the replication
factor of every partition unchanged.

Balanced means, for the N target brokers:
  * per topic: each broker holds floor(T/N) or ceil(T/N) of the topic's T
    replicas (so every topic's load is spread, not only the total);
  * per cluster: each broker holds floor(R/N) or ceil(R/N) of all R
    replicas, as far as that is possible without unbalancing a topic;
  * preferred leaders (first replica) the same way, per topic and then per
    cluster, by reordering replicas only (no data moves for that).

The planner moves one replica at a time from the most loaded broker to the
least loaded one that does not hold that partition yet, so each move lowers
the imbalance and nothing moves that does not have to; when a moved replica
was the preferred leader, the new broker takes its place in the order. The
greedy loops stop only when no allowed move is left, so planning again on
the planned placement finds nothing to do (the module is idempotent).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import collections


class RebalanceError(Exception):
    """The requested placement is impossible (message says why)."""


def _key(partition):
    return (partition['topic'], partition['partition'])


class _Placement(object):
    """Mutable replica lists with per-broker counts kept up to date."""

    def __init__(self, partitions, brokers):
        self.brokers = sorted(set(brokers))
        self.replicas = collections.OrderedDict(
            (_key(p), list(p['replicas'])) for p in sorted(partitions, key=_key))
        self.topics = sorted(set(t for t, _p in self.replicas))
        self._by_topic = collections.defaultdict(list)
        for key in self.replicas:
            self._by_topic[key[0]].append(key)
        self.load = collections.Counter()
        self.topic_load = collections.defaultdict(collections.Counter)
        self.leads = collections.Counter()
        self.topic_leads = collections.defaultdict(collections.Counter)
        for key, replicas in self.replicas.items():
            for broker in replicas:
                self.load[broker] += 1
                self.topic_load[key[0]][broker] += 1
            if replicas:
                self.leads[replicas[0]] += 1
                self.topic_leads[key[0]][replicas[0]] += 1

    def move(self, key, src, dst):
        """Replace replica src by dst in place (dst inherits src's position, leadership included)."""
        replicas = self.replicas[key]
        index = replicas.index(src)
        replicas[index] = dst
        topic = key[0]
        for counter in (self.load, self.topic_load[topic]):
            counter[src] -= 1
            counter[dst] += 1
        if index == 0:
            for counter in (self.leads, self.topic_leads[topic]):
                counter[src] -= 1
                counter[dst] += 1

    def swap_leader(self, key, dst):
        """Make dst (already a replica) the preferred leader; the old one takes dst's position."""
        replicas = self.replicas[key]
        index = replicas.index(dst)
        src = replicas[0]
        replicas[0], replicas[index] = dst, src
        topic = key[0]
        for counter in (self.leads, self.topic_leads[topic]):
            counter[src] -= 1
            counter[dst] += 1

    def topic_partitions(self, topic):
        return self._by_topic[topic]


def _bounds(total, count):
    return total // count, -(-total // count)


def _by_load(brokers, counter, reverse):
    # Ties broken by broker id so the plan is deterministic.
    return sorted(brokers, key=lambda b: (-counter[b], b) if reverse else (counter[b], b))


# ------------------------------------------------------------------ phases

def _evacuate(placement):
    """Move replicas off brokers that are not targets (decommissioned, unregistered)."""
    targets = set(placement.brokers)
    for key, replicas in placement.replicas.items():
        for src in [b for b in replicas if b not in targets]:
            free = [b for b in placement.brokers if b not in placement.replicas[key]]
            if not free:
                raise RebalanceError(
                    '%s-%d has %d replicas but only %d target broker(s) %s: the replication factor cannot be kept'
                    % (key[0], key[1], len(replicas), len(targets), sorted(targets)))
            topic = key[0]
            dst = min(free, key=lambda b: (placement.topic_load[topic][b], placement.load[b], b))
            placement.move(key, src, dst)


def _move_candidate(placement, topic, src, dst):
    """A partition of topic with a replica on src and none on dst; non-leader replicas first."""
    best = None
    for key in placement.topic_partitions(topic):
        replicas = placement.replicas[key]
        if src in replicas and dst not in replicas:
            rank = (replicas[0] == src, key[1])
            if best is None or rank < best[0]:
                best = (rank, key)
    return best[1] if best else None


def _balance_topic_replicas(placement):
    brokers = placement.brokers
    for topic in placement.topics:
        counts = placement.topic_load[topic]
        while True:
            high = max(counts[b] for b in brokers)
            low = min(counts[b] for b in brokers)
            if high - low <= 1:
                break
            src = _by_load([b for b in brokers if counts[b] == high], placement.load, reverse=True)[0]
            dst = _by_load([b for b in brokers if counts[b] == low], placement.load, reverse=False)[0]
            # src holds more replicas of the topic than dst, so some partition
            # has src and not dst: there is always a candidate.
            placement.move(_move_candidate(placement, topic, src, dst), src, dst)


def _balance_cluster_replicas(placement):
    brokers = placement.brokers
    floors = dict((t, _bounds(sum(placement.topic_load[t][b] for b in brokers), len(brokers)))
                  for t in placement.topics)
    while True:
        move = None
        for src in _by_load(brokers, placement.load, reverse=True):
            for dst in _by_load(brokers, placement.load, reverse=False):
                if placement.load[src] - placement.load[dst] < 2:
                    break
                for topic in placement.topics:
                    low, high = floors[topic]
                    counts = placement.topic_load[topic]
                    # Only moves that keep the topic balanced, or the next
                    # plan would move the replica back.
                    if counts[src] - 1 < low or counts[dst] + 1 > high:
                        continue
                    key = _move_candidate(placement, topic, src, dst)
                    if key is not None:
                        move = (key, src, dst)
                        break
                if move:
                    break
            if move:
                break
        if move is None:
            return
        placement.move(*move)


def _leader_candidate(placement, keys, src, dst):
    for key in keys:
        replicas = placement.replicas[key]
        if replicas and replicas[0] == src and dst in replicas:
            return key
    return None


def _balance_leaders(placement, per_topic):
    brokers = placement.brokers
    groups = [(t, placement.topic_leads[t], placement.topic_partitions(t)) for t in placement.topics] \
        if per_topic else [(None, placement.leads, list(placement.replicas))]
    floors = dict((t, _bounds(sum(placement.topic_leads[t][b] for b in brokers), len(brokers)))
                  for t in placement.topics)
    for _topic, counts, keys in groups:
        while True:
            swap = None
            for src in _by_load(brokers, counts, reverse=True):
                for dst in _by_load(brokers, counts, reverse=False):
                    if counts[src] - counts[dst] < 2:
                        break
                    for key in keys:
                        if not per_topic:
                            low, high = floors[key[0]]
                            tcounts = placement.topic_leads[key[0]]
                            if tcounts[src] - 1 < low or tcounts[dst] + 1 > high:
                                continue
                        if _leader_candidate(placement, [key], src, dst):
                            swap = (key, dst)
                            break
                    if swap:
                        break
                if swap:
                    break
            if swap is None:
                break
            placement.swap_leader(*swap)


# ------------------------------------------------------------------- plan

def plan_rebalance(partitions, brokers):
    """The new replica lists of the partitions that change.

    partitions: [{topic, partition, replicas}] (the scope); brokers: target
    broker ids. Returns {(topic, partition): new replicas} with only the
    partitions whose (ordered) replica list changes. Raises RebalanceError
    when a partition has more replicas than there are target brokers.
    """
    brokers = sorted(set(brokers))
    if not brokers:
        raise RebalanceError('no target brokers')
    for partition in partitions:
        if len(set(partition['replicas'])) > len(brokers):
            raise RebalanceError(
                '%s-%d has %d replicas but there are only %d target broker(s) %s: the replication factor '
                'cannot be kept' % (partition['topic'], partition['partition'], len(partition['replicas']),
                                    len(brokers), brokers))
    placement = _Placement(partitions, brokers)
    _evacuate(placement)
    _balance_topic_replicas(placement)
    _balance_cluster_replicas(placement)
    _balance_leaders(placement, per_topic=True)
    _balance_leaders(placement, per_topic=False)
    before = dict((_key(p), list(p['replicas'])) for p in partitions)
    return collections.OrderedDict((k, r) for k, r in placement.replicas.items() if r != before[k])


def replica_moves(old, new):
    """(added brokers, removed brokers) of one partition's change."""
    return [b for b in new if b not in old], [b for b in old if b not in new]


def balance_report(partitions, brokers, plan=None):
    """Per target broker: replicas and preferred leaders, after applying `plan` (if given)."""
    plan = plan or {}
    replicas = collections.Counter()
    leads = collections.Counter()
    for partition in partitions:
        assignment = plan.get(_key(partition), partition['replicas'])
        for broker in assignment:
            replicas[broker] += 1
        if assignment:
            leads[assignment[0]] += 1
    ids = sorted(set(brokers) | set(replicas))
    return [dict(id=b, replicas=replicas[b], preferred_leaders=leads[b], target=b in brokers) for b in ids]


def is_balanced(partitions, brokers):
    """No plan would change anything."""
    return not plan_rebalance(partitions, brokers)
