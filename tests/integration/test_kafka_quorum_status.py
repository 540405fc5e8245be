# -*- coding: utf-8 -*-
"""kraft.kafka.kafka_quorum_status against a real three-node KRaft cluster,
cross-checked with bin/kafka-metadata-quorum.sh on the same cluster."""

import re
import time

import pytest

MODULE = 'kraft.kafka.kafka_quorum_status'
# The metadata log grows by a no-op record every 500 ms, plus whatever the
# other tests change; the CLI starts a JVM after the module returned.
HIGH_WATERMARK_TOLERANCE = 200
ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA'


def parse_status(text):
    """`describe --status` lines 'Key:   value' -> dict of str."""
    status = {}
    for line in text.splitlines():
        key, sep, value = line.partition(':')
        if sep and re.match(r'^[A-Za-z]+$', key.strip()):
            status[key.strip()] = value.strip()
    return status


def parse_replication(text):
    """`describe --replication` table -> {node_id: row dict}."""
    lines = [l for l in text.splitlines() if l.strip()]
    header = lines[0].split()
    rows = {}
    for line in lines[1:]:
        row = dict(zip(header, line.split()))
        rows[int(row['NodeId'])] = row
    return rows


def quorum_cli(cluster, what):
    return cluster.cli('kafka-metadata-quorum.sh', '--bootstrap-server', cluster.bootstrap,
                       'describe', '--' + what).stdout


def stable_leader(run_module, connection_args, cluster, what):
    """Module result and CLI output taken under the same leader and epoch.

    A leader election between the two reads would make them incomparable;
    retry the pair in that (rare) case instead of comparing across epochs.
    """
    for _attempt in range(3):
        result = run_module(MODULE, connection_args)
        text = quorum_cli(cluster, what)
        after = run_module(MODULE, connection_args)
        if (result['leader_id'], result['leader_epoch']) == (after['leader_id'], after['leader_epoch']):
            return result, text, after
    pytest.fail('quorum leader kept changing: %s -> %s' % (result['leader_id'], after['leader_id']))


def test_status_matches_cli(kafka_cluster, run_module, connection_args):
    result, text, after = stable_leader(run_module, connection_args, kafka_cluster, 'status')
    status = parse_status(text)

    assert result['failed'] is False and result['changed'] is False
    assert result['cluster_id'] == status['ClusterId'] == kafka_cluster.cluster_id
    assert result['leader_id'] == int(status['LeaderId'])
    assert result['leader_epoch'] == int(status['LeaderEpoch'])
    cli_hw = int(status['HighWatermark'])
    assert result['high_watermark'] <= cli_hw <= after['high_watermark']
    assert cli_hw - result['high_watermark'] <= HIGH_WATERMARK_TOLERANCE
    cli_voters = sorted(int(v) for v in re.findall(r'"id":\s*(\d+)', status['CurrentVoters']))
    assert sorted(v['replica_id'] for v in result['voters']) == cli_voters == [1, 2, 3]
    assert result['observers'] == [] and status['CurrentObservers'] == '[]'
    for voter in result['voters']:
        port = kafka_cluster.node(voter['replica_id']).controller_port
        assert voter['endpoints'] == ['CONTROLLER://127.0.0.1:%d' % port]
        assert ('CONTROLLER://127.0.0.1:%d' % port) in status['CurrentVoters']
    assert result['healthy'] is True and result['reasons'] == []
    assert 0 <= result['max_follower_lag'] <= 10


def test_replication_matches_cli(kafka_cluster, run_module, connection_args):
    result, text, after = stable_leader(run_module, connection_args, kafka_cluster, 'replication')
    rows = parse_replication(text)

    voters = dict((v['replica_id'], v) for v in result['voters'])
    assert sorted(voters) == sorted(rows) == [1, 2, 3]
    for node_id, row in rows.items():
        voter = voters[node_id]
        assert voter['status'] == row['Status']
        assert voter['directory_id'] == (None if row['DirectoryId'] == ZERO_UUID else row['DirectoryId'])
        assert voter['log_end_offset'] <= int(row['LogEndOffset']) <= voters_after(after)[node_id]
        assert int(row['LogEndOffset']) - voter['log_end_offset'] <= HIGH_WATERMARK_TOLERANCE
        # The module and the CLI read the same leader state a few seconds
        # apart: timestamps only move forward.
        assert voter['last_fetch_timestamp'] <= int(row['LastFetchTimestamp'])
        assert voter['last_caught_up_timestamp'] <= int(row['LastCaughtUpTimestamp'])
        assert voter['lag'] >= 0 and voter['lag_time_ms'] >= 0
    leader = voters[result['leader_id']]
    assert leader['status'] == 'Leader' and leader['lag'] == 0


def voters_after(result):
    return dict((v['replica_id'], v['log_end_offset']) for v in result['voters'])


def test_check_mode_reports_without_change(run_module, connection_args):
    result = run_module(MODULE, connection_args, check=True)
    assert result['failed'] is False
    assert result['changed'] is False
    assert result['healthy'] is True
    assert result['leader_id'] in (1, 2, 3)


def test_expected_voters_mismatch_is_reported(run_module, connection_args):
    result = run_module(MODULE, dict(connection_args, expected_voters=[1, 2, 3, 4]))
    assert result['failed'] is False
    assert result['healthy'] is False
    assert any('expected voter(s) 4 are not in the quorum' in r for r in result['reasons'])

    result = run_module(MODULE, dict(connection_args, expected_voters=[1, 2]))
    assert result['healthy'] is False
    assert any('voter(s) 3 are not in expected_voters' in r for r in result['reasons'])

    result = run_module(MODULE, dict(connection_args, expected_voters=[3, 1, 2]))
    assert result['healthy'] is True


def test_wait_fails_with_reasons_at_timeout(run_module, connection_args):
    started = time.monotonic()
    result = run_module(MODULE, dict(connection_args, expected_voters=[1, 2, 3, 4], wait=True,
                                     wait_timeout=3))
    assert result['failed'] is True
    assert 'not healthy after' in result['msg']
    assert 'expected voter(s) 4' in result['msg']
    assert result['attempts'] >= 2  # it polled, not a single look
    assert result['elapsed'] >= 3
    assert time.monotonic() - started < 60


def test_invalid_max_lag(run_module, connection_args):
    result = run_module(MODULE, dict(connection_args, max_lag=-1))
    assert result['failed'] is True
    assert "max_lag: must be from 0 to 2147483647 (Kafka's 32-bit field), got -1." in result['msg']


def follower_of(result):
    return next(v['replica_id'] for v in result['voters'] if v['status'] == 'Follower')


def test_stopped_voter_lags_then_wait_until_caught_up(kafka_cluster, run_module, connection_args):
    before = run_module(MODULE, connection_args)
    victim = follower_of(before)
    args = dict(connection_args, bootstrap_servers=[n.bootstrap for n in kafka_cluster.nodes
                                                    if n.id != victim])
    try:
        kafka_cluster.stop_node(victim)
        # The stopped voter falls behind by the leader's no-op records within
        # seconds; poll until the module reports it.
        deadline = time.monotonic() + 90
        result = run_module(MODULE, args)
        while result['healthy'] and time.monotonic() < deadline:
            result = run_module(MODULE, args)
        assert result['healthy'] is False
        assert any(r.startswith('voter %d is ' % victim) for r in result['reasons']), result['reasons']
        lagging = dict((v['replica_id'], v) for v in result['voters'])[victim]
        assert lagging['lag'] > 10
        assert result['max_follower_lag'] >= lagging['lag']

        # While the voter is down, waiting polls and then fails with the reason.
        result = run_module(MODULE, dict(args, wait=True, wait_timeout=4))
        assert result['failed'] is True
        assert 'Metadata quorum not healthy after' in result['msg']
        assert 'voter %d is ' % victim in result['msg']
        assert result['attempts'] >= 2 and result['elapsed'] >= 4

        # A restarted voter catches up within seconds (often before the module
        # first looks, so the number of attempts is not asserted here).
        kafka_cluster.start_node(victim)
        result = run_module(MODULE, dict(args, wait=True, wait_timeout=240, expected_voters=[1, 2, 3]))
        assert result['failed'] is False, result.get('msg')
        assert result['healthy'] is True and result['reasons'] == []
        assert dict((v['replica_id'], v) for v in result['voters'])[victim]['lag'] <= 10
    finally:
        kafka_cluster.ensure_all_running()
