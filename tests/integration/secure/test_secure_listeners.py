# -*- coding: utf-8 -*-
"""The secured cluster refuses what it must refuse, and the existing modules
work against it with admin credentials (CA as a path and as PEM content)."""

import ssl

import pytest

from secure_clients import consume, produce, tls_api_versions, unique

QUORUM = 'kraft.kafka.kafka_quorum_status'
TOPIC = 'kraft.kafka.kafka_topic'
GROUP_INFO = 'kraft.kafka.kafka_consumer_group_info'
# Failing bootstraps wait this long; keep it short, the cluster is local.
REFUSED_TIMEOUT = 10


def without_sasl(args, protocol):
    args = dict(args, security_protocol=protocol, request_timeout=REFUSED_TIMEOUT)
    for option in ('sasl_mechanism', 'sasl_username', 'sasl_password'):
        args.pop(option)
    if protocol == 'PLAINTEXT':
        args.pop('ssl_cafile')
    return args


# ------------------------------------------------------------ cluster health

def test_quorum_is_healthy_over_the_mutual_tls_controller_listener(run_module, admin_args):
    """Brokers register and controllers vote as User:CN=kafka-node-N, a super user."""
    result = run_module(QUORUM, dict(admin_args, wait=True, wait_timeout=120, expected_voters=[1, 2, 3]))
    assert not result['failed'], result.get('msg')
    assert result['healthy'] is True
    assert sorted(v['replica_id'] for v in result['voters']) == [1, 2, 3]


def test_controller_listener_requires_a_client_certificate(secure_kafka_cluster):
    cluster = secure_kafka_cluster
    port = cluster.nodes[0].controller_port
    keystore = str(cluster.tls.keystores['kafka-node-1'])
    assert len(tls_api_versions(port, cluster.ca_path, certfile=keystore)) == 4
    with pytest.raises((ssl.SSLError, ConnectionError)):
        answer = tls_api_versions(port, cluster.ca_path)
        if not answer:  # closed without an alert: refused as well
            raise ConnectionError('closed')


# ------------------------------------------------------------ refusals

def test_plaintext_client_is_refused_on_the_sasl_ssl_port(run_module, admin_args):
    result = run_module(QUORUM, without_sasl(admin_args, 'PLAINTEXT'))
    assert result['failed']
    assert 'Could not bootstrap' in result['msg']
    assert 'security_protocol matches the listener' in result['msg']


def test_tls_client_without_sasl_is_refused(run_module, admin_args):
    result = run_module(QUORUM, without_sasl(admin_args, 'SSL'))
    assert result['failed']
    assert 'security_protocol matches the listener' in result['msg']


# kafka-python 3.0.12 sometimes loses the broker's SaslAuthenticate error: the
# broker closes the connection right after sending it, and when the response
# and the close arrive together, kafka/net/transport.py drops the data and
# connection_lost() fails the connection first. kafka_client.py then sees only
# "socket disconnected" and gives its generic bootstrap message. Both messages
# name security_protocol; only the first one names the credentials.
AUTH_MESSAGE = 'Check sasl_username, sasl_password'
GENERIC_MESSAGE = 'Could not bootstrap from the Kafka cluster'


def assert_refused_login(result, *secrets):
    assert result['failed']
    assert AUTH_MESSAGE in result['msg'] or GENERIC_MESSAGE in result['msg'], result['msg']
    assert 'security_protocol matches the listener' in result['msg']
    for secret in secrets:
        assert secret not in str(result)


def test_wrong_password_is_refused(run_module, admin_args):
    wrong = 'not-the-admin-password-%s' % unique('x')
    result = run_module(QUORUM, dict(admin_args, sasl_password=wrong, request_timeout=REFUSED_TIMEOUT))
    assert_refused_login(result, wrong, admin_args['sasl_password'])


def test_unknown_user_is_refused(run_module, admin_args):
    result = run_module(QUORUM, dict(admin_args, sasl_username=unique('nobody'), request_timeout=REFUSED_TIMEOUT))
    assert_refused_login(result, admin_args['sasl_password'])


# -------------------------------------------------- existing modules as admin

def test_topic_module_with_ca_as_pem_content(run_module, admin_args, secure_kafka_cluster, secure_admin):
    name = unique('secure-topic')
    args = dict(admin_args, ssl_cafile=secure_kafka_cluster.tls.ca_pem, name=name, partitions=2)
    created = run_module(TOPIC, args)
    assert not created['failed'], created.get('msg')
    assert created['changed']
    assert name in secure_admin.list_topics()
    again = run_module(TOPIC, args)
    assert not again['failed'], again.get('msg')
    assert not again['changed']
    assert again['topics'][name]['num_partitions'] == 2


def test_topic_module_with_ca_as_path_and_hostname_check(run_module, admin_args, secure_admin):
    name = unique('secure-topic')
    assert admin_args['ssl_cafile'].startswith('/')
    result = run_module(TOPIC, dict(admin_args, name=name, ssl_check_hostname=True))
    assert not result['failed'], result.get('msg')
    assert name in secure_admin.list_topics()
    removed = run_module(TOPIC, dict(admin_args, name=name, state='absent'))
    assert not removed['failed'], removed.get('msg')
    assert removed['changed']


def test_consumer_group_info_with_admin_credentials(run_module, admin_args, secure_kafka_cluster):
    cluster = secure_kafka_cluster
    topic, group = unique('secure-cg-topic'), unique('secure-cg')
    assert not run_module(TOPIC, dict(admin_args, name=topic))['failed']
    produce(cluster, None, None, topic)
    assert consume(cluster, None, None, topic, group) == [b'hello']
    for cafile in (cluster.ca_path, cluster.tls.ca_pem):
        result = run_module(GROUP_INFO, dict(admin_args, ssl_cafile=cafile, groups=[group]))
        assert not result['failed'], result.get('msg')
        assert [g['group_id'] for g in result['groups']] == [group]
