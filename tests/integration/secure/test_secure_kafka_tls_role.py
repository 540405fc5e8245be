# -*- coding: utf-8 -*-
"""The kafka_tls role on three inventory hosts that are this machine
(connection local, each with its own kafka_tls_dir), and a single-node
secured Kafka that runs on the role's files.
"""

import json
import os
import ssl
import stat
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from kafka_local_cluster import REPO_ROOT, ansible_env
from secure_cluster import SecureKafkaCluster, issue_node_cert, make_ca, node_common_name, pem_cert, pem_key

HOSTS = ['kafka-node-1', 'kafka-node-2', 'kafka-node-3']
FACTS = ('kafka_tls_mode', 'kafka_tls_ca_path', 'kafka_tls_cert_path', 'kafka_tls_key_path',
         'kafka_tls_keystore_path', 'kafka_tls_principal', 'kafka_tls_changed')


# ------------------------------------------------------------------ running the role

class RoleRun(object):
    """Writes an inventory for HOSTS and runs the role; keeps host vars between runs."""

    def __init__(self, base):
        self.base = Path(base)
        self.base.mkdir(parents=True, exist_ok=True)
        self.host_vars = dict((h, {}) for h in HOSTS)

    def node_dir(self, host):
        return self.base / 'nodes' / host / 'tls'

    def _inventory(self):
        group_vars = dict(ansible_connection='local', ansible_python_interpreter=sys.executable,
                          ansible_host='127.0.0.1', kafka_tls_local_dir=str(self.base / 'controller'),
                          kafka_tls_owner='root', kafka_tls_group='root')
        hosts = {}
        for host in HOSTS:
            hosts[host] = dict(self.host_vars[host], kafka_tls_dir=str(self.node_dir(host)))
        path = self.base / 'inventory.json'
        path.write_text(json.dumps({'kafka': {'hosts': hosts, 'vars': group_vars}}))
        return path

    def _playbook(self):
        play = [{'hosts': 'kafka', 'gather_facts': False,
                 'roles': ['kraft.kafka.kafka_tls'],
                 'post_tasks': [{'name': 'report facts', 'ansible.builtin.debug': {
                     'msg': dict((fact, '{{ %s }}' % fact) for fact in FACTS)}}]}]
        path = self.base / 'play.yml'
        path.write_text(json.dumps(play))
        return path

    def run(self):
        """(rc, {host: facts}, {host: changed count}, output)."""
        env = ansible_env(self.base / 'ansible')
        proc = subprocess.run(
            [str(Path(sys.executable).parent / 'ansible-playbook'), '-i', str(self._inventory()),
             str(self._playbook())],
            cwd=str(REPO_ROOT), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            universal_newlines=True, timeout=900, check=False)
        try:
            output = json.loads(proc.stdout[proc.stdout.index('{'):])
        except ValueError:
            raise AssertionError('no JSON from ansible-playbook:\n%s\n%s' % (proc.stdout, proc.stderr))
        facts = {}
        for task in output['plays'][0]['tasks']:
            if task['task']['name'] == 'report facts':
                facts = dict((h, r['msg']) for h, r in task['hosts'].items())
        changed = dict((h, s['changed']) for h, s in output['stats'].items())
        return proc.returncode, facts, changed, output


def failures(output):
    found = []
    for task in output['plays'][0]['tasks']:
        for host, result in task['hosts'].items():
            if result.get('failed'):
                found.append('%s: %s: %s' % (host, task['task']['name'], result.get('msg')))
    return found


@pytest.fixture(scope='module')
def role(tmp_path_factory):
    return RoleRun(tmp_path_factory.mktemp('kafka-tls-role'))


@pytest.fixture(scope='module')
def first_run(role):
    rc, facts, changed, output = role.run()
    assert rc == 0, failures(output)
    return facts, changed


# ------------------------------------------------------------------ helpers

def load_cert(path):
    return x509.load_pem_x509_certificate(Path(path).read_bytes())


def sans(cert):
    ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return sorted(['DNS:%s' % n for n in ext.get_values_for_type(x509.DNSName)]
                  + ['IP:%s' % a for a in ext.get_values_for_type(x509.IPAddress)])


def signed_by(cert, ca):
    key = ca.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        key.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), cert.signature_hash_algorithm)
    else:
        key.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))
    return True


def mode(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


# ------------------------------------------------------------------ generated

def test_generated_files_modes_and_facts(role, first_run):
    facts, changed = first_run
    for host in HOSTS:
        assert changed[host] > 0
        fact = facts[host]
        directory = role.node_dir(host)
        assert fact['kafka_tls_mode'] == 'generated'
        assert fact['kafka_tls_ca_path'] == str(directory / 'ca.pem')
        assert fact['kafka_tls_cert_path'] == str(directory / 'node.pem')
        assert fact['kafka_tls_key_path'] == str(directory / 'node.key')
        assert fact['kafka_tls_keystore_path'] == str(directory / 'keystore.pem')
        assert fact['kafka_tls_principal'] == 'User:CN=%s' % host
        assert fact['kafka_tls_changed'] is True
        assert mode(directory) == 0o750
        assert mode(directory / 'ca.pem') == 0o644
        assert mode(directory / 'node.pem') == 0o644
        assert mode(directory / 'node.key') == 0o640
        assert mode(directory / 'keystore.pem') == 0o640
        assert (directory / 'node.key').read_text().startswith('-----BEGIN PRIVATE KEY-----')
    assert mode(role.base / 'controller') == 0o700
    assert mode(role.base / 'controller' / 'ca.key') == 0o600


def test_generated_certificates_chain_and_sans(role, first_run):
    ca = load_cert(role.node_dir(HOSTS[0]) / 'ca.pem')
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    for host in HOSTS:
        cert = load_cert(role.node_dir(host) / 'node.pem')
        assert cert.subject.rfc4514_string() == 'CN=%s' % host
        assert sans(cert) == ['DNS:%s' % host, 'IP:127.0.0.1']
        assert signed_by(cert, ca)
        usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        assert {u._name for u in usages} >= {'serverAuth', 'clientAuth'}
        # The keystore is a usable key + chain, the way TLS libraries read it.
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(role.node_dir(host) / 'keystore.pem'))


def test_second_run_changes_nothing(role, first_run):
    serials = dict((h, load_cert(role.node_dir(h) / 'node.pem').serial_number) for h in HOSTS)
    rc, facts, changed, output = role.run()
    assert rc == 0, failures(output)
    assert changed == dict((h, 0) for h in HOSTS)
    assert all(facts[h]['kafka_tls_changed'] is False for h in HOSTS)
    assert serials == dict((h, load_cert(role.node_dir(h) / 'node.pem').serial_number) for h in HOSTS)


def test_changed_sans_re_issue_only_that_certificate(role, first_run):
    serials = dict((h, load_cert(role.node_dir(h) / 'node.pem').serial_number) for h in HOSTS)
    role.host_vars['kafka-node-2'] = {'kafka_tls_san_extra': ['localhost', 'DNS:kafka2.example.com', '::1']}
    try:
        rc, facts, changed, output = role.run()
    finally:
        role.host_vars['kafka-node-2'] = {}
    assert rc == 0, failures(output)
    cert = load_cert(role.node_dir('kafka-node-2') / 'node.pem')
    assert sans(cert) == ['DNS:kafka-node-2', 'DNS:kafka2.example.com', 'DNS:localhost', 'IP:127.0.0.1', 'IP:::1']
    assert cert.serial_number != serials['kafka-node-2']
    assert facts['kafka-node-2']['kafka_tls_changed'] is True
    for host in ('kafka-node-1', 'kafka-node-3'):
        assert changed[host] == 0
        assert load_cert(role.node_dir(host) / 'node.pem').serial_number == serials[host]


# ------------------------------------------------------------------ supplied

def test_supplied_pem_is_installed_as_given(role, first_run):
    ca_key, ca_cert = make_ca('supplied test CA')
    key, cert = issue_node_cert(ca_key, ca_cert, 'broker-3.example.com', ['broker-3.example.com'])
    supplied = dict(kafka_tls_cert=pem_cert(cert).decode(), kafka_tls_key=pem_key(key).decode(),
                    kafka_tls_ca=pem_cert(ca_cert).decode())
    role.host_vars['kafka-node-3'] = supplied
    try:
        rc, facts, changed, output = role.run()
        again = role.run()
    finally:
        role.host_vars['kafka-node-3'] = {}
    assert rc == 0, failures(output)
    directory = role.node_dir('kafka-node-3')
    assert facts['kafka-node-3']['kafka_tls_mode'] == 'supplied'
    assert facts['kafka-node-3']['kafka_tls_principal'] == 'User:CN=broker-3.example.com'
    assert (directory / 'node.pem').read_text() == supplied['kafka_tls_cert']
    assert (directory / 'ca.pem').read_text() == supplied['kafka_tls_ca']
    assert (directory / 'node.key').read_text() == supplied['kafka_tls_key']
    assert (directory / 'keystore.pem').read_text() == (
        supplied['kafka_tls_key'] + supplied['kafka_tls_cert'] + supplied['kafka_tls_ca'])
    assert changed['kafka-node-1'] == 0
    assert again[0] == 0 and again[2]['kafka-node-3'] == 0
    assert supplied['kafka_tls_key'].strip().splitlines()[1] not in json.dumps(output)


@pytest.mark.parametrize('problem, message', [
    ('missing_ca', 'must be set together'),
    ('other_key', 'is not the private key of kafka_tls_cert'),
    ('pkcs1_key', 'unencrypted PKCS#8'),
])
def test_bad_supplied_pem_fails_before_installing(role, first_run, problem, message):
    ca_key, ca_cert = make_ca('bad supplied CA')
    key, cert = issue_node_cert(ca_key, ca_cert, 'bad.example.com', ['bad.example.com'])
    other_key, _other_cert = issue_node_cert(ca_key, ca_cert, 'other.example.com', ['other.example.com'])
    supplied = dict(kafka_tls_cert=pem_cert(cert).decode(), kafka_tls_key=pem_key(key).decode(),
                    kafka_tls_ca=pem_cert(ca_cert).decode())
    if problem == 'missing_ca':
        supplied['kafka_tls_ca'] = ''
    elif problem == 'other_key':
        supplied['kafka_tls_key'] = pem_key(other_key).decode()
    else:
        supplied['kafka_tls_key'] = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption()).decode()
    before = (role.node_dir('kafka-node-3') / 'node.pem').read_text()
    role.host_vars['kafka-node-3'] = supplied
    try:
        rc, _facts, _changed, output = role.run()
    finally:
        role.host_vars['kafka-node-3'] = {}
    assert rc != 0
    problems = failures(output)
    assert any(message in p for p in problems), problems
    assert (role.node_dir('kafka-node-3') / 'node.pem').read_text() == before


# ------------------------------------------------------------------ with Kafka

def test_kafka_runs_on_the_role_certificates(role, first_run, tmp_path_factory, run_module):
    """One secured node whose keystore and truststore are the role's files, mTLS controller included."""
    host = node_common_name(1)
    tls = SimpleNamespace(ca_path=role.node_dir(host) / 'ca.pem',
                          keystores={host: role.node_dir(host) / 'keystore.pem'},
                          principals={host: first_run[0][host]['kafka_tls_principal']})
    tls.ca_pem = tls.ca_path.read_text()
    cluster = SecureKafkaCluster(tmp_path_factory.mktemp('kraft-role-tls-cluster'), node_count=1, tls=tls)
    try:
        cluster.start(timeout=300)
        args = cluster.client_args()
        status = run_module('kraft.kafka.kafka_quorum_status', dict(args, wait=True, expected_voters=[1]))
        assert not status['failed'], status.get('msg')
        assert status['healthy']
        topic = run_module('kraft.kafka.kafka_topic', dict(args, name='role-tls-check', replication_factor=1))
        assert not topic['failed'], topic.get('msg')
    finally:
        cluster.stop()
