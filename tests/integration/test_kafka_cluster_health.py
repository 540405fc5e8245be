# -*- coding: utf-8 -*-
"""kraft.kafka.kafka_cluster_health: the rolling-restart health gate, against
a real three-node cluster with one node stopped and restarted."""

import time

import pytest

MODULE = 'kraft.kafka.kafka_cluster_health'
TOPIC = 'kraft-health-gate'


@pytest.fixture(scope='module')
def replicated_topic(kafka_cluster):
    """A topic with a replica on every node, so a stopped node under-replicates it."""
    kafka_cluster.cli('kafka-topics.sh', '--bootstrap-server', kafka_cluster.bootstrap, '--create',
                      '--if-not-exists', '--topic', TOPIC, '--partitions', '3',
                      '--replication-factor', '3')
    kafka_cluster.wait_until_serving()
    return TOPIC


def wait_for_module(run_module, args, until, timeout=90):
    """Re-run the (non-waiting) module until `until(result)`; return the last result."""
    deadline = time.monotonic() + timeout
    result = run_module(MODULE, args)
    while not until(result) and time.monotonic() < deadline:
        result = run_module(MODULE, args)
    return result


def test_healthy_cluster(kafka_cluster, run_module, connection_args, replicated_topic):
    # Topic creation settles within moments; poll rather than assume.
    result = wait_for_module(run_module, dict(connection_args, expected_brokers=[1, 2, 3]),
                             lambda r: r['healthy'])
    assert result['failed'] is False and result['changed'] is False
    assert result['healthy'] is True, result['reasons']
    assert result['reasons'] == []
    assert result['cluster_id'] == kafka_cluster.cluster_id
    assert [(b['id'], b['port'], b['fenced']) for b in result['brokers']] == [
        (n.id, n.broker_port, False) for n in kafka_cluster.nodes]
    assert result['under_replicated'] == [] and result['offline'] == []
    assert result['quorum']['voters'] == [1, 2, 3]
    assert result['quorum']['lagging_voters'] == []
    assert result['controller_id'] == result['quorum']['leader_id']
    cli = kafka_cluster.cli('kafka-metadata-quorum.sh', '--bootstrap-server', kafka_cluster.bootstrap,
                            'describe', '--status').stdout
    assert cli.split('LeaderId:')[1].split()[0] == str(result['controller_id'])


def test_unknown_expected_broker_is_reported(run_module, connection_args, replicated_topic):
    result = run_module(MODULE, dict(connection_args, expected_brokers=[1, 2, 3, 9]))
    assert result['failed'] is False
    assert result['healthy'] is False
    assert result['reasons'] == [
        'broker 9 is not registered with the controller (never started, or unregistered)']


def test_stop_node_reports_then_wait_until_healthy(kafka_cluster, run_module, connection_args,
                                                   replicated_topic):
    healthy = run_module(MODULE, connection_args)
    # Stop a node that is not the active controller: the test is about the
    # broker going away, not about a leader election.
    victim = next(n.id for n in kafka_cluster.nodes if n.id != healthy['controller_id'])
    live = dict(connection_args, bootstrap_servers=[n.bootstrap for n in kafka_cluster.nodes
                                                    if n.id != victim])
    gate = dict(live, expected_brokers=[1, 2, 3])
    try:
        kafka_cluster.stop_node(victim)

        result = wait_for_module(run_module, gate, lambda r: any(
            p['topic'] == TOPIC for p in r.get('under_replicated', [])) and any(
            'broker %d ' % victim in reason for reason in r['reasons']))
        assert result['failed'] is False  # wait=false reports, it does not fail
        assert result['healthy'] is False
        assert any('broker %d is registered but fenced' % victim in r for r in result['reasons'])
        assert dict((b['id'], b['fenced']) for b in result['brokers'])[victim] is True
        ours = [p for p in result['under_replicated'] if p['topic'] == TOPIC]
        assert sorted(p['partition'] for p in ours) == [0, 1, 2]
        for partition in ours:
            assert victim in partition['replicas'] and victim not in partition['isr']
            assert partition['leader'] != victim
        # One reason counts them all and names the first ten (other tests' topics, such as
        # __consumer_offsets, may come first in the listing).
        reason = [r for r in result['reasons'] if 'under-replicated partition(s)' in r]
        assert len(reason) == 1, result['reasons']
        assert reason[0].startswith('%d under-replicated partition(s): ' % len(result['under_replicated']))
        assert all('%s-%d (isr' % (p['topic'], p['partition']) in reason[0] for p in result['under_replicated'][:10])
        assert result['offline'] == []  # replication factor 3 keeps a leader

        ignoring = run_module(MODULE, dict(gate, ignore_topics=['kraft-health-*', '__*']))
        assert not any(p['topic'] == TOPIC or p['topic'].startswith('__')
                       for p in ignoring['under_replicated'])
        assert ignoring['healthy'] is False  # the fenced broker still counts

        gate_closed = run_module(MODULE, dict(gate, wait=True, wait_timeout=3))
        assert gate_closed['failed'] is True
        assert 'Kafka cluster not healthy after' in gate_closed['msg']
        assert 'broker %d' % victim in gate_closed['msg']
        assert gate_closed['attempts'] >= 2

        kafka_cluster.start_node(victim)
        reopened = run_module(MODULE, dict(gate, wait=True, wait_timeout=240))
        assert reopened['failed'] is False, reopened.get('msg')
        assert reopened['healthy'] is True and reopened['reasons'] == []
        assert reopened['attempts'] >= 2  # it waited for the restarted node
        assert reopened['under_replicated'] == []
        assert dict((b['id'], b['fenced']) for b in reopened['brokers'])[victim] is False
    finally:
        kafka_cluster.ensure_all_running()
