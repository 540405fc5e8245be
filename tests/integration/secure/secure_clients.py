# -*- coding: utf-8 -*-
"""Client-side helpers for the security tests: produce and consume as a
given SCRAM user, wait for asynchronously applied security changes, and run
a module task with -vvv to inspect everything Ansible prints."""

import json
import os
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from kafka import KafkaConsumer, KafkaProducer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kafka_local_cluster import REPO_ROOT, ansible_env, write_inventory  # noqa: E402

CLIENT_TIMEOUT_MS = 8000
# Credential and ACL changes reach every broker through the metadata log a
# moment after the admin request returns.
PROPAGATION_SECONDS = 30


def unique(prefix):
    return '%s-%s' % (prefix, uuid.uuid4().hex[:8])


# ------------------------------------------------------------ produce/consume

def produce(cluster, username, password, topic, value=b'hello'):
    """Send one record as username and wait for the ack; raise what the client raises."""
    producer = KafkaProducer(acks='all', retries=0, max_block_ms=CLIENT_TIMEOUT_MS,
                             request_timeout_ms=CLIENT_TIMEOUT_MS, bootstrap_timeout_ms=CLIENT_TIMEOUT_MS,
                             **cluster.kafka_python_config(username, password))
    try:
        return producer.send(topic, value).get(timeout=CLIENT_TIMEOUT_MS / 1000.0)
    finally:
        producer.close(timeout=5)


def consume(cluster, username, password, topic, group):
    """Read the topic from the start in group `group` and commit; the values read."""
    consumer = KafkaConsumer(topic, group_id=group, auto_offset_reset='earliest', enable_auto_commit=False,
                             consumer_timeout_ms=CLIENT_TIMEOUT_MS, request_timeout_ms=CLIENT_TIMEOUT_MS,
                             bootstrap_timeout_ms=CLIENT_TIMEOUT_MS,
                             **cluster.kafka_python_config(username, password))
    try:
        values = [record.value for record in consumer]
        consumer.commit()
        return values
    finally:
        consumer.close()


def outcome(action):
    """'ok' or the name of the exception action() raises."""
    try:
        action()
        return 'ok'
    except Exception as exc:  # the error class is what the tests compare
        return type(exc).__name__


def wait_for_outcome(action, expected, timeout=PROPAGATION_SECONDS):
    """Repeat action until outcome(action) is in expected; return the last outcome."""
    expected = (expected,) if isinstance(expected, str) else tuple(expected)
    deadline = time.monotonic() + timeout
    while True:
        result = outcome(action)
        if result in expected or time.monotonic() >= deadline:
            return result
        time.sleep(1)


# ------------------------------------------------------------ raw TLS probe

def api_versions_request(correlation_id=1, client_id=b'kraft-tls-probe'):
    """An ApiVersions v0 request frame: the first thing any Kafka client sends."""
    body = struct.pack('>hhih', 18, 0, correlation_id, len(client_id)) + client_id
    return struct.pack('>i', len(body)) + body


def tls_api_versions(port, cafile, certfile=None, keyfile=None, timeout=10):
    """Bytes a TLS listener answers to ApiVersions (b'' when it closes the connection).

    Raises ssl.SSLError / OSError when the handshake or the connection fails.
    """
    context = ssl.create_default_context(cafile=cafile)
    if certfile:
        context.load_cert_chain(certfile, keyfile)
    with socket.create_connection(('127.0.0.1', port), timeout=timeout) as raw:
        with context.wrap_socket(raw, server_hostname='127.0.0.1') as tls:
            tls.sendall(api_versions_request())
            return tls.recv(4)


# --------------------------------------------------------- verbose ansible

def run_verbose(module_name, args, tmp_dir, check=False):
    """Run one module task with -vvv and the default callback; (rc, stdout + stderr)."""
    tmp_dir = Path(tmp_dir)
    tmp_dir.mkdir(parents=True, exist_ok=True)
    play = [{'hosts': 'localhost', 'gather_facts': False,
             'tasks': [{'name': 'module under test', module_name: args, 'check_mode': bool(check)}]}]
    fd, playbook = tempfile.mkstemp(prefix='play-', suffix='.yml', dir=str(tmp_dir))
    with os.fdopen(fd, 'w') as handle:
        json.dump(play, handle)
    env = ansible_env(tmp_dir)
    env.update(ANSIBLE_STDOUT_CALLBACK='default', ANSIBLE_KEEP_REMOTE_FILES='0')
    try:
        proc = subprocess.run(
            [str(Path(sys.executable).parent / 'ansible-playbook'), '-vvv', '-i',
             str(write_inventory(tmp_dir)), playbook],
            cwd=str(REPO_ROOT), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            universal_newlines=True, timeout=600, check=False)
    finally:
        os.unlink(playbook)
    return proc.returncode, proc.stdout
