# -*- coding: utf-8 -*-
"""Issue #12 against the local cluster: every class of bad input is refused
with a clear message, in check mode and in normal mode, before anything
reaches the cluster; after each refusal the cluster is unchanged (topics,
partition counts and replicas, leaders, topic configs, committed offsets,
SCRAM users). ACLs are not part of the snapshot: this cluster has no
authorizer (tests/integration/secure covers kafka_acl).

Also: a request kafka-python cannot encode is abandoned within
request_timeout plus the margin (the bound of every cluster call), and
SCRAM credentials on a cluster without a SASL listener warn.
"""

import sys
import time
import uuid

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.admin import ConfigResource, NewTopic
from kafka.structs import OffsetAndMetadata

from kafka_local_cluster import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / '.cache' / 'collections'))
from ansible_collections.kraft.kafka.plugins.module_utils import kafka_client as kc  # noqa: E402
from ansible_collections.kraft.kafka.plugins.module_utils import kafka_validation as kv  # noqa: E402

REFUSED = 'Nothing was changed: '


@pytest.fixture(scope='module')
def admin(kafka_cluster):
    client = KafkaAdminClient(bootstrap_servers=kafka_cluster.bootstrap_servers, client_id='validation-tests')
    yield client
    client.close()


@pytest.fixture(scope='module')
def seeded(kafka_cluster, admin):
    """A topic with a config override and a consumer group with committed offsets."""
    topic, group = 'val-%s' % uuid.uuid4().hex[:6], 'val-group-%s' % uuid.uuid4().hex[:6]
    admin.create_topics([NewTopic(topic, 3, 3, topic_configs={'retention.ms': '3600000'})], wait_for_metadata=True)
    consumer = KafkaConsumer(bootstrap_servers=kafka_cluster.bootstrap_servers, group_id=group,
                             enable_auto_commit=False)
    try:
        consumer.commit({TopicPartition(topic, p): OffsetAndMetadata(0, '', -1) for p in range(3)})
    finally:
        consumer.close(autocommit=False)
    return dict(topic=topic, group=group)


def snapshot(admin, seeded):
    """What a refused task must leave as it was."""
    topics = sorted(admin.list_topics())
    # Leaders and replicas of the seeded topic only: other tests' topics may see Kafka's own
    # leader rebalancing while this runs.
    described = admin.describe_topics([seeded['topic']])
    layout = dict((t['name'], sorted((p['partition_index'], p['leader_id'], tuple(p['replica_nodes']))
                                     for p in t['partitions'])) for t in described)
    configs = admin.describe_configs([ConfigResource('TOPIC', seeded['topic'])]).get('topic', {})
    offsets = dict(((tp.topic, tp.partition), meta.offset)
                   for tp, meta in admin.list_group_offsets({seeded['group']: None}).get(seeded['group'], {}).items())
    users = sorted(admin.describe_user_scram_credentials(None))
    return dict(topics=topics, layout=layout, configs=dict((k, v.get('value')) for k, v in
                                                           configs.get(seeded['topic'], {}).items()),
                offsets=offsets, users=users)


def cases(seeded):
    """(module, args, fragments of the message): one per class of the issue."""
    topic, group = seeded['topic'], seeded['group']
    return {
        'election-empty-partitions-unclean': ('kraft.kafka.kafka_leader_election', dict(
            partitions=[], election_type='unclean', allow_unclean=True),
            ["partitions: an empty list is refused", "every leaderless partition"]),
        'election-empty-topics': ('kraft.kafka.kafka_leader_election', dict(topics=[]),
                                  ["topics: an empty list is refused"]),
        'rebalance-empty-topics': ('kraft.kafka.kafka_partition_rebalance', dict(topics=[]),
                                   ["topics: an empty list is refused: it would select every topic"]),
        'rebalance-empty-brokers': ('kraft.kafka.kafka_partition_rebalance', dict(brokers=[]),
                                    ["brokers: an empty list is refused"]),
        'topic-beyond-int32': ('kraft.kafka.kafka_topic', dict(name=topic, partitions=3000000000),
                               ["partitions: must be from -2147483648 to 2147483647 (Kafka's 32-bit field), "
                                "got 3000000000"]),
        'topic-collision-in-batch': ('kraft.kafka.kafka_topic', dict(topics=[
            dict(name='val.clash', partitions=1, replication_factor=1),
            dict(name='val_clash', partitions=1, replication_factor=1)]),
            ["'val.clash' and 'val_clash' collide"]),
        'topic-boolean-count': ('kraft.kafka.kafka_topic', dict(name=topic, partitions=True),
                                ["partitions: must be a number, got the boolean true"]),
        'topic-trailing-space': ('kraft.kafka.kafka_topic', dict(name=topic + ' ', partitions=3),
                                 ["'%s ' contains illegal characters" % topic]),
        'topic-min-insync-above-rf': ('kraft.kafka.kafka_topic', dict(
            name='val-isr', partitions=1, replication_factor=2, config={'min.insync.replicas': 3}),
            ["min.insync.replicas: 3 is above replication_factor 2"]),
        'reset-boolean-offset': ('kraft.kafka.kafka_consumer_group_reset', dict(
            group=group, strategy='to_offset', offset=True, topics=[topic]),
            ["offset: must be a number, got the boolean true"]),
        'reset-offset-beyond-int64': ('kraft.kafka.kafka_consumer_group_reset', dict(
            group=group, strategy='to_offset', offset=2 ** 63, topics=[topic]),
            ["offset: must be from", "Kafka's 64-bit field"]),
        'reset-empty-topics': ('kraft.kafka.kafka_consumer_group_reset', dict(
            group=group, strategy='to_earliest', topics=[]),
            ["topics/partitions is empty"]),
        'reset-group-trailing-space': ('kraft.kafka.kafka_consumer_group_reset', dict(
            group=group + ' ', strategy='to_earliest'),
            ["group: '%s ' has leading or trailing whitespace" % group]),
        'user-short-password': ('kraft.kafka.kafka_user', dict(name='val-user', password='short'),
                                ["the password has 5 characters, at least 8 are required"]),
        'user-name-whitespace': ('kraft.kafka.kafka_user', dict(name=' val-user', password='long-enough-pw'),
                                 ["user name ' val-user' has leading/trailing whitespace"]),
        'health-empty-expected': ('kraft.kafka.kafka_cluster_health', dict(expected_brokers=[]),
                                  ["expected_brokers: an empty list is refused"]),
        'info-number-text-infinity': ('kraft.kafka.kafka_cluster_info', dict(request_timeout='inf'),
                                      ["request_timeout: must be a whole number"]),
    }


CASE_NAMES = sorted(cases(dict(topic='t', group='g')))


@pytest.mark.parametrize('check', [True, False], ids=['check', 'normal'])
@pytest.mark.parametrize('case', CASE_NAMES)
def test_bad_input_is_refused_and_the_cluster_is_unchanged(kafka_cluster, admin, seeded, run_module, case, check):
    module, args, fragments = cases(seeded)[case]
    before = snapshot(admin, seeded)
    started = time.monotonic()
    result = run_module(module, dict(args, bootstrap_servers=kafka_cluster.bootstrap_servers,
                                     request_timeout=args.get('request_timeout', 10)), check=check)
    took = time.monotonic() - started
    assert result['failed'] is True, result
    assert result['msg'].startswith(REFUSED), result['msg']
    for fragment in fragments:
        assert fragment in result['msg'], result['msg']
    assert 'Traceback' not in result['msg']
    assert took < 30, 'refusal took %.1fs' % took
    assert snapshot(admin, seeded) == before


def test_scram_credentials_without_a_sasl_listener_warn(kafka_cluster, admin, seeded, run_module):
    before = snapshot(admin, seeded)
    result = run_module('kraft.kafka.kafka_user', dict(
        bootstrap_servers=kafka_cluster.bootstrap_servers, name='val-warn', password='long-enough-pw'), check=True)
    assert result['failed'] is False and result['changed'] is True, result
    assert any('No broker listener of this cluster uses SASL' in w for w in result.get('warnings', [])), result
    assert snapshot(admin, seeded) == before  # check mode


class _Params(object):
    """Just enough of an AnsibleModule for LazyAdminClient."""

    def __init__(self, servers, timeout):
        self.params = dict((k, v.get('default')) for k, v in kc.kafka_connection_argument_spec().items())
        self.params.update(bootstrap_servers=servers, request_timeout=timeout)

    def add_cleanup_file(self, path):
        pass


def test_a_request_the_client_cannot_encode_is_abandoned_within_the_bound(kafka_cluster, admin):
    """The hang of the issue, past validation: kafka-python fails to encode 3000000000 partitions in
    its sender and never completes the future. Through the bounded client it ends in CallTimeout."""
    name = 'val-unencodable-%s' % uuid.uuid4().hex[:6]
    client = kc.LazyAdminClient(_Params(kafka_cluster.bootstrap_servers, 2))
    try:
        client.connect()
        started = time.monotonic()
        with pytest.raises(kv.CallTimeout):
            client.create_topics([NewTopic(name, 3000000000, 1)])
        took = time.monotonic() - started
    finally:
        kv.call_bounded(client.disconnect, kc.CALL_MARGIN_SECONDS)
    # Abandoned at the bound (request_timeout 2 s + margin), not later.
    assert 2 + kc.CALL_MARGIN_SECONDS - 0.5 <= took <= 2 + kc.CALL_MARGIN_SECONDS + 1.5, took
    assert name not in admin.list_topics()
