# -*- coding: utf-8 -*-
"""A secured three-node KRaft cluster on 127.0.0.1 for the security tests.

Same process model as KafkaLocalCluster (combined broker+controller nodes,
ports chosen at run time), with the security setup the roles are meant to
render:

  CLIENT      SASL_SSL, SCRAM-SHA-512   clients (advertised)
  INTERNAL    SASL_SSL, SCRAM-SHA-512   inter-broker traffic, as User:admin
  CONTROLLER  SSL with client certificates required (mutual TLS); the
              principal is the certificate's DN, e.g. User:CN=kafka-node-1

StandardAuthorizer denies everything without an ACL; User:admin and the
node principals are super users. The admin SCRAM credential is written into
the metadata log at format time (kafka-storage format --add-scram), so the
cluster is secured from its first start.

TLS: a private CA and one certificate per node (SAN IP:127.0.0.1 and
DNS:localhost, EKU serverAuth+clientAuth), as PEM keystore/truststore files.
Passwords are random per run; files holding keys or secrets are 0600.
"""

import datetime
import ipaddress
import os
import secrets
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kafka_local_cluster import (  # noqa: E402
    ClusterError,
    KafkaLocalCluster,
    free_ports,
)

ADMIN_USER = 'admin'
SCRAM_MECHANISM = 'SCRAM-SHA-512'
SCRAM_LOGIN_MODULE = 'org.apache.kafka.common.security.scram.ScramLoginModule'
STANDARD_AUTHORIZER = 'org.apache.kafka.metadata.authorizer.StandardAuthorizer'
CLIENT_LISTENER = 'CLIENT'
INTERNAL_LISTENER = 'INTERNAL'
CONTROLLER_LISTENER = 'CONTROLLER'
CERT_VALID_DAYS = 30
SCRAM_ITERATIONS = 8192


# --------------------------------------------------------------------- files

def write_private(path, data):
    """Write data to path readable by the owner only (0600 from creation on)."""
    path = Path(path)
    if isinstance(data, str):
        data = data.encode('utf-8')
    fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'wb') as handle:
        handle.write(data)
    os.chmod(str(path), 0o600)  # O_CREAT's mode does not apply to an existing file
    return path


def write_public(path, data):
    Path(path).write_bytes(data if isinstance(data, bytes) else data.encode('utf-8'))
    os.chmod(str(path), 0o644)
    return Path(path)


def random_password():
    """URL-safe, so it needs no quoting in JAAS or the --add-scram syntax."""
    return secrets.token_urlsafe(24)


# ------------------------------------------------------------------------ TLS

def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _validity(builder, days):
    now = datetime.datetime.now(datetime.timezone.utc)
    return builder.not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(
        now + datetime.timedelta(days=days))


def new_key():
    # P-256: fast to generate, supported by Java's PEM keystore and Python's ssl.
    return ec.generate_private_key(ec.SECP256R1())


def make_ca(common_name):
    """(key, certificate) of a self-signed CA that may only sign end-entity certs."""
    key = new_key()
    builder = _validity(x509.CertificateBuilder(), CERT_VALID_DAYS)
    cert = (builder.subject_name(_name(common_name)).issuer_name(_name(common_name))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return key, cert


def _subject_alt_names(sans):
    names = []
    for san in sans:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(san)))
        except ValueError:
            names.append(x509.DNSName(san))
    return x509.SubjectAlternativeName(names)


def issue_node_cert(ca_key, ca_cert, common_name, sans):
    """(key, certificate) for a Kafka node: server and client auth (mutual TLS)."""
    key = new_key()
    builder = _validity(x509.CertificateBuilder(), CERT_VALID_DAYS)
    cert = (builder.subject_name(_name(common_name)).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_subject_alt_names(sans), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                                  ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    return key, cert


def pem_cert(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def pem_key(key):
    """Unencrypted PKCS#8, the key format Kafka's PEM keystore reads."""
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


class TlsFiles(object):
    """The CA and per-node PEM files of one cluster under `directory`.

    What a cluster needs from it: ca_path, keystores[name] (PEM keystore
    path) and principals[name], name being node_common_name(node id).
    """

    def __init__(self, directory, node_names, sans=('127.0.0.1', 'localhost')):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        os.chmod(str(self.dir), 0o700)
        ca_key, ca_cert = make_ca('kraft.kafka test CA')
        self.ca_path = write_public(self.dir / 'ca.pem', pem_cert(ca_cert))
        write_private(self.dir / 'ca.key', pem_key(ca_key))
        self.keystores = {}
        self.principals = {}
        for name in node_names:
            key, cert = issue_node_cert(ca_key, ca_cert, name, sans)
            # Kafka's PEM keystore file: the private key followed by the chain.
            self.keystores[name] = write_private(self.dir / ('%s.keystore.pem' % name),
                                                 pem_key(key) + pem_cert(cert) + pem_cert(ca_cert))
            write_public(self.dir / ('%s.pem' % name), pem_cert(cert))
            # The SSL principal Kafka derives without ssl.principal.mapping.rules
            # is the RFC 2253 subject DN.
            self.principals[name] = 'User:CN=%s' % name

    @property
    def ca_pem(self):
        return self.ca_path.read_text()


# -------------------------------------------------------------------- cluster

def node_common_name(node_id):
    return 'kafka-node-%d' % node_id


class SecureKafkaCluster(KafkaLocalCluster):
    """Three combined KRaft nodes behind TLS, SCRAM and the StandardAuthorizer."""

    def __init__(self, base_dir, version=None, node_count=3, tls=None):
        """tls: TLS material made elsewhere (see TlsFiles); default: a new CA per cluster."""
        KafkaLocalCluster.__init__(self, base_dir, version=version, node_count=node_count)
        taken = set(p for n in self.nodes for p in (n.broker_port, n.controller_port))
        extra = [p for p in free_ports(node_count + len(taken)) if p not in taken][:node_count]
        if len(extra) < node_count:
            raise ClusterError('could not find %d more free ports' % node_count)
        for node, port in zip(self.nodes, extra):
            node.internal_port = port  # broker_port is the CLIENT listener
        self.admin_user = ADMIN_USER
        self.admin_password = random_password()
        self.tls = tls

    # -------------------------------------------------------------- addresses

    @property
    def internal_bootstrap_servers(self):
        return ['127.0.0.1:%d' % n.internal_port for n in self.nodes]

    @property
    def ca_path(self):
        return str(self.tls.ca_path)

    @property
    def super_users(self):
        principals = ['User:%s' % self.admin_user]
        principals.extend(self.tls.principals[node_common_name(n.id)] for n in self.nodes)
        return principals

    def client_args(self, username=None, password=None, cafile=None):
        """Connection options of the kraft.kafka modules for the CLIENT listener."""
        return dict(bootstrap_servers=self.bootstrap_servers, security_protocol='SASL_SSL',
                    sasl_mechanism=SCRAM_MECHANISM,
                    sasl_username=username or self.admin_user,
                    sasl_password=password or self.admin_password,
                    ssl_cafile=cafile or self.ca_path)

    def kafka_python_config(self, username=None, password=None, **extra):
        """kwargs for kafka-python clients (producer, consumer, admin) as `username`."""
        config = dict(bootstrap_servers=self.bootstrap_servers, security_protocol='SASL_SSL',
                      sasl_mechanism=SCRAM_MECHANISM,
                      sasl_plain_username=username or self.admin_user,
                      sasl_plain_password=password or self.admin_password,
                      ssl_cafile=self.ca_path, ssl_check_hostname=True)
        config.update(extra)
        return config

    # ---------------------------------------------------------- configuration

    def _listeners(self, node):
        return ','.join([
            '%s://127.0.0.1:%d' % (CLIENT_LISTENER, node.broker_port),
            '%s://127.0.0.1:%d' % (INTERNAL_LISTENER, node.internal_port),
            '%s://127.0.0.1:%d' % (CONTROLLER_LISTENER, node.controller_port),
        ])

    def _security_settings(self, node):
        keystore = self.tls.keystores[node_common_name(node.id)]
        client_jaas = '%s required;' % SCRAM_LOGIN_MODULE
        # The inter-broker listener's JAAS entry doubles as the client login
        # the brokers use towards each other.
        internal_jaas = '%s required username="%s" password="%s";' % (
            SCRAM_LOGIN_MODULE, self.admin_user, self.admin_password)
        return [
            ('listener.security.protocol.map', '%s:SASL_SSL,%s:SASL_SSL,%s:SSL'
             % (CLIENT_LISTENER, INTERNAL_LISTENER, CONTROLLER_LISTENER)),
            ('inter.broker.listener.name', INTERNAL_LISTENER),
            ('controller.listener.names', CONTROLLER_LISTENER),
            ('sasl.enabled.mechanisms', SCRAM_MECHANISM),
            ('sasl.mechanism.inter.broker.protocol', SCRAM_MECHANISM),
            ('listener.name.client.scram-sha-512.sasl.jaas.config', client_jaas),
            ('listener.name.internal.scram-sha-512.sasl.jaas.config', internal_jaas),
            ('ssl.keystore.type', 'PEM'),
            ('ssl.keystore.location', keystore),
            ('ssl.truststore.type', 'PEM'),
            ('ssl.truststore.location', self.tls.ca_path),
            ('ssl.endpoint.identification.algorithm', 'https'),
            # Without a client certificate the controller listener's principal
            # would be User:ANONYMOUS, which may not register brokers or vote.
            ('listener.name.controller.ssl.client.auth', 'required'),
            ('authorizer.class.name', STANDARD_AUTHORIZER),
            ('allow.everyone.if.no.acl.found', 'false'),
            ('super.users', ';'.join(self.super_users)),
        ]

    def _server_properties(self, node):
        plain = KafkaLocalCluster._server_properties(self, node)
        replaced = ('listeners', 'advertised.listeners', 'inter.broker.listener.name',
                    'controller.listener.names', 'listener.security.protocol.map')
        kept = [line for line in plain.splitlines() if line.split('=', 1)[0] not in replaced]
        settings = [('listeners', self._listeners(node)), ('advertised.listeners', self._listeners(node))]
        settings.extend(self._security_settings(node))
        return '\n'.join(kept) + '\n' + ''.join('%s=%s\n' % (k, v) for k, v in settings)

    def _write_config(self, node):
        KafkaLocalCluster._write_config(self, node)
        # It holds the inter-broker SCRAM password.
        os.chmod(str(node.config_file), 0o600)

    # --------------------------------------------------------------- storage

    def _format_command(self, node):
        scram = '%s=[name=%s,password=%s,iterations=%d]' % (
            SCRAM_MECHANISM, self.admin_user, self.admin_password, SCRAM_ITERATIONS)
        return KafkaLocalCluster._format_command(self, node) + ['--add-scram', scram]

    # -------------------------------------------------------------- lifecycle

    def start(self, timeout=600):
        if self.tls is None:
            self.tls = TlsFiles(self.base_dir / 'tls', [node_common_name(n.id) for n in self.nodes])
        return KafkaLocalCluster.start(self, timeout)

    def _admin(self, timeout_ms=5000):
        from kafka.admin import KafkaAdminClient
        running = [n.bootstrap for n in self.nodes if n.running]
        return KafkaAdminClient(client_id='kraft-kafka-secure-tests', request_timeout_ms=timeout_ms,
                                bootstrap_timeout_ms=timeout_ms,
                                **self.kafka_python_config(bootstrap_servers=running))

    def describe(self):
        info = KafkaLocalCluster.describe(self)
        info.update(ca_path=self.ca_path, super_users=self.super_users,
                    internal_bootstrap=','.join(self.internal_bootstrap_servers))
        return info
