#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kraft.kafka maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: kafka_leader_election
short_description: Move partition leadership back to the preferred replicas (or elect unclean leaders)
version_added: 0.1.0
description:
  - After a broker restarts, the partitions it led are led by other replicas and stay there, so
    leadership (and with it produce/fetch load) piles up on the brokers that stayed up. A
    B(preferred) election moves each partition's leadership back to its preferred replica, the
    first replica of its assignment, like C(kafka-leader-election.sh --election-type PREFERRED).
  - The module first computes the leader skew of the partitions in scope (leaders per broker
    against preferred leaders, partitions not led by their preferred replica) and then elects only
    the partitions whose preferred replica is alive, in the ISR and not already leader. Partitions
    whose preferred replica is out of sync are reported in RV(not_electable), not elected.
  - With O(only_if_skew_above), nothing is elected while the share of partitions not led by their
    preferred replica is at or below the threshold, so a playbook can run it on every pass.
  - An B(unclean) election (O(election_type=unclean)) gives partitions that have B(no leader) a
    leader chosen from their live replicas even though none of them is in sync. B(Records the
    previous leader had acknowledged and the new leader never received are lost for good), and
    consumers may see offsets go backwards. It needs O(allow_unclean=true).
  - Reports C(changed) only when a partition's leader actually moved (in check mode, when one would move).
author:
  - kraft.kafka maintainers (@kraft-kafka)
extends_documentation_fragment:
  - kraft.kafka.kafka_connection
attributes:
  check_mode:
    support: full
    description: Computes the skew and the election plan without electing; RV(after) is the predicted state.
  diff_mode:
    support: none
    description: RV(before), RV(after) and RV(elections) describe the change.
options:
  election_type:
    description:
      - V(preferred) moves leadership to the preferred replica where it is in sync (safe, no data loss).
      - V(unclean) elects a leader for leaderless partitions from replicas that are B(not) in sync.
        This loses the records only the old leader had. Requires O(allow_unclean=true).
    type: str
    choices: [preferred, unclean]
    default: preferred
  allow_unclean:
    description:
      - Confirms that an unclean election may lose acknowledged records. Required with
        O(election_type=unclean); ignored otherwise.
    type: bool
    default: false
  topics:
    description:
      - Elect only partitions of these topics (all their partitions).
      - When neither O(topics) nor O(partitions) is given, every partition of the cluster is in
        scope, internal topics such as C(__consumer_offsets) included.
      - An empty list is refused (it would widen the scope to every partition); omit the option
        to elect across the whole cluster.
      - A topic that does not exist fails the task.
    type: list
    elements: str
  partitions:
    description:
      - Elect only these partitions (like the JSON file of C(kafka-leader-election.sh --path-to-json-file)).
      - Mutually exclusive with O(topics).
      - Omitted means every partition of O(topics), or of the cluster. An empty list is refused
        (it would widen the scope to every partition); a partition listed twice is refused.
    type: list
    elements: dict
    suboptions:
      topic:
        description: Topic name.
        type: str
        required: true
      partition:
        description: Partition number.
        type: int
        required: true
  only_if_skew_above:
    description:
      - Only elect when RV(skew.ratio), the fraction (0 to 1) of partitions in scope that are not
        led by their preferred replica, is B(above) this value. For example V(0.1) leaves a cluster
        alone while at most one partition in ten is led elsewhere.
      - Only for O(election_type=preferred).
    type: float
  wait_timeout:
    description:
      - Seconds to wait, after electing, until the brokers' metadata shows the new leaders.
        The task fails when they do not within this time.
    type: int
    default: 60
notes:
  - Kafka moves leaders back by itself when C(auto.leader.rebalance.enable=true) (the default), but
    only every C(leader.imbalance.check.interval.seconds) (300 by default); this module does it now
    and reports what it did.
  - The controller re-checks every partition when it elects; a partition whose ISR changed in the
    meantime is reported in RV(refused) and the task fails.
seealso:
  - module: kraft.kafka.kafka_cluster_info
  - name: kafka-leader-election.sh
    description: The Kafka tool this module replaces.
    link: https://kafka.apache.org/documentation/#basic_ops_leader_balancing
'''

EXAMPLES = r'''
- name: Move leaders back to their preferred replicas after a rolling restart
  kraft.kafka.kafka_leader_election:
    bootstrap_servers: "{{ kafka_bootstrap_servers }}"
  delegate_to: localhost
  run_once: true
  register: election

- name: Only when more than 10 % of the partitions are led elsewhere
  kraft.kafka.kafka_leader_election:
    bootstrap_servers: [kafka1.example.com:9092, kafka2.example.com:9092]
    only_if_skew_above: 0.1
  delegate_to: localhost
  run_once: true

- name: Show the plan for two topics without electing
  kraft.kafka.kafka_leader_election:
    bootstrap_servers: [kafka1.example.com:9092]
    topics: [orders, payments]
  check_mode: true
  delegate_to: localhost
  run_once: true
  register: plan

- name: Last resort for a partition whose in-sync replicas are all gone (loses data)
  kraft.kafka.kafka_leader_election:
    bootstrap_servers: [kafka1.example.com:9092]
    election_type: unclean
    allow_unclean: true
    partitions:
      - {topic: orders, partition: 3}
  delegate_to: localhost
  run_once: true
'''

RETURN = r'''
skew:
  description: Leader skew of the partitions in scope before the election.
  returned: success
  type: dict
  contains:
    partitions:
      description: Partitions in scope.
      type: int
      sample: 46
    not_preferred:
      description: Partitions that have a leader which is not their preferred replica.
      type: int
      sample: 15
    offline:
      description: Partitions without a leader.
      type: int
      sample: 0
    ratio:
      description: RV(skew.not_preferred) divided by RV(skew.partitions) (0 when there are none), rounded to 4 places.
      type: float
      sample: 0.3261
    electable:
      description: Partitions the election would move (preferred) or give a leader (unclean).
      type: int
      sample: 15
    max_leader_excess:
      description: Largest number of partitions a broker leads beyond those it is the preferred leader of.
      type: int
      sample: 8
skew_after:
  description: RV(skew) after the election; in check mode, or when nothing was elected, the predicted or unchanged value.
  returned: success
  type: dict
before:
  description: Leadership per broker before the election, sorted by broker id. Brokers that are
    replicas but not registered are included with RV(before[].registered=false).
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: Broker id.
      type: int
      sample: 1
    leaders:
      description: Partitions in scope this broker leads.
      type: int
      sample: 23
    preferred_leaders:
      description: Partitions in scope whose preferred (first) replica is this broker.
      type: int
      sample: 15
    replicas:
      description: Partitions in scope with a replica on this broker.
      type: int
      sample: 46
    fenced:
      description: Whether the broker is fenced (stopped or not heartbeating).
      type: bool
      sample: false
    registered:
      description: Whether the broker is registered with the controller.
      type: bool
      sample: true
after:
  description: Leadership per broker after the election (predicted in check mode). Same keys as RV(before).
  returned: success
  type: list
  elements: dict
elections:
  description: Partitions elected (or, in check mode or below the threshold, that would be elected).
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
      description: Leader before the election; null when the partition had none.
      type: int
    new_leader:
      description: The replica that leads after the election (expected one in check mode).
      type: int
  sample: [{topic: orders, partition: 2, leader: 1, new_leader: 3}]
not_electable:
  description: Partitions in scope that are not led as wished but cannot be elected, with the reason.
  returned: success
  type: list
  elements: dict
  sample: [{topic: orders, partition: 5, leader: 2, preferred: 3, reason: "preferred replica 3 is not in the ISR [2, 1]"}]
refused:
  description: Partitions the controller refused to elect, with Kafka's error.
  returned: when elections were attempted
  type: list
  elements: dict
  sample: [{topic: orders, partition: 5, error: "PreferredLeaderNotAvailableError: ..."}]
elected:
  description: Whether an election request was sent (false in check mode, below the threshold or with nothing to elect).
  returned: success
  type: bool
  sample: true
threshold_met:
  description: Whether RV(skew.ratio) is above O(only_if_skew_above) (always true without it).
  returned: success
  type: bool
  sample: true
'''

import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kraft.kafka.plugins.module_utils.kafka_validation import new_module

from ansible_collections.kraft.kafka.plugins.module_utils.kafka_client import (
    KafkaModuleError,
    kafka_connection_argument_spec,
    run_module,
)
from ansible_collections.kraft.kafka.plugins.module_utils.kafka_validation import (
    check_integer, check_scope_list, check_topic_name, check_unique)
from ansible_collections.kraft.kafka.plugins.module_utils.kafka_leadership import (
    broker_leadership,
    leader_skew,
    partition_state,
    preferred_replica,
    preferred_unavailable_reason,
)

try:
    import kafka.errors as kafka_errors
except ImportError:  # reported by require_kafka_python() in run_module
    kafka_errors = None

PREFERRED = 'preferred'
UNCLEAN = 'unclean'
ELECTION_TYPE_CODES = {PREFERRED: 0, UNCLEAN: 1}
UNKNOWN_TOPIC_OR_PARTITION = 3
ELECTION_NOT_NEEDED = 84
POLL_INTERVAL_SECONDS = 0.5


# ------------------------------------------------------------------ params

def argument_spec():
    spec = kafka_connection_argument_spec()
    spec.update(
        election_type=dict(type='str', default=PREFERRED, choices=[PREFERRED, UNCLEAN]),
        allow_unclean=dict(type='bool', default=False),
        topics=dict(type='list', elements='str'),
        partitions=dict(type='list', elements='dict', options=dict(
            topic=dict(type='str', required=True),
            partition=dict(type='int', required=True),
        )),
        only_if_skew_above=dict(type='float'),
        wait_timeout=dict(type='int', default=60),
    )
    return spec


def check_input(params, problems):
    """kraft.kafka.kafka_validation rules: empty scopes refused, names and partition numbers checked."""
    validate_params(params)
    everything = 'every partition of the cluster%s' % (
        ' (every leaderless partition, unclean)' if params['election_type'] == UNCLEAN else '')
    for option in ('topics', 'partitions'):
        check_scope_list(problems, option, params[option], everything, 'the whole cluster')
    for index, topic in enumerate(params['topics'] or []):
        check_topic_name(problems, 'topics[%d]' % index, topic)
    check_unique(problems, 'topics', params['topics'] or [])
    seen = set()
    for index, item in enumerate(params['partitions'] or []):
        label = 'partitions[%d]' % index
        check_topic_name(problems, label + '.topic', item['topic'])
        check_integer(problems, label + '.partition', item['partition'], 0)
        key = (item['topic'], item['partition'])
        if key in seen:
            problems.add(label, 'partition %r %s is given more than once; give each once.' % key)
        seen.add(key)


def validate_params(params):
    if params['election_type'] == UNCLEAN and not params['allow_unclean']:
        raise KafkaModuleError(
            'election_type=unclean elects leaders that are not in sync: records only the old leader had '
            'are lost. Set allow_unclean: true to confirm, or use election_type: preferred.')
    threshold = params['only_if_skew_above']
    if threshold is not None:
        if params['election_type'] != PREFERRED:
            raise KafkaModuleError('only_if_skew_above applies to preferred elections only.')
        if not 0 <= threshold < 1:
            raise KafkaModuleError('only_if_skew_above is a fraction of partitions, from 0 up to (not '
                                   'including) 1; got %s.' % threshold)
    if params['wait_timeout'] < 0:
        raise KafkaModuleError('wait_timeout must be 0 or more, got %d.' % params['wait_timeout'])


# ------------------------------------------------------------ cluster state

def describe_brokers(admin):
    """{broker_id: fenced} of every registered broker."""
    cluster = admin.describe_cluster()
    return dict((b['broker_id'], bool(b.get('is_fenced'))) for b in cluster.get('brokers') or [])


def describe_partitions(admin, topics=None):
    """Partition states (sorted) of `topics` (None: every topic); unknown topics raise."""
    states, missing = [], []
    for topic in admin.describe_topics(sorted(set(topics)) if topics is not None else None):
        code = topic.get('error_code') or 0
        if code == UNKNOWN_TOPIC_OR_PARTITION:
            missing.append(topic['name'])
        elif code:
            raise KafkaModuleError('Failed to describe topic %s: %s' % (topic['name'], error_name(code)))
        else:
            states.extend(partition_state(topic['name'], p) for p in topic.get('partitions') or [])
    if missing:
        raise KafkaModuleError('Topic(s) %s do not exist.' % ', '.join(sorted(missing)))
    return sorted(states, key=partition_key)


def partition_key(state):
    return (state['topic'], state['partition'])


def error_name(code):
    error = kafka_errors.for_code(code) if kafka_errors is not None else None
    return error.__name__ if error is not None else 'error code %s' % code


def scope_topics(params):
    """Topics to describe: None for all."""
    if params['partitions']:
        return [p['topic'] for p in params['partitions']]
    return params['topics']


def select_partitions(states, wanted):
    """The states of the requested partitions; partitions that do not exist raise."""
    if not wanted:
        return states
    by_key = dict((partition_key(s), s) for s in states)
    keys = sorted(set((p['topic'], p['partition']) for p in wanted))
    missing = ['%s-%d' % key for key in keys if key not in by_key]
    if missing:
        raise KafkaModuleError('Partition(s) %s do not exist.' % ', '.join(missing))
    return [by_key[key] for key in keys]


# -------------------------------------------------------------------- plan

def preferred_plan(states, brokers):
    """(elections, not_electable): partitions whose preferred replica can take over now."""
    elections, not_electable = [], []
    for state in states:
        preferred = preferred_replica(state)
        if preferred is None or state['leader'] == preferred:
            continue
        reason = preferred_unavailable_reason(state, preferred, brokers)
        if reason:
            not_electable.append(dict(topic=state['topic'], partition=state['partition'],
                                      leader=state['leader'], preferred=preferred, reason=reason))
        else:
            elections.append(election(state, preferred))
    return elections, not_electable


def unclean_plan(states, brokers):
    """(elections, not_electable): leaderless partitions and the live replica Kafka will pick."""
    elections, not_electable = [], []
    for state in states:
        if state['leader'] is not None:
            continue
        live = [r for r in state['replicas'] if brokers.get(r) is False]
        if live:
            # The controller takes the first live replica in assignment order.
            elections.append(election(state, live[0]))
        else:
            not_electable.append(dict(topic=state['topic'], partition=state['partition'], leader=None,
                                      preferred=preferred_replica(state),
                                      reason='no replica of %s is on a live broker' % state['replicas']))
    return elections, not_electable


def election(state, new_leader):
    return dict(topic=state['topic'], partition=state['partition'], leader=state['leader'],
                new_leader=new_leader)


def predicted_states(states, elections):
    moved = dict(((e['topic'], e['partition']), e['new_leader']) for e in elections)
    return [dict(s, leader=moved.get(partition_key(s), s['leader'])) for s in states]


# ---------------------------------------------------------------- election

def elect(admin, election_type, elections, timeout_ms):
    """Send one ElectLeaders request; [(topic, partition, error text)] for refused partitions."""
    wanted = {}
    for item in elections:
        wanted.setdefault(item['topic'], []).append(item['partition'])
    response = admin.elect_leaders(ELECTION_TYPE_CODES[election_type], wanted, timeout_ms=timeout_ms,
                                   raise_errors=False)
    return election_failures(response.to_dict() if hasattr(response, 'to_dict') else response)


def election_failures(response):
    top = response.get('error_code') or 0
    if top:
        raise KafkaModuleError('The controller refused the election: %s%s' % (
            error_name(top), (' (%s)' % response['error_message']) if response.get('error_message') else ''))
    failures = []
    for result in response.get('replica_election_results') or []:
        for partition in result.get('partition_result') or []:
            code = partition.get('error_code') or 0
            # Not needed = already led by the wanted replica: the goal is met.
            if code and code != ELECTION_NOT_NEEDED:
                text = error_name(code)
                if partition.get('error_message'):
                    text += ': %s' % partition['error_message']
                failures.append(dict(topic=result['topic'], partition=partition['partition_id'], error=text))
    return failures


def election_done(item, state, election_type):
    if election_type == UNCLEAN:
        return state['leader'] is not None
    return state['leader'] == item['new_leader']


def wait_for_leaders(admin, params, elections):
    """Poll the partitions in scope until every elected one shows its new leader.

    Returns (elections still lagging at the deadline, the states of the last poll). The result
    reports that same poll: brokers learn new leaders asynchronously, so a second read could
    reach a broker that has not caught up yet.
    """
    deadline = time.monotonic() + params['wait_timeout']
    while True:
        states = partitions_in_scope(admin, params)
        by_key = dict((partition_key(s), s) for s in states)
        lagging = [e for e in elections
                   if not election_done(e, by_key[(e['topic'], e['partition'])], params['election_type'])]
        if not lagging or time.monotonic() >= deadline:
            return lagging, states
        time.sleep(POLL_INTERVAL_SECONDS)


def record_new_leaders(elections, states):
    """Fill new_leader from the metadata (unclean elections may pick another live replica)."""
    by_key = dict((partition_key(s), s) for s in states)
    return [dict(e, new_leader=by_key[(e['topic'], e['partition'])]['leader']) for e in elections
            if (e['topic'], e['partition']) in by_key]


def moved_partitions(before, after):
    leaders = dict((partition_key(s), s['leader']) for s in before)
    return [s for s in after if leaders.get(partition_key(s), s['leader']) != s['leader']]


# ------------------------------------------------------------------ module

def make_plan(params, states, brokers):
    if params['election_type'] == UNCLEAN:
        return unclean_plan(states, brokers)
    return preferred_plan(states, brokers)


def threshold_met(params, skew):
    threshold = params['only_if_skew_above']
    return threshold is None or skew['ratio'] > threshold


def partitions_in_scope(admin, params):
    return select_partitions(describe_partitions(admin, scope_topics(params)), params['partitions'])


def run_election(module, admin):
    params = module.params
    validate_params(params)
    brokers = describe_brokers(admin)
    states = partitions_in_scope(admin, params)
    elections, not_electable = make_plan(params, states, brokers)
    skew = leader_skew(states, brokers, electable=len(elections))
    result = dict(changed=False, elected=False, skew=skew, before=broker_leadership(states, brokers),
                  elections=elections, not_electable=not_electable, threshold_met=threshold_met(params, skew))
    if module.check_mode or not elections or not result['threshold_met']:
        planned = elections if result['threshold_met'] else []
        # Check mode predicts the outcome, as Ansible users expect from --check.
        result['changed'] = bool(module.check_mode and planned)
        return finish(result, predicted_states(states, planned), brokers, params)
    failures = elect(admin, params['election_type'], elections, params['request_timeout'] * 1000)
    result.update(elected=True, refused=failures)
    refused = set((f['topic'], f['partition']) for f in failures)
    accepted = [e for e in elections if (e['topic'], e['partition']) not in refused]
    lagging, after = wait_for_leaders(admin, params, accepted)
    result['elections'] = record_new_leaders(elections, after)
    result['changed'] = bool(moved_partitions(states, after))
    finish(result, after, brokers, params)
    if failures or lagging:
        module.fail_json(msg=failure_message(failures, lagging, params['wait_timeout']), **result)
    return result


def finish(result, after_states, brokers, params):
    result['after'] = broker_leadership(after_states, brokers)
    result['skew_after'] = leader_skew(after_states, brokers,
                                       electable=len(make_plan(params, after_states, brokers)[0]))
    return result


def failure_message(failures, lagging, timeout):
    parts = []
    if failures:
        parts.append('the controller refused %d election(s): %s' % (
            len(failures), '; '.join('%s-%d: %s' % (f['topic'], f['partition'], f['error']) for f in failures)))
    if lagging:
        parts.append('after %ss the metadata still does not show the new leader of %s' % (
            timeout, ', '.join('%s-%d' % (e['topic'], e['partition']) for e in lagging)))
    return 'Leader election incomplete: %s.' % '; '.join(parts)


def main():
    module = new_module(AnsibleModule, argument_spec=argument_spec(), supports_check_mode=True,
                        mutually_exclusive=[('topics', 'partitions')])
    run_module(module, run_election, validate=check_input)


if __name__ == '__main__':
    main()
