# -*- coding: utf-8 -*-
"""playbooks/rebalance.yml (kraft.kafka.kafka_partition_rebalance) after a real scale-out.

Its own local cluster: three combined broker+controller nodes, and a fourth, broker-only node that
is formatted with the same cluster id but started only after topics (and __consumer_offsets) were
created and filled, so it holds nothing, exactly like a broker added by site.yml. The playbook
must move a balanced share onto it, keep every record, report changed=0 the second time, empty it
again with kafka_rebalance_brokers=[1, 2, 3], and refuse while a broker is down.
"""

import collections
import time
import uuid

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.structs import OffsetAndMetadata

from kafka_local_cluster import KafkaLocalCluster
from playbook_runner import cluster_inventory, run_playbook

PLAYBOOK = 'rebalance.yml'
VOTERS = (1, 2, 3)
NEW_BROKER = 4
TOPICS = {'so-orders': (12, 3), 'so-events': (4, 2)}
RECORDS = 300


class ScaleOutCluster(KafkaLocalCluster):
    """Nodes 1-3 combined broker+controller (the static quorum), node 4 broker only, started later."""

    def __init__(self, base_dir):
        KafkaLocalCluster.__init__(self, base_dir, node_count=4)

    @property
    def quorum_voters(self):
        return ','.join('%d@%s' % (n.id, n.controller_address) for n in self.nodes if n.id in VOTERS)

    @property
    def controller_bootstrap(self):
        return ','.join(n.controller_address for n in self.nodes if n.id in VOTERS)

    def _server_properties(self, node):
        text = KafkaLocalCluster._server_properties(self, node)
        if node.id in VOTERS:
            return text
        broker_only = {
            'process.roles': 'broker',
            'listeners': 'PLAINTEXT://127.0.0.1:%d' % node.broker_port,
            'advertised.listeners': 'PLAINTEXT://127.0.0.1:%d' % node.broker_port,
        }
        lines = []
        for line in text.splitlines():
            key = line.split('=', 1)[0]
            lines.append('%s=%s' % (key, broker_only[key]) if key in broker_only else line)
        return '\n'.join(lines) + '\n'

    def _first_started(self):
        # The spare brokers are formatted but join later, as a scale-out does.
        return list(VOTERS)


@pytest.fixture(scope='module')
def scale_out(tmp_path_factory):
    cluster = ScaleOutCluster(tmp_path_factory.mktemp('scale-out'))
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


def admin_client(cluster):
    return KafkaAdminClient(bootstrap_servers=[n.bootstrap for n in cluster.nodes if n.running],
                            request_timeout_ms=15000)


def placement(cluster):
    """{(topic, partition): state} of every partition, internal topics included."""
    admin = admin_client(cluster)
    try:
        found = {}
        for topic in admin.describe_topics():
            for p in topic['partitions']:
                found[(topic['name'], p['partition_index'])] = dict(
                    replicas=list(p['replica_nodes']), isr=sorted(p['isr_nodes']), leader=p['leader_id'])
        return found
    finally:
        admin.close()


def replicas_per_broker(states, topic=None):
    counts = collections.Counter()
    for (name, _p), state in states.items():
        if topic is None or name == topic:
            counts.update(state['replicas'])
    return counts


def read_all(cluster, topic, partitions):
    consumer = KafkaConsumer(bootstrap_servers=[n.bootstrap for n in cluster.nodes if n.running],
                             enable_auto_commit=False, auto_offset_reset='earliest', consumer_timeout_ms=10000)
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        ends = consumer.end_offsets(tps)
        values = []
        deadline = time.monotonic() + 120
        while any(consumer.position(tp) < ends[tp] for tp in tps) and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=1000).values():
                values.extend(r.value for r in records)
        return sorted(values), sum(ends.values())
    finally:
        consumer.close()


@pytest.fixture(scope='module')
def filled(scale_out):
    """Topics with records and __consumer_offsets, all on brokers 1-3, then broker 4 started."""
    suffix = uuid.uuid4().hex[:6]
    admin = admin_client(scale_out)
    try:
        admin.create_topics([NewTopic(name, p, rf) for name, (p, rf) in TOPICS.items()])
    finally:
        admin.close()
    producer = KafkaProducer(bootstrap_servers=scale_out.bootstrap_servers[:3], acks='all',
                             enable_idempotence=True)
    expected = {}
    for name in TOPICS:
        expected[name] = sorted(('%s-%d-%s' % (name, i, suffix)).encode() for i in range(RECORDS))
        for value in expected[name]:
            producer.send(name, value, key=value)
    producer.flush(timeout=120)
    producer.close()
    # A group commit creates __consumer_offsets (10 partitions x RF 3 here) on brokers 1-3.
    consumer = KafkaConsumer(bootstrap_servers=scale_out.bootstrap_servers[:3], group_id='so-group',
                             enable_auto_commit=False)
    consumer.assign([TopicPartition('so-orders', 0)])
    consumer.commit({TopicPartition('so-orders', 0): OffsetAndMetadata(1, '', -1)})
    consumer.close(autocommit=False)
    assert replicas_per_broker(placement(scale_out))[NEW_BROKER] == 0
    scale_out.start_node(NEW_BROKER)
    scale_out.wait_until_serving()
    return expected


def run_vars(cluster, **extra):
    variables = {'kafka_rebalance_hosts': 'localhost', 'kafka_bootstrap_servers': cluster.bootstrap_servers}
    variables.update(extra)
    return variables


def assert_in_sync(states):
    for key, state in states.items():
        assert sorted(state['replicas']) == state['isr'], (key, state)


def assert_spread(counts, brokers):
    values = [counts[b] for b in brokers]
    assert max(values) - min(values) <= 1, counts


def test_rebalance_moves_a_share_onto_the_new_broker(tmp_path, scale_out, filled):
    before = placement(scale_out)
    assert replicas_per_broker(before)[NEW_BROKER] == 0
    total = sum(len(s['replicas']) for s in before.values())

    planned = run_playbook(tmp_path, PLAYBOOK, run_vars(scale_out), check=True, diff=True)
    assert planned.rc == 0, planned.log()
    assert planned.changed == 1
    plan = planned.result('Move replicas to a balanced placement')
    assert plan['summary']['replicas_moved'] >= total // 4
    assert placement(scale_out) == before, 'check mode moved replicas'

    applied = run_playbook(tmp_path, PLAYBOOK, run_vars(scale_out))
    assert applied.rc == 0, applied.log()
    assert applied.changed == 1
    result = applied.result('Move replicas to a balanced placement')
    after = placement(scale_out)
    counts = replicas_per_broker(after)
    brokers = [1, 2, 3, 4]
    assert_spread(counts, brokers)
    assert counts[NEW_BROKER] in (total // 4, -(-total // 4))
    # Fewest moves: every moved replica went to broker 4, the only broker below its share.
    assert result['summary']['replicas_moved'] == counts[NEW_BROKER]
    for name in list(TOPICS) + ['__consumer_offsets']:
        assert_spread(replicas_per_broker(after, name), brokers)
    for key, state in after.items():
        assert len(state['replicas']) == len(before[key]['replicas']), key  # replication factor kept
    assert_in_sync(after)
    leaders = collections.Counter(s['leader'] for s in after.values())
    assert leaders[NEW_BROKER] >= 1, leaders
    for name, (partitions, _rf) in TOPICS.items():
        values, end = read_all(scale_out, name, partitions)
        assert values == filled[name] and end == RECORDS, name

    again = run_playbook(tmp_path, PLAYBOOK, run_vars(scale_out))
    assert again.rc == 0, again.log()
    assert again.changed == 0, again.log()
    assert again.result('Move replicas to a balanced placement')['plan'] == []


def test_rebalance_empties_a_broker_before_removal_and_refills_it(tmp_path, scale_out, filled):
    emptied = run_playbook(tmp_path, PLAYBOOK, run_vars(scale_out, kafka_rebalance_brokers=[1, 2, 3]))
    assert emptied.rc == 0, emptied.log()
    states = placement(scale_out)
    assert replicas_per_broker(states)[NEW_BROKER] == 0
    assert_spread(replicas_per_broker(states), [1, 2, 3])
    assert_in_sync(states)
    refilled = run_playbook(tmp_path, PLAYBOOK, run_vars(scale_out))
    assert refilled.rc == 0 and refilled.changed == 1, refilled.log()
    assert replicas_per_broker(placement(scale_out))[NEW_BROKER] > 0
    for name, (partitions, _rf) in TOPICS.items():
        assert read_all(scale_out, name, partitions)[0] == filled[name], name


def test_rebalance_from_the_inventory(tmp_path, scale_out, filled):
    """The interface of a site.yml deployment: -i inventory with the kafka group, nothing else."""
    inventory = cluster_inventory(tmp_path, scale_out.nodes)
    text = inventory.read_text().replace(
        '"kafka4": {"kafka_node_id": 4, "kafka_broker_port": %d, "kafka_controller_port": %d}'
        % (scale_out.node(4).broker_port, scale_out.node(4).controller_port),
        '"kafka4": {"kafka_node_id": 4, "kafka_broker_port": %d, "kafka_process_roles": ["broker"]}'
        % scale_out.node(4).broker_port)
    assert '"kafka_process_roles"' in text
    inventory.write_text(text)
    run = run_playbook(tmp_path, PLAYBOOK, inventory=inventory)
    assert run.rc == 0, run.log()
    assert run.changed == 0, run.log()  # balanced by the tests above
    chosen = run.result('Choose the bootstrap servers')
    assert chosen['ansible_facts']['rebalance_bootstrap_servers'] == scale_out.bootstrap_servers


def test_rebalance_refuses_while_a_broker_is_down(tmp_path, scale_out, filled):
    before = placement(scale_out)
    scale_out.stop_node(NEW_BROKER)
    try:
        # The controller shrinks the ISRs once the broker is gone; wait to see it.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and all(
                sorted(s['replicas']) == s['isr'] for s in placement(scale_out).values()):
            time.sleep(0.5)
        run = run_playbook(tmp_path, PLAYBOOK, run_vars(scale_out, kafka_rebalance_brokers=[1, 2, 3]))
        assert run.rc != 0
        message = run.result('Move replicas to a balanced placement')['msg']
        assert 'under-replicated' in message or 'offline' in message, message
        assert dict((k, s['replicas']) for k, s in placement(scale_out).items()) == \
            dict((k, s['replicas']) for k, s in before.items()), 'a refused rebalance moved replicas'
    finally:
        scale_out.start_node(NEW_BROKER)
        scale_out.wait_until_serving()
