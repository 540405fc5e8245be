# -*- coding: utf-8 -*-
"""Unit tests for the pure planning logic of plugins/modules/kafka_topic.py."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import collections
import os
import random
import sys

import pytest

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
# ansible.cfg's collections_path: tools/venv.sh links this checkout there as kraft.kafka.
sys.path.insert(0, os.path.join(REPO_ROOT, '.cache', 'collections'))

from ansible_collections.kraft.kafka.plugins.modules import kafka_topic as kt  # noqa: E402
from kafka.structs import TopicPartition  # noqa: E402


def spec(name='orders', **kwargs):
    base = dict(name=name, state='present', partitions=None, replication_factor=None,
                config=None, config_mode='merge')
    base.update(kwargs)
    return base


def state(assignment, leaders=None, isr=None):
    """A topic_state() like dict from {partition: replicas}."""
    return {'topic_id': 'id', 'internal': False, 'partitions': dict(
        (p, {'leader': (leaders or {}).get(p, r[0] if r else -1), 'replicas': list(r),
             'isr': list((isr or {}).get(p, r))})
        for p, r in assignment.items())}


# --------------------------------------------------------------- normalising

@pytest.mark.parametrize('value, config_type, expected', [
    (True, 'BOOLEAN', 'true'),
    ('True', 'BOOLEAN', 'true'),
    (' FALSE ', 'BOOLEAN', 'false'),
    (False, None, 'false'),
    (86400000, 'LONG', '86400000'),
    ('86400000', 'LONG', '86400000'),
    (' 0086400000 ', 'LONG', '86400000'),
    (1e6, 'LONG', '1000000'),
    (2, 'INT', '2'),
    ('-1', 'LONG', '-1'),
    ('abc', 'LONG', 'abc'),           # left for the broker to reject
    (0.5, 'DOUBLE', '0.5'),
    ('0.50', 'DOUBLE', '0.5'),
    (1, 'DOUBLE', '1.0'),
    ('1', 'DOUBLE', '1.0'),
    (['compact', 'delete'], 'LIST', 'compact,delete'),
    ('compact, delete', 'LIST', 'compact,delete'),
    (' compact ,delete, ', 'LIST', 'compact,delete'),
    (['compact', 'delete'], None, 'compact,delete'),
    ('', 'LIST', ''),
    ('producer', 'STRING', 'producer'),
    (' zstd ', 'STRING', 'zstd'),
    ('CreateTime', None, 'CreateTime'),
    (None, 'LONG', None),
])
def test_normalize_config_value(value, config_type, expected):
    assert kt.normalize_config_value(value, config_type) == expected


def test_normalize_does_not_merge_distinct_values():
    assert kt.normalize_config_value('delete,compact', 'LIST') != kt.normalize_config_value('compact,delete', 'LIST')
    assert kt.normalize_config_value('1000', 'LONG') != kt.normalize_config_value('1001', 'LONG')
    assert kt.normalize_config_value('CreateTime', 'STRING') != kt.normalize_config_value('createtime', 'STRING')


TYPES = {'retention.ms': 'LONG', 'cleanup.policy': 'LIST', 'segment.ms': 'LONG',
         'unclean.leader.election.enable': 'BOOLEAN', 'min.cleanable.dirty.ratio': 'DOUBLE'}


def test_config_changes_equal_after_normalisation_is_no_change():
    overrides = {'retention.ms': '86400000', 'cleanup.policy': 'compact,delete',
                 'unclean.leader.election.enable': 'true', 'min.cleanable.dirty.ratio': '0.5'}
    desired = {'retention.ms': 86400000, 'cleanup.policy': ['compact', 'delete'],
               'unclean.leader.election.enable': 'True', 'min.cleanable.dirty.ratio': 0.50}
    assert kt.config_changes(desired, overrides, TYPES, 'merge') == ({}, [])
    assert kt.config_changes(desired, overrides, TYPES, 'exact') == ({}, [])


def test_config_changes_merge_sets_listed_and_keeps_others():
    overrides = {'retention.ms': '1000', 'segment.ms': '5000'}
    to_set, to_delete = kt.config_changes({'retention.ms': 2000}, overrides, TYPES, 'merge')
    assert to_set == {'retention.ms': '2000'}
    assert to_delete == []


def test_config_changes_missing_override_is_set_even_if_default():
    # A key counts as in sync only as a topic-level override.
    to_set, to_delete = kt.config_changes({'retention.ms': 604800000}, {}, TYPES, 'merge')
    assert to_set == {'retention.ms': '604800000'} and to_delete == []


def test_config_changes_exact_deletes_unlisted_overrides():
    overrides = {'retention.ms': '1000', 'segment.ms': '5000', 'cleanup.policy': 'compact'}
    to_set, to_delete = kt.config_changes({'retention.ms': 1000}, overrides, TYPES, 'exact')
    assert to_set == {}
    assert to_delete == ['cleanup.policy', 'segment.ms']


def test_config_changes_exact_with_empty_config_deletes_all():
    overrides = {'retention.ms': '1000', 'segment.ms': '5000'}
    assert kt.config_changes({}, overrides, TYPES, 'exact') == ({}, ['retention.ms', 'segment.ms'])


def test_config_changes_null_deletes_only_existing_override():
    overrides = {'retention.ms': '1000'}
    assert kt.config_changes({'retention.ms': None, 'segment.ms': None}, overrides, TYPES, 'merge') == \
        ({}, ['retention.ms'])


def test_config_after_applies_sets_and_deletes():
    assert kt.config_after({'a': '1', 'b': '2'}, {'a': '3', 'c': '4'}, ['b']) == {'a': '3', 'c': '4'}


# --------------------------------------------------------------- input rules

@pytest.mark.parametrize('name', ['orders', 'a', 'Orders.v2_x-1', 'x' * 249, '...', '_private'])
def test_legal_topic_names(name):
    assert kt.topic_name_errors(name) == []


@pytest.mark.parametrize('name, fragment', [
    ('.', 'reserved'),
    ('..', 'reserved'),
    ('x' * 250, '250 characters'),
    ('bad name', "illegal characters ' '"),
    ('orders/v2', "'/'"),
    ('zürich', "'ü'"),
    ('', 'non-empty'),
    (None, 'non-empty'),
])
def test_illegal_topic_names(name, fragment):
    errors = kt.topic_name_errors(name)
    assert errors and fragment in errors[0]


def test_build_specs_single_name():
    params = dict(name='orders', topics=None, state='present', partitions=3, replication_factor=2,
                  config={'retention.ms': 1}, config_mode='exact')
    assert kt.build_topic_specs(params) == [dict(name='orders', state='present', partitions=3,
                                                 replication_factor=2, config={'retention.ms': 1},
                                                 config_mode='exact')]


def test_build_specs_topics_use_top_level_defaults_and_merge_config():
    params = dict(name=None, state='present', partitions=6, replication_factor=3,
                  config={'min.insync.replicas': 2, 'retention.ms': 1}, config_mode='merge',
                  topics=[
                      dict(name='a', state=None, partitions=None, replication_factor=None,
                           config=None, config_mode=None),
                      dict(name='b', state='absent', partitions=1, replication_factor=1,
                           config={'retention.ms': 2}, config_mode='exact'),
                  ])
    a, b = kt.build_topic_specs(params)
    assert a == dict(name='a', state='present', partitions=6, replication_factor=3,
                     config={'min.insync.replicas': 2, 'retention.ms': 1}, config_mode='merge')
    assert b == dict(name='b', state='absent', partitions=1, replication_factor=1,
                     config={'min.insync.replicas': 2, 'retention.ms': 2}, config_mode='exact')


def test_build_specs_without_any_config_leaves_config_unmanaged():
    params = dict(name=None, state='present', partitions=None, replication_factor=None, config=None,
                  config_mode='merge', topics=[dict(name='a')])
    assert kt.build_topic_specs(params)[0]['config'] is None


def test_validate_specs_reports_every_problem_at_once():
    errors = kt.validate_specs([
        spec('ok'),
        spec('bad name'),
        spec('p0', partitions=0),
        spec('rf0', replication_factor=0),
        spec('dup'), spec('dup'),
        spec('cfg', config={'retention.ms': {'nested': 1}}),
    ])
    text = '\n'.join(errors)
    assert "topic 'dup' is listed more than once" in text
    assert "'bad name' contains illegal characters" in text
    assert 'p0: partitions must be at least 1, got 0' in text
    assert 'rf0: replication_factor must be at least 1, got 0' in text
    assert 'cfg: config retention.ms must be a string, number, boolean, list or null' in text
    assert len(errors) == 5


def test_validate_specs_empty_list():
    assert 'no topics given' in kt.validate_specs([])[0]


@pytest.mark.parametrize('name', ['__consumer_offsets', '__transaction_state', '__cluster_metadata',
                                  '__share_group_state', '__anything'])
def test_internal_topics_never_deleted_or_altered(name):
    assert 'never deleted' in kt.validate_specs([spec(name, state='absent')])[0]
    for change in (dict(partitions=60), dict(replication_factor=1), dict(config={'retention.ms': 1})):
        assert 'never altered' in kt.validate_specs([spec(name, **change)])[0]
    assert kt.validate_specs([spec(name)]) == []  # reading its state is fine


# ------------------------------------------------------------------ placement

def rf_counts(plan):
    return collections.Counter(len(r) for r in plan.values())


def replica_counts(plan):
    return collections.Counter(b for r in plan.values() for b in r)


def leader_counts(plan):
    return collections.Counter(r[0] for r in plan.values())


def test_rf_1_to_3_keeps_existing_replica_and_leader():
    current = {0: [1], 1: [2], 2: [3]}
    plan = kt.plan_replica_assignment(current, 3, [1, 2, 3], kt.BrokerLoad([1, 2, 3]))
    for p, replicas in plan.items():
        assert sorted(replicas) == [1, 2, 3]
        assert replicas[0] == current[p][0]


def test_rf_increase_spreads_replicas_evenly():
    brokers = [1, 2, 3, 4, 5]
    current = dict((p, [brokers[p % 5]]) for p in range(10))
    plan = kt.plan_replica_assignment(current, 3, brokers, kt.BrokerLoad(brokers))
    assert rf_counts(plan) == {3: 10}
    counts = replica_counts(plan)
    assert max(counts.values()) - min(counts.values()) <= 1
    assert all(plan[p][0] == current[p][0] for p in plan)


def test_leaders_are_spread_when_all_on_one_broker():
    current = {0: [1], 1: [1], 2: [1]}
    plan = kt.plan_replica_assignment(current, 3, [1, 2, 3], kt.BrokerLoad([1, 2, 3]))
    assert sorted(r[0] for r in plan.values()) == [1, 2, 3]
    assert plan[0][0] == 1  # first one keeps its leader: no reason to move it


def test_new_replicas_avoid_brokers_loaded_by_other_topics():
    load = kt.BrokerLoad.from_assignments([1, 2, 3, 4], [[2, 3]] * 5)
    plan = kt.plan_replica_assignment({0: [1]}, 2, [1, 2, 3, 4], load)
    assert plan == {0: [1, 4]}
    assert load.replicas == {1: 1, 2: 5, 3: 5, 4: 1}  # the load was updated for the next topic


def test_topic_balance_comes_before_cluster_load():
    # Spreading the topic over brokers matters more than the cluster totals:
    # the second partition does not pile onto broker 4 again.
    load = kt.BrokerLoad.from_assignments([1, 2, 3, 4], [[2, 3]] * 5)
    plan = kt.plan_replica_assignment({0: [1], 1: [1]}, 2, [1, 2, 3, 4], load)
    assert plan[0] == [1, 4]
    assert sorted(plan[1]) == [1, 2] and plan[1][0] == 2  # broker 1 already leads partition 0


def test_current_leader_kept_when_topic_is_balanced():
    # Broker 1 leads many other partitions, but moving leadership would not balance this topic.
    load = kt.BrokerLoad.from_assignments([1, 2, 3], [[1, 2, 3]] * 6)
    plan = kt.plan_replica_assignment({0: [1]}, 3, [1, 2, 3], load)
    assert plan == {0: [1, 2, 3]}


def test_new_partition_leader_follows_cluster_leader_load():
    load = kt.BrokerLoad.from_assignments([1, 2, 3], [[1, 2, 3]] * 6 + [[2, 3, 1]] * 3)
    plan = kt.plan_replica_assignment({0: []}, 3, [1, 2, 3], load)
    assert plan[0][0] == 3 and sorted(plan[0]) == [1, 2, 3]


def test_rf_decrease_keeps_leader_and_drops_most_loaded():
    load = kt.BrokerLoad.from_assignments([1, 2, 3], [[3], [3], [3]])
    plan = kt.plan_replica_assignment({0: [1, 2, 3]}, 2, [1, 2, 3], load)
    assert plan == {0: [1, 2]}


def test_rf_decrease_to_one():
    plan = kt.plan_replica_assignment({0: [1, 2, 3], 1: [2, 3, 1], 2: [3, 1, 2]}, 1, [1, 2, 3],
                                      kt.BrokerLoad([1, 2, 3]))
    assert plan == {0: [1], 1: [2], 2: [3]}


def test_partitions_with_right_factor_are_untouched():
    current = {0: [1, 2], 1: [3], 2: [2, 3]}
    plan = kt.plan_replica_assignment(current, 2, [1, 2, 3], kt.BrokerLoad([1, 2, 3]))
    assert plan[0] == [1, 2] and plan[2] == [2, 3]
    assert plan[1][0] == 3 and len(set(plan[1])) == 2


def test_settled_partitions_count_before_moved_ones():
    # Partitions 1 and 2 stay on [1, 2] (led by 1 and 2): the replica added to partition 0
    # must go to 3, which also leads nothing yet, so it becomes the preferred leader.
    plan = kt.plan_replica_assignment({0: [1], 1: [1, 2], 2: [2, 1]}, 2, [1, 2, 3], kt.BrokerLoad([1, 2, 3]))
    assert plan == {0: [3, 1], 1: [1, 2], 2: [2, 1]}


def test_replica_on_unusable_broker_is_replaced():
    plan = kt.plan_replica_assignment({0: [1, 9]}, 2, [1, 2, 3], kt.BrokerLoad([1, 2, 3]))
    assert plan[0][0] == 1 and plan[0][1] in (2, 3)


def test_new_partitions_get_distinct_replicas():
    plan = kt.plan_replica_assignment({0: [1, 2], 1: [], 2: [], 3: []}, 2, [1, 2, 3], kt.BrokerLoad([1, 2, 3]))
    assert plan[0] == [1, 2]
    for p in (1, 2, 3):
        assert len(set(plan[p])) == 2
    assert max(replica_counts(plan).values()) - min(replica_counts(plan).values()) <= 1
    assert max(leader_counts(plan).values()) - min(leader_counts(plan).values()) <= 1


def test_racks_are_spread():
    racks = {1: 'a', 2: 'a', 3: 'b', 4: 'b'}
    # Broker 3 and 4 are busier, but a second replica in rack a would not survive losing rack a.
    load = kt.BrokerLoad.from_assignments([1, 2, 3, 4], [[3, 4]] * 3)
    plan = kt.plan_replica_assignment({0: [1]}, 2, [1, 2, 3, 4], load, racks)
    assert racks[plan[0][1]] == 'b'


def test_placement_is_deterministic():
    current = {0: [1], 1: [2], 2: [3], 3: [1]}
    first = kt.plan_replica_assignment(current, 2, [1, 2, 3], kt.BrokerLoad([1, 2, 3]))
    second = kt.plan_replica_assignment(current, 2, [1, 2, 3], kt.BrokerLoad([1, 2, 3]))
    assert first == second


@pytest.mark.parametrize('seed', range(30))
def test_random_placements_keep_invariants(seed):
    rng = random.Random(seed)
    brokers = list(range(1, rng.randint(3, 7) + 1))
    rf_now = rng.randint(1, len(brokers))
    rf_new = rng.randint(1, len(brokers))
    current = dict((p, rng.sample(brokers, rf_now)) for p in range(rng.randint(1, 12)))
    plan = kt.plan_replica_assignment(current, rf_new, brokers, kt.BrokerLoad(brokers))
    assert sorted(plan) == sorted(current)
    for p, replicas in plan.items():
        assert len(replicas) == rf_new == len(set(replicas))
        assert set(replicas) <= set(brokers)
        if rf_new >= rf_now:
            assert set(current[p]) <= set(replicas)       # nothing existing is moved away
        else:
            assert set(replicas) <= set(current[p])       # only removals
            assert current[p][0] in replicas               # the preferred leader stays a replica


def test_broker_load_counts():
    load = kt.BrokerLoad.from_assignments([1, 2, 3], [[1, 2], [2, 3], [2]])
    assert load.replicas == {1: 1, 2: 3, 3: 1}
    assert load.leaders == {1: 1, 2: 2, 3: 0}
    load.remove([2, 3])
    assert load.replicas == {1: 1, 2: 2, 3: 0} and load.leaders == {1: 1, 2: 1, 3: 0}


# ------------------------------------------------------------------ planning

def test_plan_create_uses_broker_defaults_when_unset():
    plan = kt.plan_topic(spec(config={'retention.ms': 1000, 'segment.ms': None}), None, None, {}, 3)
    assert plan['create'] and not plan['errors']
    assert plan['config_set'] == {'retention.ms': '1000'}
    assert kt.create_request([plan]) == {'orders': {'num_partitions': -1, 'replication_factor': -1,
                                                    'configs': {'retention.ms': '1000'}}}


def test_plan_absent():
    assert kt.plan_topic(spec(state='absent'), state({0: [1]}), None, {}, 3)['delete']
    assert not kt.plan_changes(kt.plan_topic(spec(state='absent'), None, None, {}, 3))


def test_plan_refuses_partition_decrease():
    plan = kt.plan_topic(spec(partitions=1), state({0: [1], 1: [2]}), ({}, {}), {}, 3)
    assert 'cannot decrease partitions from 2 to 1' in plan['errors'][0]
    assert not kt.plan_changes(plan)


def test_plan_partition_increase_without_rf_change_lets_kafka_place():
    plan = kt.plan_topic(spec(partitions=4), state({0: [1], 1: [2]}), ({}, {}), {}, 3)
    assert plan['new_partitions'] == 4 and plan['actions'] == ['increase partitions from 2 to 4']
    assert kt.partition_request([plan]) == {'orders': 4}


def test_plan_rf_above_broker_count():
    for current in (None, state({0: [1]})):
        plan = kt.plan_topic(spec(replication_factor=4), current, ({}, {}), {}, 3)
        assert 'replication_factor 4 is more than the 3 broker(s)' in plan['errors'][0]


def test_plan_internal_name_is_never_created():
    plan = kt.plan_topic(spec('__mine'), None, None, {}, 3)
    assert not plan['create'] and "reserved for Kafka's internal topics" in plan['errors'][0]


def test_plan_unknown_config_key_reported_and_known_keys_still_planned():
    plan = kt.plan_topic(spec(config={'bogus': 1, 'retention.ms': 5}), state({0: [1]}),
                         ({}, TYPES), {}, 3)
    assert 'unknown topic config key(s): bogus' in plan['errors'][0]
    assert plan['config_set'] == {'retention.ms': '5'}


def brokers(*ids, **kwargs):
    fenced = kwargs.get('fenced', ())
    return dict((b, {'rack': None, 'fenced': b in fenced}) for b in ids)


def test_plan_rf_change_with_partition_increase_places_new_partitions():
    topic = state({0: [1], 1: [2]})
    plan = kt.plan_topic(spec(partitions=3, replication_factor=3), topic, ({}, {}), {}, 3)
    kt.plan_placements([plan], {'orders': topic}, brokers(1, 2, 3), lambda exclude: [])
    assert sorted(plan['reassignment']) == [0, 1]
    assert all(sorted(r) == [1, 2, 3] for r in plan['reassignment'].values())
    assert len(plan['new_partition_assignments']) == 1 and sorted(plan['new_partition_assignments'][0]) == [1, 2, 3]
    assert kt.partition_request([plan]) == {'orders': {'count': 3,
                                                       'assignments': plan['new_partition_assignments']}}
    assert plan['actions'][-1] == 'change replication factor from 1 to 3 (reassign partitions 0, 1)'


def test_plan_placement_uses_only_unfenced_brokers():
    topic = state({0: [1]})
    plan = kt.plan_topic(spec(replication_factor=2), topic, ({}, {}), {}, 3)
    kt.plan_placements([plan], {'orders': topic}, brokers(1, 2, 3, fenced=(2,)), lambda exclude: [])
    assert plan['reassignment'] == {0: [1, 3]}


def test_plan_placement_fails_without_enough_unfenced_brokers():
    topic = state({0: [1]})
    plan = kt.plan_topic(spec(replication_factor=3), topic, ({}, {}), {}, 3)
    kt.plan_placements([plan], {'orders': topic}, brokers(1, 2, 3, fenced=(2,)), lambda exclude: [])
    assert plan['errors'] == ['orders: cannot place replication_factor 3: 3 replica(s) needed, but only 2 '
                              'unfenced broker(s) are available (1, 3)']
    assert not plan['reassignment']


def test_plan_placement_keeps_replicas_on_fenced_brokers():
    # Broker 2 is fenced (e.g. restarting): its replica stays, but it gets no new one.
    topic = state({0: [2], 1: [1]})
    plan = kt.plan_topic(spec(replication_factor=2), topic, ({}, {}), {}, 3)
    kt.plan_placements([plan], {'orders': topic}, brokers(1, 2, 3, fenced=(2,)), lambda exclude: [])
    assert not plan['errors']
    assert plan['reassignment'][0][0] == 2 and len(set(plan['reassignment'][0])) == 2
    assert plan['reassignment'][1] == [1, 3]


def test_replicas_on_departed_brokers_are_replaced_but_fenced_kept():
    plan = kt.plan_replica_assignment({0: [1, 7], 1: [2, 9]}, 2, [1, 2, 3], kt.BrokerLoad([1, 2, 3]),
                                      keep_on=[1, 2, 3, 7])
    assert plan[0] == [1, 7]          # 7 is registered (fenced): kept, nothing moves
    assert 9 not in plan[1] and 2 in plan[1] and len(plan[1]) == 2


def test_placement_error_when_too_few_brokers():
    with pytest.raises(kt.PlacementError):
        kt.plan_replica_assignment({0: [1]}, 3, [1, 2], kt.BrokerLoad([1, 2]))


def test_plan_placement_reads_cluster_load_once_without_the_planned_topics():
    calls = []
    topic = state({0: [1]})
    plan = kt.plan_topic(spec(replication_factor=2), topic, ({}, {}), {}, 3)

    def load_source(exclude):
        calls.append(exclude)
        return [[2, 1]] * 4

    kt.plan_placements([plan], {'orders': topic}, brokers(1, 2, 3), load_source)
    assert calls == [{'orders'}]
    assert plan['reassignment'] == {0: [1, 3]}


def test_plan_unchanged_rf_needs_no_placement():
    topic = state({0: [1, 2], 1: [2, 3]})
    plan = kt.plan_topic(spec(replication_factor=2), topic, ({}, {}), {}, 3)
    kt.plan_placements([plan], {'orders': topic}, brokers(1, 2, 3),
                       lambda exclude: pytest.fail('load read although nothing moves'))
    assert not kt.plan_changes(plan)


def test_plan_ongoing_reassignment_to_same_factor_is_waited_for():
    topic = state({0: [1, 2, 3]})
    ongoing = {0: {'target': [1, 2], 'adding': [2], 'removing': [3]}}
    plan = kt.plan_topic(spec(replication_factor=2), topic, ({}, {}), ongoing, 3)
    assert plan['wait_reassignment'] == {0: [1, 2]} and not plan['errors'] and not kt.plan_changes(plan)


def test_plan_ongoing_reassignment_to_other_factor_fails():
    topic = state({0: [1, 2, 3]})
    ongoing = {0: {'target': [1, 2], 'adding': [2], 'removing': [3]}}
    plan = kt.plan_topic(spec(replication_factor=3), topic, ({}, {}), ongoing, 3)
    assert 'already in progress for partition(s) 0' in plan['errors'][0]


def test_reassignment_lag():
    tp0, tp1 = TopicPartition('t', 0), TopicPartition('t', 1)
    targets = {tp0: [1, 2, 3], tp1: [2, 3, 1]}
    described = {'t': state({0: [1, 2, 3], 1: [2, 3, 1]}, isr={1: [2]})}
    lag = kt.reassignment_lag(targets, {}, described)
    assert list(lag) == [tp1] and 'in sync [2]' in lag[tp1]
    ongoing = {tp0: {'replicas': [1, 2, 3], 'adding_replicas': [3], 'removing_replicas': []}}
    assert 'adding [3]' in kt.reassignment_lag(targets, ongoing, described)[tp0]
    done = {'t': state({0: [1, 2, 3], 1: [2, 3, 1]})}
    assert kt.reassignment_lag(targets, {}, done) == {}


def test_predicted_diff_for_changes():
    topic = state({0: [1]})
    plan = kt.plan_topic(spec(partitions=2, config={'retention.ms': 5}, config_mode='exact'), topic,
                         ({'segment.ms': '10'}, TYPES), {}, 3)
    diff = kt.predicted_diff(plan, {'orders': topic}, {'orders': ({'segment.ms': '10'}, TYPES)})
    assert diff['before'] == {'state': 'present', 'partitions': 1, 'replication_factor': 1,
                              'config': {'segment.ms': '10'}}
    assert diff['after'] == {'state': 'present', 'partitions': 2, 'replication_factor': 1,
                             'config': {'retention.ms': '5'}}


def test_plan_missing_kafka_internal_topic_is_only_reported():
    plan = kt.plan_topic(spec('__consumer_offsets'), None, None, {}, 3)
    assert not plan['errors'] and not kt.plan_changes(plan)


def test_rf_decrease_evens_out_the_topic_despite_cluster_load():
    # Broker 1 is idle in the rest of the cluster, but keeping all of this topic there would
    # unbalance the topic (the case a real 3-broker cluster produced before the topic-first rule).
    load = kt.BrokerLoad.from_assignments([1, 2, 3], [[2, 3]] * 10)
    current = {0: [2, 1, 3], 1: [3, 1, 2], 2: [1, 2, 3]}
    plan = kt.plan_replica_assignment(current, 2, [1, 2, 3], load)
    assert sorted(replica_counts(plan).values()) == [2, 2, 2]
    assert all(plan[p][0] == current[p][0] for p in plan)  # leaders were balanced: none moves


@pytest.mark.parametrize('seed', range(60))
def test_random_round_robin_topics_become_perfectly_balanced(seed):
    # With Kafka's round-robin start and a partition count that is a multiple of the broker count,
    # a perfectly even result exists that only adds (or only removes) replicas: it must be found,
    # whatever the rest of the cluster looks like.
    rng = random.Random(seed)
    brokers = list(range(1, rng.randint(3, 9) + 1))
    rf_now = rng.randint(1, len(brokers))
    rf_new = rng.randint(1, len(brokers))
    partitions = len(brokers) * rng.randint(1, 4)
    current = dict((p, [brokers[(p + i) % len(brokers)] for i in range(rf_now)]) for p in range(partitions))
    other_topics = [rng.sample(brokers, rng.randint(1, len(brokers))) for topic in range(rng.randint(0, 20))]
    plan = kt.plan_replica_assignment(current, rf_new, brokers, kt.BrokerLoad.from_assignments(brokers, other_topics))
    counts = [replica_counts(plan).get(b, 0) for b in brokers]
    assert max(counts) - min(counts) <= 1, plan
    leaders = [leader_counts(plan).get(b, 0) for b in brokers]
    assert max(leaders) - min(leaders) <= 1, plan


def test_evening_out_never_copies_more_than_needed():
    # Broker 4 holds nothing and the factor goes down: it cannot get a replica without copying
    # data that the change does not need, so it stays empty.
    current = {0: [1, 2, 3], 1: [2, 3, 1], 2: [3, 1, 2]}
    plan = kt.plan_replica_assignment(current, 2, [1, 2, 3, 4], kt.BrokerLoad([1, 2, 3, 4]))
    assert all(set(plan[p]) <= set(current[p]) for p in plan)
    assert sorted(replica_counts(plan).values()) == [2, 2, 2]


def test_rf_decrease_drops_replicas_on_fenced_brokers_first():
    # Broker 3 is fenced: a partition keeping a replica there could not finish its reassignment.
    current = {0: [1, 2, 3], 1: [2, 3, 1], 2: [3, 1, 2]}
    plan = kt.plan_replica_assignment(current, 2, [1, 2], kt.BrokerLoad([1, 2]), keep_on=[1, 2, 3])
    assert all(sorted(replicas) == [1, 2] for replicas in plan.values())
    assert plan[0] == [1, 2] and plan[1] == [2, 1]  # unchanged preferred leaders stay first


def test_preferred_leader_is_kept_when_reducing():
    current = {0: [3, 1, 2]}
    load = kt.BrokerLoad.from_assignments([1, 2, 3], [[3]] * 10)  # 3 is by far the busiest
    assert kt.plan_replica_assignment(current, 1, [1, 2, 3], load) == {0: [3]}
