# -*- coding: utf-8 -*-
"""kraft.kafka.kafka_cluster_info against the real local three-node KRaft cluster.

What the module reports is compared with what kafka-python's admin client and
the Kafka CLI (kafka-consumer-groups.sh) read from the same cluster.
"""

import time
import uuid

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.structs import OffsetAndMetadata
from polling import wait_until

MODULE = 'kraft.kafka.kafka_cluster_info'
PARTITIONS = 6
RECORDS_PER_PARTITION = 10
COMMITTED = {0: 3, 1: 10, 2: 0}  # partition -> committed offset; lag 7 + 0 + 10 = 17


def restore_preferred_leaders(kafka_cluster, timeout=120):
    """Preferred leader election with a new client, retried while the cluster settles.

    Not the module-wide client: after a broker restart it may still hold the
    stopped broker as the controller and fail with UnknownBrokerIdError.
    """
    deadline = time.monotonic() + timeout
    while True:
        client = KafkaAdminClient(bootstrap_servers=kafka_cluster.bootstrap_servers,
                                  client_id='cluster-info-tests-cleanup', request_timeout_ms=10000)
        try:
            client.elect_leaders(0, None, raise_errors=False)
            return
        except Exception:  # pylint: disable=broad-except
            if time.monotonic() > deadline:
                raise
            time.sleep(1)
        finally:
            client.close()


@pytest.fixture(scope='module')
def admin(kafka_cluster):
    client = KafkaAdminClient(bootstrap_servers=kafka_cluster.bootstrap_servers, client_id='cluster-info-tests',
                              request_timeout_ms=15000)
    yield client
    client.close()


@pytest.fixture(scope='module')
def workload(kafka_cluster, admin):
    """A topic with a config override and records, and an Empty group with known lag."""
    suffix = uuid.uuid4().hex[:8]
    topic, group = 'ci-orders-%s' % suffix, 'ci-billing-%s' % suffix
    admin.create_topics([NewTopic(topic, PARTITIONS, 3, topic_configs={'retention.ms': '3600000'})])
    wait_for(lambda: all_led(admin, topic), 'leaders for %s' % topic)
    produce(kafka_cluster, topic)
    commit(kafka_cluster, group, topic)
    return dict(topic=topic, group=group)


def wait_for(predicate, what, timeout=90):
    # Metadata reaches the brokers one by one: a failed check is "not yet".
    wait_until(predicate, timeout, what)


def all_led(admin, topic):
    described = admin.describe_topics([topic])[0]
    return described['error_code'] == 0 and all(p['leader_id'] >= 0 for p in described['partitions'])


def produce(cluster, topic):
    producer = KafkaProducer(bootstrap_servers=cluster.bootstrap_servers, acks='all')
    try:
        for partition in range(PARTITIONS):
            for index in range(RECORDS_PER_PARTITION):
                producer.send(topic, b'r%d' % index, partition=partition)
        producer.flush(timeout=60)
    finally:
        producer.close()


def commit(cluster, group, topic):
    consumer = KafkaConsumer(bootstrap_servers=cluster.bootstrap_servers, group_id=group, enable_auto_commit=False)
    try:
        consumer.assign([TopicPartition(topic, p) for p in COMMITTED])
        consumer.commit(dict((TopicPartition(topic, p), OffsetAndMetadata(o, '', -1)) for p, o in COMMITTED.items()))
    finally:
        consumer.close(autocommit=False)


def cluster_partitions(admin):
    """{(topic, partition): (leader, replicas, isr)} of every topic, read with kafka-python."""
    found = {}
    for topic in admin.describe_topics():
        for p in topic['partitions']:
            found[(topic['name'], p['partition_index'])] = (p['leader_id'], p['replica_nodes'], p['isr_nodes'])
    return found


def cli_group_lag(cluster, group):
    """Sum of the LAG column of kafka-consumer-groups.sh --describe."""
    out = cluster.cli('kafka-consumer-groups.sh', '--bootstrap-server', cluster.bootstrap, '--describe',
                      '--group', group).stdout
    lines = [line.split() for line in out.splitlines() if line.strip()]
    header = next(line for line in lines if 'LAG' in line)
    column = header.index('LAG')
    return sum(int(line[column]) for line in lines[lines.index(header) + 1:] if line[column].isdigit())


def run_info(run_module, cluster, check=False, **options):
    args = dict(bootstrap_servers=cluster.bootstrap_servers)
    args.update(options)
    result = run_module(MODULE, args, check=check)
    assert not result['failed'], result.get('msg')
    assert result['changed'] is False
    return result


# ------------------------------------------------------------------- tests

def test_reports_what_the_cluster_has(run_module, kafka_cluster, admin, workload):
    result = run_info(run_module, kafka_cluster, check=True, include_groups=True, include_topic_config=True)
    actual = cluster_partitions(admin)

    assert result['cluster_id'] == kafka_cluster.cluster_id
    assert result['controller_id'] == admin.describe_metadata_quorum()['topics'][0]['partitions'][0]['leader_id']
    assert [(b['id'], b['port'], b['fenced']) for b in result['brokers']] == [
        (n.id, n.broker_port, False) for n in kafka_cluster.nodes]
    assert [v['id'] for v in result['quorum']['voters']] == [1, 2, 3]
    assert result['features']['metadata.version'] >= 22  # a Kafka 4.x level

    topic = next(t for t in result['topics'] if t['name'] == workload['topic'])
    assert (topic['partition_count'], topic['replication_factor'], topic['internal']) == (PARTITIONS, 3, False)
    assert topic['config'] == {'retention.ms': '3600000'}
    for p in topic['partitions']:
        assert actual[(workload['topic'], p['partition'])] == (p['leader'], p['replicas'], p['isr'])

    reported = set((t['name'], p['partition']) for t in result['topics'] for p in t['partitions'])
    assert reported == set(actual)
    for b in result['brokers']:
        assert b['leaders'] == len([1 for leader, _r, _i in actual.values() if leader == b['id']])
        assert b['replicas'] == len([1 for _l, replicas, _i in actual.values() if b['id'] in replicas])
        assert b['preferred_leaders'] == len([1 for _l, replicas, _i in actual.values() if replicas[0] == b['id']])
    assert result['summary']['partitions'] == len(actual)
    assert result['skew']['not_preferred'] == len([1 for leader, r, _i in actual.values() if leader != r[0]])


def test_group_lag_matches_kafka_consumer_groups(run_module, kafka_cluster, workload):
    result = run_info(run_module, kafka_cluster, include_groups=True, include_partitions=False)
    group = next(g for g in result['groups'] if g['group_id'] == workload['group'])
    expected = sum(RECORDS_PER_PARTITION - offset for offset in COMMITTED.values())
    assert (group['lag'], group['partitions'], group['topics'], group['state']) == (
        expected, len(COMMITTED), [workload['topic']], 'Empty')
    assert group['lag'] == cli_group_lag(kafka_cluster, workload['group'])
    assert result['summary']['total_lag'] >= expected
    assert all('partitions' not in t for t in result['topics'])


def test_topic_patterns_and_internal_topics(run_module, kafka_cluster, workload):
    pattern = 'ci-orders-*'
    result = run_info(run_module, kafka_cluster, topics=[pattern], include_internal=False)
    names = [t['name'] for t in result['topics']]
    assert workload['topic'] in names and all(n.startswith('ci-orders-') for n in names)
    assert result['skew']['partitions'] == PARTITIONS * len(names)
    assert 'groups' not in result

    with_internal = run_info(run_module, kafka_cluster, topics=['__consumer_offsets', workload['topic']])
    assert [t['name'] for t in with_internal['topics']] == ['__consumer_offsets', workload['topic']]
    assert with_internal['topics'][0]['internal'] is True
    without = run_info(run_module, kafka_cluster, topics=['__consumer_offsets'], include_internal=False)
    assert without['topics'] == []


def test_stopped_broker_shows_as_fenced_with_under_replicated_partitions(
        run_module, kafka_cluster, admin, workload):
    topic = workload['topic']
    kafka_cluster.stop_node(3)
    try:
        wait_for(lambda: all(3 not in isr for (t, _p), (_l, _r, isr) in cluster_partitions(admin).items()
                             if t == topic), 'broker 3 to leave the ISR of %s' % topic)
        result = run_info(run_module, kafka_cluster, topics=[topic])
    finally:
        kafka_cluster.start_node(3)
        kafka_cluster.wait_until_serving()
    broker3 = next(b for b in result['brokers'] if b['id'] == 3)
    assert broker3['fenced'] is True and broker3['leaders'] == 0
    assert result['summary']['fenced_brokers'] == 1
    assert sorted(p['partition'] for p in result['under_replicated']) == list(range(PARTITIONS))
    assert all(3 not in p['isr'] and 3 in p['replicas'] for p in result['under_replicated'])
    assert result['offline'] == []
    assert result['topics'][0]['under_replicated'] == PARTITIONS
    wait_for(lambda: all(len(isr) == 3 for (t, _p), (_l, _r, isr) in cluster_partitions(admin).items()
                         if t == topic), 'broker 3 to rejoin the ISR of %s' % topic)
    # Leave leadership as it was for the tests that run after this one.
    restore_preferred_leaders(kafka_cluster)


def test_unreachable_cluster_fails_with_a_clear_message(run_module):
    result = run_module(MODULE, {'bootstrap_servers': ['127.0.0.1:1']})
    assert result['failed'] is True
    assert 'Cannot reach any bootstrap server' in result['msg']
