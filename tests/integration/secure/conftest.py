# -*- coding: utf-8 -*-
"""Fixtures for tests against a secured local three-node KRaft cluster.

secure_kafka_cluster  (session) SecureKafkaCluster (see secure_cluster.py):
                      SASL_SSL/SCRAM-SHA-512 client and inter-broker
                      listeners, an mTLS controller listener, the
                      StandardAuthorizer and a random admin password.
                      client_args(username, password, cafile) gives module
                      connection options, kafka_python_config(...) kwargs
                      for kafka-python clients.
admin_args            (function) module connection options as the admin.
secure_admin          (session) a kafka-python KafkaAdminClient as the admin.

run_module comes from tests/integration/conftest.py.
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from secure_cluster import SecureKafkaCluster  # noqa: E402

START_TIMEOUT_SECONDS = 600


@pytest.fixture(scope='session')
def secure_kafka_cluster(tmp_path_factory):
    cluster = SecureKafkaCluster(tmp_path_factory.mktemp('kraft-secure-cluster'))
    try:
        cluster.start(timeout=START_TIMEOUT_SECONDS)
        yield cluster
    finally:
        cluster.stop()
        for warning in cluster.warnings:
            sys.stderr.write('secure_kafka_cluster teardown: %s\n' % warning)


@pytest.fixture
def admin_args(secure_kafka_cluster):
    return secure_kafka_cluster.client_args()


@pytest.fixture(scope='session')
def secure_admin(secure_kafka_cluster):
    from kafka.admin import KafkaAdminClient
    client = KafkaAdminClient(client_id='kraft-kafka-secure-tests', request_timeout_ms=15000,
                              **secure_kafka_cluster.kafka_python_config())
    yield client
    client.close()
