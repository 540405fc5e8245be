#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kraft.kafka maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: kafka_cluster_info
short_description: Everything about a KRaft cluster in one structured result (brokers, topics, leaders, lag, quorum)
version_added: 0.1.0
description:
  - Reads, in one task, what the Kafka tools print piecemeal, that is the cluster id and active controller,
    registered brokers, topics with every partition's leader, replicas and ISR, under-replicated and
    offline partitions, leaders and replicas per broker with the leader skew, the metadata quorum
    (C(kafka-metadata-quorum.sh describe --status)), finalized feature levels and, optionally,
    topic config overrides and consumer groups with their total lag.
  - It is the data source of C(playbooks/report.yml) and of the C(kraft.kafka.kafka_report_*) filters.
  - Read-only; never reports a change.
author:
  - kraft.kafka maintainers (@kraft-kafka)
extends_documentation_fragment:
  - kraft.kafka.kafka_connection
attributes:
  check_mode:
    support: full
    description: Runs the same read-only queries in check mode.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
options:
  topics:
    description:
      - Report only topics matching these names or shell-style patterns (C(fnmatch), e.g. C(orders-*)).
      - All topics when omitted. Broker leadership counts and the skew cover the reported topics only.
      - An empty list is refused (an empty filter never means all topics); omit the option instead.
    type: list
    elements: str
  include_internal:
    description:
      - Include internal topics (C(__consumer_offsets), C(__transaction_state), C(__share_group_state)).
      - They carry load like any other topic, so leadership counts include them by default.
    type: bool
    default: true
  include_partitions:
    description:
      - Return every partition of every topic in RV(topics[].partitions).
      - Set to V(false) on clusters with many partitions to keep the result small; the counts,
        RV(under_replicated) and RV(offline) are returned either way.
    type: bool
    default: true
  include_topic_config:
    description:
      - Return the config overrides of every reported topic in RV(topics[].config) (one extra request).
      - Values of sensitive configs are never returned.
    type: bool
    default: false
  include_groups:
    description:
      - Return consumer groups with their committed partitions and total lag in RV(groups) (a few extra
        requests per group coordinator).
    type: bool
    default: false
seealso:
  - module: kraft.kafka.kafka_cluster_health
  - module: kraft.kafka.kafka_consumer_group_info
  - module: kraft.kafka.kafka_leader_election
'''

EXAMPLES = r'''
- name: Read the cluster
  kraft.kafka.kafka_cluster_info:
    bootstrap_servers: "{{ kafka_bootstrap_servers }}"
    include_groups: true
  delegate_to: localhost
  run_once: true
  register: cluster

- name: Show leaders per broker
  ansible.builtin.debug:
    msg: "{{ cluster.brokers | items2dict(key_name='id', value_name='leaders') }}"

- name: Fail when partitions are offline
  ansible.builtin.assert:
    that: cluster.offline | length == 0
    fail_msg: "offline partitions: {{ cluster.offline | map(attribute='topic') | unique | join(', ') }}"

- name: Only some topics, without the partition lists
  kraft.kafka.kafka_cluster_info:
    bootstrap_servers: [kafka1.example.com:9092]
    topics: ['orders-*']
    include_partitions: false
    include_topic_config: true
  delegate_to: localhost
  run_once: true
'''

RETURN = r'''
cluster_id:
  description: The cluster id.
  returned: success
  type: str
  sample: MkU3OEVBNTcwNTJENDM2Qk
controller_id:
  description: Node id of the active controller (the metadata quorum leader); null when there is none.
  returned: success
  type: int
  sample: 1
brokers:
  description: Registered brokers (fenced ones included) and brokers that are only named as replicas, sorted by id.
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: Broker node id.
      type: int
      sample: 1
    host:
      description: Advertised host of the client listener; null for unregistered brokers.
      type: str
      sample: kafka1.example.com
    port:
      description: Advertised port.
      type: int
      sample: 9092
    rack:
      description: C(broker.rack), or null.
      type: str
      sample: null
    fenced:
      description: Whether the broker is fenced (stopped, starting or not heartbeating).
      type: bool
      sample: false
    registered:
      description: Whether the broker is registered with the controller.
      type: bool
      sample: true
    leaders:
      description: Partitions this broker leads.
      type: int
      sample: 12
    preferred_leaders:
      description: Partitions whose preferred (first) replica is this broker.
      type: int
      sample: 12
    replicas:
      description: Partition replicas on this broker.
      type: int
      sample: 36
topics:
  description: Topics, sorted by name.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: Topic name.
      type: str
      sample: orders
    topic_id:
      description: Topic id.
      type: str
      sample: 3f4bb1b4-6f5f-4b58-9a2c-4b0a41b2d0f1
    internal:
      description: Whether Kafka marks it internal.
      type: bool
      sample: false
    partition_count:
      description: Number of partitions.
      type: int
      sample: 6
    replication_factor:
      description: Largest replica count of its partitions.
      type: int
      sample: 3
    under_replicated:
      description: Partitions with fewer in-sync replicas than replicas (and a leader).
      type: int
      sample: 0
    offline:
      description: Partitions without a leader.
      type: int
      sample: 0
    not_preferred:
      description: Partitions led by a replica other than the preferred one.
      type: int
      sample: 2
    partitions:
      description: Every partition (when O(include_partitions=true)).
      type: list
      elements: dict
      contains:
        partition:
          description: Partition number.
          type: int
        leader:
          description: Leader broker id; null when offline.
          type: int
        replicas:
          description: Assigned replicas; the first is the preferred leader.
          type: list
          elements: int
        isr:
          description: In-sync replicas.
          type: list
          elements: int
        offline_replicas:
          description: Replicas on offline brokers or log directories.
          type: list
          elements: int
    config:
      description: Topic config overrides by key (when O(include_topic_config=true)); sensitive values are null.
      type: dict
      sample: {retention.ms: '604800000'}
under_replicated:
  description: Partitions that have a leader but fewer in-sync replicas than replicas.
  returned: success
  type: list
  elements: dict
  sample: [{topic: orders, partition: 0, leader: 1, replicas: [1, 2, 3], isr: [1, 2], offline_replicas: []}]
offline:
  description: Partitions without a leader. Same keys as RV(under_replicated).
  returned: success
  type: list
  elements: dict
skew:
  description: Leader skew over the reported partitions.
  returned: success
  type: dict
  contains:
    partitions:
      description: Partitions reported.
      type: int
    not_preferred:
      description: Partitions with a leader other than their preferred replica.
      type: int
    offline:
      description: Partitions without a leader.
      type: int
    ratio:
      description: RV(skew.not_preferred) / RV(skew.partitions), rounded to 4 places.
      type: float
    electable:
      description: Partitions a preferred election would move now (preferred replica alive and in the ISR).
      type: int
    max_leader_excess:
      description: Largest number of partitions a broker leads beyond those it is the preferred leader of.
      type: int
  sample: {partitions: 46, not_preferred: 15, offline: 0, ratio: 0.3261, electable: 15, max_leader_excess: 8}
quorum:
  description: The metadata quorum (see M(kraft.kafka.kafka_quorum_status) for the meaning of each value).
  returned: success
  type: dict
  contains:
    leader_id:
      description: Active controller; null when there is none.
      type: int
    leader_epoch:
      description: Leader epoch.
      type: int
    high_watermark:
      description: Committed offset of the metadata log.
      type: int
    max_follower_lag:
      description: Largest voter lag in records.
      type: int
    max_follower_lag_time_ms:
      description: Largest voter lag time in ms.
      type: int
    voters:
      description: Voters with C(id), C(status) (Leader or Follower), C(lag) and C(lag_time_ms).
      type: list
      elements: dict
    observers:
      description: Observer node ids (brokers that are not voters).
      type: list
      elements: int
features:
  description: Finalized feature levels by feature name, as one broker reports them.
  returned: success
  type: dict
  sample: {metadata.version: 33, kraft.version: 0, group.version: 1}
groups:
  description: Consumer groups (when O(include_groups=true)), sorted by id.
  returned: when include_groups
  type: list
  elements: dict
  contains:
    group_id:
      description: Group id.
      type: str
      sample: billing
    state:
      description: Group state (Stable, Empty, ...).
      type: str
      sample: Empty
    type:
      description: V(classic) or V(consumer) (the KIP-848 protocol).
      type: str
      sample: classic
    members:
      description: Number of members; null for groups of the new protocol (not readable with kafka-python).
      type: int
      sample: 0
    partitions:
      description: Partitions with a committed offset.
      type: int
      sample: 6
    topics:
      description: Topics with a committed offset.
      type: list
      elements: str
      sample: [orders]
    lag:
      description: Sum of log end offset minus committed offset over partitions that still exist.
      type: int
      sample: 16066218
summary:
  description: Counts over the result.
  returned: success
  type: dict
  sample: {brokers: 3, fenced_brokers: 0, topics: 4, partitions: 46, replicas: 138,
           under_replicated: 0, offline: 0, groups: 2, total_lag: 120}
'''

import fnmatch

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kraft.kafka.plugins.module_utils.kafka_validation import new_module
from ansible_collections.kraft.kafka.plugins.module_utils.kafka_validation import (
    check_scope_list, check_text, check_unique)

from ansible_collections.kraft.kafka.plugins.module_utils.kafka_client import (
    KafkaModuleError,
    kafka_connection_argument_spec,
    run_module,
    summarize_quorum,
)
from ansible_collections.kraft.kafka.plugins.module_utils.kafka_groups import (
    CLASSIC,
    compute_lag,
    describe_classic_groups,
    fetch_committed_offsets,
    fetch_log_bounds,
    fetch_topic_partitions,
    is_consumer_group,
    list_group_listings,
    split_existing,
)
from ansible_collections.kraft.kafka.plugins.module_utils.kafka_leadership import (
    broker_leadership,
    is_not_preferred,
    is_offline,
    is_under_replicated,
    leader_skew,
    partition_state,
)

try:
    import kafka.errors as kafka_errors
    from kafka.admin import ConfigResource
except ImportError:  # reported by require_kafka_python() in run_module
    kafka_errors = ConfigResource = None

TOPIC_OVERRIDE_SOURCE = 'DYNAMIC_TOPIC_CONFIG'


def argument_spec():
    spec = kafka_connection_argument_spec()
    spec.update(
        topics=dict(type='list', elements='str'),
        include_internal=dict(type='bool', default=True),
        include_partitions=dict(type='bool', default=True),
        include_topic_config=dict(type='bool', default=False),
        include_groups=dict(type='bool', default=False),
    )
    return spec


# ------------------------------------------------------------------ brokers

def registered_brokers(cluster):
    return dict((b['broker_id'], dict(id=b['broker_id'], host=b.get('host'), port=b.get('port'),
                                      rack=b.get('rack'), fenced=bool(b.get('is_fenced')), registered=True))
                for b in cluster.get('brokers') or [])


def broker_rows(registered, partitions):
    """Registered brokers plus replica-only ids, with leaders/preferred/replica counts."""
    fenced = dict((i, b['fenced']) for i, b in registered.items())
    unregistered = dict(host=None, port=None, rack=None)
    return [dict(registered.get(row['id'], unregistered), **row)
            for row in broker_leadership(partitions, fenced)]


# --------------------------------------------------------------- partitions

def selected(name, internal, params):
    if internal and not params['include_internal']:
        return False
    patterns = params['topics']
    return not patterns or any(fnmatch.fnmatchcase(name, p) for p in patterns)


def error_name(code):
    error = kafka_errors.for_code(code) if kafka_errors is not None else None
    return error.__name__ if error is not None else 'error code %s' % code


def partition_entry(topic, raw):
    return dict(partition_state(topic, raw), offline_replicas=list(raw.get('offline_replicas') or []))


def topic_entry(raw, partitions, include_partitions):
    entry = dict(
        name=raw['name'],
        topic_id=str(raw['topic_id']) if raw.get('topic_id') is not None else None,
        internal=bool(raw.get('is_internal')),
        partition_count=len(partitions),
        replication_factor=max([len(p['replicas']) for p in partitions] or [0]),
        under_replicated=len([p for p in partitions if is_under_replicated(p)]),
        offline=len([p for p in partitions if is_offline(p)]),
        not_preferred=len([p for p in partitions if is_not_preferred(p)]),
    )
    if include_partitions:
        entry['partitions'] = [dict((k, v) for k, v in p.items() if k != 'topic') for p in partitions]
    return entry


def read_topics(admin, params):
    """(topic entries, flat partition list) of the selected topics, sorted."""
    topics, flat, errors = [], [], []
    for raw in sorted(admin.describe_topics(), key=lambda t: t.get('name') or ''):
        if not selected(raw['name'], bool(raw.get('is_internal')), params):
            continue
        if raw.get('error_code'):
            errors.append('%s: %s' % (raw['name'], error_name(raw['error_code'])))
            continue
        partitions = sorted((partition_entry(raw['name'], p) for p in raw.get('partitions') or []),
                            key=lambda p: p['partition'])
        topics.append(topic_entry(raw, partitions, params['include_partitions']))
        flat.extend(partitions)
    if errors:
        raise KafkaModuleError('Failed to describe topics: %s' % '; '.join(errors))
    return topics, flat


def add_topic_configs(admin, topics):
    """Set topics[].config to the topic's overrides; sensitive values become None."""
    if not topics:
        return
    described = admin.describe_configs([ConfigResource('TOPIC', t['name']) for t in topics]).get('topic', {})
    for topic in topics:
        entries = described.get(topic['name']) or {}
        topic['config'] = dict((key, None if entry.get('is_sensitive') else entry.get('value'))
                               for key, entry in sorted(entries.items())
                               if entry.get('config_source') == TOPIC_OVERRIDE_SOURCE)


# ------------------------------------------------------------------- quorum

def quorum_summary(raw):
    quorum = summarize_quorum(raw)
    return dict(
        leader_id=quorum['leader_id'], leader_epoch=quorum['leader_epoch'],
        high_watermark=quorum['high_watermark'], max_follower_lag=quorum['max_follower_lag'],
        max_follower_lag_time_ms=quorum['max_follower_lag_time_ms'],
        voters=[dict(id=v['replica_id'], status=v['status'], lag=v['lag'], lag_time_ms=v['lag_time_ms'])
                for v in sorted(quorum['voters'], key=lambda v: v['replica_id'])],
        observers=sorted(o['replica_id'] for o in quorum['observers']),
    )


def finalized_features(admin):
    described = admin.describe_features()
    return dict((name, info['finalized'][1]) for name, info in sorted(described.items()) if info.get('finalized'))


# ------------------------------------------------------------------- groups

def read_groups(admin):
    listings = [g for g in list_group_listings(admin).values() if is_consumer_group(g)]
    group_ids = sorted(g['group_id'] for g in listings)
    committed = fetch_committed_offsets(admin, group_ids)
    log_ends = group_log_ends(admin, committed)
    members = describe_classic_groups(admin, [g['group_id'] for g in listings if g['type'] == CLASSIC])
    return [group_entry(listing, committed.get(listing['group_id'], {}), log_ends,
                        members.get(listing['group_id']))
            for listing in sorted(listings, key=lambda g: g['group_id'])]


def group_log_ends(admin, committed):
    """Log end offsets of every committed partition that still exists."""
    keys = set()
    for offsets in committed.values():
        keys.update(offsets)
    topic_partitions, _missing = fetch_topic_partitions(admin, set(t for t, _p in keys))
    existing, _gone = split_existing(sorted(keys), topic_partitions)
    return fetch_log_bounds(admin, existing)[1]


def group_entry(listing, offsets, log_ends, detail):
    lags = [compute_lag(offset, log_ends.get(key)) for key, offset in offsets.items()]
    return dict(group_id=listing['group_id'], state=listing['state'], type=listing['type'],
                members=len(detail['members']) if detail else None,
                partitions=len(offsets), topics=sorted(set(t for t, _p in offsets)),
                lag=sum(lag for lag in lags if lag is not None))


# ------------------------------------------------------------------- module

def summary(rows, topics, partitions, groups):
    return dict(
        brokers=len([r for r in rows if r['registered']]),
        fenced_brokers=len([r for r in rows if r['registered'] and r['fenced']]),
        topics=len(topics), partitions=len(partitions),
        replicas=sum(len(p['replicas']) for p in partitions),
        under_replicated=len([p for p in partitions if is_under_replicated(p)]),
        offline=len([p for p in partitions if is_offline(p)]),
        groups=len(groups) if groups is not None else None,
        total_lag=sum(g['lag'] for g in groups) if groups is not None else None,
    )


def read_cluster(module, admin):
    params = module.params
    cluster = admin.describe_cluster()
    quorum = quorum_summary(admin.describe_metadata_quorum())
    registered = registered_brokers(cluster)
    topics, partitions = read_topics(admin, params)
    if params['include_topic_config']:
        add_topic_configs(admin, topics)
    rows = broker_rows(registered, partitions)
    groups = read_groups(admin) if params['include_groups'] else None
    result = dict(
        changed=False, cluster_id=cluster.get('cluster_id'), controller_id=quorum['leader_id'],
        brokers=rows, topics=topics,
        under_replicated=[p for p in partitions if is_under_replicated(p)],
        offline=[p for p in partitions if is_offline(p)],
        skew=leader_skew(partitions, dict((i, b['fenced']) for i, b in registered.items()), rows=rows),
        quorum=quorum,
        features=finalized_features(admin), summary=summary(rows, topics, partitions, groups))
    if groups is not None:
        result['groups'] = groups
    return result


def check_input(params, problems):
    """kraft.kafka.kafka_validation rules of this module."""
    check_scope_list(problems, 'topics', params['topics'], 'every topic', 'all topics')
    for index, pattern in enumerate(params['topics'] or []):
        check_text(problems, 'topics[%d]' % index, pattern, 'a topic name or pattern')
    check_unique(problems, 'topics', params['topics'] or [])


def main():
    module = new_module(AnsibleModule, argument_spec=argument_spec(), supports_check_mode=True)
    run_module(module, read_cluster, validate=check_input)


if __name__ == '__main__':
    main()
