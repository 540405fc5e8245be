#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kraft.kafka maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: kafka_topic
short_description: Create, change and delete Kafka topics (partitions, replication factor, configs)
version_added: 0.1.0
description:
  - Manages one topic (O(name)) or many (O(topics)) in a Kafka 4.x KRaft cluster through the Kafka
    admin API (kafka-python 3), from the host that runs the task (usually the controller with
    C(delegate_to=localhost) and C(run_once=true)).
  - Missing topics are created with their configs in one batched request; partition counts are
    increased in one batched request; configs are changed with one batched incremental alter-configs
    request; topics with O(state=absent) are deleted in one batched request.
  - A partition count is never decreased (Kafka cannot); asking for fewer partitions fails.
  - A changed O(replication_factor) is applied with a partition reassignment. The new placement keeps
    every existing replica it can (a higher factor only adds replicas, a lower one only removes them, and
    the current preferred leader always stays), and spreads the replicas of the topic evenly over the
    brokers - the ones with the fewest replicas of the topic, then of the whole cluster, get the new
    replicas, over different racks when brokers have a C(broker.rack); removals start with replicas on
    fenced brokers and on the busiest ones. Preferred leaders are spread the same way; a partition keeps
    its current leader unless another of its replicas leads fewer partitions of the topic. Only unfenced
    brokers get new replicas. The module waits until every moved partition has exactly its new replicas,
    all in sync, then asks for a preferred leader election.
  - B(All input is validated before anything is changed), across every listed topic - topic names,
    partition counts, replication factors against the number of brokers, duplicate names, internal
    topics, config keys and values. Config keys and values, partition increases and new topics are also
    validated by the brokers themselves (C(validate_only) requests) before the first change, also in
    check mode, so a bad config value fails the task instead of being half applied.
  - Internal topics (C(__consumer_offsets), C(__transaction_state), C(__cluster_metadata),
    C(__share_group_state) and any name starting with C(__)) are managed by Kafka. They can be listed
    with O(state=present) and no partitions, replication factor or config, to read their state; any
    other request for them fails.
author:
  - kraft.kafka maintainers (@kraft-kafka)
extends_documentation_fragment:
  - kraft.kafka.kafka_connection
attributes:
  check_mode:
    support: full
    description:
      - Nothing is changed. New topics, partition increases and config changes are still validated by
        the brokers (C(validate_only)), so check mode fails on the same bad input a real run fails on.
        The planned replica placement of a replication factor change is reported but cannot be
        validated by Kafka in advance.
  diff_mode:
    support: full
    description:
      - One diff per changed topic with its state, partition count, replication factor and topic-level
        config overrides, before and after.
options:
  name:
    description:
      - Name of a single topic to manage. Mutually exclusive with O(topics).
      - Legal names use only C(a-z), C(A-Z), C(0-9), C(.), C(_) and C(-), are at most 249 characters,
        and are not C(.) or C(..).
    type: str
    aliases: [topic]
  topics:
    description:
      - Several topics to manage in one task. Mutually exclusive with O(name).
      - The top-level O(state), O(partitions), O(replication_factor), O(config) and O(config_mode) are
        the defaults for every item. An item's C(config) is merged over the top-level O(config), so
        shared settings can be given once and adjusted per topic.
      - A topic name may appear only once.
    type: list
    elements: dict
    suboptions:
      name:
        description: Topic name (same rules as O(name)).
        type: str
        required: true
      state:
        description: Like O(state); defaults to the top-level O(state).
        type: str
        choices: [present, absent]
      partitions:
        description: Like O(partitions); defaults to the top-level O(partitions).
        type: int
      replication_factor:
        description: Like O(replication_factor); defaults to the top-level O(replication_factor).
        type: int
      config:
        description: Like O(config); merged over the top-level O(config).
        type: dict
      config_mode:
        description: Like O(config_mode); defaults to the top-level O(config_mode).
        type: str
        choices: [merge, exact]
  state:
    description:
      - V(present) creates the topic if it is missing and brings an existing one to the requested
        partitions, replication factor and config.
      - V(absent) deletes the topic if it exists (all its data is lost).
    type: str
    choices: [present, absent]
    default: present
  partitions:
    description:
      - Number of partitions. Must be at least 1.
      - An existing topic with fewer partitions gets new partitions; asking for fewer partitions than
        the topic has fails, because Kafka cannot remove partitions.
      - Adding partitions changes which partition a keyed record goes to.
      - When omitted, a new topic gets the broker default (C(num.partitions)) and an existing topic
        keeps its partition count.
    type: int
  replication_factor:
    description:
      - Number of replicas of every partition. Must be at least 1 and at most the number of brokers.
      - For an existing topic a different value triggers a partition reassignment (see the
        description), followed by a wait of up to O(wait_timeout) seconds for it to complete.
      - When omitted, a new topic gets the broker default (C(default.replication.factor)) and an
        existing topic keeps its replicas.
    type: int
  config:
    description:
      - Topic-level config overrides, for example C(retention.ms), C(cleanup.policy) or
        C(min.insync.replicas).
      - Values may be strings, numbers, booleans or lists (sent as comma separated strings). Values
        are compared after normalisation by the config's type, as Kafka reports everything as
        strings - C(86400000) equals C("86400000"), C(true) equals C("True"), C(compact, delete)
        equals C([compact, delete]), C(0.5) equals C("0.50").
      - A key is in sync only when the topic has it as a topic-level override with an equal value;
        setting a key to the broker's default value still creates the override.
      - A key set to V(null) removes the topic-level override, so the topic follows the broker
        default again.
      - Unknown keys and invalid values fail the task before anything changes.
      - When omitted, configs are not managed at all, whatever O(config_mode) says.
    type: dict
  config_mode:
    description:
      - V(merge) manages only the keys listed in O(config); other overrides of the topic are left as
        they are.
      - V(exact) makes the keys listed in O(config) the complete set of topic-level overrides; every
        other override of the topic is removed (reset to the broker default). With O(config={}) all
        overrides are removed.
    type: str
    choices: [merge, exact]
    default: merge
  wait_timeout:
    description:
      - Seconds to wait for a replica reassignment to complete (all new replicas in sync), for new
        topics to have leaders, and for deleted topics to disappear from the cluster metadata.
      - When a reassignment does not finish in time the task fails naming the partitions still moving;
        Kafka keeps moving them in the background, and running the task again waits again.
    type: int
    default: 300
notes:
  - Run it once per cluster (C(run_once=true)) from a host that reaches the brokers, usually with
    C(delegate_to=localhost).
  - Replication factor changes copy data between brokers; on large topics raise O(wait_timeout) or
    set replication throttles beforehand.
seealso:
  - name: Kafka topic configs
    description: Every topic-level config key with its type, default and valid values.
    link: https://kafka.apache.org/documentation/#topicconfigs
'''

EXAMPLES = r'''
- name: One topic with three partitions, three replicas and one week of retention
  kraft.kafka.kafka_topic:
    bootstrap_servers: [kafka1:9092, kafka2:9092, kafka3:9092]
    name: orders
    partitions: 3
    replication_factor: 3
    config:
      retention.ms: 604800000
      cleanup.policy: [delete]
  delegate_to: localhost
  run_once: true

- name: Several topics sharing defaults; the item config is merged over the shared one
  kraft.kafka.kafka_topic:
    bootstrap_servers: "{{ kafka_bootstrap_servers }}"
    replication_factor: 3
    partitions: 6
    config:
      min.insync.replicas: 2
    topics:
      - name: payments
        config:
          retention.ms: 2592000000
      - name: payments-audit
        partitions: 1
        config:
          cleanup.policy: compact
      - name: legacy-events
        state: absent
  delegate_to: localhost
  run_once: true

- name: Make these the only overrides of the topic (all others reset to the broker defaults)
  kraft.kafka.kafka_topic:
    bootstrap_servers: "{{ kafka_bootstrap_servers }}"
    name: orders
    config_mode: exact
    config:
      retention.ms: 86400000
  delegate_to: localhost
  run_once: true

- name: Remove one override, keep the others
  kraft.kafka.kafka_topic:
    bootstrap_servers: "{{ kafka_bootstrap_servers }}"
    name: orders
    config:
      segment.ms: null
  delegate_to: localhost
  run_once: true

- name: Raise the replication factor of an existing topic from 1 to 3 and wait up to 30 minutes
  kraft.kafka.kafka_topic:
    bootstrap_servers: "{{ kafka_bootstrap_servers }}"
    name: clickstream
    replication_factor: 3
    wait_timeout: 1800
  delegate_to: localhost
  run_once: true

- name: Over TLS with SCRAM, reading the topic id of an existing topic
  kraft.kafka.kafka_topic:
    bootstrap_servers: [kafka1.example.com:9094]
    security_protocol: SASL_SSL
    sasl_mechanism: SCRAM-SHA-512
    sasl_username: admin
    sasl_password: "{{ vault_kafka_admin_password }}"
    ssl_cafile: "{{ lookup('file', 'ca.pem') }}"
    name: orders
  delegate_to: localhost
  run_once: true
  register: orders_topic

- name: Show it
  ansible.builtin.debug:
    msg: "{{ orders_topic.topics.orders.topic_id }}"
'''

RETURN = r'''
changed_topics:
  description: Names of the topics that were (or, in check mode, would be) changed, in input order.
  returned: always
  type: list
  elements: str
  sample: [orders, legacy-events]
topics:
  description:
    - One entry per requested topic, keyed by topic name.
    - After a real run it describes the topic after the changes; in check mode it describes the
      current state, and RV(topics.actions) tells what would change.
  returned: always
  type: dict
  contains:
    name:
      description: Topic name.
      type: str
      returned: always
    state:
      description: The requested state.
      type: str
      returned: always
    exists:
      description: Whether the topic exists (after the run; in check mode, now).
      type: bool
      returned: always
    internal:
      description: Whether Kafka treats it as an internal topic.
      type: bool
      returned: always
    topic_id:
      description: Kafka's topic id (a UUID), or null when the topic does not exist.
      type: str
      returned: always
    num_partitions:
      description: Number of partitions (0 when the topic does not exist).
      type: int
      returned: always
    replication_factor:
      description: Replicas per partition (the largest, should partitions differ; 0 when missing).
      type: int
      returned: always
    partitions:
      description: Every partition with its leader, replicas and in-sync replicas (broker ids).
      type: list
      elements: dict
      returned: always
      sample:
        - {partition: 0, leader: 1, replicas: [1, 2, 3], isr: [1, 2, 3]}
    config:
      description: The topic-level config overrides (values as Kafka reports them).
      type: dict
      returned: always
      sample: {retention.ms: '604800000', cleanup.policy: 'compact,delete'}
    actions:
      description: What was (in check mode, would be) done to the topic, in order; empty when nothing.
      type: list
      elements: str
      returned: always
      sample:
        - "increase partitions from 3 to 6"
        - "set config retention.ms: '604800000' -> '86400000'"
        - "change replication factor from 1 to 3 (reassign partitions 0, 1, 2)"
    changed:
      description: Whether this topic was (would be) changed.
      type: bool
      returned: always
    reassignment:
      description:
        - New replicas per partition (partition number as key) of a replication factor change;
          empty when there is none.
      type: dict
      returned: always
      sample: {'0': [1, 2, 3], '1': [2, 3, 1]}
'''

import collections
import re
import time
import traceback

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kraft.kafka.plugins.module_utils.kafka_validation import new_module
from ansible_collections.kraft.kafka.plugins.module_utils.kafka_client import (
    KafkaModuleError,
    describe_kafka_error,
    kafka_connection_argument_spec,
    per_item_errors,
    run_module,
)
from ansible_collections.kraft.kafka.plugins.module_utils.kafka_validation import check_unique, show

try:
    from kafka.admin import ConfigResource
    from kafka.errors import for_code
    from kafka.structs import TopicPartition
except ImportError:  # reported by require_kafka_python()
    ConfigResource = None
    for_code = None
    TopicPartition = None

TOPIC_NAME_PATTERN = re.compile(r'^[a-zA-Z0-9._-]+$')
MAX_TOPIC_NAME_LENGTH = 249
INTERNAL_TOPICS = ('__consumer_offsets', '__transaction_state', '__cluster_metadata',
                   '__share_group_state')
TOPIC_OVERRIDE_SOURCE = 'DYNAMIC_TOPIC_CONFIG'
UNKNOWN_TOPIC_ERROR_CODE = 3
INTEGER_TYPES = ('INT', 'SHORT', 'LONG')
POLL_SECONDS = 1.0
SPEC_KEYS = ('state', 'partitions', 'replication_factor', 'config', 'config_mode')


# --------------------------------------------------------------- input specs

def build_topic_specs(params):
    """One spec dict per requested topic, with the top-level defaults applied."""
    defaults = dict((key, params.get(key)) for key in SPEC_KEYS)
    if params.get('name') is not None:
        return [_spec(params['name'], {}, defaults)]
    return [_spec(item.get('name'), item, defaults) for item in params.get('topics') or []]


def _spec(name, item, defaults):
    spec = {'name': name}
    for key in ('state', 'partitions', 'replication_factor', 'config_mode'):
        spec[key] = item.get(key) if item.get(key) is not None else defaults.get(key)
    spec['state'] = spec['state'] or 'present'
    spec['config_mode'] = spec['config_mode'] or 'merge'
    spec['config'] = _merged_config(defaults.get('config'), item.get('config'))
    return spec


def _merged_config(default_config, item_config):
    # None means "configs not managed"; {} (possibly after merging) is a managed, empty set.
    if default_config is None and item_config is None:
        return None
    merged = dict(default_config or {})
    merged.update(item_config or {})
    return merged


def is_internal_topic(name):
    return name in INTERNAL_TOPICS or str(name).startswith('__')


def topic_name_errors(name):
    """Why name is not a legal topic name (empty list when it is)."""
    if not isinstance(name, str) or not name:
        return ['topic name must be a non-empty string, got %r' % (name,)]
    errors = []
    if name in ('.', '..'):
        errors.append("topic name '%s' is not allowed ('.' and '..' are reserved)" % name)
    if len(name) > MAX_TOPIC_NAME_LENGTH:
        errors.append("topic name '%s...' is %d characters long, the maximum is %d"
                      % (name[:40], len(name), MAX_TOPIC_NAME_LENGTH))
    if not TOPIC_NAME_PATTERN.match(name):
        bad = sorted(set(c for c in name if not re.match(r'[a-zA-Z0-9._-]', c)))
        errors.append("topic name '%s' contains illegal characters %s; only ASCII letters, digits, "
                      "'.', '_' and '-' are allowed" % (name, ' '.join(repr(c) for c in bad)))
    return errors


def spec_errors(spec):
    """Input errors of one spec that need no cluster knowledge."""
    name = spec['name']
    errors = topic_name_errors(name)
    if errors:
        return errors
    for option in ('partitions', 'replication_factor'):
        value = spec.get(option)
        if value is not None and value < 1:
            errors.append("%s: %s must be at least 1, got %s" % (name, option, value))
    errors.extend(_config_input_errors(name, spec.get('config')))
    errors.extend(_internal_topic_errors(spec))
    return errors


def _config_input_errors(name, config):
    errors = []
    for key, value in (config or {}).items():
        if not isinstance(key, str) or not key.strip():
            errors.append("%s: config keys must be non-empty strings, got %r" % (name, key))
        elif isinstance(value, dict):
            errors.append("%s: config %s must be a string, number, boolean, list or null, got a dict"
                          % (name, key))
        elif isinstance(value, (list, tuple)) and any(isinstance(v, (dict, list, tuple)) for v in value):
            errors.append("%s: config %s must be a flat list of values" % (name, key))
    return errors


def _internal_topic_errors(spec):
    if not is_internal_topic(spec['name']):
        return []
    if spec['state'] == 'absent':
        return ["%s is an internal topic (managed by Kafka): it is never deleted" % spec['name']]
    managed = [key for key in ('partitions', 'replication_factor', 'config')
               if spec.get(key) is not None]
    if managed:
        return ["%s is an internal topic (managed by Kafka) and is never altered: remove %s "
                "to only read its state" % (spec['name'], ' and '.join(managed))]
    return []


def check_input(params, problems):
    """kraft.kafka.kafka_validation rules of this module: every problem before the cluster is contacted."""
    specs = build_topic_specs(params)
    problems.extend(validate_specs(specs))
    names = [s['name'] for s in specs if s['state'] == 'present' and isinstance(s['name'], str)]
    # Duplicates are reported by duplicate_name_errors; here only '.'/'_' collisions of distinct names.
    check_unique(problems, 'topics', sorted(set(names), key=names.index), topics=True)
    for spec in specs:
        insync_replicas_problem(problems, spec)
    if params['wait_timeout'] < 1:
        problems.add('wait_timeout', 'must be at least 1 second, got %s.' % show(params['wait_timeout']))


def insync_replicas_problem(problems, spec):
    """min.insync.replicas above the replication factor: Kafka creates the topic, then refuses every acks=all write."""
    config = spec.get('config') or {}
    value, factor = config.get('min.insync.replicas'), spec.get('replication_factor')
    if value is None or factor is None or isinstance(value, bool):
        return
    try:
        wanted = int(str(value).strip())
    except ValueError:
        problems.add('%s: config min.insync.replicas' % spec['name'], 'must be a whole number, got %s.' % show(value))
        return
    if wanted > factor:
        problems.add('%s: config min.insync.replicas' % spec['name'],
                     '%d is above replication_factor %d: every producer with acks=all would be refused '
                     '(NotEnoughReplicas). Use at most %d (usually replication_factor - 1).' % (wanted, factor, factor))


def duplicate_name_errors(specs):
    seen, duplicates = set(), []
    for spec in specs:
        name = spec['name']
        if name in seen and name not in duplicates:
            duplicates.append(name)
        seen.add(name)
    return ["topic '%s' is listed more than once in topics" % name for name in duplicates]


def validate_specs(specs):
    """Every input error of every spec, before the cluster is contacted."""
    if not specs:
        return ['no topics given: set name or a non-empty topics list']
    errors = duplicate_name_errors(specs)
    for spec in specs:
        errors.extend(spec_errors(spec))
    return errors


# --------------------------------------------------------- config normalising

def _scalar_text(value):
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, float) and value.is_integer():
        # YAML may read 1e6 as a float: send it as the integer Kafka expects.
        return str(int(value))
    return str(value).strip()


def normalize_config_value(value, config_type=None):
    """The canonical string for a config value, so that equal settings compare equal.

    Kafka reports every value as a string ('true', '86400000', 'compact,delete'),
    while YAML gives booleans, numbers and lists. config_type is the type name
    Kafka reports for the key (BOOLEAN, INT, LONG, DOUBLE, LIST, ...) or None.
    """
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        text = ','.join(_scalar_text(v) for v in value)
    else:
        text = _scalar_text(value)
    kind = (config_type or '').upper()
    if kind == 'BOOLEAN':
        return text.lower()
    if kind in INTEGER_TYPES:
        return _canonical_number(text, int)
    if kind == 'DOUBLE':
        return _canonical_number(text, float)
    if kind == 'LIST' or isinstance(value, (list, tuple)):
        return ','.join(item.strip() for item in text.split(',') if item.strip())
    return text


def _canonical_number(text, kind):
    try:
        return repr(kind(text))
    except ValueError:
        return text  # not a number: the broker's validation reports it


def config_changes(desired, overrides, config_types, mode):
    """(to_set, to_delete) that bring the topic-level overrides to desired.

    desired: {key: value or None}; overrides: {key: current string} of the
    topic-level overrides only; config_types: {key: Kafka type name}.
    A None value, and in exact mode every override not in desired, is deleted.
    """
    to_set, to_delete = {}, []
    for key in sorted(desired):
        wanted = normalize_config_value(desired[key], config_types.get(key))
        if wanted is None:
            if key in overrides:
                to_delete.append(key)
            continue
        current = overrides.get(key)
        if current is None or normalize_config_value(current, config_types.get(key)) != wanted:
            to_set[key] = wanted
    if mode == 'exact':
        to_delete.extend(sorted(key for key in overrides if key not in desired))
    return to_set, to_delete


def config_after(overrides, to_set, to_delete):
    after = dict((k, v) for k, v in overrides.items() if k not in to_delete)
    after.update(to_set)
    return after


# ------------------------------------------------------------ replica placement

class BrokerLoad(object):
    """Replicas and preferred leaderships per broker, used to spread new replicas."""

    def __init__(self, brokers):
        self.replicas = dict((b, 0) for b in brokers)
        self.leaders = dict((b, 0) for b in brokers)

    def add(self, replicas, sign=1):
        for broker in replicas:
            self.replicas[broker] = self.replicas.get(broker, 0) + sign
        if replicas:
            self.leaders[replicas[0]] = self.leaders.get(replicas[0], 0) + sign

    def remove(self, replicas):
        self.add(replicas, sign=-1)

    @classmethod
    def from_assignments(cls, brokers, assignments):
        """assignments: iterable of replica lists (preferred leader first)."""
        load = cls(brokers)
        for replicas in assignments:
            load.add(replicas)
        return load


class PlacementError(Exception):
    """Not enough brokers to place the requested replicas."""


def plan_replica_assignment(current, replication_factor, brokers, load, racks=None, keep_on=None):
    """New replicas for every partition of one topic.

    current: {partition: [broker ids, preferred leader first]} ([] for a
    partition still to be created); brokers: broker ids that may get new
    replicas (the unfenced ones); keep_on: broker ids whose existing replicas
    may stay (default: brokers) - a broker fenced for a restart keeps its
    replicas, one that left the cluster does not; load: BrokerLoad of the rest
    of the cluster (this topic excluded), updated with the result so several
    topics can be planned one after another. Partitions that already have
    replication_factor replicas on keep_on brokers keep them unchanged.
    Raises PlacementError when there are too few brokers.

    Replicas and preferred leaders are balanced within the topic first (a
    topic led by one broker is slow whatever the cluster totals say) and by
    the cluster-wide load among equals.
    """
    placement = TopicPlacement(current, replication_factor, brokers, load, racks or {},
                               set(brokers if keep_on is None else keep_on))
    placement.drop_extra_replicas()
    placement.add_missing_replicas()
    placement.even_out()
    plan = _order_leaders(current, placement.sets, placement.moving, load)
    for replicas in plan.values():
        load.add(replicas)
    return plan


class TopicPlacement(object):
    """The replica sets of one topic while a new replication factor is planned.

    Existing replicas are kept wherever possible: the current preferred leader
    always stays (unless fenced), and evening out the topic only moves
    replicas this plan adds or swaps which existing replica is dropped, so no
    more data is copied than the factor change needs.
    """

    def __init__(self, current, replication_factor, brokers, load, racks, keep_on):
        self.replication_factor = replication_factor
        self.brokers = list(brokers)
        self.load = load
        self.racks = racks
        self.original = dict((p, [b for b in replicas if b in keep_on]) for p, replicas in current.items())
        self.sets = dict((p, list(replicas)) for p, replicas in self.original.items())
        # The current preferred leader stays, unless its broker is fenced (it could not catch up).
        self.protected = dict((p, next((b for b in replicas if b in self.brokers), None))
                              for p, replicas in self.original.items())
        self.moving = sorted(p for p, replicas in current.items()
                             if len(replicas) != replication_factor or self.sets[p] != replicas)
        # Replicas of this topic per broker as the plan stands (all partitions, from the start).
        self.counts = collections.Counter(b for replicas in self.sets.values() for b in replicas)

    def drop_extra_replicas(self):
        for partition in self.moving:
            while len(self.sets[partition]) > self.replication_factor:
                followers = [b for b in self.sets[partition] if b != self.protected[partition]]
                # Replicas on fenced brokers go first: they would hold the reassignment up.
                victim = max(followers, key=lambda b: (b not in self.brokers, self.counts[b],
                                                       self.load.replicas.get(b, 0), followers.index(b)))
                self.sets[partition].remove(victim)
                self.counts[victim] -= 1

    def add_missing_replicas(self):
        # One replica per partition per round: filling partition after partition would leave the
        # last ones only the busiest brokers to choose from.
        while any(len(self.sets[p]) < self.replication_factor for p in self.moving):
            for partition in self.moving:
                if len(self.sets[partition]) < self.replication_factor:
                    self._add_replica(partition)

    def _add_replica(self, partition):
        replicas = self.sets[partition]
        candidates = [b for b in self.brokers if b not in replicas]
        if not candidates:
            raise PlacementError('%d replica(s) needed, but only %d unfenced broker(s) are available (%s)'
                                 % (self.replication_factor, len(self.brokers),
                                    ', '.join(str(b) for b in self.brokers)))
        used_racks = set(self.racks.get(b) for b in replicas if self.racks.get(b) is not None)
        best = min(candidates, key=lambda b: (self.racks.get(b) is not None and self.racks.get(b) in used_racks,
                                              self.counts[b], self.load.replicas.get(b, 0), b))
        replicas.append(best)
        self.counts[best] += 1

    def even_out(self):
        """Shift replicas until the topic's brokers hold counts that differ by one at most.

        Greedy choices can corner the last partitions; each step moves one
        replica along a chain of partitions from a busiest broker to one with
        at least two fewer, which always ends (the spread strictly shrinks).
        """
        for attempt in range(1 + len(self.brokers) * sum(len(r) for r in self.sets.values())):
            path = self._balancing_path()
            if not path:
                return
            for partition, source, target in path:
                replicas = self.sets[partition]
                replicas[replicas.index(source)] = target
                self.counts[source] -= 1
                self.counts[target] += 1

    def _balancing_path(self):
        for start in sorted(set(self.brokers) | set(self.counts), key=lambda b: (-self.counts[b], b)):
            path = self._path_from(start)
            if path:
                return path
        return None

    def _path_from(self, start):
        """Breadth-first chain of moves, each in another partition, ending two below start."""
        limit = self.counts[start] - 2
        queue = collections.deque([(start, [])])
        seen = set([start])
        while queue:
            broker, path = queue.popleft()
            used = set(step[0] for step in path)
            for partition in self.moving:
                if partition in used:
                    continue
                for target in self._targets(partition, broker):
                    if target in seen:
                        continue
                    steps = path + [(partition, broker, target)]
                    if self.counts[target] <= limit:
                        return steps
                    seen.add(target)
                    queue.append((target, steps))
        return []

    def _targets(self, partition, broker):
        """Brokers that may take broker's replica of partition without copying more than planned."""
        replicas = self.sets[partition]
        original = self.original[partition]
        if broker not in replicas or broker == self.protected[partition]:
            return []
        dropped = [b for b in original if b not in replicas]
        # An existing replica may only trade places with another existing one (a different drop);
        # an added replica may go to any broker.
        options = dropped if broker in original else dropped + [b for b in self.brokers if b not in replicas]
        racks_now = _rack_count(replicas, self.racks)
        return [b for b in options if b in self.brokers and b not in replicas
                and _rack_count([b if r == broker else r for r in replicas], self.racks) >= racks_now]


def _rack_count(replicas, racks):
    return len(set(racks.get(b) for b in replicas if racks.get(b) is not None))


def _order_leaders(current, replica_sets, moving, load):
    """Put each moving partition's preferred leader first; settled partitions keep their order.

    The broker leading the fewest partitions of this topic becomes the
    preferred leader; the current leader keeps the role unless another
    replica leads fewer of the topic's partitions (no needless leadership
    moves), and the cluster-wide leader count decides between the rest.
    """
    settled = [p for p in current if p not in moving]
    topic_leaders = collections.Counter(current[p][0] for p in settled)
    plan = dict((p, list(current[p])) for p in settled)
    for partition in moving:
        current_leader = current[partition][0] if current[partition] else None

        def leader_key(broker):
            return (topic_leaders[broker], broker != current_leader, load.leaders.get(broker, 0), broker)
        leader = min(replica_sets[partition], key=leader_key)
        plan[partition] = [leader] + [b for b in replica_sets[partition] if b != leader]
        topic_leaders[leader] += 1
    return plan


# ----------------------------------------------------------- cluster reading

def describe_brokers(admin):
    """{broker_id: {'rack': ..., 'fenced': bool}} of every registered broker."""
    cluster = admin.describe_cluster()
    return dict((b['broker_id'], {'rack': b.get('rack'), 'fenced': bool(b.get('is_fenced'))})
                for b in cluster.get('brokers') or [])


def describe_topic_states(admin, names):
    """{name: state} for existing topics among names; missing ones are left out."""
    states = {}
    problems = []
    for topic in admin.describe_topics(list(names)):
        code = topic.get('error_code') or 0
        if code == UNKNOWN_TOPIC_ERROR_CODE:
            continue
        if code != 0:
            problems.append(topic)
            continue
        states[topic['name']] = topic_state(topic)
    if problems:
        raise KafkaModuleError('Failed to describe topics: %s' % '; '.join(
            '%s: %s' % failure for failure in per_item_errors(problems)))
    return states


def topic_state(topic):
    partitions = {}
    for p in topic.get('partitions') or []:
        partitions[p['partition_index']] = {
            'leader': p.get('leader_id'),
            'replicas': list(p.get('replica_nodes') or []),
            'isr': list(p.get('isr_nodes') or []),
        }
    return {
        'topic_id': str(topic['topic_id']) if topic.get('topic_id') is not None else None,
        'internal': bool(topic.get('is_internal')),
        'partitions': partitions,
    }


def replication_factor_of(partitions):
    return max([len(p['replicas']) for p in partitions.values()] or [0])


def describe_topic_configs(admin, names):
    """{name: (overrides, types)}: topic-level overrides and Kafka's type of every key."""
    if not names:
        return {}
    resources = [ConfigResource('TOPIC', name) for name in names]
    described = admin.describe_configs(resources, config_filter='all').get('topic', {})
    result = {}
    for name in names:
        entries = described.get(name) or {}
        overrides = dict((key, entry.get('value')) for key, entry in entries.items()
                         if entry.get('config_source') == TOPIC_OVERRIDE_SOURCE)
        types = dict((key, entry.get('config_type')) for key, entry in entries.items())
        result[name] = (overrides, types)
    return result


def ongoing_reassignments(admin, states, names):
    """{name: {partition: {'target': [...], 'adding': [...], 'removing': [...]}}}."""
    wanted = dict((name, sorted(states[name]['partitions'])) for name in names)
    if not wanted:
        return {}
    result = {}
    for tp, info in admin.list_partition_reassignments(wanted).items():
        removing = info.get('removing_replicas') or []
        result.setdefault(tp.topic, {})[tp.partition] = {
            'target': [b for b in info.get('replicas') or [] if b not in removing],
            'adding': list(info.get('adding_replicas') or []),
            'removing': list(removing),
        }
    return result


def cluster_assignments(admin, exclude):
    """Replica lists of every partition in the cluster, except topics in exclude."""
    assignments = []
    for topic in admin.describe_topics(None):
        if topic.get('name') in exclude or (topic.get('error_code') or 0) != 0:
            continue
        for p in topic.get('partitions') or []:
            assignments.append(list(p.get('replica_nodes') or []))
    return assignments


# ------------------------------------------------------------------ planning

def new_plan(spec):
    return {
        'spec': spec, 'errors': [], 'actions': [],
        'create': False, 'delete': False, 'new_partitions': None,
        'new_partition_assignments': None, 'reassignment': {},
        'config_set': {}, 'config_delete': [], 'wait_reassignment': {}, 'needs_placement': False,
    }


def plan_topic(spec, state, config_info, reassigning, broker_count):
    """What to do for one topic, without the replica placement (see plan_placements).

    state: topic_state() or None when missing; config_info: (overrides, types)
    or None; reassigning: {partition: ongoing reassignment}.
    """
    plan = new_plan(spec)
    rf = spec.get('replication_factor')
    if spec['state'] == 'absent':
        if state is not None:
            plan['delete'] = True
            plan['actions'].append('delete topic')
        return plan
    if rf is not None and rf > broker_count:
        plan['errors'].append('%s: replication_factor %d is more than the %d broker(s) in the cluster'
                              % (spec['name'], rf, broker_count))
    if state is None:
        if spec['name'] in INTERNAL_TOPICS:
            return plan  # Kafka creates its internal topics when first needed: only reported.
        if is_internal_topic(spec['name']):
            plan['errors'].append("%s: names starting with '__' are reserved for Kafka's internal topics; "
                                  "it is not created" % spec['name'])
        else:
            _plan_create(plan)
        return plan
    _plan_partition_increase(plan, state)
    _plan_config_changes(plan, config_info)
    _plan_replication_check(plan, state, reassigning or {})
    return plan


def _plan_create(plan):
    spec = plan['spec']
    plan['create'] = True
    desired = spec.get('config') or {}
    plan['config_set'] = dict((k, normalize_config_value(v)) for k, v in sorted(desired.items())
                              if v is not None)
    details = ['partitions=%s' % _or_default(spec.get('partitions')),
               'replication_factor=%s' % _or_default(spec.get('replication_factor'))]
    details.extend("%s='%s'" % (k, v) for k, v in sorted(plan['config_set'].items()))
    plan['actions'].append('create topic (%s)' % ', '.join(details))


def _or_default(value):
    return 'broker default' if value is None else value


def _plan_partition_increase(plan, state):
    wanted = plan['spec'].get('partitions')
    current = len(state['partitions'])
    if wanted is None or wanted == current:
        return
    if wanted < current:
        plan['errors'].append(
            '%s: cannot decrease partitions from %d to %d; Kafka can only add partitions '
            '(recreate the topic to have fewer, losing its data)' % (plan['spec']['name'], current, wanted))
        return
    plan['new_partitions'] = wanted
    plan['actions'].append('increase partitions from %d to %d' % (current, wanted))


def _plan_config_changes(plan, config_info):
    spec = plan['spec']
    if spec.get('config') is None:
        return
    overrides, types = config_info
    unknown = sorted(k for k in spec['config'] if k not in types)
    if unknown:
        plan['errors'].append('%s: unknown topic config key(s): %s' % (spec['name'], ', '.join(unknown)))
    # The known keys are still planned, so the brokers check their values in the same run.
    known = dict((k, v) for k, v in spec['config'].items() if k in types)
    to_set, to_delete = config_changes(known, overrides, types, spec['config_mode'])
    plan['config_set'], plan['config_delete'] = to_set, to_delete
    for key in sorted(to_set):
        if key in overrides:
            plan['actions'].append("set config %s: '%s' -> '%s'" % (key, overrides[key], to_set[key]))
        else:
            plan['actions'].append("set config %s: '%s' (new override)" % (key, to_set[key]))
    for key in to_delete:
        plan['actions'].append("reset config %s to the broker default (was '%s')" % (key, overrides[key]))


def _plan_replication_check(plan, state, reassigning):
    """Decide whether the replication factor changes; placement comes later."""
    rf = plan['spec'].get('replication_factor')
    if rf is None:
        return
    targets = target_replicas(state, reassigning)
    moving = sorted(reassigning)
    if moving:
        if all(len(targets[p]) == rf for p in targets):
            # A reassignment to this factor is already running (e.g. an earlier run timed out).
            plan['wait_reassignment'] = dict((p, targets[p]) for p in moving)
        else:
            plan['errors'].append(
                '%s: a partition reassignment is already in progress for partition(s) %s; wait for it '
                'to finish (kafka-reassign-partitions.sh --verify) before changing the replication factor'
                % (plan['spec']['name'], ', '.join(str(p) for p in moving)))
        return
    plan['needs_placement'] = any(len(r) != rf for r in targets.values())


def target_replicas(state, reassigning):
    """{partition: replicas} with in-progress reassignments counted at their target."""
    targets = {}
    for partition, info in state['partitions'].items():
        moving = reassigning.get(partition)
        targets[partition] = list(moving['target']) if moving else list(info['replicas'])
    return targets


def plan_placements(plans, states, brokers, load_source):
    """Fill in the reassignment of every plan that changes the replication factor.

    brokers: {id: {'rack', 'fenced'}}; load_source() returns the replica lists
    of the rest of the cluster (called only when some placement is needed).
    """
    needing = [p for p in plans if p.get('needs_placement') and not p['errors']]
    if not needing:
        return
    usable = sorted(b for b, info in brokers.items() if not info['fenced'])
    racks = dict((b, info.get('rack')) for b, info in brokers.items())
    load = BrokerLoad.from_assignments(usable, load_source(set(p['spec']['name'] for p in needing)))
    for plan in needing:
        _plan_topic_placement(plan, states[plan['spec']['name']], usable, sorted(brokers), racks, load)


def _plan_topic_placement(plan, state, usable, registered, racks, load):
    spec = plan['spec']
    rf = spec['replication_factor']
    current = dict((p, list(info['replicas'])) for p, info in state['partitions'].items())
    for partition in range(len(current), plan['new_partitions'] or 0):
        current[partition] = []  # created with the new factor, after the reassignment
    try:
        placed = plan_replica_assignment(current, rf, usable, load, racks, keep_on=registered)
    except PlacementError as exc:
        plan['errors'].append('%s: cannot place replication_factor %d: %s' % (spec['name'], rf, exc))
        return
    existing = sorted(state['partitions'])
    plan['reassignment'] = dict((p, placed[p]) for p in existing if placed[p] != current[p])
    if plan['new_partitions']:
        plan['new_partition_assignments'] = [placed[p] for p in sorted(placed) if p not in state['partitions']]
    before = replication_factor_of(state['partitions'])
    moved = ', '.join(str(p) for p in sorted(plan['reassignment'])) or 'none'
    plan['actions'].append('change replication factor from %d to %d (reassign partitions %s)'
                           % (before, rf, moved))


def plan_changes(plan):
    return bool(plan['create'] or plan['delete'] or plan['new_partitions'] or plan['reassignment']
                or plan['config_set'] or plan['config_delete'])


# ------------------------------------------------------ broker-side validation

def validate_with_brokers(admin, plans):
    """Ask the brokers to validate every create, partition increase and config change.

    Nothing is changed (validate_only); returns error strings for every rejected item.
    """
    errors = []
    # A create with a known problem (e.g. replication factor too high) would only repeat it.
    errors.extend(_validate_creates(admin, [p for p in plans if p['create'] and not p['errors']]))
    errors.extend(_validate_partition_increases(admin, [p for p in plans if p['new_partitions']]))
    errors.extend(_validate_config_changes(admin, [p for p in plans if not p['create']
                                                   and (p['config_set'] or p['config_delete'])]))
    return errors


def create_request(plans):
    request = {}
    for plan in plans:
        spec = plan['spec']
        request[spec['name']] = {
            'num_partitions': spec.get('partitions') or -1,
            'replication_factor': spec.get('replication_factor') or -1,
            'configs': dict(plan['config_set']),
        }
    return request


def _validate_creates(admin, plans):
    if not plans:
        return []
    response = admin.create_topics(create_request(plans), validate_only=True, raise_errors=False)
    return ['%s: cannot be created: %s' % failure
            for failure in per_item_errors(response.get('topics') or [])]


def partition_request(plans, with_assignments=True):
    """create_partitions() argument; assignments only for a replication factor change.

    Kafka requires new partitions to have as many replicas as the existing
    ones, so assigned partitions are created after the reassignment finished,
    and are validated beforehand by count only.
    """
    request = {}
    for plan in plans:
        if plan['new_partition_assignments'] and with_assignments:
            request[plan['spec']['name']] = {'count': plan['new_partitions'],
                                             'assignments': plan['new_partition_assignments']}
        else:
            request[plan['spec']['name']] = plan['new_partitions']
    return request


def _partition_failures(response):
    """[(topic, why)] for every topic create_partitions() rejected (it does not raise)."""
    return [(r.name, r.error_message or kafka_error_text(for_code(r.error_code)))
            for r in response.results if r.error_code]


def kafka_error_text(error):
    """'ErrorClass (description)' for a kafka-python error class or instance."""
    if isinstance(error, type):
        return '%s (%s)' % (error.__name__, getattr(error, 'description', ''))
    return str(error)


def _validate_partition_increases(admin, plans):
    if not plans:
        return []
    response = admin.create_partitions(partition_request(plans, with_assignments=False),
                                       validate_only=True, raise_errors=False)
    return ['%s: cannot increase partitions: %s' % failure for failure in _partition_failures(response)]


def config_resources(plans):
    resources = []
    for plan in plans:
        changes = dict(plan['config_set'])
        changes.update((key, ('DELETE', None)) for key in plan['config_delete'])
        resources.append(ConfigResource('TOPIC', plan['spec']['name'], changes))
    return resources


def _config_failures(result):
    return ['%s: config rejected: %s' % failure for failure in per_item_errors(result.get('topic') or {})]


def _validate_config_changes(admin, plans):
    if not plans:
        return []
    result = admin.alter_configs(config_resources(plans), validate_only=True,
                                 raise_on_unknown=False, incremental=True)
    return _config_failures(result)


# ------------------------------------------------------------------ applying

class ApplyError(Exception):
    """A change failed after earlier changes were applied."""


def apply_plans(admin, plans, wait_timeout, done):
    """Apply all changes, batched per kind; `done` collects the applied actions."""
    _apply_creates(admin, [p for p in plans if p['create']], wait_timeout, done)
    _apply_config_changes(admin, [p for p in plans if not p['create']
                                  and (p['config_set'] or p['config_delete'])], wait_timeout, done)
    # Reassignments come before partition increases: see partition_request().
    _apply_reassignments(admin, [p for p in plans if p['reassignment']], wait_timeout, done)
    _apply_partition_increases(admin, [p for p in plans if p['new_partitions']], wait_timeout, done)
    _wait_for_ongoing(admin, [p for p in plans if p['wait_reassignment']], wait_timeout)
    _apply_deletes(admin, [p for p in plans if p['delete']], wait_timeout, done)


def _fail_if(failures, what):
    if failures:
        raise ApplyError('Failed to %s: %s' % (what, '; '.join(failures)))


def _mark_done(done, plans, predicate=lambda action: True):
    for plan in plans:
        name = plan['spec']['name']
        done.setdefault(name, []).extend(a for a in plan['actions'] if predicate(a))


def _apply_creates(admin, plans, wait_timeout, done):
    if not plans:
        return
    response = admin.create_topics(create_request(plans), raise_errors=False)
    failures = per_item_errors(response.get('topics') or [])
    failed = set(failure[0] for failure in failures)
    _mark_done(done, [p for p in plans if p['spec']['name'] not in failed],
               lambda a: a.startswith('create'))
    _fail_if(['%s: %s' % f for f in failures], 'create topics')
    admin.wait_for_topics([p['spec']['name'] for p in plans], timeout_ms=wait_timeout * 1000)


def _apply_partition_increases(admin, plans, wait_timeout, done):
    if not plans:
        return
    response = admin.create_partitions(partition_request(plans), raise_errors=False)
    failures = _partition_failures(response)
    failed = set(failure[0] for failure in failures)
    _mark_done(done, [p for p in plans if p['spec']['name'] not in failed],
               lambda a: a.startswith('increase partitions'))
    _fail_if(['%s: %s' % failure for failure in failures], 'increase partitions')
    wait_for_partitions(admin, dict((p['spec']['name'], p['new_partitions']) for p in plans), wait_timeout)


def wait_for_partitions(admin, counts, wait_timeout):
    """Poll until each topic has its new partition count, every partition with a leader.

    The controller answers before the brokers' metadata shows the new
    partitions; without waiting, the returned state would be the old one.
    """
    def lagging():
        states = describe_topic_states(admin, list(counts))
        return sorted(name for name, count in counts.items()
                      if name not in states or len(states[name]['partitions']) != count
                      or any(p['leader'] is None or p['leader'] < 0 for p in states[name]['partitions'].values()))
    poll_until(lagging, wait_timeout, 'New partitions not visible with leaders after %ss for: %s')


def poll_until(lagging, wait_timeout, timeout_message):
    """Call lagging() until it returns nothing; ApplyError with what lags at the deadline."""
    deadline = time.monotonic() + wait_timeout
    while True:
        behind = lagging()
        if not behind:
            return
        if time.monotonic() >= deadline:
            raise ApplyError(timeout_message % (wait_timeout, '; '.join(str(b) for b in behind)))
        time.sleep(POLL_SECONDS)


def _apply_config_changes(admin, plans, wait_timeout, done):
    if not plans:
        return
    result = admin.alter_configs(config_resources(plans), raise_on_unknown=False, incremental=True)
    failures = per_item_errors(result.get('topic') or {})
    failed = set(failure[0] for failure in failures)
    _mark_done(done, [p for p in plans if p['spec']['name'] not in failed],
               lambda a: a.startswith(('set config', 'reset config')))
    _fail_if(['%s: %s' % f for f in failures], 'change topic configs')
    wait_for_configs(admin, plans, wait_timeout)


def wait_for_configs(admin, plans, wait_timeout):
    """Poll until the brokers report the new overrides (they apply them asynchronously)."""
    names = [p['spec']['name'] for p in plans]

    def lagging():
        described = describe_topic_configs(admin, names)
        return [p['spec']['name'] for p in plans if not configs_applied(p, *described[p['spec']['name']])]
    poll_until(lagging, wait_timeout, 'Config changes not visible on the brokers after %ss for: %s')


def configs_applied(plan, overrides, types):
    for key, value in plan['config_set'].items():
        if normalize_config_value(overrides.get(key), types.get(key)) != normalize_config_value(value, types.get(key)):
            return False
    return not any(key in overrides for key in plan['config_delete'])


def _apply_reassignments(admin, plans, wait_timeout, done):
    if not plans:
        return
    request = {}
    for plan in plans:
        for partition, replicas in plan['reassignment'].items():
            request[TopicPartition(plan['spec']['name'], partition)] = replicas
    results = admin.alter_partition_reassignments(request)
    # Per-partition errors come back as values, not exceptions, and a partition
    # the controller did not answer for was not reassigned either.
    failed = dict((tp, kafka_error_text(results[tp]) if tp in results else 'no answer from the controller')
                  for tp in request if tp not in results or results[tp] is not None)
    failed_topics = set(tp.topic for tp in failed)
    _mark_done(done, [p for p in plans if p['spec']['name'] not in failed_topics],
               lambda a: a.startswith('change replication factor'))
    _fail_if(['%s-%s: %s' % (tp.topic, tp.partition, why) for tp, why in sorted(failed.items())],
             'start the partition reassignment')
    wait_for_reassignment(admin, request, wait_timeout)
    elect_preferred_leaders(admin, request)


def _wait_for_ongoing(admin, plans, wait_timeout):
    request = {}
    for plan in plans:
        for partition, replicas in plan['wait_reassignment'].items():
            request[TopicPartition(plan['spec']['name'], partition)] = replicas
    if request:
        wait_for_reassignment(admin, request, wait_timeout)


def reassignment_lag(targets, ongoing, described):
    """{TopicPartition: why it is not done} for partitions still moving.

    targets: {tp: replicas}; ongoing: list_partition_reassignments() result;
    described: {topic: topic_state()}.
    """
    lagging = {}
    for tp, replicas in targets.items():
        state = (described.get(tp.topic) or {}).get('partitions', {}).get(tp.partition)
        if state is None:
            lagging[tp] = 'not in the cluster metadata'
            continue
        done = (tp not in ongoing and state['replicas'] == list(replicas)
                and set(state['isr']) == set(replicas))
        if not done:
            info = ongoing.get(tp) or {}
            lagging[tp] = 'replicas %s, in sync %s%s%s' % (
                state['replicas'], sorted(state['isr']),
                ', adding %s' % info['adding_replicas'] if info.get('adding_replicas') else '',
                ', removing %s' % info['removing_replicas'] if info.get('removing_replicas') else '')
    return lagging


def wait_for_reassignment(admin, targets, wait_timeout):
    """Poll until every partition has exactly its target replicas, all in sync."""
    topics = sorted(set(tp.topic for tp in targets))

    def lagging():
        ongoing = admin.list_partition_reassignments(list(targets))
        behind = reassignment_lag(targets, ongoing, describe_topic_states(admin, topics))
        return ['%s-%s (target %s: %s)' % (tp.topic, tp.partition, targets[tp], why)
                for tp, why in sorted(behind.items())]
    poll_until(lagging, wait_timeout,
               'Timed out after %ss waiting for the replica reassignment to complete; still moving: %s. '
               'Kafka keeps moving them in the background: run the task again to wait again, or raise '
               'wait_timeout.')


def elect_preferred_leaders(admin, targets):
    """Move leadership to the planned preferred leaders; failures only delay it.

    Kafka's auto leader rebalance would do the same within minutes, so an
    election that is not needed or fails is not an error.
    """
    partitions = {}
    for tp in targets:
        partitions.setdefault(tp.topic, []).append(tp.partition)
    try:
        admin.elect_leaders(0, partitions, raise_errors=False)
    except Exception:  # pylint: disable=broad-except
        pass


def _apply_deletes(admin, plans, wait_timeout, done):
    if not plans:
        return
    names = [p['spec']['name'] for p in plans]
    response = admin.delete_topics(names, raise_errors=False)
    failures = per_item_errors(response.get('topics') or [])
    failed = set(failure[0] for failure in failures)
    _mark_done(done, [p for p in plans if p['spec']['name'] not in failed], lambda a: a == 'delete topic')
    _fail_if(['%s: %s' % f for f in failures], 'delete topics')
    wait_until_deleted(admin, names, wait_timeout)


def wait_until_deleted(admin, names, wait_timeout):
    # Creating a topic of the same name right after would fail while it is still in the metadata.
    poll_until(lambda: sorted(describe_topic_states(admin, names)), wait_timeout,
               'Deleted topics still in the cluster metadata after %ss: %s')


# ------------------------------------------------------------------- results

def topic_result(spec, state, config_info, actions, reassignment):
    partitions = (state or {}).get('partitions') or {}
    return {
        'name': spec['name'],
        'state': spec['state'],
        'exists': state is not None,
        'internal': bool(state and state['internal']) or is_internal_topic(spec['name']),
        'topic_id': (state or {}).get('topic_id'),
        'num_partitions': len(partitions),
        'replication_factor': replication_factor_of(partitions),
        'partitions': [dict(partition=p, leader=info['leader'], replicas=info['replicas'], isr=info['isr'])
                       for p, info in sorted(partitions.items())],
        'config': dict((config_info or ({}, {}))[0]),
        'actions': list(actions),
        'changed': bool(actions),
        'reassignment': dict((str(p), r) for p, r in sorted(reassignment.items())),
    }


def diff_side(state, overrides):
    if state is None:
        return {'state': 'absent'}
    return {
        'state': 'present',
        'partitions': len(state['partitions']),
        'replication_factor': replication_factor_of(state['partitions']),
        'config': dict(sorted(overrides.items())),
    }


def predicted_after(plan, state, overrides):
    """The diff 'after' side a plan leads to."""
    spec = plan['spec']
    if plan['delete']:
        return {'state': 'absent'}
    if plan['create']:
        return {'state': 'present',
                'partitions': spec.get('partitions') or 'broker default',
                'replication_factor': spec.get('replication_factor') or 'broker default',
                'config': dict(sorted(plan['config_set'].items()))}
    after = diff_side(state, overrides)
    if plan['new_partitions']:
        after['partitions'] = plan['new_partitions']
    if plan['reassignment'] or plan.get('needs_placement'):
        after['replication_factor'] = spec['replication_factor']
    after['config'] = dict(sorted(config_after(overrides, plan['config_set'], plan['config_delete']).items()))
    return after


def _overrides(configs, name):
    return (configs.get(name) or ({}, {}))[0]


def _diff(name, before, after):
    return {'before_header': 'topic %s' % name, 'after_header': 'topic %s' % name,
            'before': before, 'after': after}


def predicted_diff(plan, states, configs):
    name = plan['spec']['name']
    state, overrides = states.get(name), _overrides(configs, name)
    return _diff(name, diff_side(state, overrides), predicted_after(plan, state, overrides))


def applied_diff(name, states, configs, final_states, final_configs):
    return _diff(name, diff_side(states.get(name), _overrides(configs, name)),
                 diff_side(final_states.get(name), _overrides(final_configs, name)))


# ---------------------------------------------------------------------- main

def gather(admin, specs):
    """Cluster facts the plans need: brokers, topic states, configs, reassignments."""
    brokers = describe_brokers(admin)
    names = [s['name'] for s in specs]
    states = describe_topic_states(admin, names)
    present = [s for s in specs if s['state'] == 'present' and s['name'] in states]
    configs = describe_topic_configs(admin, [s['name'] for s in present])
    with_rf = [s['name'] for s in present if s.get('replication_factor') is not None]
    reassigning = ongoing_reassignments(admin, states, with_rf)
    return brokers, states, configs, reassigning


def make_plans(admin, specs, brokers, states, configs, reassigning):
    plans = [plan_topic(s, states.get(s['name']), configs.get(s['name']),
                        reassigning.get(s['name']), len(brokers)) for s in specs]
    plan_placements(plans, states, brokers, lambda exclude: cluster_assignments(admin, exclude))
    return plans


def manage_topics(module, admin):
    specs = build_topic_specs(module.params)
    brokers, states, configs, reassigning = gather(admin, specs)
    plans = make_plans(admin, specs, brokers, states, configs, reassigning)
    errors = [e for p in plans for e in p['errors']]
    # The brokers validate the error-free plans too, so one run reports every problem.
    errors.extend(validate_with_brokers(admin, [p for p in plans if plan_changes(p)]))
    if errors:
        raise KafkaModuleError('Nothing was changed: %d problem(s) found: %s' % (len(errors), '; '.join(errors)))

    changed_plans = [p for p in plans if plan_changes(p)]
    waiting = any(p['wait_reassignment'] for p in plans)
    if module.check_mode or (not changed_plans and not waiting):
        diffs = [predicted_diff(p, states, configs) for p in changed_plans]
        return build_result(plans, states, configs, dict((p['spec']['name'], p['actions']) for p in plans),
                            diffs, module._diff)

    done = {}
    try:
        apply_plans(admin, plans, module.params['wait_timeout'], done)
    except (ApplyError, KafkaModuleError) as exc:
        fail_after_changes(module, specs, done, str(exc))
    except Exception as exc:  # pylint: disable=broad-except
        fail_after_changes(module, specs, done, describe_kafka_error(exc), traceback.format_exc())
    final_states = describe_final_states(module, admin, plans, states)
    final_configs = describe_topic_configs(admin, [s['name'] for s in specs if s['name'] in final_states])
    diffs = [applied_diff(p['spec']['name'], states, configs, final_states, final_configs)
             for p in changed_plans if done.get(p['spec']['name'])]
    return build_result(plans, final_states, final_configs, done, diffs, module._diff)


def describe_final_states(module, admin, plans, states):
    """Topic states after the changes, once the metadata shows every create and delete.

    Each broker applies metadata at its own pace and a describe may reach any
    of them, so a read right after a change can still show the old state.
    """
    expected = dict((p['spec']['name'], p['create'] or (not p['delete'] and p['spec']['name'] in states))
                    for p in plans)
    seen = {}

    def lagging():
        seen['states'] = describe_topic_states(admin, list(expected))
        return sorted(name for name, present in expected.items() if (name in seen['states']) != present)
    try:
        poll_until(lagging, module.params['wait_timeout'], 'metadata still not updated after %ss for: %s')
    except ApplyError as exc:
        module.warn('The changes were made, but the reported state may be stale: %s' % exc)
    return seen['states']


def fail_after_changes(module, specs, done, message, exception=None):
    applied = [s['name'] for s in specs if done.get(s['name'])]
    if applied:
        message = '%s (already applied before the failure: %s)' % (message, '; '.join(
            '%s: %s' % (name, ', '.join(done[name])) for name in applied))
    kwargs = dict(msg=message, changed=bool(applied), changed_topics=applied,
                  actions=dict((name, done[name]) for name in applied))
    if exception:
        kwargs['exception'] = exception
    module.fail_json(**kwargs)


def build_result(plans, states, configs, actions, diffs, diff_mode):
    topics = {}
    changed_topics = []
    for plan in plans:
        name = plan['spec']['name']
        topic_actions = actions.get(name) or []
        if topic_actions:
            changed_topics.append(name)
        topics[name] = topic_result(plan['spec'], states.get(name), configs.get(name), topic_actions,
                                    plan['reassignment'])
    result = dict(changed=bool(changed_topics), changed_topics=changed_topics, topics=topics)
    if diff_mode:
        result['diff'] = diffs
    return result


def argument_spec():
    spec = kafka_connection_argument_spec()
    spec.update(
        name=dict(type='str', aliases=['topic']),
        topics=dict(type='list', elements='dict', options=dict(
            name=dict(type='str', required=True),
            state=dict(type='str', choices=['present', 'absent']),
            partitions=dict(type='int'),
            replication_factor=dict(type='int'),
            config=dict(type='dict'),
            config_mode=dict(type='str', choices=['merge', 'exact']),
        )),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        partitions=dict(type='int'),
        replication_factor=dict(type='int'),
        config=dict(type='dict'),
        config_mode=dict(type='str', default='merge', choices=['merge', 'exact']),
        wait_timeout=dict(type='int', default=300),
    )
    return spec


def main():
    module = new_module(
        AnsibleModule,
        argument_spec=argument_spec(),
        mutually_exclusive=[('name', 'topics')],
        required_one_of=[('name', 'topics')],
        supports_check_mode=True,
    )
    run_module(module, manage_topics, validate=check_input)


if __name__ == '__main__':
    main()
