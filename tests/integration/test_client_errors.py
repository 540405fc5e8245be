# -*- coding: utf-8 -*-
"""Error battery of the shared client layer (module_utils/kafka_client.py),
exercised through a real module run by Ansible."""

import glob
import json
import os
import socket
import tempfile
import time

MODULE = 'kraft.kafka.kafka_quorum_status'
PASSWORD = 'Sup3r-S3cret-Passw0rd'
NOT_A_CERT = '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n'


def closed_port():
    """A port nothing listens on (bound, then released)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def assert_secret_not_leaked(result):
    dumped = json.dumps(result)
    assert PASSWORD not in dumped
    assert PASSWORD not in result.get('_stderr', '')


def test_unreachable_bootstrap_fails_fast_with_servers_named(run_module):
    servers = ['127.0.0.1:%d' % closed_port(), '127.0.0.1:%d' % closed_port()]
    started = time.monotonic()
    # request_timeout stays at its default of 30 s: failing fast must not
    # depend on the user lowering it.
    result = run_module(MODULE, {'bootstrap_servers': servers})
    took = time.monotonic() - started
    assert result['failed'] is True
    assert took < 25, 'took %.1fs, slower than the 30s request timeout allows for' % took
    msg = result['msg']
    assert msg.startswith('Cannot reach any bootstrap server')
    for server in servers:
        assert '%s: Connection refused' % server in msg
    assert 'advertised.listeners' in msg and 'firewall' in msg


def test_unresolvable_bootstrap_host_is_named(run_module):
    result = run_module(MODULE, {'bootstrap_servers': ['kraft-kafka-no-such-host.invalid:9092']})
    assert result['failed'] is True
    assert 'kraft-kafka-no-such-host.invalid:9092: name does not resolve' in result['msg']


def test_controller_listener_is_not_a_bootstrap_server(kafka_cluster, run_module):
    controller = '127.0.0.1:%d' % kafka_cluster.nodes[0].controller_port
    result = run_module(MODULE, {'bootstrap_servers': [controller], 'request_timeout': 10})
    assert result['failed'] is True
    assert 'not controller listeners' in result['msg'], result['msg']


def test_bad_bootstrap_entry(run_module):
    result = run_module(MODULE, {'bootstrap_servers': ['broker1:notaport']})
    assert result['failed'] is True
    assert "bootstrap_servers entry 'broker1:notaport' is not host:port" in result['msg']


def test_sasl_options_incomplete_names_what_is_missing(run_module):
    result = run_module(MODULE, {'bootstrap_servers': ['127.0.0.1:9092'],
                                 'security_protocol': 'SASL_PLAINTEXT', 'sasl_mechanism': 'PLAIN',
                                 'sasl_username': 'admin'})
    assert result['failed'] is True
    assert result['msg'].startswith('security_protocol=SASL_PLAINTEXT needs')
    assert 'missing: sasl_password.' in result['msg']

    result = run_module(MODULE, {'bootstrap_servers': ['127.0.0.1:9092'],
                                 'security_protocol': 'SASL_SSL', 'sasl_password': PASSWORD})
    assert result['failed'] is True
    assert 'missing: sasl_mechanism, sasl_username.' in result['msg']
    assert_secret_not_leaked(result)


def test_password_without_sasl_protocol_is_rejected_and_not_echoed(run_module):
    result = run_module(MODULE, {'bootstrap_servers': ['127.0.0.1:9092'], 'sasl_username': 'admin',
                                 'sasl_password': PASSWORD})
    assert result['failed'] is True
    assert 'sasl_username, sasl_password given but security_protocol=PLAINTEXT' in result['msg']
    assert_secret_not_leaked(result)


def test_sasl_against_plaintext_listener_fails_without_echoing_password(kafka_cluster, run_module):
    result = run_module(MODULE, {'bootstrap_servers': kafka_cluster.bootstrap_servers,
                                 'security_protocol': 'SASL_PLAINTEXT',
                                 'sasl_mechanism': 'SCRAM-SHA-512', 'sasl_username': 'admin',
                                 'sasl_password': PASSWORD, 'request_timeout': 5})
    assert result['failed'] is True
    assert 'security_protocol' in result['msg']  # the hint that fixes it
    assert_secret_not_leaked(result)
    assert result['invocation']['module_args']['sasl_password'] == 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'


def test_tls_options_need_a_tls_protocol(run_module):
    result = run_module(MODULE, {'bootstrap_servers': ['127.0.0.1:9092'], 'ssl_cafile': NOT_A_CERT,
                                 'ssl_keyfile_password': PASSWORD})
    assert result['failed'] is True
    assert 'ssl_cafile, ssl_keyfile_password given but security_protocol=PLAINTEXT' in result['msg']
    assert_secret_not_leaked(result)


def test_missing_ca_file_is_named(run_module):
    result = run_module(MODULE, {'bootstrap_servers': ['127.0.0.1:9092'], 'security_protocol': 'SSL',
                                 'ssl_cafile': '/nonexistent/kraft-ca.pem'})
    assert result['failed'] is True
    assert "ssl_cafile: '/nonexistent/kraft-ca.pem' is neither PEM content nor a readable file" \
        in result['msg']


def test_pem_content_temp_file_is_removed(kafka_cluster, run_module):
    pattern = os.path.join(tempfile.gettempdir(), 'kraft-kafka-ssl-cafile-*')
    before = set(glob.glob(pattern))
    result = run_module(MODULE, {'bootstrap_servers': kafka_cluster.bootstrap_servers,
                                 'security_protocol': 'SSL', 'ssl_cafile': NOT_A_CERT,
                                 'request_timeout': 5})
    assert result['failed'] is True
    # The bogus CA was written to a temp file and handed to the TLS layer...
    assert 'TLS handshake failed' in result['msg'], result['msg']
    # ...which is gone once the module has exited.
    assert set(glob.glob(pattern)) - before == set()
