# -*- coding: utf-8 -*-
"""Fixtures for module tests against a real local three-node KRaft cluster.

kafka_cluster  (session) KafkaLocalCluster: bootstrap_servers, bootstrap,
               controller_bootstrap, cluster_id, home, nodes, stop_node(id),
               start_node(id), wait_until_serving(), ensure_all_running(),
               cli(tool, *args).
run_module     (function) run_module(name, args, check=False, diff=False)
               -> the module's result dict, run through ansible-playbook.
connection_args (function) the bootstrap_servers option for the cluster.
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from kafka_local_cluster import KafkaLocalCluster, run_ansible_module  # noqa: E402


@pytest.fixture(scope='session')
def kafka_cluster(tmp_path_factory):
    cluster = KafkaLocalCluster(tmp_path_factory.mktemp('kraft-cluster'))
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        for warning in cluster.warnings:
            sys.stderr.write('kafka_cluster teardown: %s\n' % warning)


@pytest.fixture
def run_module(tmp_path):
    """run_module('kraft.kafka.kafka_topic', {...}, check=False, diff=False) -> result dict."""
    def _run(module_name, args, check=False, diff=False, timeout=600):
        return run_ansible_module(module_name, args, check=check, diff=diff,
                                  tmp_dir=tmp_path / 'ansible', timeout=timeout)
    return _run


@pytest.fixture
def connection_args(kafka_cluster):
    return {'bootstrap_servers': kafka_cluster.bootstrap_servers}
