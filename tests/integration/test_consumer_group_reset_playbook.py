# -*- coding: utf-8 -*-
"""playbooks/consumer_group_reset.yml against the real local three-node KRaft cluster.

A group committed at 2 on each of 3 partitions holding 10 records each. The playbook shows the plan,
refuses without confirmation (no terminal), changes nothing in --check, applies with
kafka_reset_confirm=true, writes a 0600 backup of the previous offsets, is a no-op (and writes no new
backup) the second time, restores the exact previous offsets from the backup, and refuses a group
that still has a member.
"""

import contextlib
import json
import stat
import time
import uuid

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata

from playbook_runner import run_playbook

PLAYBOOK = 'consumer_group_reset.yml'
PARTITIONS = 3
RECORDS = 10
COMMITTED = 2


@pytest.fixture(scope='module')
def admin(kafka_cluster):
    client = KafkaAdminClient(bootstrap_servers=kafka_cluster.bootstrap_servers, request_timeout_ms=15000)
    yield client
    client.close()


def committed(admin, group):
    found = admin.list_group_offsets({group: None}).get(group, {})
    return dict(((tp.topic, tp.partition), oam.offset) for tp, oam in found.items() if oam.offset >= 0)


def subscribed_consumer(kafka_cluster, group, topic, client_id):
    consumer = KafkaConsumer(bootstrap_servers=kafka_cluster.bootstrap_servers, group_id=group,
                             client_id=client_id, enable_auto_commit=False)
    # The group leader assigns from its own metadata: wait until it knows the topic.
    deadline = time.monotonic() + 60
    while not consumer.partitions_for_topic(topic) and time.monotonic() < deadline:
        time.sleep(0.5)
    consumer.subscribe([topic])
    deadline = time.monotonic() + 120
    while len(consumer.assignment()) < PARTITIONS and time.monotonic() < deadline:
        consumer.poll(timeout_ms=200, max_records=1)
    assert len(consumer.assignment()) == PARTITIONS
    return consumer


@contextlib.contextmanager
def member(kafka_cluster, group, topic):
    consumer = subscribed_consumer(kafka_cluster, group, topic, 'still-running-app')
    try:
        yield consumer
    finally:
        consumer.close(autocommit=False)


@pytest.fixture
def group(kafka_cluster, admin):
    """(group, topic): RECORDS records per partition, the group Empty and committed at COMMITTED."""
    suffix = uuid.uuid4().hex[:8]
    topic, group = 'cgr-orders-%s' % suffix, 'cgr-billing-%s' % suffix
    admin.create_topics({topic: {'num_partitions': PARTITIONS, 'replication_factor': 3}}, wait_for_metadata=True)
    producer = KafkaProducer(bootstrap_servers=kafka_cluster.bootstrap_servers, acks='all')
    for partition in range(PARTITIONS):
        for index in range(RECORDS):
            producer.send(topic, b'r%d' % index, partition=partition)
    producer.flush(timeout=60)
    producer.close()
    consumer = subscribed_consumer(kafka_cluster, group, topic, 'committer')
    consumer.commit(dict((TopicPartition(topic, p), OffsetAndMetadata(COMMITTED, '', -1))
                         for p in range(PARTITIONS)))
    consumer.close(autocommit=False)
    return group, topic


def at(topic, offset):
    return dict(((topic, p), offset) for p in range(PARTITIONS))


def reset_vars(kafka_cluster, tmp_path, group, **extra):
    variables = {'kafka_reset_hosts': 'localhost', 'kafka_bootstrap_servers': kafka_cluster.bootstrap_servers,
                 'kafka_reset_group': group, 'kafka_reset_backup_dir': str(tmp_path / 'backups')}
    variables.update(extra)
    return variables


def backups(tmp_path):
    directory = tmp_path / 'backups'
    return sorted(directory.iterdir()) if directory.is_dir() else []


def test_reset_confirm_backup_rerun_and_restore(tmp_path, kafka_cluster, admin, group):
    group, topic = group
    to_latest = reset_vars(kafka_cluster, tmp_path, group, kafka_reset_strategy='to-latest')

    dry = run_playbook(tmp_path, PLAYBOOK, to_latest, check=True)
    assert dry.rc == 0, dry.log()
    assert committed(admin, group) == at(topic, COMMITTED) and backups(tmp_path) == []
    assert dry.tasks('Ask for confirmation')[0]['localhost'].get('skipped'), 'the prompt ran in --check'
    lines = [r['msg'] for r in dry.result('Show the plan per partition (current -> new)')['results']]
    assert sorted(lines)[0].startswith('%s-0: %d -> %d' % (topic, COMMITTED, RECORDS)), lines

    unconfirmed = run_playbook(tmp_path, PLAYBOOK, to_latest)
    assert unconfirmed.rc != 0
    assert 'Not confirmed' in unconfirmed.result('Stop unless confirmed')['msg']
    assert committed(admin, group) == at(topic, COMMITTED) and backups(tmp_path) == []

    applied = run_playbook(tmp_path, PLAYBOOK, dict(to_latest, kafka_reset_confirm=True))
    assert applied.rc == 0, applied.log()
    assert applied.changed >= 1
    assert committed(admin, group) == at(topic, RECORDS)
    [backup] = backups(tmp_path)
    assert backup.name.startswith(group + '-') and backup.suffix == '.json'
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    saved = json.loads(backup.read_text())
    assert saved['group'] == group
    assert sorted((o['topic'], o['partition'], o['offset']) for o in saved['previous_offsets']) == \
        [(topic, p, COMMITTED) for p in range(PARTITIONS)]
    undo = applied.result('Show how to undo it')['msg']
    assert 'kafka_reset_restore_from=%s' % backup in ' '.join(undo)

    again = run_playbook(tmp_path, PLAYBOOK, dict(to_latest, kafka_reset_confirm=True))
    assert again.rc == 0, again.log()
    assert again.changed == 0, again.log()
    assert backups(tmp_path) == [backup]

    restore = {'kafka_reset_hosts': 'localhost', 'kafka_bootstrap_servers': kafka_cluster.bootstrap_servers,
               'kafka_reset_backup_dir': str(tmp_path / 'backups'), 'kafka_reset_restore_from': str(backup),
               'kafka_reset_confirm': True}
    restored = run_playbook(tmp_path, PLAYBOOK, restore)
    assert restored.rc == 0, restored.log()
    assert restored.changed >= 1
    assert committed(admin, group) == at(topic, COMMITTED)
    # The restore is itself backed up, so it can be undone too.
    assert len(backups(tmp_path)) == 2

    restored_again = run_playbook(tmp_path, PLAYBOOK, restore)
    assert restored_again.rc == 0 and restored_again.changed == 0, restored_again.log()


def test_to_offset_for_one_topic(tmp_path, kafka_cluster, admin, group):
    group, topic = group
    variables = reset_vars(kafka_cluster, tmp_path, group, kafka_reset_strategy='to_offset', kafka_reset_offset=7,
                           kafka_reset_topics=[topic], kafka_reset_confirm=True)
    run = run_playbook(tmp_path, PLAYBOOK, variables)
    assert run.rc == 0, run.log()
    assert committed(admin, group) == at(topic, 7)
    assert run_playbook(tmp_path, PLAYBOOK, variables).changed == 0


def test_refuses_a_group_with_members(tmp_path, kafka_cluster, admin, group):
    group, topic = group
    with member(kafka_cluster, group, topic):
        variables = reset_vars(kafka_cluster, tmp_path, group, kafka_reset_strategy='to_earliest',
                               kafka_reset_confirm=True)
        run = run_playbook(tmp_path, PLAYBOOK, variables)
    assert run.rc != 0
    assert 'still-running-app' in run.result('Plan the reset (dry run)')['msg']
    assert committed(admin, group) == at(topic, COMMITTED) and backups(tmp_path) == []


def test_restore_refuses_another_groups_backup(tmp_path, kafka_cluster, admin, group):
    group, topic = group
    backup = tmp_path / 'other.json'
    backup.write_text(json.dumps({'group': 'some-other-group',
                                  'previous_offsets': [{'topic': topic, 'partition': 0, 'offset': 0}]}))
    variables = reset_vars(kafka_cluster, tmp_path, group, kafka_reset_restore_from=str(backup),
                           kafka_reset_confirm=True)
    run = run_playbook(tmp_path, PLAYBOOK, variables)
    assert run.rc != 0
    assert committed(admin, group) == at(topic, COMMITTED)
