# -*- coding: utf-8 -*-
"""Unit tests of plugins/module_utils/kafka_client.py: option validation,
error messages, per-item error parsing, quorum summaries and polling.
No cluster needed."""

import os
import stat
import sys
import uuid
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / '.cache' / 'collections'))

import kafka.errors as Errors  # noqa: E402

from ansible_collections.kraft.kafka.plugins.module_utils import kafka_client as kc  # noqa: E402

PASSWORD = 'Sup3r-S3cret-Passw0rd'
PEM = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----'


def params(**overrides):
    """Module params as AnsibleModule would fill them from the argument spec."""
    base = dict((name, spec.get('default')) for name, spec in kc.kafka_connection_argument_spec().items())
    base['bootstrap_servers'] = ['127.0.0.1:9092']
    base.update(overrides)
    return base


class FakeModule(object):
    def __init__(self, **overrides):
        self.params = params(**overrides)
        self.cleanup_files = []
        self.exit_args = self.fail_args = None

    def add_cleanup_file(self, path):
        self.cleanup_files.append(path)

    def exit_json(self, **kwargs):
        self.exit_args = kwargs
        raise SystemExit(0)

    def fail_json(self, **kwargs):
        self.fail_args = kwargs
        raise SystemExit(1)


@pytest.fixture(autouse=True)
def no_leftover_temp_files():
    yield
    kc.cleanup_temp_files()


# ------------------------------------------------------------ argument spec

def test_argument_spec_options_and_secrets():
    spec = kc.kafka_connection_argument_spec()
    assert sorted(spec) == sorted([
        'bootstrap_servers', 'security_protocol', 'sasl_mechanism', 'sasl_username', 'sasl_password',
        'ssl_cafile', 'ssl_certfile', 'ssl_keyfile', 'ssl_keyfile_password', 'ssl_check_hostname',
        'request_timeout'])
    assert spec['bootstrap_servers'] == dict(type='list', elements='str', required=True)
    assert spec['sasl_password']['no_log'] is True
    assert spec['ssl_keyfile_password']['no_log'] is True
    assert spec['ssl_keyfile']['no_log'] is True  # may be the PEM private key itself
    assert spec['security_protocol']['default'] == 'PLAINTEXT'
    assert spec['ssl_check_hostname']['default'] is True
    assert spec['request_timeout']['default'] == 30
    # A fresh dict every call: modules update() it with their own options.
    spec['extra'] = {}
    assert 'extra' not in kc.kafka_connection_argument_spec()


# ------------------------------------------------------------ client config

def test_plaintext_config_is_valid_for_admin_and_consumer():
    from kafka import KafkaAdminClient, KafkaConsumer
    config = kc.kafka_client_config(params(bootstrap_servers=[' a:9092 ', '', 'b:9093'], request_timeout=7))
    assert config == dict(bootstrap_servers=['a:9092', 'b:9093'], client_id='kraft.kafka',
                          security_protocol='PLAINTEXT', request_timeout_ms=7000,
                          bootstrap_timeout_ms=7000)
    assert not set(config) - set(KafkaAdminClient.DEFAULT_CONFIG)
    assert not set(config) - set(KafkaConsumer.DEFAULT_CONFIG)


def test_sasl_ssl_config_maps_option_names():
    config = kc.kafka_client_config(params(
        security_protocol='SASL_SSL', sasl_mechanism='SCRAM-SHA-512', sasl_username='admin',
        sasl_password=PASSWORD, ssl_check_hostname=False, ssl_cafile=PEM))
    assert config['sasl_mechanism'] == 'SCRAM-SHA-512'
    assert config['sasl_plain_username'] == 'admin'
    assert config['sasl_plain_password'] == PASSWORD
    assert config['ssl_check_hostname'] is False
    assert os.path.isfile(config['ssl_cafile'])


@pytest.mark.parametrize('given, missing', [
    (dict(), 'sasl_mechanism, sasl_username, sasl_password'),
    (dict(sasl_mechanism='PLAIN', sasl_username='u'), 'sasl_password'),
    (dict(sasl_password=PASSWORD), 'sasl_mechanism, sasl_username'),
])
def test_sasl_protocol_without_credentials_names_missing(given, missing):
    with pytest.raises(kc.KafkaModuleError) as err:
        kc.kafka_client_config(params(security_protocol='SASL_PLAINTEXT', **given))
    assert 'missing: %s.' % missing in str(err.value)
    assert PASSWORD not in str(err.value)


def test_sasl_options_without_sasl_protocol_are_rejected():
    with pytest.raises(kc.KafkaModuleError) as err:
        kc.kafka_client_config(params(sasl_username='u', sasl_password=PASSWORD))
    assert 'sasl_username, sasl_password given but security_protocol=PLAINTEXT' in str(err.value)
    assert PASSWORD not in str(err.value)


def test_ssl_options_without_tls_protocol_are_rejected():
    with pytest.raises(kc.KafkaModuleError) as err:
        kc.kafka_client_config(params(security_protocol='SASL_PLAINTEXT', sasl_mechanism='PLAIN',
                                      sasl_username='u', sasl_password='p', ssl_cafile='/x'))
    assert 'ssl_cafile given but security_protocol=SASL_PLAINTEXT does not use TLS' in str(err.value)


def test_keyfile_needs_certfile():
    with pytest.raises(kc.KafkaModuleError) as err:
        kc.kafka_client_config(params(security_protocol='SSL', ssl_keyfile=PEM))
    assert 'ssl_keyfile needs ssl_certfile' in str(err.value)


@pytest.mark.parametrize('servers, fragment', [
    ([], 'bootstrap_servers is empty'),
    (['  '], 'bootstrap_servers is empty'),
    (['host:port'], "'host:port' is not host:port"),
    (['host:0'], "'host:0' is not host:port"),
    ([':9092'], "':9092' is not host:port"),
])
def test_bad_bootstrap_servers(servers, fragment):
    with pytest.raises(kc.KafkaModuleError) as err:
        kc.kafka_client_config(params(bootstrap_servers=servers))
    assert fragment in str(err.value)


def test_request_timeout_must_be_positive():
    with pytest.raises(kc.KafkaModuleError):
        kc.kafka_client_config(params(request_timeout=0))


def test_pem_content_goes_to_private_temp_file_and_is_removed():
    config = kc.kafka_client_config(params(security_protocol='SSL', ssl_cafile=PEM, ssl_certfile=PEM,
                                           ssl_keyfile=PEM, ssl_keyfile_password=PASSWORD))
    paths = [config['ssl_cafile'], config['ssl_certfile'], config['ssl_keyfile']]
    assert len(set(paths)) == 3
    for path in paths:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert Path(path).read_text() == PEM + '\n'
    assert config['ssl_password'] == PASSWORD
    kc.cleanup_temp_files()
    assert not any(os.path.exists(p) for p in paths)


def test_ssl_path_is_used_as_is(tmp_path):
    ca = tmp_path / 'ca.pem'
    ca.write_text(PEM)
    config = kc.kafka_client_config(params(security_protocol='SSL', ssl_cafile=str(ca)))
    assert config['ssl_cafile'] == str(ca)
    kc.cleanup_temp_files()
    assert ca.exists()  # only our own temp files are removed


def test_ssl_missing_path_is_named():
    with pytest.raises(kc.KafkaModuleError) as err:
        kc.kafka_client_config(params(security_protocol='SSL', ssl_cafile='/nonexistent/ca.pem'))
    assert "ssl_cafile: '/nonexistent/ca.pem' is neither PEM content nor a readable file" in str(err.value)


# ------------------------------------------------------------ error messages

@pytest.mark.parametrize('exc, fragments', [
    (Errors.SaslAuthenticationFailedError('bad creds'), ['Authentication failed', 'sasl_username']),
    (Errors.IllegalSaslStateError(), ['does not use SASL', 'security_protocol']),
    (Errors.TopicAuthorizationFailedError(), ['Not authorized', 'Topic ACL']),
    (Errors.GroupAuthorizationFailedError(), ['Not authorized', 'Group ACL']),
    (Errors.ClusterAuthorizationFailedError(), ['Not authorized', 'Cluster ACL']),
    (Errors.UnknownTopicOrPartitionError(), ['Unknown topic or partition']),
    (Errors.RequestTimedOutError(), ['Request timed out', 'request_timeout']),
    (Errors.KafkaTimeoutError('Unable to bootstrap from [\'h:1\']'), ['Could not bootstrap', "h:1"]),
    (Errors.KafkaConnectionError('reset'), ['Lost connection', 'advertised.listeners']),
    (Errors.InvalidReplicationFactorError('rf 5 > 3 brokers'), ['Kafka rejected the request', 'rf 5']),
    (kc.KafkaModuleError('already explained'), ['already explained']),
    (ValueError('odd'), ['ValueError: odd']),
])
def test_describe_kafka_error(exc, fragments):
    message = kc.describe_kafka_error(exc, context='Doing it')
    assert message.startswith('Doing it: ')
    for fragment in fragments:
        assert fragment in message


def test_bootstrap_timeout_uses_recorded_connection_errors():
    kc._RECORDER.reset()
    import logging
    logging.getLogger('kafka.net.manager').warning(
        'Bootstrap connection to %s failed: %s (backoff %.2f secs)',
        'bootstrap-0', Errors.SaslAuthenticationFailedError('wrong password'), 0.1)
    message = kc.describe_kafka_error(Errors.KafkaTimeoutError('Unable to bootstrap from [x]'))
    assert message.startswith('Authentication failed')
    assert 'wrong password' in message
    kc._RECORDER.reset()


def test_probe_names_each_unreachable_server():
    import socket
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    with pytest.raises(kc.KafkaModuleError) as err:
        kc.probe_bootstrap_servers(['127.0.0.1:%d' % port], timeout=2)
    assert '127.0.0.1:%d: Connection refused' % port in str(err.value)


def test_probe_passes_when_one_server_listens():
    import socket
    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen(1)
    try:
        kc.probe_bootstrap_servers(['127.0.0.1:1', '127.0.0.1:%d' % listener.getsockname()[1]], timeout=2)
    finally:
        listener.close()


# --------------------------------------------------------- per-item errors

def test_per_item_errors_response_dict_list():
    response = {'topics': [
        {'name': 'ok', 'error_code': 0, 'error_message': None},
        {'name': 'dup', 'error_code': 36, 'error_message': "Topic 'dup' already exists."},
        {'name': 'bad', 'error_code': 38, 'error_message': None},
    ]}
    failures = kc.per_item_errors(response)
    assert failures == [
        ('dup', "TopicAlreadyExistsError: Topic 'dup' already exists."),
        ('bad', 'InvalidReplicationFactorError: %s' % Errors.InvalidReplicationFactorError.description),
    ]


def test_per_item_errors_mapping_shapes():
    assert kc.per_item_errors({'t-0': Errors.NoError, 't-1': None, 'feat': 'OK'}) == []
    assert kc.per_item_errors({'t-0': Errors.NotLeaderForPartitionError}) == [
        ('t-0', 'NotLeaderForPartitionError: %s' % Errors.NotLeaderForPartitionError.description)]
    assert kc.per_item_errors({'topic': {'a': 'OK', 'b': '[Error 40] InvalidConfigurationError: x'}}) == [
        ('topic/b', '[Error 40] InvalidConfigurationError: x')]
    assert kc.per_item_errors({'tp': {'error': Errors.NoError, 'offset': 3}}) == []
    assert kc.per_item_errors({'tp': {'error': Errors.UnknownMemberIdError, 'offset': 3}})[0][0] == 'tp'
    assert kc.per_item_errors([('g1', Errors.NoError()), ('g2', Errors.GroupIdNotFoundError())]) == [
        ('g2', str(Errors.GroupIdNotFoundError()))]


def test_check_per_item_errors_raises_with_all_failures_and_ignores():
    response = {'topics': [{'name': 'a', 'error_code': 36, 'error_message': 'exists'},
                           {'name': 'b', 'error_code': 37, 'error_message': 'bad partitions'}]}
    with pytest.raises(kc.KafkaModuleError) as err:
        kc.check_per_item_errors(response, 'create topics')
    assert str(err.value) == ('Failed to create topics: a: TopicAlreadyExistsError: exists; '
                              'b: InvalidPartitionsError: bad partitions')
    with pytest.raises(kc.KafkaModuleError) as err:
        kc.check_per_item_errors(response, 'create topics', ignore=[Errors.TopicAlreadyExistsError])
    assert 'a: ' not in str(err.value) and 'b: InvalidPartitionsError' in str(err.value)
    ignored = kc.check_per_item_errors(response, 'create topics',
                                       ignore=['TopicAlreadyExistsError', 'InvalidPartitionsError'])
    assert [label for label, _error in ignored] == ['a', 'b']


# ----------------------------------------------------------- quorum helpers

def quorum_response(leader_id=1, voters=None, observers=None, error=None):
    voters = voters if voters is not None else [(1, 100, 5000), (2, 100, 4900), (3, 40, 1000)]
    return {'nodes': [{'node_id': 1, 'listeners': [{'name': 'CONTROLLER', 'host': 'h1', 'port': 9093}]}],
            'topics': [{'topic_name': '__cluster_metadata', 'partitions': [{
                'partition_index': 0, 'error': error, 'leader_id': leader_id, 'leader_epoch': 7,
                'high_watermark': 99,
                'current_voters': [dict(replica_id=i, replica_directory_id=None, log_end_offset=leo,
                                        last_fetch_timestamp=ts, last_caught_up_timestamp=ts)
                                   for i, leo, ts in voters],
                'observers': [dict(replica_id=i, replica_directory_id=uuid.UUID(int=5),
                                   log_end_offset=leo, last_fetch_timestamp=-1,
                                   last_caught_up_timestamp=-1)
                              for i, leo in (observers or [])]}]}]}


def test_summarize_quorum_lags_relative_to_leader():
    quorum = kc.summarize_quorum(quorum_response(observers=[(4, 90)]))
    assert (quorum['leader_id'], quorum['leader_epoch'], quorum['high_watermark']) == (1, 7, 99)
    voters = dict((v['replica_id'], v) for v in quorum['voters'])
    assert voters[1]['status'] == 'Leader' and voters[1]['lag'] == 0 and voters[1]['lag_time_ms'] == 0
    assert voters[2]['lag'] == 0 and voters[2]['lag_time_ms'] == 0  # caught up, just fetched earlier
    assert voters[3]['lag'] == 60 and voters[3]['lag_time_ms'] == 4000
    assert voters[1]['endpoints'] == ['CONTROLLER://h1:9093'] and voters[2]['endpoints'] == []
    assert quorum['max_follower_lag'] == 60 and quorum['max_follower_lag_time_ms'] == 4000
    observer = quorum['observers'][0]
    assert observer['status'] == 'Observer' and observer['lag'] == 10
    assert observer['last_fetch_timestamp'] is None and observer['lag_time_ms'] is None
    assert observer['directory_id'] == 'AAAAAAAAAAAAAAAAAAAABQ'


def test_quorum_problems():
    quorum = kc.summarize_quorum(quorum_response())
    assert kc.quorum_problems(quorum, max_lag=60) == []
    assert kc.quorum_problems(quorum, max_lag=59) == [
        'voter 3 is 60 records behind the leader (max_lag 59), last caught up 4000 ms before the leader']
    assert kc.quorum_problems(quorum, 100, expected_voters=[1, 2, 4]) == [
        'expected voter(s) 4 are not in the quorum (voters: 1, 2, 3)',
        'voter(s) 3 are not in expected_voters 1, 2, 4']
    leaderless = kc.summarize_quorum(quorum_response(leader_id=-1))
    assert leaderless['leader_id'] is None and leaderless['max_follower_lag'] is None
    assert 'no leader' in kc.quorum_problems(leaderless, 10)[0]


def test_quorum_error_is_raised():
    with pytest.raises(kc.KafkaModuleError):
        kc.summarize_quorum(quorum_response(error='NotLeaderOrFollowerError'))


def test_kafka_uuid():
    assert kc.kafka_uuid(None) is None
    assert kc.kafka_uuid(uuid.UUID(int=0)) is None
    assert kc.kafka_uuid(str(uuid.UUID(int=0))) is None
    value = uuid.UUID('7f85873d-785f-4e6a-979e-678c9776a4b9')
    # Kafka's Uuid.toString(): url-safe base64 of the 16 bytes, no padding.
    assert kc.kafka_uuid(value) == kc.kafka_uuid(str(value)) == 'f4WHPXhfTmqXnmeMl3akuQ'
    assert kc.kafka_uuid('f4WHPXhfTmqXnmeMl3akuQ') == 'f4WHPXhfTmqXnmeMl3akuQ'


# ------------------------------------------------------------------ polling

class FakeAdmin(object):
    def __init__(self):
        self.disconnects = 0

    def disconnect(self):
        self.disconnects += 1


def test_poll_once_without_wait_and_errors_propagate():
    calls = []

    def probe(admin):
        calls.append(1)
        return {'n': len(calls)}, ['not yet']
    assert kc.poll_until_ok(probe, FakeAdmin(), wait=False, timeout=60)[:3] == ({'n': 1}, ['not yet'], 1)

    def failing(admin):
        raise Errors.KafkaConnectionError('down')
    with pytest.raises(Errors.KafkaConnectionError):
        kc.poll_until_ok(failing, FakeAdmin(), wait=False, timeout=60)


def test_poll_waits_through_errors_until_ok():
    admin = FakeAdmin()
    outcomes = [Errors.KafkaConnectionError('down'), ({'n': 2}, ['lagging']), ({'n': 3}, [])]

    def probe(admin):
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome
    state, reasons, attempts, elapsed = kc.poll_until_ok(probe, admin, wait=True, timeout=30, interval=0.01)
    assert (state, reasons, attempts) == ({'n': 3}, [], 3)
    assert admin.disconnects == 1  # reconnect after the connection error


def test_poll_gives_up_at_timeout_with_last_reasons():
    state, reasons, attempts, elapsed = kc.poll_until_ok(
        lambda admin: ({'s': 1}, ['still bad']), FakeAdmin(), wait=True, timeout=0.3, interval=0.05)
    assert reasons == ['still bad'] and state == {'s': 1}
    assert attempts >= 2 and elapsed >= 0.3


def test_poll_does_not_hide_programming_errors():
    def broken(admin):
        raise TypeError('bug')
    with pytest.raises(TypeError):
        kc.poll_until_ok(broken, FakeAdmin(), wait=True, timeout=5)


# --------------------------------------------------------------- run_module

def test_run_module_exits_with_returned_dict_without_connecting():
    module = FakeModule()
    with pytest.raises(SystemExit):
        kc.run_module(module, lambda m, admin: {'changed': False, 'connected': admin.connected})
    assert module.exit_args == {'changed': False, 'connected': False}


def test_run_module_turns_errors_into_fail_json():
    module = FakeModule()

    def fn(m, admin):
        raise Errors.TopicAuthorizationFailedError()
    with pytest.raises(SystemExit):
        kc.run_module(module, fn)
    assert module.fail_args['msg'].startswith('Not authorized')


def test_run_module_reports_invalid_options():
    module = FakeModule(security_protocol='SASL_SSL', sasl_password=PASSWORD)
    with pytest.raises(SystemExit):
        kc.run_module(module, lambda m, admin: {})
    assert 'missing: sasl_mechanism, sasl_username' in module.fail_args['msg']
    assert PASSWORD not in str(module.fail_args)


def test_run_module_removes_pem_temp_files():
    module = FakeModule(security_protocol='SSL', ssl_cafile=PEM)
    seen = []

    def fn(m, admin):
        seen.extend(kc._TEMP_FILES)
        return {'changed': False}
    with pytest.raises(SystemExit):
        kc.run_module(module, fn)
    assert len(seen) == 1 and not os.path.exists(seen[0])
    assert module.cleanup_files == seen


def test_run_module_unreachable_cluster_fails_on_first_use():
    module = FakeModule(bootstrap_servers=['127.0.0.1:1'])
    with pytest.raises(SystemExit):
        kc.run_module(module, lambda m, admin: admin.describe_cluster())
    assert module.fail_args['msg'].startswith('Cannot reach any bootstrap server (127.0.0.1:1:')


def test_require_kafka_python_message(monkeypatch):
    monkeypatch.setattr(kc, 'HAS_KAFKA_PYTHON', False)
    module = FakeModule()
    with pytest.raises(SystemExit):
        kc.require_kafka_python(module)
    assert "pip install 'kafka-python>=3.0.12,<4'" in module.fail_args['msg']
    assert sys.executable in module.fail_args['msg']


def test_require_kafka_python_rejects_other_major(monkeypatch):
    monkeypatch.setattr(kc, 'KAFKA_PYTHON_VERSION', '2.0.2')
    assert kc.kafka_python_problem() == (
        'kafka-python 2.0.2 is installed, this collection needs kafka-python>=3.0.12,<4')
    monkeypatch.setattr(kc, 'KAFKA_PYTHON_VERSION', '3.0.11')
    assert kc.kafka_python_problem() is not None
    monkeypatch.setattr(kc, 'KAFKA_PYTHON_VERSION', '3.0.12')
    assert kc.kafka_python_problem() is None
