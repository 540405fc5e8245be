# -*- coding: utf-8 -*-
"""playbooks/topics.yml against the real local three-node KRaft cluster, through ansible-playbook.

Topics declared in variables are created with their partitions, replicas and configs by one batched
kafka_topic call; --check changes nothing; a second run reports changed=0; a changed declaration
(more partitions, another config value, state: absent) is applied, and then is stable again.
"""

import uuid

import pytest
from kafka import KafkaAdminClient
from kafka.admin import ConfigResource

from playbook_runner import cluster_inventory, run_playbook

PLAYBOOK = 'topics.yml'


@pytest.fixture
def admin(kafka_cluster):
    client = KafkaAdminClient(bootstrap_servers=kafka_cluster.bootstrap_servers, request_timeout_ms=15000)
    yield client
    client.close()


def existing(admin, names):
    """{name: [replica lists per partition]} of the topics among names that exist."""
    found = {}
    for topic in admin.describe_topics(names):
        if (topic.get('error_code') or 0) == 0:
            found[topic['name']] = [sorted(p['replica_nodes'])
                                    for p in sorted(topic['partitions'], key=lambda p: p['partition_index'])]
    return found


def overrides(admin, name):
    described = admin.describe_configs([ConfigResource('TOPIC', name)]).get('topic', {}).get(name, {})
    return dict((key, entry['value']) for key, entry in described.items()
                if entry.get('config_source') == 'DYNAMIC_TOPIC_CONFIG')


def declaration(kafka_cluster, topics, **extra):
    variables = {'kafka_topics_hosts': 'localhost', 'kafka_bootstrap_servers': kafka_cluster.bootstrap_servers,
                 'kafka_topic_defaults': {'replication_factor': 3, 'config': {'min.insync.replicas': 2}},
                 'kafka_topics': topics}
    variables.update(extra)
    return variables


def test_topics_declared_in_vars_are_reconciled_idempotently(tmp_path, kafka_cluster, admin):
    suffix = uuid.uuid4().hex[:8]
    orders, state, scratch = 'tp-orders-%s' % suffix, 'tp-state-%s' % suffix, 'tp-scratch-%s' % suffix
    topics = [
        {'name': orders, 'partitions': 3, 'config': {'retention.ms': 3600000}},
        {'name': state, 'partitions': 1, 'config': {'cleanup.policy': 'compact'}},
        {'name': scratch, 'partitions': 2, 'replication_factor': 2},
    ]
    names = [orders, state, scratch]

    planned = run_playbook(tmp_path, PLAYBOOK, declaration(kafka_cluster, topics), check=True, diff=True)
    assert planned.rc == 0, planned.log()
    assert planned.changed == 1 and planned.result('Topics match the declaration')['changed_topics'] == names
    assert existing(admin, names) == {}, 'check mode created topics'

    created = run_playbook(tmp_path, PLAYBOOK, declaration(kafka_cluster, topics), diff=True)
    assert created.rc == 0, created.log()
    assert created.changed == 1
    assert len(created.tasks('Topics match the declaration')) == 1  # one batched call for all topics
    found = existing(admin, names)
    assert found[orders] == [[1, 2, 3]] * 3
    assert found[state] == [[1, 2, 3]]
    assert len(found[scratch]) == 2 and all(len(r) == 2 for r in found[scratch])
    assert overrides(admin, orders) == {'retention.ms': '3600000', 'min.insync.replicas': '2'}
    assert overrides(admin, state) == {'cleanup.policy': 'compact', 'min.insync.replicas': '2'}

    again = run_playbook(tmp_path, PLAYBOOK, declaration(kafka_cluster, topics))
    assert again.rc == 0, again.log()
    assert again.changed == 0, again.log()
    assert again.result('Topics match the declaration')['changed_topics'] == []

    topics[0]['partitions'] = 4
    topics[0]['config']['retention.ms'] = 7200000
    topics[2]['state'] = 'absent'
    changed = run_playbook(tmp_path, PLAYBOOK, declaration(kafka_cluster, topics))
    assert changed.rc == 0, changed.log()
    assert changed.changed == 1
    assert changed.result('Topics match the declaration')['changed_topics'] == [orders, scratch]
    found = existing(admin, names)
    assert scratch not in found and len(found[orders]) == 4
    assert overrides(admin, orders)['retention.ms'] == '7200000'

    stable = run_playbook(tmp_path, PLAYBOOK, declaration(kafka_cluster, topics))
    assert stable.rc == 0 and stable.changed == 0, stable.log()


def test_invalid_declaration_changes_nothing(tmp_path, kafka_cluster, admin):
    """Validation covers the whole list before the first change: one bad item, no new topic."""
    good, bad = 'tp-good-%s' % uuid.uuid4().hex[:8], 'tp-bad-%s' % uuid.uuid4().hex[:8]
    run = run_playbook(tmp_path, PLAYBOOK, declaration(kafka_cluster, [
        {'name': good, 'partitions': 1},
        {'name': bad, 'partitions': 1, 'config': {'retention.ms': 'one week'}}]))
    assert run.rc != 0 and run.failed == 1
    assert existing(admin, [good, bad]) == {}


def test_no_declared_topics_is_a_no_op(tmp_path, kafka_cluster):
    run = run_playbook(tmp_path, PLAYBOOK, {'kafka_topics_hosts': 'localhost',
                                            'kafka_bootstrap_servers': kafka_cluster.bootstrap_servers})
    assert run.rc == 0 and run.changed == 0, run.log()
    assert not run.tasks('Topics match the declaration')


def test_bootstrap_servers_from_the_inventory(tmp_path, kafka_cluster, admin):
    """Against a site.yml-style inventory (kafka group), without kafka_bootstrap_servers."""
    name = 'tp-inv-%s' % uuid.uuid4().hex[:8]
    inventory = cluster_inventory(tmp_path, kafka_cluster.nodes)
    run = run_playbook(tmp_path, PLAYBOOK, {'kafka_topics': [{'name': name, 'partitions': 2}]},
                       inventory=inventory)
    assert run.rc == 0 and run.changed == 1, run.log()
    assert len(existing(admin, [name])[name]) == 2
    again = run_playbook(tmp_path, PLAYBOOK, {'kafka_topics': [{'name': name, 'partitions': 2}]},
                         inventory=inventory)
    assert again.rc == 0 and again.changed == 0, again.log()
