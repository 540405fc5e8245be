# -*- coding: utf-8 -*-
"""playbooks/controllers.yml against a real dynamic (KIP-853) quorum.

Own cluster (tests/integration/dynamic_quorum_cluster.py): controllers 1-3 formatted with
--initial-controllers, broker 4, controller 5 formatted with --no-initial-controllers and running
as an observer, like a controller site.yml adds to a running cluster. The inventory points each
host at that node's own config/data/log dirs, so the playbook runs the Kafka CLI exactly as on a
real host. The steps build on each other, so they run as one test, in order.
"""

import pytest

from dynamic_quorum_cluster import DynamicQuorumCluster
from kafka_local_cluster import run_ansible_module
from playbook_runner import run_playbook

PLAYBOOK = 'controllers.yml'
# The test runs as the owner of the processes: no become/runuser to another user needed,
# but runuser -u <self> still works as root; elsewhere skip become.
BASE_VARS = {'kafka_controllers_become': False, 'kafka_controllers_wait_timeout': 120}


@pytest.fixture(scope='module')
def dynamic_cluster(tmp_path_factory):
    cluster = DynamicQuorumCluster(tmp_path_factory.mktemp('dynamic-quorum'))
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


def quorum(cluster, tmp_path, **extra):
    args = dict(bootstrap_servers=cluster.bootstrap_servers)
    args.update(extra)
    return run_ansible_module('kraft.kafka.kafka_quorum_status', args, tmp_dir=tmp_path / 'module')


def voter_ids(result):
    return sorted(v['replica_id'] for v in result['voters'])


def plan_lines(run):
    return run.result('Show the plan')['msg']


def test_controllers_join_and_leave_a_dynamic_quorum(tmp_path, dynamic_cluster):
    cluster = dynamic_cluster
    inventory = cluster.inventory(tmp_path / 'inventory.json')

    before = cluster.describe_status()
    assert cluster.cli_voter_ids(before) == [1, 2, 3]
    assert 5 in cluster.cli_observer_ids(before)

    # --check: the plan, nothing changes.
    planned = run_playbook(tmp_path, PLAYBOOK, BASE_VARS, inventory=inventory, check=True)
    assert planned.rc == 0, planned.log()
    assert planned.changed == 0
    assert 'would add: ctl5' in plan_lines(planned)
    assert cluster.cli_voter_ids(cluster.describe_status()) == [1, 2, 3]

    # The spare controller joins.
    added = run_playbook(tmp_path, PLAYBOOK, BASE_VARS, inventory=inventory)
    assert added.rc == 0, added.log()
    assert added.stats['ctl5']['changed'] == 1 and added.changed == 1, added.log()
    status = cluster.describe_status()
    assert cluster.cli_voter_ids(status) == [1, 2, 3, 5], status
    assert 5 not in cluster.cli_observer_ids(status)
    joined = quorum(cluster, tmp_path, wait=True, wait_timeout=60, expected_voters=[1, 2, 3, 5])
    assert joined['healthy'], joined
    new_voter = [v for v in joined['voters'] if v['replica_id'] == 5][0]
    # The voter is the on-disk log directory of node 5, not some other incarnation.
    assert new_voter['directory_id'] == cluster.meta_properties(5)['directory.id']
    assert new_voter['lag'] is not None and new_voter['lag'] <= 10

    again = run_playbook(tmp_path, PLAYBOOK, BASE_VARS, inventory=inventory)
    assert again.rc == 0 and again.changed == 0, again.log()

    # Remove the active controller itself: Kafka commits the new voter set, the
    # leader resigns and the others elect a new one; the gate waits through it.
    leader = joined['leader_id']
    leader_host = 'ctl%d' % leader
    remove_vars = dict(BASE_VARS, kafka_remove_controllers=[leader_host])
    removed = run_playbook(tmp_path, PLAYBOOK, remove_vars, inventory=inventory)
    assert removed.rc == 0, removed.log()
    assert removed.stats[leader_host]['changed'] == 1 and removed.changed == 1, removed.log()
    remaining = sorted(set([1, 2, 3, 5]) - set([leader]))
    status = cluster.describe_status()
    assert cluster.cli_voter_ids(status) == remaining, status
    assert int(status['LeaderId']) in remaining
    # Still running, the removed controller follows the log as an observer.
    assert leader in cluster.cli_observer_ids(status)

    again = run_playbook(tmp_path, PLAYBOOK, remove_vars, inventory=inventory)
    assert again.rc == 0 and again.changed == 0, again.log()
    assert 'remove: nothing' in plan_lines(again)

    # Never below three voters without kafka_controllers_allow_small_quorum.
    too_many = dict(BASE_VARS, kafka_remove_controllers=[leader_host, 'ctl%d' % remaining[0]])
    refused = run_playbook(tmp_path, PLAYBOOK, too_many, inventory=inventory)
    assert refused.rc != 0 and refused.changed == 0
    assert 'fewer than 3 voters' in refused.result('Refuse what cannot be done safely')['msg']
    assert cluster.cli_voter_ids(cluster.describe_status()) == remaining

    # A static quorum is refused before anything is read or changed.
    static = run_playbook(tmp_path, PLAYBOOK, dict(BASE_VARS, kafka_quorum_mode='static'), inventory=inventory)
    assert static.rc != 0 and static.changed == 0
    assert 'static quorum' in static.result('Refuse a static quorum')['msg']

    # The cluster stayed healthy throughout: quorum caught up, broker unfenced.
    final = quorum(cluster, tmp_path, wait=True, wait_timeout=60, expected_voters=remaining)
    assert final['healthy'], final
    health = run_ansible_module('kraft.kafka.kafka_cluster_health',
                                dict(bootstrap_servers=cluster.bootstrap_servers, wait=True, wait_timeout=60,
                                     expected_brokers=[4]),
                                tmp_dir=tmp_path / 'module')
    assert health['healthy'] and not health['failed'], health
