# -*- coding: utf-8 -*-
"""The replica placement plan of kafka_partition_rebalance (plugins/module_utils/kafka_rebalance.py)."""

from __future__ import absolute_import, division, print_function

import collections
import itertools
import random

import pytest

from ansible_collections.kraft.kafka.plugins.module_utils import kafka_rebalance as kr


def topic(name, partitions, rf, brokers, start=0):
    """Kafka-like striped placement of a topic over `brokers`."""
    result = []
    for p in range(partitions):
        first = (start + p) % len(brokers)
        result.append(dict(topic=name, partition=p,
                           replicas=[brokers[(first + i) % len(brokers)] for i in range(rf)]))
    return result


def apply(partitions, plan):
    return [dict(p, replicas=plan.get((p['topic'], p['partition']), p['replicas'])) for p in partitions]


def loads(partitions):
    replicas, leads = collections.Counter(), collections.Counter()
    per_topic = collections.defaultdict(collections.Counter)
    for p in partitions:
        for b in p['replicas']:
            replicas[b] += 1
            per_topic[p['topic']][b] += 1
        leads[p['replicas'][0]] += 1
    return replicas, leads, per_topic


def spread(counter, brokers):
    values = [counter[b] for b in brokers]
    return max(values) - min(values)


def moved_replicas(partitions, plan):
    before = dict(((p['topic'], p['partition']), p['replicas']) for p in partitions)
    return sum(len(kr.replica_moves(before[k], new)[0]) for k, new in plan.items())


def check_invariants(partitions, plan, brokers):
    after = apply(partitions, plan)
    for old, new in zip(partitions, after):
        assert len(new['replicas']) == len(old['replicas']), 'replication factor changed'
        assert len(set(new['replicas'])) == len(new['replicas']), 'a broker holds a partition twice'
        assert set(new['replicas']) <= set(brokers), 'replica on a non-target broker'
    replicas, leads, per_topic = loads(after)
    assert spread(replicas, brokers) <= 1, replicas
    for name, counter in per_topic.items():
        assert spread(counter, brokers) <= 1, (name, counter)
    assert spread(leads, brokers) <= 1, leads
    assert kr.plan_rebalance(after, brokers) == {}, 'not idempotent: a second plan moves more'
    return after


def test_scale_out_from_three_to_four_brokers_moves_the_minimum():
    partitions = topic('orders', 12, 3, [1, 2, 3]) + topic('payments', 6, 3, [1, 2, 3], start=1)
    plan = kr.plan_rebalance(partitions, [1, 2, 3, 4])
    after = check_invariants(partitions, plan, [1, 2, 3, 4])
    replicas, leads, per_topic = loads(after)
    assert replicas[4] in (13, 14) and per_topic['orders'][4] == 9 and per_topic['payments'][4] in (4, 5)
    # 54 replicas on 4 brokers: broker 4 needs 13 or 14, every one of them a move; nothing else moves.
    assert moved_replicas(partitions, plan) == replicas[4]
    assert leads[4] in (4, 5)


def test_balanced_cluster_has_no_plan():
    partitions = topic('orders', 12, 3, [1, 2, 3, 4]) + topic('events', 8, 2, [1, 2, 3, 4], start=2)
    assert kr.plan_rebalance(partitions, [1, 2, 3, 4]) == {}


def test_many_small_topics_spread_over_the_new_broker():
    # 1 partition x RF 3 each: every topic alone is "balanced" on 3 of 4 brokers,
    # the cluster is not; the cluster phase fills broker 4.
    partitions = list(itertools.chain.from_iterable(topic('t%02d' % i, 1, 3, [1, 2, 3], start=i) for i in range(8)))
    plan = kr.plan_rebalance(partitions, [1, 2, 3, 4])
    after = check_invariants(partitions, plan, [1, 2, 3, 4])
    assert loads(after)[0][4] == 6
    assert moved_replicas(partitions, plan) == 6


def test_decommissioned_broker_is_emptied():
    partitions = topic('orders', 8, 3, [1, 2, 3, 4])
    plan = kr.plan_rebalance(partitions, [1, 2, 3])
    after = check_invariants(partitions, plan, [1, 2, 3])
    assert all(4 not in p['replicas'] for p in after)
    assert moved_replicas(partitions, plan) == 6  # exactly the replicas broker 4 had


def test_replication_factor_above_target_brokers_is_refused():
    with pytest.raises(kr.RebalanceError, match='only 2 target broker'):
        kr.plan_rebalance(topic('orders', 2, 3, [1, 2, 3]), [1, 2])


def test_moved_preferred_leader_keeps_its_position():
    partitions = [dict(topic='a', partition=0, replicas=[1, 2]), dict(topic='a', partition=1, replicas=[1, 2])]
    plan = kr.plan_rebalance(partitions, [1, 2, 3, 4])
    after = check_invariants(partitions, plan, [1, 2, 3, 4])
    assert sorted(b for p in after for b in p['replicas']) == [1, 2, 3, 4]


def test_only_reordering_when_only_leaders_are_skewed():
    partitions = [dict(topic='a', partition=p, replicas=[1, 2, 3]) for p in range(3)]
    plan = kr.plan_rebalance(partitions, [1, 2, 3])
    after = check_invariants(partitions, plan, [1, 2, 3])
    assert all(sorted(p['replicas']) == [1, 2, 3] for p in after)  # no data moves
    assert sorted(p['replicas'][0] for p in after) == [1, 2, 3]


@pytest.mark.parametrize('seed', range(25))
def test_random_clusters_end_balanced_and_stable(seed):
    rng = random.Random(seed)
    old_brokers = list(range(1, rng.randint(3, 6) + 1))
    targets = old_brokers + list(range(len(old_brokers) + 1, len(old_brokers) + 1 + rng.randint(0, 3)))
    partitions = []
    for index in range(rng.randint(1, 12)):
        rf = rng.randint(1, min(3, len(old_brokers)))
        for p in range(rng.randint(1, 20)):
            partitions.append(dict(topic='t%d' % index, partition=p, replicas=rng.sample(old_brokers, rf)))
    plan = kr.plan_rebalance(partitions, targets)
    after = apply(partitions, plan)
    for old, new in zip(partitions, after):
        assert len(new['replicas']) == len(old['replicas']) == len(set(new['replicas']))
    replicas, _leads, per_topic = loads(after)
    for counter in per_topic.values():
        assert spread(counter, targets) <= 1
    assert kr.plan_rebalance(after, targets) == {}


def test_balance_report_counts_replicas_and_preferred_leaders():
    partitions = topic('orders', 3, 2, [1, 2, 3])
    rows = kr.balance_report(partitions, [1, 2, 3, 4])
    assert rows == [dict(id=1, replicas=2, preferred_leaders=1, target=True),
                    dict(id=2, replicas=2, preferred_leaders=1, target=True),
                    dict(id=3, replicas=2, preferred_leaders=1, target=True),
                    dict(id=4, replicas=0, preferred_leaders=0, target=True)]


# ------------------------------------------------------------ module refusals

class FakeAdmin(object):
    def __init__(self, ongoing=None):
        self.ongoing = ongoing or {}

    def list_partition_reassignments(self, topic_partitions=None):
        return self.ongoing


def test_module_refuses_while_a_reassignment_runs():
    from kafka.structs import TopicPartition
    from ansible_collections.kraft.kafka.plugins.module_utils.kafka_client import KafkaModuleError
    from ansible_collections.kraft.kafka.plugins.modules import kafka_partition_rebalance as mod
    ongoing = {TopicPartition('orders', 3): {'replicas': [1, 2, 4], 'adding_replicas': [4], 'removing_replicas': [3]}}
    with pytest.raises(KafkaModuleError, match='already in progress \\(orders-3\\)'):
        mod.refuse_if_busy(FakeAdmin(ongoing), [])


def test_module_refuses_under_replicated_and_offline_partitions():
    from ansible_collections.kraft.kafka.plugins.module_utils.kafka_client import KafkaModuleError
    from ansible_collections.kraft.kafka.plugins.modules import kafka_partition_rebalance as mod
    states = [dict(topic='a', partition=0, leader=1, replicas=[1, 2, 3], isr=[1, 2]),
              dict(topic='a', partition=1, leader=None, replicas=[3], isr=[]),
              dict(topic='a', partition=2, leader=1, replicas=[1, 2, 3], isr=[1, 2, 3])]
    with pytest.raises(KafkaModuleError) as error:
        mod.refuse_if_busy(FakeAdmin(), states)
    assert '1 offline partition(s): a-1' in str(error.value)
    assert '1 under-replicated partition(s): a-0' in str(error.value)
    mod.refuse_if_busy(FakeAdmin(), states[2:])  # healthy: no exception


def test_module_target_brokers_must_be_registered_and_unfenced():
    from ansible_collections.kraft.kafka.plugins.module_utils.kafka_client import KafkaModuleError
    from ansible_collections.kraft.kafka.plugins.modules import kafka_partition_rebalance as mod
    registered = {1: False, 2: False, 3: True}
    assert mod.target_brokers({'brokers': None}, {1: False, 2: False}) == [1, 2]
    with pytest.raises(KafkaModuleError, match='fenced'):
        mod.target_brokers({'brokers': None}, registered)
    with pytest.raises(KafkaModuleError, match='not registered'):
        mod.target_brokers({'brokers': [1, 5]}, registered)
