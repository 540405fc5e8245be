# -*- coding: utf-8 -*-
"""The one leader-skew implementation shared by kafka_leader_election, kafka_cluster_info and
kafka_partition_rebalance (plugins/module_utils/kafka_leadership.py)."""

from __future__ import absolute_import, division, print_function

from ansible_collections.kraft.kafka.plugins.module_utils import kafka_leadership as kl
from ansible_collections.kraft.kafka.plugins.modules import kafka_cluster_info, kafka_leader_election


def state(topic, partition, leader, replicas, isr=None):
    return dict(topic=topic, partition=partition, leader=leader, replicas=replicas,
                isr=list(replicas) if isr is None else isr)


STATES = [
    state('a', 0, 1, [1, 2, 3]),              # led by preferred
    state('a', 1, 1, [2, 3, 1]),              # preferred 2 in sync: electable
    state('a', 2, 3, [2, 3, 1], isr=[3, 1]),  # preferred 2 out of sync: not electable
    state('b', 0, None, [3, 1, 2], isr=[3]),  # offline, preferred 3 in ISR: electable
    state('b', 1, 2, [4, 2]),                 # preferred 4 is not registered
]
BROKERS = {1: False, 2: False, 3: False}


def test_partition_state_from_describe_topics():
    raw = dict(partition_index=4, leader_id=-1, replica_nodes=[1, 2], isr_nodes=[2])
    assert kl.partition_state('t', raw) == dict(topic='t', partition=4, leader=None, replicas=[1, 2], isr=[2])


def test_broker_leadership_counts_and_marks_unregistered_replicas():
    rows = dict((r['id'], r) for r in kl.broker_leadership(STATES, BROKERS))
    assert rows[1] == dict(id=1, leaders=2, preferred_leaders=1, replicas=4, fenced=False, registered=True)
    assert rows[2]['leaders'] == 1 and rows[2]['preferred_leaders'] == 2
    assert rows[3]['leaders'] == 1 and rows[3]['preferred_leaders'] == 1
    assert rows[4] == dict(id=4, leaders=0, preferred_leaders=1, replicas=1, fenced=True, registered=False)


def test_leader_skew_numbers():
    skew = kl.leader_skew(STATES, BROKERS)
    assert skew == dict(partitions=5, not_preferred=3, offline=1, ratio=0.6, electable=2, max_leader_excess=1)
    assert kl.leader_skew([], BROKERS)['ratio'] == 0.0
    assert kl.leader_skew(STATES, BROKERS, electable=7)['electable'] == 7


def test_fenced_preferred_replica_is_not_electable():
    assert kl.is_electable(STATES[1], BROKERS)
    assert not kl.is_electable(STATES[1], {1: False, 2: True, 3: False})
    assert 'fenced' in kl.preferred_unavailable_reason(STATES[1], 2, {1: False, 2: True, 3: False})


def test_both_modules_use_the_shared_functions():
    assert kafka_leader_election.leader_skew is kl.leader_skew
    assert kafka_leader_election.broker_leadership is kl.broker_leadership
    assert kafka_cluster_info.leader_skew is kl.leader_skew


def test_election_plan_and_cluster_info_agree_on_electable():
    elections, not_electable = kafka_leader_election.preferred_plan(STATES, BROKERS)
    assert sorted((e['topic'], e['partition']) for e in elections) == [('a', 1), ('b', 0)]
    assert len(not_electable) == 2
    assert kl.leader_skew(STATES, BROKERS)['electable'] == len(elections)
    rows = kafka_cluster_info.broker_rows(
        dict((i, dict(id=i, host='h%d' % i, port=9092, rack=None, fenced=f, registered=True))
             for i, f in BROKERS.items()), STATES)
    assert [r['id'] for r in rows] == [1, 2, 3, 4]
    assert rows[0]['host'] == 'h1' and rows[3]['host'] is None and rows[3]['registered'] is False
