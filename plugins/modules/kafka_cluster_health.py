#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kraft.kafka maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: kafka_cluster_health
short_description: Health gate for a KRaft cluster (quorum, broker registration, partition replication)
version_added: 0.1.0
description:
  - Checks, in one query round, that
  - the metadata quorum has a leader and every voter is at most O(max_lag) records behind it;
  - every broker in O(expected_brokers) is registered and unfenced (without O(expected_brokers), every
    registered broker must be unfenced);
  - no partition is under-replicated (fewer in-sync replicas than replicas) and none is offline
    (no leader), ignoring topics that match O(ignore_topics).
  - This is the gate the roles run before and after restarting each node of a rolling operation.
    With O(wait=true) it polls until the cluster is healthy and B(fails) with the reasons if it is not
    within O(wait_timeout), so the play stops before touching the next node.
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
  wait:
    description:
      - Poll (about once a second) until the cluster is healthy; fail when it is still unhealthy after
        O(wait_timeout) seconds.
      - Errors talking to the cluster count as unhealthy while waiting, so this also waits for a
        cluster that is still starting.
      - Without it the module reports RV(healthy) and RV(reasons) and does not fail on an unhealthy cluster.
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds to wait for a healthy cluster when O(wait=true). A request in flight at the deadline may
        add up to O(request_timeout) seconds.
      - Under-replicated partitions recover only as fast as a restarted broker catches up, so allow for
        the amount of data written while it was down.
    type: int
    default: 300
  max_lag:
    description:
      - Largest number of records a quorum voter may be behind the leader (see
        M(kraft.kafka.kafka_quorum_status) for why the default is not 0).
    type: int
    default: 10
  expected_brokers:
    description:
      - Broker node ids that must be registered and unfenced.
      - When omitted, the registered brokers are not compared to a list, but each of them must be unfenced.
    type: list
    elements: int
  ignore_topics:
    description:
      - Topics whose partitions are not checked, as exact names or shell-style patterns
        (C(fnmatch), e.g. C(tmp-*)).
    type: list
    elements: str
    default: []
seealso:
  - module: kraft.kafka.kafka_quorum_status
'''

EXAMPLES = r'''
- name: Check the cluster before restarting this node
  kraft.kafka.kafka_cluster_health:
    bootstrap_servers: "{{ kafka_bootstrap_servers }}"
    expected_brokers: [1, 2, 3]
    wait: true
    wait_timeout: 600
  delegate_to: localhost

- name: Report only (never fails on an unhealthy cluster)
  kraft.kafka.kafka_cluster_health:
    bootstrap_servers: [kafka1.example.com:9092, kafka2.example.com:9092]
    ignore_topics: ['scratch-*']
  delegate_to: localhost
  run_once: true
  register: health

- name: Show what is wrong
  ansible.builtin.debug:
    var: health.reasons
  when: not health.healthy
'''

RETURN = r'''
healthy:
  description: Whether every check passed.
  returned: always
  type: bool
  sample: false
reasons:
  description: Why the cluster is not healthy; empty when healthy.
  returned: always
  type: list
  elements: str
  sample:
    - broker 3 is registered but fenced (stopped, starting, or not heartbeating to the controller)
    - 12 under-replicated partition(s) (first 10) orders-0 (isr [1, 2] of replicas [1, 2, 3]), ...
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
  description: Registered brokers, fenced ones included.
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: Broker node id.
      type: int
      sample: 1
    host:
      description: Advertised host of the broker's client listener.
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
      description: Whether the controller has fenced the broker (it does not serve clients).
      type: bool
      sample: false
under_replicated:
  description: Partitions (not offline) with fewer in-sync replicas than replicas, outside O(ignore_topics).
  returned: success
  type: list
  elements: dict
  contains:
    topic:
      description: Topic name.
      type: str
    partition:
      description: Partition number.
      type: int
    leader:
      description: Leader broker id; null when the partition has no leader.
      type: int
    replicas:
      description: Assigned replica broker ids.
      type: list
      elements: int
    isr:
      description: In-sync replica broker ids.
      type: list
      elements: int
    offline_replicas:
      description: Replicas on offline log directories or brokers.
      type: list
      elements: int
  sample: [{topic: orders, partition: 0, leader: 1, replicas: [1, 2, 3], isr: [1, 2], offline_replicas: []}]
offline:
  description: Partitions without a leader, outside O(ignore_topics). Same keys as RV(under_replicated).
  returned: success
  type: list
  elements: dict
quorum:
  description: Summary of the metadata quorum (details in M(kraft.kafka.kafka_quorum_status)).
  returned: success
  type: dict
  contains:
    leader_id:
      description: Quorum leader (active controller); null when there is none.
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
      description: Voter node ids.
      type: list
      elements: int
    lagging_voters:
      description: Voters more than O(max_lag) records behind.
      type: list
      elements: int
attempts:
  description: Number of check rounds.
  returned: always
  type: int
  sample: 4
elapsed:
  description: Seconds spent checking and waiting.
  returned: always
  type: float
  sample: 3.2
'''

import fnmatch

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kraft.kafka.plugins.module_utils.kafka_validation import new_module
from ansible_collections.kraft.kafka.plugins.module_utils.kafka_validation import (
    check_integer, check_node_ids, check_text)

from ansible_collections.kraft.kafka.plugins.module_utils.kafka_client import (
    kafka_connection_argument_spec,
    report_until_healthy,
    quorum_problems,
    run_module,
    summarize_quorum,
)

# Reasons list at most this many partitions; the return lists have them all.
REASON_PARTITION_LIMIT = 10


def argument_spec():
    spec = kafka_connection_argument_spec()
    spec.update(
        wait=dict(type='bool', default=False),
        wait_timeout=dict(type='int', default=300),
        max_lag=dict(type='int', default=10),
        expected_brokers=dict(type='list', elements='int'),
        ignore_topics=dict(type='list', elements='str', default=[]),
    )
    return spec


# ------------------------------------------------------------------ brokers

def broker_list(cluster):
    return sorted((dict(id=b['broker_id'], host=b.get('host'), port=b.get('port'), rack=b.get('rack'),
                        fenced=bool(b.get('is_fenced')))
                   for b in cluster.get('brokers') or []), key=lambda b: b['id'])


def broker_problems(brokers, expected_brokers):
    by_id = dict((b['id'], b) for b in brokers)
    checked = sorted(by_id) if expected_brokers is None else sorted(set(expected_brokers))
    reasons = []
    for broker_id in checked:
        broker = by_id.get(broker_id)
        if broker is None:
            reasons.append('broker %d is not registered with the controller (never started, or unregistered)'
                           % broker_id)
        elif broker['fenced']:
            reasons.append('broker %d is registered but fenced (stopped, starting, or not heartbeating '
                           'to the controller)' % broker_id)
    return reasons


# --------------------------------------------------------------- partitions

def is_ignored(topic, patterns):
    return any(fnmatch.fnmatchcase(topic, pattern) for pattern in patterns)


def partition_entry(topic, partition):
    leader = partition.get('leader_id', -1)
    return dict(topic=topic, partition=partition['partition_index'],
                leader=leader if leader is not None and leader >= 0 else None,
                replicas=list(partition.get('replica_nodes') or []),
                isr=list(partition.get('isr_nodes') or []),
                offline_replicas=list(partition.get('offline_replicas') or []))


def classify_partitions(topics, ignore_topics):
    """(under_replicated, offline, topic_errors) over topics not ignored."""
    under_replicated, offline, topic_errors = [], [], []
    for topic in sorted(topics, key=lambda t: t.get('name') or ''):
        name = topic.get('name')
        if is_ignored(name, ignore_topics):
            continue
        if topic.get('error_code'):
            topic_errors.append('topic %s: metadata error code %s' % (name, topic['error_code']))
            continue
        for partition in sorted(topic.get('partitions') or [], key=lambda p: p['partition_index']):
            entry = partition_entry(name, partition)
            if entry['leader'] is None:
                offline.append(entry)
            elif len(entry['isr']) < len(entry['replicas']):
                under_replicated.append(entry)
    return under_replicated, offline, topic_errors


def partition_reason(label, entries):
    shown = ', '.join('%s-%d (isr %s of replicas %s)' % (e['topic'], e['partition'], e['isr'], e['replicas'])
                      for e in entries[:REASON_PARTITION_LIMIT])
    more = ' and %d more' % (len(entries) - REASON_PARTITION_LIMIT) if len(entries) > REASON_PARTITION_LIMIT else ''
    return '%d %s partition(s): %s%s' % (len(entries), label, shown, more)


def partition_problems(under_replicated, offline, topic_errors):
    reasons = list(topic_errors)
    if offline:
        reasons.append(partition_reason('offline (no leader)', offline))
    if under_replicated:
        reasons.append(partition_reason('under-replicated', under_replicated))
    return reasons


# ------------------------------------------------------------------- quorum

def quorum_summary(quorum, max_lag):
    return dict(
        leader_id=quorum['leader_id'], leader_epoch=quorum['leader_epoch'],
        high_watermark=quorum['high_watermark'], max_follower_lag=quorum['max_follower_lag'],
        max_follower_lag_time_ms=quorum['max_follower_lag_time_ms'],
        voters=sorted(v['replica_id'] for v in quorum['voters']),
        lagging_voters=sorted(v['replica_id'] for v in quorum['voters']
                              if v['lag'] is not None and v['lag'] > max_lag))


# -------------------------------------------------------------------- check

def health_probe(params):
    """probe(admin) -> (state, reasons) for poll_until_ok."""
    def probe(admin):
        quorum = summarize_quorum(admin.describe_metadata_quorum())
        cluster = admin.describe_cluster()
        brokers = broker_list(cluster)
        under_replicated, offline, topic_errors = classify_partitions(
            admin.describe_topics(), params['ignore_topics'])
        reasons = (quorum_problems(quorum, params['max_lag'])
                   + broker_problems(brokers, params['expected_brokers'])
                   + partition_problems(under_replicated, offline, topic_errors))
        state = dict(cluster_id=cluster.get('cluster_id'), controller_id=quorum['leader_id'],
                     brokers=brokers, under_replicated=under_replicated, offline=offline,
                     quorum=quorum_summary(quorum, params['max_lag']))
        return state, reasons
    return probe


def check_health(module, admin):
    return report_until_healthy(module, admin, health_probe(module.params), 'Kafka cluster')


def main():
    module = new_module(AnsibleModule, argument_spec=argument_spec(), supports_check_mode=True)
    run_module(module, check_health, validate=check_input)


def check_input(params, problems):
    """kraft.kafka.kafka_validation rules of this module."""
    check_node_ids(problems, 'expected_brokers', params['expected_brokers'],
                   'no broker would be checked, so the gate could not fail')
    for name in ('max_lag', 'wait_timeout'):
        check_integer(problems, name, params[name], 0)
    for index, pattern in enumerate(params['ignore_topics'] or []):
        check_text(problems, 'ignore_topics[%d]' % index, pattern, 'a topic name or pattern')


if __name__ == '__main__':
    main()
