# -*- coding: utf-8 -*-
"""kafka_consumer_group_info and kafka_consumer_group_reset against the real local KRaft cluster.

Groups are made by real kafka-python consumers (subscribe, commit, close so
the group becomes Empty). Numbers are cross-checked with the Kafka CLI
(kafka-consumer-groups.sh --describe) and committed offsets are read back
with kafka-python, never with the modules under test.
"""
from __future__ import absolute_import, division, print_function

import contextlib
import datetime
import os
import signal
import subprocess
import time
import uuid

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata

INFO = 'kraft.kafka.kafka_consumer_group_info'
RESET = 'kraft.kafka.kafka_consumer_group_reset'
MINUTE_MS = 60 * 1000


def unique(prefix):
    return '%s-%s' % (prefix, uuid.uuid4().hex[:8])


# ------------------------------------------------------------------ helpers

@pytest.fixture(scope='module')
def admin(kafka_cluster):
    client = KafkaAdminClient(bootstrap_servers=kafka_cluster.bootstrap_servers, client_id='cg-tests')
    yield client
    client.close()


@pytest.fixture
def conn(kafka_cluster):
    return {'bootstrap_servers': kafka_cluster.bootstrap_servers}


def create_topic(admin, name, partitions, counts=None, timestamps=None, cluster=None):
    """A topic with counts[p] records in partition p (timestamps[p] = list of ms, optional)."""
    admin.create_topics({name: {'num_partitions': partitions, 'replication_factor': 3}},
                        wait_for_metadata=True)
    if counts:
        produce(cluster, name, counts, timestamps)
    return name


def produce(cluster, topic, counts, timestamps=None):
    producer = KafkaProducer(bootstrap_servers=cluster.bootstrap_servers, acks='all', linger_ms=20,
                             batch_size=256 * 1024)
    try:
        for partition, count in enumerate(counts):
            for index in range(count):
                stamp = timestamps[partition][index] if timestamps else None
                producer.send(topic, value=b'm%d' % index, partition=partition, timestamp_ms=stamp)
        producer.flush(timeout=120)
    finally:
        producer.close()


def subscribed_consumer(cluster, group, topic, client_id, timeout=60):
    """A consumer subscribed to topic once its metadata knows the topic's partitions.

    The group leader assigns from its own metadata: subscribing before it has
    seen a fresh topic yields an empty assignment that kafka-python only
    fixes at the next metadata refresh (minutes).
    """
    consumer = KafkaConsumer(bootstrap_servers=cluster.bootstrap_servers, group_id=group, client_id=client_id,
                             enable_auto_commit=False, auto_offset_reset='earliest')
    deadline = time.monotonic() + timeout
    while not consumer.partitions_for_topic(topic) and time.monotonic() < deadline:
        time.sleep(0.5)
    consumer.subscribe([topic])
    return consumer


def wait_for_assignment(consumer, partitions, timeout=120):
    deadline = time.monotonic() + timeout
    while len(consumer.assignment()) < partitions and time.monotonic() < deadline:
        consumer.poll(timeout_ms=200, max_records=1)
    assert len(consumer.assignment()) == partitions, consumer.assignment()


def commit_as_group(cluster, group, topic, offsets):
    """Join `group` as a real subscriber of topic, commit {partition: offset}, leave (group Empty)."""
    consumer = subscribed_consumer(cluster, group, topic, 'committer-' + group)
    try:
        wait_for_assignment(consumer, len(offsets))
        consumer.commit({TopicPartition(topic, p): OffsetAndMetadata(o, '', -1) for p, o in offsets.items()})
    finally:
        consumer.close(autocommit=False)
    return group


@contextlib.contextmanager
def active_member(cluster, group, topic, partitions, client_id):
    """A consumer that stays in the group (state Stable) for the duration of the block."""
    consumer = subscribed_consumer(cluster, group, topic, client_id)
    try:
        wait_for_assignment(consumer, partitions)
        yield consumer
    finally:
        consumer.close(autocommit=False)


def committed(admin, group):
    """{(topic, partition): offset} read with kafka-python."""
    found = admin.list_group_offsets({group: None}).get(group, {})
    return {(tp.topic, tp.partition): oam.offset for tp, oam in found.items() if oam.offset >= 0}


def group_state(admin, group):
    for entry in admin.list_groups():
        if entry['group_id'] == group:
            return entry['group_state']
    return None


def wait_for_state(admin, group, state, timeout=60):
    deadline = time.monotonic() + timeout
    while group_state(admin, group) != state and time.monotonic() < deadline:
        time.sleep(0.5)
    assert group_state(admin, group) == state


def cli_describe(cluster, group):
    """Rows of kafka-consumer-groups.sh --describe, keyed by (topic, partition)."""
    out = cluster.cli('kafka-consumer-groups.sh', '--bootstrap-server', cluster.bootstrap,
                      '--describe', '--group', group).stdout

    def value(text, number=True):
        if text == '-':
            return None
        return int(text) if number else text
    rows = {}
    for line in out.splitlines():
        fields = line.split()
        if len(fields) == 9 and fields[0] == group:
            rows[(fields[1], int(fields[2]))] = dict(
                committed=value(fields[3]), log_end=value(fields[4]), lag=value(fields[5]),
                member_id=value(fields[6], False), host=value(fields[7], False), client_id=value(fields[8], False))
    assert rows, 'no rows parsed from:\n%s' % out
    return rows


def info(run_module, conn, group, **extra):
    args = dict(conn, groups=[group], **extra)
    result = run_module(INFO, args)
    assert not result['failed'], result.get('msg')
    return result['groups'][0]


def reset(run_module, conn, group, check=False, diff=False, **options):
    return run_module(RESET, dict(conn, group=group, **options), check=check, diff=diff)


def plan_targets(result):
    return {(p['topic'], p['partition']): p['target_offset'] for p in result['plan']}


def iso_utc(ms, zone_hours=0):
    """ISO-8601 for ms since epoch, written in a zone zone_hours east of UTC."""
    zone = datetime.timezone(datetime.timedelta(hours=zone_hours))
    return datetime.datetime.fromtimestamp(ms / 1000.0, tz=zone).isoformat()


def check_apply_rerun_undo(run_module, conn, admin, group, expected, **options):
    """Dry run, apply, re-run and undo one reset; assert each step against kafka-python's view."""
    before = committed(admin, group)
    dry = reset(run_module, conn, group, check=True, **options)
    assert not dry['failed'], dry.get('msg')
    assert plan_targets(dry) == expected
    assert dry['changed'] is (expected != {k: before.get(k) for k in expected})
    assert committed(admin, group) == before, 'check mode changed committed offsets'

    applied = reset(run_module, conn, group, **options)
    assert not applied['failed'], applied.get('msg')
    assert plan_targets(applied) == expected
    after = committed(admin, group)
    assert {k: after[k] for k in expected} == expected
    assert applied['previous_offsets'] == [dict(topic=t, partition=p, offset=before.get((t, p)))
                                           for t, p in sorted(expected)]

    again = reset(run_module, conn, group, **options)
    assert not again['failed'], again.get('msg')
    if options.get('strategy') == 'shift_by':
        # relative by definition: a second run moves again, from where the first one left
        assert again['changed'] is True
        assert {(p['topic'], p['partition']): p['current_offset'] for p in again['plan']} == expected
    else:
        assert again['changed'] is False

    # the first run's previous_offsets undo everything since, the second shift included
    undone = reset(run_module, conn, group, offsets=applied['previous_offsets'])
    assert not undone['failed'], undone.get('msg')
    assert committed(admin, group) == before
    return applied


# ------------------------------------------------------------------ info

def test_info_matches_cli_for_empty_group(kafka_cluster, admin, run_module, conn):
    topic = create_topic(admin, unique('cg-info'), 3, [10, 20, 30], cluster=kafka_cluster)
    group = commit_as_group(kafka_cluster, unique('cg-info'), topic, {0: 2, 1: 5, 2: 30})

    report = info(run_module, conn, group)
    cli = cli_describe(kafka_cluster, group)

    assert report['exists'] is True and report['state'] == 'Empty' and report['type'] == 'classic'
    assert report['protocol_type'] == 'consumer' and report['members'] == [] and report['member_count'] == 0
    mine = {(r['topic'], r['partition']): (r['committed_offset'], r['log_end_offset'], r['lag'])
            for r in report['partitions']}
    theirs = {k: (r['committed'], r['log_end'], r['lag']) for k, r in cli.items()}
    assert mine == theirs == {(topic, 0): (2, 10, 8), (topic, 1): (5, 20, 15), (topic, 2): (30, 30, 0)}
    assert report['topics'] == [dict(topic=topic, partitions=3, committed_partitions=3, lag=23)]
    assert report['lag'] == sum(r['lag'] for r in cli.values())


def test_info_matches_cli_members_of_active_group(kafka_cluster, admin, run_module, conn):
    topic = create_topic(admin, unique('cg-active'), 2, [7, 9], cluster=kafka_cluster)
    group = commit_as_group(kafka_cluster, unique('cg-active'), topic, {0: 3, 1: 1})
    with active_member(kafka_cluster, group, topic, 2, 'payments-worker'):
        wait_for_state(admin, group, 'Stable')
        report = info(run_module, conn, group)
        cli = cli_describe(kafka_cluster, group)

    assert report['state'] == 'Stable' and report['protocol'] == 'range'
    assert [m['client_id'] for m in report['members']] == ['payments-worker']
    member = report['members'][0]
    assert member['assignment'] == [dict(topic=topic, partition=0), dict(topic=topic, partition=1)]
    for row in report['partitions']:
        other = cli[(row['topic'], row['partition'])]
        assert (row['committed_offset'], row['log_end_offset'], row['lag']) == \
            (other['committed'], other['log_end'], other['lag'])
        assert (row['member_id'], row['client_id'], '/' + row['host']) == \
            (other['member_id'], other['client_id'], other['host'])
    assert report['lag'] == 4 + 8


def test_info_lists_all_groups_when_none_given(kafka_cluster, admin, run_module, conn):
    topic = create_topic(admin, unique('cg-all'), 1, [3], cluster=kafka_cluster)
    first = commit_as_group(kafka_cluster, unique('cg-all'), topic, {0: 1})
    second = commit_as_group(kafka_cluster, unique('cg-all'), topic, {0: 3})
    result = run_module(INFO, dict(conn))
    assert not result['failed'], result.get('msg')
    by_id = {g['group_id']: g for g in result['groups']}
    assert by_id[first]['lag'] == 2 and by_id[second]['lag'] == 0


def test_info_unknown_group_fails_unless_told_otherwise(kafka_cluster, admin, run_module, conn):
    ghost = unique('cg-ghost')
    failed = run_module(INFO, dict(conn, groups=[ghost]))
    assert failed['failed'] and ghost in failed['msg'] and 'not found' in failed['msg']
    tolerated = run_module(INFO, dict(conn, groups=[ghost], fail_on_missing=False))
    assert not tolerated['failed']
    assert tolerated['groups'] == [dict(group_id=ghost, exists=False)]


def test_info_works_in_check_mode(kafka_cluster, admin, run_module, conn):
    topic = create_topic(admin, unique('cg-check'), 1, [4], cluster=kafka_cluster)
    group = commit_as_group(kafka_cluster, unique('cg-check'), topic, {0: 1})
    result = run_module(INFO, dict(conn, groups=[group]), check=True)
    assert not result['failed'] and result['changed'] is False
    assert result['groups'][0]['lag'] == 3


# ------------------------------------------------------------ the seed case

def test_seed_scenario_group_far_behind_skips_backlog_and_can_undo(kafka_cluster, admin, run_module, conn):
    """kafka4-notes: LAG 16,066,218 on a one-partition topic, then --reset-offsets --to-latest --execute."""
    backlog = 20000
    topic = create_topic(admin, unique('strategy'), 1, [backlog + 10], cluster=kafka_cluster)
    group = commit_as_group(kafka_cluster, unique('strategy-service-group'), topic, {0: 10})
    assert info(run_module, conn, group)['lag'] == backlog

    dry = reset(run_module, conn, group, check=True, diff=True, strategy='to_latest')
    assert not dry['failed'], dry.get('msg')
    assert dry['changed'] is True
    assert dry['summary']['messages_skipped'] == backlog and dry['summary']['lag_after'] == 0
    assert dry['plan'][0]['lag_before'] == backlog
    assert dry['diff']['before']['offsets'] == {'%s-0' % topic: 10}
    assert dry['diff']['after']['offsets'] == {'%s-0' % topic: backlog + 10}
    assert committed(admin, group) == {(topic, 0): 10}

    done = reset(run_module, conn, group, strategy='to_latest')
    assert not done['failed'] and done['changed'] is True
    assert committed(admin, group) == {(topic, 0): backlog + 10}
    cli = cli_describe(kafka_cluster, group)
    assert cli[(topic, 0)]['lag'] == 0
    assert info(run_module, conn, group)['lag'] == 0

    assert reset(run_module, conn, group, strategy='to_latest')['changed'] is False

    undo = reset(run_module, conn, group, offsets=done['previous_offsets'])
    assert not undo['failed'] and undo['changed'] is True
    assert committed(admin, group) == {(topic, 0): 10}


# ---------------------------------------------------------------- strategies

@pytest.fixture(scope='module')
def trimmed_topic(kafka_cluster, admin):
    """Two partitions of 20 records whose first 3 were deleted (log start 3, log end 20)."""
    topic = create_topic(admin, unique('cg-strat'), 2, [20, 20], cluster=kafka_cluster)
    admin.delete_records({TopicPartition(topic, 0): 3, TopicPartition(topic, 1): 3})
    return topic


def strategy_group(kafka_cluster, topic):
    return commit_as_group(kafka_cluster, unique('cg-strat'), topic, {0: 10, 1: 15})


@pytest.mark.parametrize('options, targets', [
    (dict(strategy='to_earliest'), (3, 3)),
    (dict(strategy='to_latest'), (20, 20)),
    (dict(strategy='to_offset', offset=12), (12, 12)),
    (dict(strategy='shift_by', shift=-4), (6, 11)),
    (dict(strategy='shift_by', shift=3), (13, 18)),
], ids=['to_earliest', 'to_latest', 'to_offset', 'shift_back', 'shift_forward'])
def test_reset_strategy(kafka_cluster, admin, run_module, conn, trimmed_topic, options, targets):
    group = strategy_group(kafka_cluster, trimmed_topic)
    expected = {(trimmed_topic, 0): targets[0], (trimmed_topic, 1): targets[1]}
    applied = check_apply_rerun_undo(run_module, conn, admin, group, expected, **options)
    assert all(p['clamped'] is False for p in applied['plan'])


def test_reset_clamps_out_of_range_targets(kafka_cluster, admin, run_module, conn, trimmed_topic):
    group = strategy_group(kafka_cluster, trimmed_topic)
    high = reset(run_module, conn, group, check=True, strategy='to_offset', offset=1000000)
    assert not high['failed'], high.get('msg')
    assert [(p['requested_offset'], p['target_offset'], p['clamped']) for p in high['plan']] == \
        [(1000000, 20, True), (1000000, 20, True)]
    assert high['summary']['partitions_clamped'] == 2
    assert committed(admin, group) == {(trimmed_topic, 0): 10, (trimmed_topic, 1): 15}

    low = reset(run_module, conn, group, strategy='shift_by', shift=-12)
    assert not low['failed'], low.get('msg')
    assert [(p['requested_offset'], p['target_offset'], p['clamped']) for p in low['plan']] == \
        [(-2, 3, True), (3, 3, False)]
    assert low['plan'][0]['messages_replayed'] == 7
    assert committed(admin, group) == {(trimmed_topic, 0): 3, (trimmed_topic, 1): 3}


@pytest.fixture(scope='module')
def timed_topic(kafka_cluster, admin):
    """One partition of 10 records stamped now-100min, now-90min, ..., now-10min (record i at now-(10-i)*10min)."""
    now = int(time.time() * 1000)
    stamps = [now - (10 - i) * 10 * MINUTE_MS for i in range(10)]
    topic = create_topic(admin, unique('cg-time'), 1, [10], [stamps], cluster=kafka_cluster)
    return topic, now


def test_reset_to_datetime(kafka_cluster, admin, run_module, conn, timed_topic):
    topic, created = timed_topic
    group = commit_as_group(kafka_cluster, unique('cg-time'), topic, {0: 9})
    # now-75min, written as +02:00 local time: first record at or after it is i=3 (now-70min)
    moment = iso_utc(created - 75 * MINUTE_MS, zone_hours=2)
    applied = check_apply_rerun_undo(run_module, conn, admin, group, {(topic, 0): 3},
                                     strategy='to_datetime', datetime=moment)
    assert applied['reset_timestamp'].endswith('Z')


def test_reset_by_duration(kafka_cluster, admin, run_module, conn, timed_topic):
    topic, _created = timed_topic
    group = commit_as_group(kafka_cluster, unique('cg-time'), topic, {0: 1})
    # 45 minutes back: the first record that new is i=6 (now-40min); 5 minutes of margin for slow runs
    check_apply_rerun_undo(run_module, conn, admin, group, {(topic, 0): 6}, strategy='by_duration', duration='45m')


def test_reset_to_datetime_newer_than_every_record_goes_to_log_end(kafka_cluster, admin, run_module, conn,
                                                                   timed_topic):
    topic, _created = timed_topic
    group = commit_as_group(kafka_cluster, unique('cg-time'), topic, {0: 2})
    result = reset(run_module, conn, group, check=True, strategy='by_duration', duration='PT1M')
    assert not result['failed'], result.get('msg')
    assert [(p['target_offset'], p['clamped']) for p in result['plan']] == [(10, False)]


# ------------------------------------------------------------------- scope

def test_reset_topics_scope_commits_new_partitions_and_undo_removes_them(kafka_cluster, admin, run_module, conn):
    topic = create_topic(admin, unique('cg-scope'), 3, [5, 6, 7], cluster=kafka_cluster)
    other = create_topic(admin, unique('cg-other'), 1, [4], cluster=kafka_cluster)
    group = commit_as_group(kafka_cluster, unique('cg-scope'), topic, {0: 1, 1: 1, 2: 1})
    commit_as_group(kafka_cluster, group, other, {0: 2})
    # drop partition 2's commit so the scope holds a partition the group never committed
    admin.delete_group_offsets(group, [TopicPartition(topic, 2)])
    before = committed(admin, group)
    assert (topic, 2) not in before

    done = reset(run_module, conn, group, strategy='to_latest', topics=[topic])
    assert not done['failed'], done.get('msg')
    assert plan_targets(done) == {(topic, 0): 5, (topic, 1): 6, (topic, 2): 7}
    assert {(e['partition'], e['offset']) for e in done['previous_offsets']} == {(0, 1), (1, 1), (2, None)}
    after = committed(admin, group)
    assert after[(other, 0)] == 2, 'a topic outside the scope was touched'

    undo = reset(run_module, conn, group, offsets=done['previous_offsets'])
    assert not undo['failed'], undo.get('msg')
    assert committed(admin, group) == before


def test_reset_partitions_scope(kafka_cluster, admin, run_module, conn, trimmed_topic):
    group = strategy_group(kafka_cluster, trimmed_topic)
    done = reset(run_module, conn, group, strategy='to_offset', offset=4,
                 partitions=[dict(topic=trimmed_topic, partition=1)])
    assert not done['failed'], done.get('msg')
    assert committed(admin, group) == {(trimmed_topic, 0): 10, (trimmed_topic, 1): 4}


# -------------------------------------------------------------- refusals

def assert_refused(result, admin, group, before, *fragments):
    assert result['failed'], result
    for fragment in fragments:
        assert fragment in result['msg'], result['msg']
    assert committed(admin, group) == before, 'a refused reset changed offsets'


def test_reset_refuses_active_group_naming_the_member(kafka_cluster, admin, run_module, conn, trimmed_topic):
    group = strategy_group(kafka_cluster, trimmed_topic)
    before = committed(admin, group)
    with active_member(kafka_cluster, group, trimmed_topic, 2, 'still-running-app'):
        wait_for_state(admin, group, 'Stable')
        for check in (True, False):
            result = reset(run_module, conn, group, check=check, strategy='to_latest')
            assert_refused(result, admin, group, before, 'Stable', 'client_id=still-running-app', 'host=127.0.0.1')


@pytest.mark.parametrize('options, fragments', [
    (dict(strategy='to_latest', topics=['cg-no-such-topic']), ['unknown topic', 'cg-no-such-topic']),
    (dict(strategy='to_offset', offset=1, partitions=[dict(topic='TOPIC', partition=7)]),
     ['unknown partition', 'TOPIC-7', 'has 2 partitions']),
    (dict(strategy='to_datetime', datetime='2999-01-01T00:00:00Z'), ['in the future']),
    (dict(strategy='to_datetime', datetime='2026-01-01T00:00:00'), ['no time zone']),
    (dict(strategy='by_duration', duration='1 fortnight'), ['not understood']),
    (dict(strategy='to_latest', offset=5), ['offset given but strategy is to_latest']),
    (dict(strategy='to_offset'), ['missing', 'offset']),
    (dict(offsets=[dict(topic='TOPIC', partition=0)]), ['no offset key']),
], ids=['unknown-topic', 'unknown-partition', 'future-datetime', 'naive-datetime', 'bad-duration',
        'stray-option', 'missing-value', 'offsets-without-offset'])
def test_reset_refuses_bad_requests(kafka_cluster, admin, run_module, conn, trimmed_topic, options, fragments):
    group = strategy_group(kafka_cluster, trimmed_topic)
    before = committed(admin, group)
    options = dict(options)
    for key in ('partitions', 'offsets'):
        if key in options:
            options[key] = [dict(e, topic=trimmed_topic) for e in options[key]]
    fragments = [f.replace('TOPIC', trimmed_topic) for f in fragments]
    assert_refused(reset(run_module, conn, group, **options), admin, group, before, *fragments)


def test_reset_refuses_unknown_group(kafka_cluster, admin, run_module, conn):
    ghost = unique('cg-ghost')
    result = reset(run_module, conn, ghost, strategy='to_earliest')
    assert result['failed'] and ghost in result['msg'] and 'not found' in result['msg']
    assert group_state(admin, ghost) is None, 'the refused reset created the group'


# ------------------------------------------------- new consumer protocol

@pytest.fixture
def console_consumer(kafka_cluster, tmp_path):
    """Start kafka-console-consumer.sh with group.protocol=consumer (KIP-848) and stop it on teardown."""
    procs = []

    def start(group, topic, client_id):
        env = kafka_cluster.cli_env(heap='-Xmx128m -Xms16m')
        env['LOG_DIR'] = str(tmp_path)
        out = open(str(tmp_path / 'console-consumer.out'), 'w')
        proc = subprocess.Popen(
            [os.path.join(str(kafka_cluster.home), 'bin', 'kafka-console-consumer.sh'),
             '--bootstrap-server', kafka_cluster.bootstrap, '--topic', topic, '--group', group,
             '--from-beginning', '--consumer-property', 'group.protocol=consumer',
             '--consumer-property', 'client.id=%s' % client_id],
            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        out.close()
        procs.append(proc)
        return proc

    def stop(proc):
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)

    start.stop = stop
    yield start
    for proc in procs:
        stop(proc)


def test_new_protocol_group_is_reported_refused_while_active_and_reset_when_empty(
        kafka_cluster, admin, run_module, conn, console_consumer):
    topic = create_topic(admin, unique('cg-848'), 2, [6, 6], cluster=kafka_cluster)
    group = unique('cg-848')
    proc = console_consumer(group, topic, 'kip848-client')
    wait_for_state(admin, group, 'Stable', timeout=90)
    deadline = time.monotonic() + 60
    while committed(admin, group) != {(topic, 0): 6, (topic, 1): 6} and time.monotonic() < deadline:
        time.sleep(1)

    report = info(run_module, conn, group)
    assert report['type'] == 'consumer' and report['state'] == 'Stable'
    assert report['members_described'] is False and report['member_count'] is None
    assert '--describe --members --group %s' % group in report['warnings'][0]
    assert report['lag'] == 0 and len(report['partitions']) == 2

    before = committed(admin, group)
    refused = reset(run_module, conn, group, strategy='to_earliest')
    assert_refused(refused, admin, group, before, 'Stable', 'KIP-848', '--describe --members')

    console_consumer.stop(proc)
    wait_for_state(admin, group, 'Empty', timeout=90)
    expected = {(topic, 0): 0, (topic, 1): 0}
    check_apply_rerun_undo(run_module, conn, admin, group, expected, strategy='to_earliest')
