# -*- coding: utf-8 -*-
"""Unit tests for the pure consumer group logic in plugins/module_utils/kafka_groups.py."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import os
import sys

import pytest

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
# ansible.cfg's collections_path: tools/venv.sh links this checkout there as kraft.kafka.
sys.path.insert(0, os.path.join(REPO_ROOT, '.cache', 'collections'))

from ansible_collections.kraft.kafka.plugins.module_utils import kafka_groups as kg  # noqa: E402
from ansible_collections.kraft.kafka.plugins.module_utils.kafka_client import KafkaModuleError  # noqa: E402

NOW_MS = kg.utc_to_epoch_ms(datetime.datetime(2026, 11, 25, 12, 0, 0))


# ------------------------------------------------------------------ datetimes

@pytest.mark.parametrize('text, expected', [
    ('2026-11-25T12:00:00Z', datetime.datetime(2026, 11, 25, 12, 0, 0)),
    ('2026-11-25T13:30:00+01:30', datetime.datetime(2026, 11, 25, 12, 0, 0)),
    ('2026-11-25T07:00:00-0500', datetime.datetime(2026, 11, 25, 12, 0, 0)),
    ('2026-11-25 12:00+00', datetime.datetime(2026, 11, 25, 12, 0, 0)),
    ('2026-11-25T12:00:00.250Z', datetime.datetime(2026, 11, 25, 12, 0, 0, 250000)),
    ('2026-11-26T00:30:00+12:30', datetime.datetime(2026, 11, 25, 12, 0, 0)),
])
def test_parse_iso_datetime_converts_to_utc(text, expected):
    assert kg.parse_iso_datetime(text) == expected


def test_parse_iso_datetime_refuses_naive_time():
    with pytest.raises(KafkaModuleError, match='no time zone'):
        kg.parse_iso_datetime('2026-11-25T12:00:00')


@pytest.mark.parametrize('text', ['yesterday', '2026-13-01T00:00:00Z', '2026-02-30T00:00Z', '25/11/2026 12:00Z', ''])
def test_parse_iso_datetime_refuses_garbage(text):
    with pytest.raises(KafkaModuleError):
        kg.parse_iso_datetime(text)


def test_epoch_conversion_round_trips():
    assert kg.utc_to_epoch_ms(datetime.datetime(1970, 1, 1, 0, 0, 1, 500000)) == 1500
    assert kg.epoch_ms_to_iso(NOW_MS + 7) == '2026-11-25T12:00:00.007Z'


# ------------------------------------------------------------------ durations

@pytest.mark.parametrize('text, seconds', [
    ('PT1H', 3600),
    ('PT1H30M', 5400),
    ('P1DT2H', 93600),
    ('P2W', 1209600),
    ('PT0.5S', 0.5),
    ('pt15m', 900),
    ('1h30m', 5400),
    ('1h 30m', 5400),
    ('2d', 172800),
    ('90s', 90),
    ('1w1d', 691200),
])
def test_parse_duration(text, seconds):
    assert kg.parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize('text', ['P1Y', 'P1M', 'PT', 'P', '1x', '1h30', '-1h', 'PT0S', '0m', 'h', ''])
def test_parse_duration_refuses(text):
    with pytest.raises(KafkaModuleError):
        kg.parse_duration(text)


def test_reset_timestamp_by_duration_is_before_now():
    assert kg.reset_timestamp_ms('by_duration', 'PT1H', now_ms=NOW_MS) == NOW_MS - 3600 * 1000


def test_reset_timestamp_to_datetime():
    assert kg.reset_timestamp_ms('to_datetime', '2026-11-25T11:00:00Z', now_ms=NOW_MS) == NOW_MS - 3600 * 1000


def test_reset_timestamp_refuses_future_datetime():
    with pytest.raises(KafkaModuleError, match='in the future'):
        kg.reset_timestamp_ms('to_datetime', '2026-11-25T12:00:01Z', now_ms=NOW_MS)


# ------------------------------------------------------------ option checks

def test_stray_value_option_is_refused():
    with pytest.raises(KafkaModuleError, match='offset given but strategy is to_latest'):
        kg.validate_strategy_options(dict(strategy='to_latest', offset=5))


def test_value_option_of_other_strategy_is_refused():
    with pytest.raises(KafkaModuleError, match='shift given but strategy is to_offset'):
        kg.validate_strategy_options(dict(strategy='to_offset', offset=5, shift=3))


def test_negative_to_offset_is_refused():
    with pytest.raises(KafkaModuleError, match='0 or more'):
        kg.validate_strategy_options(dict(strategy='to_offset', offset=-1))


def test_matching_value_option_passes():
    kg.validate_strategy_options(dict(strategy='shift_by', shift=-10))
    kg.validate_strategy_options(dict(strategy='to_latest'))


def test_offsets_param_keeps_none_and_refuses_duplicates():
    entries = [dict(topic='a', partition=0, offset=5), dict(topic='a', partition=1, offset=None)]
    assert kg.normalize_offsets_param(entries) == {('a', 0): 5, ('a', 1): None}
    with pytest.raises(KafkaModuleError, match='more than once'):
        kg.normalize_offsets_param(entries + [dict(topic='a', partition=0, offset=1)])
    with pytest.raises(KafkaModuleError, match='0 or more'):
        kg.normalize_offsets_param([dict(topic='a', partition=0, offset=-3)])
    with pytest.raises(KafkaModuleError, match='empty'):
        kg.normalize_offsets_param([])


def test_partition_list_refuses_negative_partition():
    with pytest.raises(KafkaModuleError, match='0 or more'):
        kg.normalize_partition_list([dict(topic='a', partition=-1)], 'partitions')
    with pytest.raises(KafkaModuleError, match='topic name and a partition'):
        kg.normalize_partition_list([dict(topic='a')], 'partitions')


# ---------------------------------------------------------------- lag math

def test_compute_lag_matches_cli_definition():
    assert kg.compute_lag(10, 16066228) == 16066218
    assert kg.compute_lag(None, 100) is None
    assert kg.compute_lag(5, None) is None


@pytest.mark.parametrize('requested, expected', [
    (-5, (10, True)), (9, (10, True)), (10, (10, False)), (15, (15, False)),
    (20, (20, False)), (21, (20, True)), (10 ** 12, (20, True)),
])
def test_clamp_offset(requested, expected):
    assert kg.clamp_offset(requested, 10, 20) == expected


@pytest.mark.parametrize('strategy, value, timestamp_offset, expected', [
    ('to_earliest', None, None, 10),
    ('to_latest', None, None, 100),
    ('to_offset', 42, None, 42),
    ('shift_by', -5, None, 45),
    ('shift_by', 7, None, 57),
    ('to_datetime', None, 33, 33),
    ('by_duration', None, -1, 100),     # no record that new: end of log, as the CLI does
    ('to_datetime', None, None, 100),
])
def test_requested_offset(strategy, value, timestamp_offset, expected):
    assert kg.requested_offset(strategy, 50, 10, 100, value=value, timestamp_offset=timestamp_offset) == expected


def test_requested_offset_unknown_strategy():
    with pytest.raises(KafkaModuleError, match='unknown strategy'):
        kg.requested_offset('to_nowhere', 0, 0, 0)


def test_plan_skip_forward_counts_skipped_messages():
    row = kg.plan_partition('t', 0, 10, 0, 16066228, 16066228)
    assert row['target_offset'] == 16066228
    assert row['lag_before'] == 16066218
    assert row['lag_after'] == 0
    assert row['messages_skipped'] == 16066218
    assert row['messages_replayed'] == 0
    assert row['changed'] is True and row['clamped'] is False


def test_plan_rewind_counts_replayed_messages():
    row = kg.plan_partition('t', 1, 80, 20, 100, 30)
    assert (row['messages_skipped'], row['messages_replayed']) == (0, 50)
    assert (row['lag_before'], row['lag_after']) == (20, 70)


def test_plan_clamps_below_log_start_and_flags_it():
    row = kg.plan_partition('t', 0, 50, 20, 100, 5)
    assert row['target_offset'] == 20 and row['requested_offset'] == 5 and row['clamped'] is True
    assert row['messages_replayed'] == 30


def test_plan_clamps_above_log_end_and_flags_it():
    row = kg.plan_partition('t', 0, 50, 20, 100, 1000)
    assert row['target_offset'] == 100 and row['clamped'] is True
    assert row['messages_skipped'] == 50 and row['lag_after'] == 0


def test_plan_does_not_count_records_removed_by_retention():
    # committed 5 but retention already removed everything below 40
    row = kg.plan_partition('t', 0, 5, 40, 100, 100)
    assert row['messages_skipped'] == 60
    assert row['lag_before'] == 95


def test_plan_unchanged_when_target_equals_current():
    row = kg.plan_partition('t', 0, 100, 0, 100, 100)
    assert row['changed'] is False and row['messages_skipped'] == 0 and row['messages_replayed'] == 0


def test_plan_without_committed_offset_is_a_change():
    row = kg.plan_partition('t', 0, None, 0, 100, 0)
    assert row['changed'] is True
    assert row['lag_before'] is None and row['lag_after'] == 100
    assert row['messages_skipped'] is None and row['messages_replayed'] is None


def test_build_reset_plan_is_sorted_and_shifts_each_partition():
    scope = [('b', 0), ('a', 1), ('a', 0)]
    committed = {('a', 0): 5, ('a', 1): 8, ('b', 0): 2}
    starts = {('a', 0): 0, ('a', 1): 0, ('b', 0): 0}
    ends = {('a', 0): 10, ('a', 1): 10, ('b', 0): 3}
    plan = kg.build_reset_plan('shift_by', scope, committed, starts, ends, value=3)
    assert [(p['topic'], p['partition']) for p in plan] == [('a', 0), ('a', 1), ('b', 0)]
    assert [p['target_offset'] for p in plan] == [8, 10, 3]
    assert [p['clamped'] for p in plan] == [False, True, True]
    summary = kg.summarize_plan(plan)
    assert summary == dict(partitions=3, partitions_changed=3, partitions_clamped=2,
                           messages_skipped=6, messages_replayed=0, lag_before=8, lag_after=2)


def test_build_reset_plan_uses_timestamp_answers_per_partition():
    scope = [('a', 0), ('a', 1)]
    plan = kg.build_reset_plan('to_datetime', scope, {('a', 0): 9, ('a', 1): 9},
                               {('a', 0): 0, ('a', 1): 0}, {('a', 0): 10, ('a', 1): 10},
                               timestamp_offsets={('a', 0): 4, ('a', 1): -1})
    assert [p['target_offset'] for p in plan] == [4, 10]
    assert [p['clamped'] for p in plan] == [False, False]


def test_restore_plan_puts_back_previous_offsets_and_deletes_new_commits():
    scope = [('a', 0), ('a', 1)]
    committed = {('a', 0): 10, ('a', 1): 10}
    plan = kg.build_reset_plan(None, scope, committed, {('a', 0): 0, ('a', 1): 0}, {('a', 0): 10, ('a', 1): 10},
                               restore={('a', 0): 3, ('a', 1): None})
    assert plan[0]['target_offset'] == 3 and plan[0]['changed'] is True
    assert plan[1]['target_offset'] is None and plan[1]['changed'] is True


def test_previous_offsets_round_trip_through_offsets_option():
    scope = [('a', 0), ('a', 1)]
    committed = {('a', 0): 4}
    starts, ends = {('a', 0): 0, ('a', 1): 0}, {('a', 0): 10, ('a', 1): 10}
    plan = kg.build_reset_plan('to_latest', scope, committed, starts, ends)
    undo = kg.normalize_offsets_param(kg.previous_offsets(plan))
    assert undo == {('a', 0): 4, ('a', 1): None}
    after = {('a', 0): 10, ('a', 1): 10}
    restored = kg.build_reset_plan(None, sorted(undo), after, starts, ends, restore=undo)
    assert [(p['target_offset'], p['changed']) for p in restored] == [(4, True), (None, True)]


def test_summary_of_empty_plan_is_zero():
    assert kg.summarize_plan([])['messages_skipped'] == 0


def test_shift_needs_committed_offsets():
    with pytest.raises(KafkaModuleError, match='a-1'):
        kg.shift_needs_committed('shift_by', [('a', 0), ('a', 1)], {('a', 0): 1})
    kg.shift_needs_committed('to_latest', [('a', 1)], {})


def test_plan_diff_shows_before_and_after():
    plan = [kg.plan_partition('t', 0, 5, 0, 9, 9)]
    diff = kg.plan_diff('g', plan)
    assert diff['before']['offsets'] == {'t-0': 5}
    assert diff['after']['offsets'] == {'t-0': 9}


# ------------------------------------------------------------ group helpers

@pytest.mark.parametrize('listing, expected', [
    (dict(type='classic', protocol_type='consumer'), True),
    (dict(type='classic', protocol_type=''), True),
    (dict(type='consumer', protocol_type='consumer'), True),
    (dict(type='classic', protocol_type='connect'), False),
    (dict(type='share', protocol_type='share'), False),
    (dict(type='streams', protocol_type='streams'), False),
])
def test_is_consumer_group(listing, expected):
    assert kg.is_consumer_group(listing) is expected


MEMBER = {
    'client_host': '/127.0.0.1', 'client_id': 'worker-1', 'group_instance_id': None,
    'member_id': 'worker-1-abc',
    'member_assignment': {'assigned_partitions': [{'topic': 't', 'partitions': [1, 0]}], 'user_data': ''},
    'member_metadata': {'topics': ['t'], 'user_data': ''},
}


def test_member_summary_and_owners():
    member = kg.member_summary(MEMBER)
    assert member['host'] == '127.0.0.1'
    assert member['assignment'] == [dict(topic='t', partition=0), dict(topic='t', partition=1)]
    owners = kg.partition_owners([member])
    assert owners[('t', 1)]['client_id'] == 'worker-1'


def test_member_with_undecodable_assignment_owns_nothing():
    raw = dict(MEMBER, member_assignment=b'\x00\x01')
    assert kg.member_summary(raw)['assignment'] == []


def test_active_group_message_names_classic_members():
    listing = dict(group_id='g', state='Stable', type='classic', protocol_type='consumer')
    message = kg.active_group_message(listing, [kg.member_summary(MEMBER)])
    assert 'client_id=worker-1 host=127.0.0.1' in message and 'Stable' in message


def test_active_group_message_for_new_protocol_points_to_cli():
    listing = dict(group_id='g', state='Reconciling', type='consumer', protocol_type='consumer')
    message = kg.active_group_message(listing, [])
    assert 'Reconciling' in message and '--describe --members --group g' in message


def test_partition_rows_include_owned_partitions_without_commit():
    member = kg.member_summary(MEMBER)
    rows = kg.build_partition_rows({('t', 0): 3}, kg.partition_owners([member]),
                                   {('t', 0): 0, ('t', 1): 0}, {('t', 0): 10, ('t', 1): 4})
    assert [(r['partition'], r['committed_offset'], r['lag'], r['client_id']) for r in rows] == [
        (0, 3, 7, 'worker-1'), (1, None, None, 'worker-1')]
    assert kg.topic_totals(rows) == [dict(topic='t', partitions=2, committed_partitions=1, lag=7)]


def test_partition_rows_of_deleted_topic_have_unknown_lag():
    rows = kg.build_partition_rows({('gone', 0): 3}, {}, {}, {})
    assert rows[0]['log_end_offset'] is None and rows[0]['lag'] is None
    assert kg.topic_totals(rows)[0]['lag'] is None


def test_offsets_param_needs_the_offset_key():
    with pytest.raises(KafkaModuleError, match='no offset key'):
        kg.normalize_offsets_param([dict(topic='a', partition=0)])


def test_offsets_param_accepts_templated_strings_but_not_bools():
    assert kg.normalize_offsets_param([dict(topic='a', partition='2', offset='17')]) == {('a', 2): 17}
    with pytest.raises(KafkaModuleError, match='whole number'):
        kg.normalize_offsets_param([dict(topic='a', partition=0, offset=True)])
    with pytest.raises(KafkaModuleError, match='whole number'):
        kg.normalize_offsets_param([dict(topic='a', partition=0, offset='ten')])
