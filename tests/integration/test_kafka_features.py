# -*- coding: utf-8 -*-
"""kraft.kafka.kafka_features on a cluster in the middle of a rolling upgrade from Kafka 4.0 to 4.4.

The cluster of these tests is formatted at release 4.0 (metadata.version 4.0-IV3); nodes 1 and 2
run Kafka 4.4.0 and node 3 still runs Kafka 4.0.0. The module must refuse to finalize 4.4 while
node 3 runs 4.0, and finalize it once node 3 is upgraded too. Every level is cross-checked with
`kafka-features.sh describe`.

The tests run in file order: the second one upgrades node 3.
"""

import re
import sys

import pytest

from kafka_local_cluster import REPO_ROOT, KafkaLocalCluster, kafka_archive, unpack_kafka

MODULE = 'kraft.kafka.kafka_features'
OLD_VERSION = '4.0.0'
NEW_VERSION = '4.4.0'
OLD_RELEASE = '4.0'
STRAGGLER = 3


class RollingUpgradeCluster(KafkaLocalCluster):
    """The fixture's cluster with a Kafka version per node, formatted at an older release."""

    def __init__(self, base_dir, versions, release_version):
        KafkaLocalCluster.__init__(self, base_dir, version=NEW_VERSION)
        self.release_version = release_version
        self.homes = {}
        self.node_versions = dict(versions)

    def _unpack_distributions(self):
        for version in sorted(set(self.node_versions.values())):
            self.homes[version] = unpack_kafka(kafka_archive(version), self.base_dir / ('dist-' + version))
        self.home = self.homes[NEW_VERSION]  # the CLI tools

    def node_home(self, node_id):
        return self.homes[self.node_versions[node_id]]

    def _format_command(self, node):
        """Each node formats with its own Kafka, at the old release version."""
        return KafkaLocalCluster._format_command(self, node) + ['--release-version', self.release_version]

    def start_node(self, node_id):
        # The parent starts bin/kafka-server-start.sh of self.home; point it at the node's Kafka.
        cli_home, self.home = self.home, self.node_home(node_id)
        try:
            return KafkaLocalCluster.start_node(self, node_id)
        finally:
            self.home = cli_home

    def upgrade_node(self, node_id, version):
        """Rolling-upgrade step: stop the node, switch its Kafka, start it, wait until it serves."""
        self.stop_node(node_id)
        self.node_versions[node_id] = version
        self.start_node(node_id)
        self.wait_until_serving()


@pytest.fixture(scope='module')
def cluster(tmp_path_factory):
    versions = {1: NEW_VERSION, 2: NEW_VERSION, STRAGGLER: OLD_VERSION}
    local = RollingUpgradeCluster(tmp_path_factory.mktemp('features-cluster'), versions, OLD_RELEASE)
    try:
        local.start()
        yield local
    finally:
        local.stop()


@pytest.fixture
def features(run_module, cluster):
    def _run(check=False, **options):
        args = {'bootstrap_servers': cluster.bootstrap_servers}
        args.update(options)
        return run_module(MODULE, args, check=check)
    return _run


def cli_features(cluster):
    """{feature: {'finalized': ..., 'supported_max': ...}} from kafka-features.sh describe (levels as printed)."""
    out = cluster.cli('kafka-features.sh', '--bootstrap-server', cluster.bootstrap, 'describe').stdout
    found = {}
    for line in out.splitlines():
        match = re.match(r'Feature:\s*(\S+)\s+SupportedMinVersion:\s*(\S+)\s+SupportedMaxVersion:\s*(\S+)\s+'
                         r'FinalizedVersionLevel:\s*(\S+)', line)
        if match:
            found[match.group(1)] = dict(supported_max=match.group(3), finalized=match.group(4))
    assert 'metadata.version' in found, out
    return found


def cli_levels(cluster):
    """Finalized levels as numbers; metadata.version stays a name such as 4.0-IV3."""
    return dict((name, info['finalized'] if name == 'metadata.version' else int(info['finalized']))
                for name, info in cli_features(cluster).items())


def module_levels(result):
    levels = dict(result['finalized'])
    levels['metadata.version'] = result['metadata_version']
    return levels


def assert_levels_match_cli(result, cluster):
    """The module's levels equal the CLI's for every feature the CLI lists.

    kafka-features.sh lists only the features of the broker it happens to ask; a Kafka 4.0 broker
    knows fewer than a 4.4 one. The module lists every feature any broker knows, so each extra one
    must be unfinalized (level 0).
    """
    module, cli = module_levels(result), cli_levels(cluster)
    assert dict((name, module.get(name)) for name in cli) == cli
    assert dict((name, level) for name, level in module.items() if name not in cli) == \
        dict((name, 0) for name in module if name not in cli)


def broker(result, broker_id):
    return next(b for b in result['brokers'] if b['id'] == broker_id)


# ------------------------------------------------------------------- tests

def test_refuses_to_finalize_while_a_node_runs_the_older_kafka(features, cluster):
    described = features()
    assert not described['failed'], described.get('msg')
    assert (described['changed'], described['updates'], described['target']) == (False, [], {})
    assert described['metadata_version'] == '4.0-IV3' and described['finalized']['metadata.version'] == 25
    assert_levels_match_cli(described, cluster)
    # Kafka 4.0 supports metadata.version up to 4.0-IV3 (25), Kafka 4.4 up to 4.4-IV2 (33).
    assert broker(described, STRAGGLER)['supported']['metadata.version']['max'] == 25
    assert broker(described, 1)['supported']['metadata.version']['max'] == 33
    assert described['supported']['metadata.version']['max'] == 25

    for check in (True, False):
        refused = features(release_version='4.4', check=check)
        assert refused['failed'] is True and refused['changed'] is False
        assert 'broker(s) %d' % STRAGGLER in refused['msg'] and 'older Kafka' in refused['msg']
        assert '33 (4.4-IV2)' in refused['msg'] and '25 (4.0-IV3)' in refused['msg']
    assert cli_features(cluster)['metadata.version']['finalized'] == '4.0-IV3'


def test_finalizes_the_new_release_once_every_node_runs_it(features, cluster):
    cluster.upgrade_node(STRAGGLER, NEW_VERSION)
    before = cli_levels(cluster)
    assert before['metadata.version'] == '4.0-IV3'
    # Keep the static quorum of the test cluster: kraft.version stays 0.
    options = dict(release_version='4.4', features={'kraft.version': 0})

    planned = features(check=True, **options)
    assert not planned['failed'], planned.get('msg')
    assert planned['changed'] is True and planned['metadata_version'] == '4.4-IV2'
    assert {'feature': 'metadata.version', 'from': 25, 'to': 33, 'type': 'upgrade'} in planned['updates']
    assert 'kraft.version' not in [u['feature'] for u in planned['updates']]
    assert cli_levels(cluster) == before  # validate_only changed nothing

    applied = features(**options)
    assert not applied['failed'], applied.get('msg')
    assert applied['changed'] is True
    assert (applied['metadata_version_before'], applied['metadata_version']) == ('4.0-IV3', '4.4-IV2')
    after = cli_levels(cluster)
    assert after == module_levels(applied)
    # The levels `kafka-features.sh version-mapping --release-version 4.4` lists, except kraft.version.
    assert after == {'metadata.version': '4.4-IV2', 'kraft.version': 0, 'transaction.version': 2,
                     'group.version': 1, 'eligible.leader.replicas.version': 1, 'share.version': 2,
                     'streams.version': 1}

    again = features(**options)
    assert not again['failed'], again.get('msg')
    assert (again['changed'], again['updates']) == (False, [])


def test_release_table_matches_kafka_features_version_mapping(cluster):
    """The module's table gives the levels Kafka's own tool prints for every 4.x release."""
    # Where ansible.cfg (and tools/venv.sh) make this checkout importable as kraft.kafka.
    sys.path.insert(0, str(REPO_ROOT / '.cache' / 'collections'))
    from ansible_collections.kraft.kafka.plugins.modules.kafka_features import release_targets  # noqa: E402

    for release in ('3.9', '4.0', '4.1', '4.2', '4.3', '4.4'):
        out = cluster.cli('kafka-features.sh', 'version-mapping', '--release-version', release).stdout
        expected = dict((name, int(level)) for name, level in re.findall(r'^(\S+)=(\d+)', out, re.M))
        assert release_targets(release) == expected, release


def test_refuses_downgrades_unless_allowed(features, cluster):
    refused = features(release_version='3.9')
    assert refused['failed'] is True and 'Refusing to downgrade' in refused['msg']
    assert 'allow_downgrade' in refused['msg']

    # Allowed by the module, but Kafka 4.x cannot lower metadata.version: its refusal is reported.
    allowed = features(check=True, features={'metadata.version': '4.3'}, allow_downgrade=True,
                       downgrade_type='unsafe')
    assert allowed['failed'] is True
    assert 'metadata.version downgrade' in allowed['msg']
    assert cli_features(cluster)['metadata.version']['finalized'] != '4.3-IV0'


def test_unknown_release_and_feature_are_explained(features):
    unknown_release = features(release_version='9.9')
    assert unknown_release['failed'] is True and '4.4' in unknown_release['msg']
    unknown_feature = features(features={'no.such.version': 1})
    assert unknown_feature['failed'] is True and 'no.such.version' in unknown_feature['msg']
