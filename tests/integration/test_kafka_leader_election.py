# -*- coding: utf-8 -*-
"""kraft.kafka.kafka_leader_election and playbooks/leader_rebalance.yml against a real KRaft cluster.

These tests run on a cluster of their own with auto.leader.rebalance.enable=false: with Kafka's
default the controller moves leaders back by itself every few minutes, which would race the
module. Leadership is always read back with kafka-python, never through the module.
"""

import json
import os
import subprocess
import sys
import uuid

import pytest
from kafka import KafkaAdminClient, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, NewTopic, OffsetSpec

from kafka_local_cluster import REPO_ROOT, KafkaLocalCluster, ansible_env, write_inventory
from polling import wait_until

MODULE = 'kraft.kafka.kafka_leader_election'


class ManualRebalanceCluster(KafkaLocalCluster):
    """The fixture's cluster, but leaders only move when someone elects them."""

    def _server_properties(self, node):
        return KafkaLocalCluster._server_properties(self, node) + 'auto.leader.rebalance.enable=false\n'


@pytest.fixture(scope='module')
def cluster(tmp_path_factory):
    local = ManualRebalanceCluster(tmp_path_factory.mktemp('leader-election-cluster'))
    try:
        local.start()
        yield local
    finally:
        local.stop()


@pytest.fixture
def admin(cluster):
    """A client per test: kafka-python keeps a broker list without the brokers that were down when it
    last refreshed metadata, and the tests stop and start brokers."""
    client = new_admin(cluster)
    yield client
    client.close()


def new_admin(cluster):
    return KafkaAdminClient(bootstrap_servers=cluster.bootstrap_servers, client_id='leader-election-tests',
                            request_timeout_ms=15000)


@pytest.fixture
def elect(run_module, cluster):
    def _run(check=False, **options):
        args = {'bootstrap_servers': cluster.bootstrap_servers}
        args.update(options)
        return run_module(MODULE, args, check=check)
    return _run


# ------------------------------------------------------------------ helpers

def wait_for(predicate, what, timeout=120):
    # A broker that has not yet seen a new topic answers UNKNOWN_TOPIC (the
    # predicates assert error_code 0): that is "not yet", not a failure.
    wait_until(predicate, timeout, what)


def settled(predicate, what):
    """Wait briefly for a change the controller committed to reach the broker kafka-python asks."""
    wait_for(predicate, what, timeout=15)


def partitions(admin, topics):
    """{(topic, partition): {'leader', 'replicas', 'isr'}} read with kafka-python."""
    found = {}
    for topic in admin.describe_topics(topics):
        assert topic['error_code'] == 0, topic
        for p in topic['partitions']:
            found[(topic['name'], p['partition_index'])] = dict(leader=p['leader_id'], replicas=p['replica_nodes'],
                                                                isr=p['isr_nodes'])
    return found


def not_preferred(admin, topics):
    return sorted(k for k, p in partitions(admin, topics).items() if p['leader'] != p['replicas'][0])


def leaders_of(admin, topics, broker_id):
    return len([1 for p in partitions(admin, topics).values() if p['leader'] == broker_id])


def fully_in_sync(admin, topics):
    return all(len(p['isr']) == len(p['replicas']) for p in partitions(admin, topics).values())


def create_topics(admin, specs):
    """specs: {name: partitions}, RF 3; returns the names once every partition has a leader."""
    admin.create_topics([NewTopic(name, count, 3) for name, count in specs.items()])
    names = sorted(specs)
    wait_for(lambda: all_led(admin, names), 'leaders of %s' % names)
    return names


def all_led(admin, topics):
    """Whether every partition has a leader, on the broker asked (metadata spreads asynchronously)."""
    described = admin.describe_topics(topics)
    return all(t['error_code'] == 0 and all(p['leader_id'] >= 0 for p in t['partitions']) for t in described)


def restart(cluster, admin, node_id, topics):
    """Stop and start a node (leadership moves away from it) and wait until it is back in every ISR."""
    cluster.stop_node(node_id)
    cluster.start_node(node_id)
    cluster.wait_until_serving()
    wait_for(lambda: fully_in_sync(admin, topics), 'node %d to rejoin the ISR of %s' % (node_id, topics))


def restore_preferred_leaders(cluster, admin, topics):
    """Test cleanup with kafka-python (not the module): a fresh client, retried while metadata settles."""
    def attempt():
        client = new_admin(cluster)
        try:
            client.elect_leaders(0, topics, raise_errors=False)
        except Exception:  # pylint: disable=broad-except
            pass
        finally:
            client.close()
        return not_preferred(admin, topics) == []
    wait_for(attempt, 'preferred leaders of %s' % topics)


def unique(prefix):
    return '%s-%s' % (prefix, uuid.uuid4().hex[:6])


def broker_row(rows, broker_id):
    return next(r for r in rows if r['id'] == broker_id)


# ------------------------------------------------------------------- tests

def test_preferred_election_moves_leaders_back_after_a_restart(elect, cluster, admin):
    topics = create_topics(admin, {unique('le-orders'): 6, unique('le-events'): 4})
    assert not_preferred(admin, topics) == []
    preferred_on_1 = len([1 for p in partitions(admin, topics).values() if p['replicas'][0] == 1])
    assert preferred_on_1 > 0

    restart(cluster, admin, 1, topics)
    skewed = not_preferred(admin, topics)
    assert leaders_of(admin, topics, 1) == 0 and len(skewed) == preferred_on_1

    below = elect(topics=topics, only_if_skew_above=0.99)
    assert not below['failed'], below.get('msg')
    assert (below['changed'], below['elected'], below['threshold_met']) == (False, False, False)
    assert below['skew']['not_preferred'] == len(skewed)
    assert not_preferred(admin, topics) == skewed

    plan = elect(topics=topics, check=True)
    assert not plan['failed'], plan.get('msg')
    assert (plan['changed'], plan['elected']) == (True, False)
    assert sorted((e['topic'], e['partition']) for e in plan['elections']) == skewed
    assert all(e['new_leader'] == 1 for e in plan['elections'])
    assert plan['skew']['ratio'] == round(len(skewed) / 10.0, 4)
    assert broker_row(plan['before'], 1)['leaders'] == 0
    assert broker_row(plan['after'], 1)['leaders'] == preferred_on_1
    assert plan['skew_after']['not_preferred'] == 0
    assert not_preferred(admin, topics) == skewed  # check mode elected nothing

    applied = elect(topics=topics, only_if_skew_above=0.05)
    assert not applied['failed'], applied.get('msg')
    assert (applied['changed'], applied['elected'], applied['refused']) == (True, True, [])
    settled(lambda: not_preferred(admin, topics) == [], 'leaders on the preferred replicas')
    assert leaders_of(admin, topics, 1) == preferred_on_1
    assert broker_row(applied['after'], 1)['leaders'] == preferred_on_1
    assert applied['skew_after']['not_preferred'] == 0

    again = elect(topics=topics)
    assert not again['failed'], again.get('msg')
    assert (again['changed'], again['elected'], again['elections']) == (False, False, [])


def test_partitions_whose_preferred_replica_is_down_are_skipped(elect, cluster, admin):
    topics = create_topics(admin, {unique('le-skip'): 6})
    cluster.stop_node(2)
    try:
        wait_for(lambda: leaders_of(admin, topics, 2) == 0, 'leaders to leave broker 2')
        orphaned = not_preferred(admin, topics)
        assert orphaned
        result = elect(partitions=[{'topic': t, 'partition': p} for t, p in orphaned])
    finally:
        cluster.start_node(2)
        cluster.wait_until_serving()
    assert not result['failed'], result.get('msg')
    assert (result['changed'], result['elections']) == (False, [])
    assert sorted((s['topic'], s['partition']) for s in result['not_electable']) == orphaned
    assert all(s['preferred'] == 2 and 'fenced' in s['reason'] for s in result['not_electable'])
    assert broker_row(result['before'], 2)['fenced'] is True
    wait_for(lambda: fully_in_sync(admin, topics), 'broker 2 to rejoin the ISR')
    restore_preferred_leaders(cluster, admin, topics)


def test_unknown_topics_and_partitions_fail(elect, admin):
    topics = create_topics(admin, {unique('le-known'): 2})
    missing = elect(topics=topics + ['le-does-not-exist'])
    assert missing['failed'] and 'le-does-not-exist' in missing['msg']
    bad_partition = elect(partitions=[{'topic': topics[0], 'partition': 7}])
    assert bad_partition['failed'] and '%s-7' % topics[0] in bad_partition['msg']


def test_unclean_election_needs_explicit_consent(elect):
    result = elect(election_type='unclean')
    assert result['failed'] and 'allow_unclean' in result['msg'] and 'lost' in result['msg']


def throttle_replication(admin, topic):
    """Let replicas of topic fetch 1 byte/s from leader 2, so a restarted follower stays out of sync."""
    admin.alter_configs(config_resources=[
        ConfigResource('BROKER', '2', configs={'leader.replication.throttled.rate': '1'}),
        ConfigResource('TOPIC', topic, configs={'leader.replication.throttled.replicas': '*'})],
        raise_on_unknown=False, incremental=True)


def unthrottle(cluster):
    client = new_admin(cluster)
    try:
        client.alter_configs(config_resources=[
            ConfigResource('BROKER', '2', configs={'leader.replication.throttled.rate': ('DELETE', None)})],
            raise_on_unknown=False, incremental=True)
    finally:
        client.close()


def log_end(admin, topic):
    return admin.list_partition_offsets({TopicPartition(topic, 0): OffsetSpec.LATEST})[TopicPartition(topic, 0)].offset


def test_unclean_election_elects_an_out_of_sync_replica_and_loses_its_records(elect, cluster, admin):
    """Partition [3, 2]: 3 misses records while down, 2 (the only in-sync replica) then stops."""
    topic = unique('le-unclean')
    admin.create_topics([NewTopic(topic, replica_assignments={0: [3, 2]},
                                  topic_configs={'min.insync.replicas': '1'})])
    wait_for(lambda: all_led(admin, [topic]) and partitions(admin, [topic])[(topic, 0)]['leader'] == 3,
             'leader 3 of %s' % topic)
    throttle_replication(admin, topic)
    try:
        cluster.stop_node(3)
        wait_for(lambda: partitions(admin, [topic])[(topic, 0)]['isr'] == [2], 'ISR [2]')
        producer = KafkaProducer(bootstrap_servers=[n.bootstrap for n in cluster.nodes if n.running], acks=1)
        for index in range(20):
            producer.send(topic, b'x' * 1000, partition=0)
        producer.flush(timeout=60)
        producer.close()
        assert log_end(admin, topic) == 20
        cluster.start_node(3)
        cluster.wait_until_serving()
        cluster.stop_node(2)  # nodes 1 and 3 keep the controller quorum
        wait_for(lambda: partitions(admin, [topic])[(topic, 0)]['leader'] == -1, 'partition offline')

        plan = elect(topics=[topic], election_type='unclean', allow_unclean=True, check=True)
        assert not plan['failed'], plan.get('msg')
        assert plan['changed'] is True and plan['skew']['offline'] == 1
        assert plan['elections'] == [{'topic': topic, 'partition': 0, 'leader': None, 'new_leader': 3}]
        assert partitions(admin, [topic])[(topic, 0)]['leader'] == -1

        result = elect(topics=[topic], election_type='unclean', allow_unclean=True)
        assert not result['failed'], result.get('msg')
        assert (result['changed'], result['elected']) == (True, True)
        assert result['skew_after']['offline'] == 0
        settled(lambda: partitions(admin, [topic])[(topic, 0)]['leader'] == 3, 'leader 3')
        assert log_end(admin, topic) == 0  # the 20 records only broker 2 had are gone
    finally:
        cluster.ensure_all_running()
        unthrottle(cluster)


# ---------------------------------------------------------------- playbook

def run_playbook(tmp_path, extra_vars, check=False):
    env = ansible_env(tmp_path)
    env['ANSIBLE_STDOUT_CALLBACK'] = 'ansible.posix.json'
    command = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i',
               str(write_inventory(tmp_path)), str(REPO_ROOT / 'playbooks' / 'leader_rebalance.yml'),
               '-e', json.dumps(extra_vars)] + (['--check'] if check else [])
    proc = subprocess.run(command, cwd=str(REPO_ROOT), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    output = json.loads(proc.stdout[proc.stdout.index('{'):])
    tasks = dict((t['task']['name'], t['hosts']['localhost']) for t in output['plays'][0]['tasks'])
    return tasks['Elect the preferred leaders where they are in sync']


def test_leader_rebalance_playbook_is_idempotent(tmp_path, cluster, admin):
    topics = create_topics(admin, {unique('le-play'): 6})
    restart(cluster, admin, 3, topics)
    skewed = not_preferred(admin, topics)
    assert skewed
    extra = {'kafka_rebalance_hosts': 'localhost', 'kafka_bootstrap_servers': cluster.bootstrap_servers}

    planned = run_playbook(tmp_path, extra, check=True)
    assert planned['changed'] is True and planned['elected'] is False
    assert not_preferred(admin, topics) == skewed

    first = run_playbook(tmp_path, extra)
    assert first['changed'] is True and first['skew_after']['not_preferred'] == 0
    settled(lambda: not_preferred(admin, topics) == [], 'leaders on the preferred replicas')
    second = run_playbook(tmp_path, extra)
    assert second['changed'] is False and second['elections'] == []
