# -*- coding: utf-8 -*-
# Copyright: kraft.kafka maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The version guard of kraft.kafka.kafka_install as a filter (documented in kafka_version_guard.yml)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.kraft.kafka.plugins.module_utils.kafka_versions import (
    KIP_1170_RELEASE,
    highest_known_level,
    highest_level_read_by,
    level_text,
    metadata_version_name,
    release_key,
    version_key,
)

NOTHING_CHANGED = 'Nothing was changed.'


def _checked_hosts(hosts):
    if not isinstance(hosts, list) or not all(isinstance(h, Mapping) for h in hosts):
        raise AnsibleFilterError('kafka_version_guard expects a list of {name, installed, target, ...} dicts')
    checked = []
    for host in hosts:
        for key in ('name', 'target'):
            if not host.get(key):
                raise AnsibleFilterError('kafka_version_guard: a host entry has no %s: %r' % (key, dict(host)))
        if version_key(host['target']) is None:
            raise AnsibleFilterError('kafka_version_guard: %s: kafka_version %r is not MAJOR.MINOR.PATCH'
                                     % (host['name'], host['target']))
        checked.append(host)
    return checked


def _highest_installed(hosts):
    installed = [h['installed'] for h in hosts if version_key(h.get('installed'))]
    return max(installed, key=version_key) if installed else None


def _lowers(hosts):
    """Hosts whose target is older than the newest release installed anywhere in the cluster."""
    newest = _highest_installed(hosts)
    if newest is None:
        return []
    return [h for h in hosts if version_key(h['target']) < version_key(newest)]


def _kip_1170_problems(hosts):
    problems = []
    for host in hosts:
        if host.get('storage_without_bootstrap_checkpoint') and release_key(host['target']) < KIP_1170_RELEASE:
            problems.append(
                '%s: its storage was formatted by Kafka %d.%d or later (KIP-1170: no bootstrap.checkpoint in %s), '
                'which Kafka %s cannot read; installed: %s. Keep kafka_version at %d.%d.0 or later on this host. %s'
                % (host['name'], KIP_1170_RELEASE[0], KIP_1170_RELEASE[1], host.get('metadata_dir') or 'the metadata dir',
                   host['target'], host.get('installed') or 'none', KIP_1170_RELEASE[0], KIP_1170_RELEASE[1],
                   NOTHING_CHANGED))
    return problems


def _as_bool(value):
    # Values templated in task vars may arrive as strings ('False').
    if isinstance(value, str):
        return value.strip().lower() in ('true', 'yes', '1')
    return bool(value)


def _as_level(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _cluster_problems(lowering, cluster):
    level = _as_level(cluster.get('level'))
    if not _as_bool(cluster.get('answered')):
        return ['%s: kafka_version %s is older than the release installed in the cluster, and the cluster did not '
                'answer the question which metadata.version is finalized (%s). A rollback is only safe while '
                'that level is one %s reads, so it is refused while the cluster cannot tell: start the cluster '
                '(or keep kafka_version) and run again. %s'
                % (', '.join(h['name'] for h in lowering), lowering[0]['target'],
                   cluster.get('error') or 'no answer', lowering[0]['target'], NOTHING_CHANGED)]
    if level is None:
        raise AnsibleFilterError('kafka_version_guard: cluster.level must be a whole number, got %r' % (level,))
    problems = []
    for host in lowering:
        highest = highest_level_read_by(host['target'])
        if level > highest_known_level():
            problems.append(
                '%s: installed %s, finalized metadata.version is level %d, newer than every level this '
                'collection knows (up to %s); whether Kafka %s reads it is unknown, so the downgrade is '
                'refused. %s' % (host['name'], host.get('installed') or 'none', level,
                                 level_text(highest_known_level()), host['target'], NOTHING_CHANGED))
        elif highest is not None and level > highest:
            problems.append(
                '%s: installed %s, finalized metadata.version %s; Kafka %s reads at most %s. A finalized '
                'metadata.version cannot be lowered, so this downgrade would leave the node unable to start: '
                'keep kafka_version at a release that reads %s. %s'
                % (host['name'], host.get('installed') or 'none', level_text(level), host['target'],
                   level_text(highest), metadata_version_name(level) or level, NOTHING_CHANGED))
    return problems


def kafka_version_guard(hosts, cluster=None):
    hosts = _checked_hosts(hosts)
    lowering = _lowers(hosts)
    problems = _kip_1170_problems(hosts)
    if lowering and cluster is not None:
        if not isinstance(cluster, Mapping):
            raise AnsibleFilterError('kafka_version_guard: cluster must be a dict {answered, level, error}')
        problems.extend(_cluster_problems(lowering, cluster))
    return {
        'downgrade': bool(lowering),
        'downgrade_hosts': [h['name'] for h in lowering],
        'newest_installed': _highest_installed(hosts),
        'problems': problems,
    }


class FilterModule(object):
    def filters(self):
        return {'kafka_version_guard': kafka_version_guard}
