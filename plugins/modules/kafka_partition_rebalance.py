#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kraft.kafka maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: kafka_partition_rebalance
short_description: Move partition replicas so every broker holds a balanced share (after a scale-out, before a decommission)
version_added: 0.1.0
description:
  - A broker added to a running cluster holds no partitions until replicas are moved onto it; Kafka does
    not do that by itself. This module computes a new placement and applies it with a partition
    reassignment (what C(kafka-reassign-partitions.sh --generate/--execute/--verify) does by hand), then
    waits until every moved replica is in sync and moves leadership to the new preferred leaders.
  - The placement moves as few replicas as possible. Each partition keeps its replication factor; a
    replica moves only from a broker above its share to a broker below it. Every topic ends up spread
    evenly (each target broker holds the floor or the ceiling of the topic's replicas divided by the
    number of brokers), and so does the whole cluster where that is possible without unbalancing a
    topic. Preferred leaders (the first replica) are spread the same way by reordering replicas, which
    moves no data.
  - Brokers that are not in O(brokers) lose all their replicas, so the module also empties a broker
    before it is removed.
  - B(Refuses) to start while a partition reassignment is already in progress, while any partition of the
    cluster is under-replicated or offline, or when a target broker is fenced or not registered; moving
    replicas then would add load to a cluster that is already degraded.
  - Idempotent. A balanced cluster has no plan and reports C(changed=false).
author:
  - kraft.kafka maintainers (@kraft-kafka)
extends_documentation_fragment:
  - kraft.kafka.kafka_connection
attributes:
  check_mode:
    support: full
    description: Computes and returns the plan (RV(plan), RV(after)) without moving anything.
  diff_mode:
    support: full
    description: Replicas and preferred leaders per broker, before and after.
options:
  topics:
    description:
      - Rebalance only topics matching these names or shell-style patterns (C(fnmatch), e.g. C(orders-*)).
      - All topics when omitted. The balance is computed over the selected topics only.
      - An empty list is refused (it would widen to every topic); omit the option for all topics.
    type: list
    elements: str
  include_internal:
    description:
      - Include internal topics such as C(__consumer_offsets) (group coordinators live on its leaders,
        so spreading it spreads coordinator load too).
    type: bool
    default: true
  brokers:
    description:
      - Broker ids that should hold the replicas. Replicas on other brokers are moved to these.
      - Default (omitted) is every registered broker. An empty list is refused (there would be no
        broker to hold the replicas, and an empty scope must never mean everything); ids listed twice
        are refused.
      - Every broker listed must be registered and unfenced.
    type: list
    elements: int
  batch_size:
    description:
      - Partitions reassigned at a time; the next batch starts when the previous one is in sync.
        V(0) submits the whole plan at once.
      - A small batch limits the extra replication traffic on a busy cluster (this module sets no
        replication throttle).
    type: int
    default: 0
  wait_timeout:
    description:
      - Seconds to wait, in total, for the moved replicas to be in sync and the new preferred leaders
        elected. The task fails at the timeout naming the partitions still moving; Kafka keeps moving
        them in the background (running the task again refuses until they are done).
    type: int
    default: 600
notes:
  - Moving a replica copies the partition's data to the new broker. On large topics raise O(wait_timeout),
    use O(batch_size), or set C(leader.replication.throttled.rate)/C(follower.replication.throttled.rate)
    beforehand; this module sets no throttle.
  - Racks (C(broker.rack)) are not considered.
seealso:
  - module: kraft.kafka.kafka_topic
  - module: kraft.kafka.kafka_leader_election
  - name: kafka-reassign-partitions.sh
    description: The Kafka tool this module replaces.
    link: https://kafka.apache.org/documentation/#basic_ops_cluster_expansion
'''

EXAMPLES = r'''
- name: Spread the replicas over every broker, including a new one
  kraft.kafka.kafka_partition_rebalance:
    bootstrap_servers: "{{ kafka_bootstrap_servers }}"
  delegate_to: localhost
  run_once: true
  register: rebalance

- name: Show the plan only
  kraft.kafka.kafka_partition_rebalance:
    bootstrap_servers: [kafka1:9092]
    topics: ['orders-*']
  check_mode: true
  delegate_to: localhost
  run_once: true

- name: Empty broker 4 before removing it, ten partitions at a time
  kraft.kafka.kafka_partition_rebalance:
    bootstrap_servers: [kafka1:9092]
    brokers: [1, 2, 3]
    batch_size: 10
    wait_timeout: 3600
  delegate_to: localhost
  run_once: true
'''

RETURN = r'''
plan:
  description: Partitions whose replicas change (moved, or only reordered), sorted by topic and partition.
  returned: always
  type: list
  elements: dict
  contains:
    topic:
      description: Topic name.
      type: str
    partition:
      description: Partition number.
      type: int
    replicas:
      description: Replicas before, the first is the preferred leader.
      type: list
      elements: int
    new_replicas:
      description: Replicas after.
      type: list
      elements: int
    adding:
      description: Brokers that get a copy of the partition.
      type: list
      elements: int
    removing:
      description: Brokers whose copy is removed.
      type: list
      elements: int
  sample: [{topic: orders, partition: 2, replicas: [3, 1, 2], new_replicas: [4, 1, 2], adding: [4], removing: [3]}]
summary:
  description: Counts over the plan.
  returned: always
  type: dict
  contains:
    partitions:
      description: Partitions in scope.
      type: int
    partitions_changed:
      description: Partitions in RV(plan).
      type: int
    partitions_moved:
      description: Partitions with at least one replica moving to another broker.
      type: int
    replicas_moved:
      description: Replicas copied to another broker.
      type: int
    brokers:
      description: The target brokers.
      type: list
      elements: int
  sample: {partitions: 46, partitions_changed: 16, partitions_moved: 14, replicas_moved: 14, brokers: [1, 2, 3, 4]}
before:
  description: Per broker, replicas and preferred leaders before, and whether it is a target broker.
  returned: always
  type: list
  elements: dict
  sample: [{id: 4, replicas: 0, preferred_leaders: 0, target: true}]
after:
  description: Same as RV(before) for the planned placement (predicted in check mode).
  returned: always
  type: list
  elements: dict
  sample: [{id: 4, replicas: 14, preferred_leaders: 5, target: true}]
leaders_not_preferred:
  description: Moved partitions whose leader is not their new preferred replica at the end (leadership
    follows within C(leader.imbalance.check.interval.seconds) when auto leader rebalance is on).
  returned: when replicas were moved
  type: list
  elements: str
  sample: [orders-2]
'''

import fnmatch
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kraft.kafka.plugins.module_utils.kafka_validation import new_module

from ansible_collections.kraft.kafka.plugins.module_utils.kafka_client import (
    KafkaModuleError,
    kafka_connection_argument_spec,
    run_module,
)
from ansible_collections.kraft.kafka.plugins.module_utils.kafka_validation import (
    check_integer, check_scope_list, check_text, check_unique)
from ansible_collections.kraft.kafka.plugins.module_utils.kafka_leadership import (
    is_offline,
    is_under_replicated,
    partition_state,
)
from ansible_collections.kraft.kafka.plugins.module_utils.kafka_rebalance import (
    RebalanceError,
    balance_report,
    plan_rebalance,
    replica_moves,
)

try:
    import kafka.errors as kafka_errors
    from kafka.structs import TopicPartition
except ImportError:  # reported by require_kafka_python() in run_module
    kafka_errors = TopicPartition = None

POLL_SECONDS = 1.0
MAX_LISTED = 10
LEADER_WAIT_SECONDS = 60


def check_input(params, problems):
    """kraft.kafka.kafka_validation rules: empty scopes refused, patterns and broker ids checked."""
    check_scope_list(problems, 'topics', params['topics'], 'every topic of the cluster', 'all topics')
    check_scope_list(problems, 'brokers', params['brokers'], 'every registered broker', 'every broker')
    for index, pattern in enumerate(params['topics'] or []):
        check_text(problems, 'topics[%d]' % index, pattern, 'a topic name or pattern')
    check_unique(problems, 'topics', params['topics'] or [])
    for index, broker in enumerate(params['brokers'] or []):
        check_integer(problems, 'brokers[%d]' % index, broker, 0)
    check_unique(problems, 'brokers', [str(b) for b in params['brokers'] or []])
    check_integer(problems, 'batch_size', params['batch_size'], 0)
    check_integer(problems, 'wait_timeout', params['wait_timeout'], 0)


def argument_spec():
    spec = kafka_connection_argument_spec()
    spec.update(
        topics=dict(type='list', elements='str'),
        include_internal=dict(type='bool', default=True),
        brokers=dict(type='list', elements='int'),
        batch_size=dict(type='int', default=0),
        wait_timeout=dict(type='int', default=600),
    )
    return spec


def error_name(code):
    error = kafka_errors.for_code(code) if kafka_errors is not None else None
    return error.__name__ if error is not None else 'error code %s' % code


def listed(names):
    names = list(names)
    more = len(names) - MAX_LISTED
    return ', '.join(names[:MAX_LISTED]) + (' and %d more' % more if more > 0 else '')


# ------------------------------------------------------------ cluster state

def registered_brokers(admin):
    """{broker_id: fenced}."""
    cluster = admin.describe_cluster()
    return dict((b['broker_id'], bool(b.get('is_fenced'))) for b in cluster.get('brokers') or [])


def all_partitions(admin):
    """[(internal, partition state)] of every topic, sorted."""
    found, errors = [], []
    for topic in admin.describe_topics():
        if topic.get('error_code'):
            errors.append('%s: %s' % (topic.get('name'), error_name(topic['error_code'])))
            continue
        internal = bool(topic.get('is_internal'))
        found.extend((internal, partition_state(topic['name'], p)) for p in topic.get('partitions') or [])
    if errors:
        raise KafkaModuleError('Failed to describe topics: %s' % '; '.join(errors))
    return sorted(found, key=lambda item: (item[1]['topic'], item[1]['partition']))


def in_scope(internal, state, params):
    if internal and not params['include_internal']:
        return False
    patterns = params['topics']
    return not patterns or any(fnmatch.fnmatchcase(state['topic'], p) for p in patterns)


def label(state):
    return '%s-%d' % (state['topic'], state['partition'])


def target_brokers(params, registered):
    brokers = sorted(set(params['brokers'])) if params['brokers'] else sorted(registered)
    unknown = [b for b in brokers if b not in registered]
    if unknown:
        raise KafkaModuleError('brokers %s are not registered with the controller (registered: %s).'
                               % (unknown, sorted(registered)))
    fenced = [b for b in brokers if registered[b]]
    if fenced:
        raise KafkaModuleError('broker(s) %s are fenced (stopped or not heartbeating): start them, or leave them '
                               'out of brokers, before moving replicas.' % fenced)
    return brokers


def refuse_if_busy(admin, states):
    """Fail while a reassignment runs or any partition is under-replicated or offline."""
    ongoing = admin.list_partition_reassignments()
    if ongoing:
        names = sorted('%s-%d' % (tp.topic, tp.partition) for tp in ongoing)
        raise KafkaModuleError(
            'A partition reassignment is already in progress (%s). Wait until it has finished '
            '(kafka-reassign-partitions.sh --verify, or kafka_topic/kafka_partition_rebalance report it) '
            'and run again.' % listed(names))
    offline = [label(s) for s in states if is_offline(s)]
    under = [label(s) for s in states if is_under_replicated(s)]
    if offline or under:
        raise KafkaModuleError(
            'Refusing to move replicas while the cluster is degraded: %s. Bring every broker back in sync '
            '(kraft.kafka.kafka_cluster_health) first.' % '; '.join(
                part for part in ('%d offline partition(s): %s' % (len(offline), listed(offline)) if offline else '',
                                  '%d under-replicated partition(s): %s' % (len(under), listed(under))
                                  if under else '') if part))


# -------------------------------------------------------------------- plan

def plan_entries(states, plan):
    entries = []
    for state in states:
        new = plan.get((state['topic'], state['partition']))
        if new is None:
            continue
        adding, removing = replica_moves(state['replicas'], new)
        entries.append(dict(topic=state['topic'], partition=state['partition'], replicas=state['replicas'],
                            new_replicas=new, adding=adding, removing=removing))
    return entries


def summarize(states, entries, brokers):
    return dict(partitions=len(states), partitions_changed=len(entries),
                partitions_moved=len([e for e in entries if e['adding']]),
                replicas_moved=sum(len(e['adding']) for e in entries), brokers=brokers)


def diff_text(rows):
    return ''.join('broker %d: %d replicas, %d preferred leaders%s\n' % (
        r['id'], r['replicas'], r['preferred_leaders'], '' if r['target'] else ' (not a target)') for r in rows)


# -------------------------------------------------------------------- apply

def reassign(admin, targets, timeout_ms):
    request = dict((TopicPartition(topic, partition), replicas) for (topic, partition), replicas in targets.items())
    results = admin.alter_partition_reassignments(request, timeout_ms=timeout_ms)
    failed = []
    for tp in request:
        if tp not in results:
            failed.append('%s-%d: no answer from the controller' % (tp.topic, tp.partition))
        elif results[tp] is not None:
            error = results[tp]
            failed.append('%s-%d: %s' % (tp.topic, tp.partition, getattr(error, '__name__', error)))
    if failed:
        raise KafkaModuleError('The controller refused the reassignment of %s.' % '; '.join(failed))


def current_states(admin, topics):
    states = {}
    for topic in admin.describe_topics(sorted(topics)):
        for raw in topic.get('partitions') or []:
            state = partition_state(topic['name'], raw)
            states[(state['topic'], state['partition'])] = state
    return states


def still_moving(admin, targets):
    """{key: why} of the partitions whose reassignment is not complete and in sync."""
    ongoing = admin.list_partition_reassignments([TopicPartition(t, p) for t, p in targets])
    ongoing = set((tp.topic, tp.partition) for tp in ongoing)
    states = current_states(admin, set(t for t, _p in targets))
    behind = {}
    for key, replicas in targets.items():
        state = states.get(key)
        if state is None:
            behind[key] = 'not in the metadata'
        elif key in ongoing or state['replicas'] != list(replicas) or set(state['isr']) != set(replicas):
            behind[key] = 'replicas %s, in sync %s' % (state['replicas'], sorted(state['isr']))
    return behind


def wait_until_moved(admin, targets, deadline, wait_timeout):
    while True:
        behind = still_moving(admin, targets)
        if not behind:
            return
        if time.monotonic() >= deadline:
            raise KafkaModuleError(
                'Timed out after %ss waiting for the reassignment to complete; still moving: %s. Kafka keeps '
                'moving them in the background; raise wait_timeout, or run again once they are done.'
                % (wait_timeout, listed('%s-%d (target %s: %s)' % (k[0], k[1], targets[k], why)
                                        for k, why in sorted(behind.items()))))
        time.sleep(POLL_SECONDS)


def elect_new_preferred(admin, targets, deadline):
    """Preferred election of the changed partitions; the ones not led by their first replica at the end."""
    wanted = {}
    for topic, partition in targets:
        wanted.setdefault(topic, []).append(partition)
    try:
        admin.elect_leaders(0, wanted, raise_errors=False)
    except Exception:  # pylint: disable=broad-except
        # Auto leader rebalance does the same within minutes: not worth failing a completed move.
        pass
    while True:
        states = current_states(admin, wanted)
        lagging = sorted('%s-%d' % key for key, replicas in targets.items()
                         if key not in states or states[key]['leader'] != replicas[0])
        if not lagging or time.monotonic() >= deadline:
            return lagging
        time.sleep(POLL_SECONDS)


def batches(targets, size):
    keys = list(targets)
    size = size or len(keys)
    for start in range(0, len(keys), size):
        yield dict((k, targets[k]) for k in keys[start:start + size])


# ------------------------------------------------------------------ module

def rebalance(module, admin):
    params = module.params
    for name in ('batch_size', 'wait_timeout'):
        if params[name] < 0:
            raise KafkaModuleError('%s must be 0 or more, got %d.' % (name, params[name]))
    registered = registered_brokers(admin)
    brokers = target_brokers(params, registered)
    everything = all_partitions(admin)
    states = [s for internal, s in everything if in_scope(internal, s, params)]
    if params['topics'] and not states:
        raise KafkaModuleError('No topic matches %s.' % params['topics'])
    refuse_if_busy(admin, [s for _internal, s in everything])
    try:
        plan = plan_rebalance(states, brokers)
    except RebalanceError as exc:
        raise KafkaModuleError('Cannot rebalance: %s.' % exc)
    entries = plan_entries(states, plan)
    before, after = balance_report(states, brokers), balance_report(states, brokers, plan)
    result = dict(changed=bool(plan), plan=entries, summary=summarize(states, entries, brokers),
                  before=before, after=after)
    if module._diff:
        result['diff'] = dict(before=diff_text(before), after=diff_text(after),
                              before_header='replicas per broker', after_header='replicas per broker')
    if module.check_mode or not plan:
        return result
    wait_timeout = params['wait_timeout']
    deadline = time.monotonic() + wait_timeout
    for batch in batches(plan, params['batch_size']):
        reassign(admin, batch, params['request_timeout'] * 1000)
        wait_until_moved(admin, batch, deadline, wait_timeout)
    # Leadership is a bonus (auto leader rebalance would follow): do not hold
    # a completed move for the whole wait_timeout because of it.
    result['leaders_not_preferred'] = elect_new_preferred(
        admin, plan, min(deadline, time.monotonic() + LEADER_WAIT_SECONDS))
    final = current_states(admin, set(s['topic'] for s in states))
    result['after'] = balance_report([final.get((s['topic'], s['partition']), s) for s in states], brokers)
    return result


def main():
    module = new_module(AnsibleModule, argument_spec=argument_spec(), supports_check_mode=True)
    run_module(module, rebalance, validate=check_input)


if __name__ == '__main__':
    main()
