# -*- coding: utf-8 -*-
"""The version table (which release reads which metadata.version) and the version guard's decisions."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.kraft.kafka.plugins.filter.kafka_versions import kafka_version_guard
from ansible_collections.kraft.kafka.plugins.module_utils import kafka_versions as kv

# Kafka's latest production metadata.version per 4.x release (kafka-4x-facts.md, MetadataVersion).
HIGHEST_READ = [
    ('4.0.0', 25, '4.0-IV3'), ('4.0.2', 25, '4.0-IV3'),
    ('4.1.0', 27, '4.1-IV1'), ('4.1.2', 27, '4.1-IV1'),
    ('4.2.0', 29, '4.2-IV1'), ('4.2.1', 29, '4.2-IV1'),
    ('4.3.0', 30, '4.3-IV0'), ('4.3.1', 30, '4.3-IV0'),
    ('4.4.0', 33, '4.4-IV2'),
]


def host(name='kafka1', installed='4.4.0', target='4.0.0', kip1170=False):
    return {'name': name, 'installed': installed, 'target': target,
            'storage_without_bootstrap_checkpoint': kip1170, 'metadata_dir': '/var/lib/kafka/kafka'}


@pytest.mark.parametrize('release,level,name', HIGHEST_READ)
def test_each_4x_release_reads_up_to_its_last_production_level(release, level, name):
    assert kv.highest_level_read_by(release) == level
    assert kv.metadata_version_name(level) == name


def test_a_release_newer_than_the_table_claims_nothing_beyond_it():
    assert kv.highest_level_read_by('4.5.0') is None
    assert kv.highest_level_read_by('5.0.0') is None


def test_not_a_version_is_an_error():
    with pytest.raises(ValueError):
        kv.highest_level_read_by('latest')


@pytest.mark.parametrize('release,level,_name', HIGHEST_READ)
def test_rollback_allowed_while_the_level_is_readable(release, level, _name):
    verdict = kafka_version_guard([host(installed='4.4.0', target=release)], {'answered': True, 'level': level})
    assert verdict['problems'] == []


@pytest.mark.parametrize('release,level,_name', HIGHEST_READ[:-1])
def test_rollback_refused_one_level_past_what_the_release_reads(release, level, _name):
    verdict = kafka_version_guard([host(installed='4.4.0', target=release)], {'answered': True, 'level': level + 1})
    assert verdict['downgrade'] is True
    [problem] = verdict['problems']
    assert 'kafka1' in problem and 'installed 4.4.0' in problem
    assert kv.level_text(level + 1) in problem and 'reads at most %s' % kv.level_text(level) in problem
    assert problem.endswith('Nothing was changed.')


def test_the_issue_case_site_yml_to_400_after_finalisation_at_44_iv2():
    hosts = [host('kafka%d' % i, '4.4.0', '4.0.0') for i in (1, 2, 3)]
    verdict = kafka_version_guard(hosts, {'answered': True, 'level': 33})
    assert len(verdict['problems']) == 3
    assert '4.4-IV2 (level 33)' in verdict['problems'][0]
    assert '4.0-IV3 (level 25)' in verdict['problems'][0]


def test_no_downgrade_needs_no_cluster():
    verdict = kafka_version_guard([host(installed='4.0.0', target='4.4.0'), host('kafka2', '', '4.4.0')])
    assert verdict == {'downgrade': False, 'downgrade_hosts': [], 'newest_installed': '4.0.0', 'problems': []}


def test_a_new_node_at_an_older_release_than_the_cluster_is_a_downgrade():
    hosts = [host('kafka1', '4.4.0', '4.4.0'), host('kafka4', '', '4.0.0')]
    verdict = kafka_version_guard(hosts, {'answered': True, 'level': 33})
    assert verdict['downgrade_hosts'] == ['kafka4']
    assert len(verdict['problems']) == 1 and verdict['problems'][0].startswith('kafka4:')


def test_unknown_future_level_is_refused_not_guessed():
    verdict = kafka_version_guard([host(installed='4.5.0', target='4.4.0')], {'answered': True, 'level': 40})
    assert 'newer than every level this collection knows' in verdict['problems'][0]


def test_cluster_without_answer_refuses_a_downgrade():
    verdict = kafka_version_guard([host()], {'answered': 'False', 'level': '0', 'error': 'timed out'})
    assert 'did not answer' in verdict['problems'][0] and 'timed out' in verdict['problems'][0]


def test_string_values_from_templates_are_read():
    assert kafka_version_guard([host()], {'answered': 'True', 'level': '25'})['problems'] == []


def test_kip_1170_storage_refused_under_an_older_release_whatever_the_cluster_says():
    verdict = kafka_version_guard([host(installed='4.4.0', target='4.0.0', kip1170=True)],
                                  {'answered': True, 'level': 25})
    assert len(verdict['problems']) == 1 and 'KIP-1170' in verdict['problems'][0]
    # Same node at 4.4: fine; without the guard asking the cluster.
    assert kafka_version_guard([host(installed='4.4.0', target='4.4.0', kip1170=True)])['problems'] == []


@pytest.mark.parametrize('bad', [None, 'x', [{'name': 'a'}], [{'name': 'a', 'target': 'latest'}]])
def test_bad_input_is_refused(bad):
    with pytest.raises(AnsibleFilterError):
        kafka_version_guard(bad)
