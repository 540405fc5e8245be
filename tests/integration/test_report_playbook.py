# -*- coding: utf-8 -*-
"""playbooks/report.yml against the real local three-node KRaft cluster, through ansible-playbook.

The report must name every broker and topic, embed the SVG chart and show the lag of a consumer
group whose lag is made known here (records produced minus offsets committed with kafka-python).
"""

import json
import os
import re
import subprocess
import sys
import uuid
from html.parser import HTMLParser

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.structs import OffsetAndMetadata

from kafka_local_cluster import REPO_ROOT, ansible_env, write_inventory

PLAYBOOK = REPO_ROOT / 'playbooks' / 'report.yml'
RECORDS = 25
COMMITTED = 4  # on partition 0 of 3; partitions 1 and 2 have no commit and no lag of their own


@pytest.fixture(scope='module')
def lagging(kafka_cluster):
    """A topic with RECORDS records in partition 0 and a group that committed COMMITTED of them."""
    suffix = uuid.uuid4().hex[:8]
    topic, group = 'rp-payments-%s' % suffix, 'rp-settlement-%s' % suffix
    admin = KafkaAdminClient(bootstrap_servers=kafka_cluster.bootstrap_servers, request_timeout_ms=15000)
    try:
        admin.create_topics([NewTopic(topic, 3, 3)])
    finally:
        admin.close()
    producer = KafkaProducer(bootstrap_servers=kafka_cluster.bootstrap_servers, acks='all')
    for index in range(RECORDS):
        producer.send(topic, b'p%d' % index, partition=0)
    producer.flush(timeout=60)
    producer.close()
    consumer = KafkaConsumer(bootstrap_servers=kafka_cluster.bootstrap_servers, group_id=group,
                             enable_auto_commit=False)
    consumer.assign([TopicPartition(topic, 0)])
    consumer.commit({TopicPartition(topic, 0): OffsetAndMetadata(COMMITTED, '', -1)})
    consumer.close(autocommit=False)
    return dict(topic=topic, group=group, lag=RECORDS - COMMITTED)


def run_report(tmp_path, inventory, extra_vars):
    env = ansible_env(tmp_path)
    env['ANSIBLE_STDOUT_CALLBACK'] = 'ansible.posix.json'
    command = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', str(inventory),
               str(PLAYBOOK), '-e', json.dumps(extra_vars)]
    proc = subprocess.run(command, cwd=str(REPO_ROOT), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    return json.loads(proc.stdout[proc.stdout.index('{'):])


class Elements(HTMLParser):
    """Collects tag names and attributes, so the test can look for external resources."""

    def __init__(self):
        HTMLParser.__init__(self)
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def read(path):
    with open(str(path)) as handle:
        return handle.read()


def test_report_names_brokers_topics_and_lag(tmp_path, kafka_cluster, lagging):
    report_dir = tmp_path / 'kafka-report'
    run_report(tmp_path, write_inventory(tmp_path), {
        'kafka_report_hosts': 'localhost', 'kafka_bootstrap_servers': kafka_cluster.bootstrap_servers,
        'report_dir': str(report_dir), 'report_top_groups': 1000})
    markdown, html = read(report_dir / 'report.md'), read(report_dir / 'report.html')

    assert kafka_cluster.cluster_id in markdown and kafka_cluster.cluster_id in html
    for node in kafka_cluster.nodes:
        assert re.search(r'^\| %d \| 127\.0\.0\.1:%d \|' % (node.id, node.broker_port), markdown, re.M)
        assert 'broker %d' % node.id in html  # chart label
        assert '127.0.0.1:%d' % node.broker_port in html
    assert re.search(r'^\| %s \| 3 \| 3 \| 0 \| 0 \|' % re.escape(lagging['topic']), markdown, re.M)
    assert lagging['topic'] in html
    group_row = r'^\| %s \| Empty \| classic \| 0 \| %s \| 1 \| %d \|$' % (
        re.escape(lagging['group']), re.escape(lagging['topic']), lagging['lag'])
    assert re.search(group_row, markdown, re.M), markdown
    assert re.search(r'%s</td>.*?<strong>%d</strong>' % (re.escape(lagging['group']), lagging['lag']), html)

    elements = Elements()
    elements.feed(html)
    tags = [tag for tag, _attrs in elements.tags]
    assert tags.count('svg') == 1 and tags.count('rect') >= 2 * len(kafka_cluster.nodes)
    assert 'style' in tags and 'script' not in tags and 'link' not in tags
    assert not [attrs for _tag, attrs in elements.tags
                if any(str(v).startswith(('http:', 'https:', '//')) for k, v in attrs.items() if k != 'xmlns')]


def test_report_from_the_config_roles_node_facts(tmp_path, kafka_cluster, lagging):
    """Without kafka_bootstrap_servers the play derives them from kraft.kafka.kafka_config's kafka_node facts."""
    inventory = tmp_path / 'cluster.yml'
    hosts = dict(('kafka%d' % n.id, {'kafka_node_id': n.id, 'kafka_broker_port': n.broker_port,
                                     'kafka_controller_port': n.controller_port})
                 for n in kafka_cluster.nodes)
    inventory.write_text(json.dumps({'kafka': {'hosts': hosts, 'vars': {
        'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable,
        'kafka_advertised_host': '127.0.0.1'}}}))
    report_dir = tmp_path / 'from-facts'
    output = run_report(tmp_path, inventory, {'report_dir': str(report_dir), 'report_top_groups': 1000})
    chosen = next(t for t in output['plays'][0]['tasks'] if t['task']['name'] == 'Choose the bootstrap servers')
    assert chosen['hosts']['kafka1']['ansible_facts']['report_bootstrap_servers'] == kafka_cluster.bootstrap_servers
    markdown = read(report_dir / 'report.md')
    assert lagging['topic'] in markdown and lagging['group'] in markdown


def test_rerun_on_an_unchanged_cluster_reports_no_change(tmp_path, kafka_cluster, lagging):
    """The timestamp and the ever-moving quorum high watermark do not make a re-run 'changed';
    a real change (more lag) does, and rewrites both files."""
    report_dir = tmp_path / 'idempotent'
    extra = {'kafka_report_hosts': 'localhost', 'kafka_bootstrap_servers': kafka_cluster.bootstrap_servers,
             'report_dir': str(report_dir), 'report_top_groups': 1000}

    def stats(output):
        return output['stats']['localhost']

    first = run_report(tmp_path, write_inventory(tmp_path), extra)
    assert stats(first)['changed'] == 2  # the new directory, and the files (one looped task)
    written = dict((name, read(report_dir / name)) for name in ('report.md', 'report.html'))
    assert 'kraft-kafka-report-fingerprint: ' in written['report.md']

    second = run_report(tmp_path, write_inventory(tmp_path), extra)
    assert stats(second)['changed'] == 0, stats(second)
    assert dict((name, read(report_dir / name)) for name in written) == written

    producer = KafkaProducer(bootstrap_servers=kafka_cluster.bootstrap_servers, acks='all')
    producer.send(lagging['topic'], b'one more', partition=0)
    producer.flush(timeout=60)
    producer.close()
    third = run_report(tmp_path, write_inventory(tmp_path), extra)
    assert stats(third)['changed'] == 1, stats(third)
    markdown = read(report_dir / 'report.md')
    assert markdown != written['report.md']
    assert re.search(r'^\| %s \| .* \| %d \|$' % (re.escape(lagging['group']), lagging['lag'] + 1), markdown, re.M)
