#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kraft.kafka maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: kafka_consumer_group_reset
short_description: Reset the committed offsets of a Kafka consumer group, with a dry-run plan and undo
version_added: 0.1.0
description:
  - Moves the committed offsets of an inactive consumer group, like
    C(kafka-consumer-groups.sh --reset-offsets --execute), but safer to run from automation.
  - B(Check mode is the dry run.) It computes the same plan as a real run, per partition the current
    offset, the target, the log start and end, the lag before and after and how many messages would be
    skipped or replayed, and changes nothing.
  - Every run returns RV(previous_offsets), which can be passed unchanged to O(offsets) to undo the reset.
  - Everything is validated before any offset is written (unknown group, unknown topic or partition, a
    group with members, a datetime in the future, wrong option combinations). On any of these the task fails
    and the cluster is untouched.
  - Targets outside the partition's log (below the log start offset or above the log end offset) are moved
    to the nearest end of the log and flagged with RV(plan[].clamped=true), as the Kafka CLI does.
  - The task reports C(changed) only when at least one committed offset actually moves, so running C(to_latest) again right
    after a reset is V(false) unless new messages arrived in between. Every strategy except V(shift_by) is idempotent.
options:
  group:
    description:
      - Id of the consumer group. It must exist (have committed offsets or members), because resetting a typo would
        otherwise create a new group silently.
    type: str
    required: true
    aliases: [group_id]
  strategy:
    description:
      - How to compute the new offset of each partition in scope.
      - V(to_earliest) the log start offset (replay everything still retained).
      - V(to_latest) the log end offset (skip the whole backlog; lag becomes 0).
      - V(to_offset) the offset in O(offset) for every partition in scope.
      - V(shift_by) the committed offset plus O(shift) (negative replays, positive skips); partitions without a
        committed offset are refused. B(Not idempotent), as it is relative, so every run moves the offsets again; do
        not leave it in a playbook that is re-run. Prefer V(to_offset) or O(offsets) for repeatable runs.
      - V(to_datetime) the first offset whose record timestamp is at or after O(datetime); the log end offset
        when no record is that new.
      - V(by_duration) like V(to_datetime) with the time O(duration) before now (the clock of the host that runs
        the module).
      - Exactly one of O(strategy) and O(offsets) is required.
    type: str
    choices: [to_earliest, to_latest, to_offset, shift_by, to_datetime, by_duration]
  offset:
    description:
      - Target offset for O(strategy=to_offset), 0 or more. Only valid with that strategy.
    type: int
  shift:
    description:
      - Offsets to move each committed offset by, for O(strategy=shift_by); negative moves back (replays).
        Only valid with that strategy.
    type: int
  datetime:
    description:
      - ISO-8601 timestamp for O(strategy=to_datetime), B(with a time zone), e.g. C(2026-11-25T13:00:00Z) or
        C(2026-11-25T14:00:00+01:00); fractions of a second are allowed. Only valid with that strategy.
      - A timestamp without zone is refused rather than read as local time, because the module runs on whatever host
        executes the task, and a reset to the wrong hour silently skips or replays data. The Kafka CLI does
        assume local time; add C(Z) or an offset instead.
      - A timestamp in the future is refused.
    type: str
  duration:
    description:
      - How far before now to reset to, for O(strategy=by_duration). Only valid with that strategy.
      - ISO-8601 duration with weeks, days, hours, minutes and seconds (C(PT1H), C(PT1H30M), C(P1DT12H), C(P2W)),
        or a short form such as C(1h30m), C(45m), C(2d), C(90s). Years and months are refused (their length is
        ambiguous). Must be longer than zero.
    type: str
  topics:
    description:
      - Limit the reset to these topics, every partition of each (also partitions without a committed offset,
        which then get one).
      - Without O(topics), O(partitions) and O(offsets) the scope is every partition the group has a committed
        offset for.
      - Every topic must exist.
      - An empty list is refused (an empty scope never means every partition); omit the option instead.
    type: list
    elements: str
  partitions:
    description:
      - Limit the reset to these partitions. Every partition must exist.
      - Omitted means the scope of O(topics), or every committed partition. An empty list is refused.
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
  offsets:
    description:
      - Exact offsets to restore, normally the RV(previous_offsets) of an earlier run, to undo it.
      - A list of C({topic, partition, offset}). C(offset) is required in each entry; C(offset=null) removes
        the committed offset of that partition (the undo of a reset that committed a partition for the first
        time). The scope is exactly these partitions.
      - Offsets outside the log (data deleted by retention since) are clamped like any other target.
      - Mutually exclusive with O(strategy), O(topics) and O(partitions).
      - An empty list is refused (there is nothing to restore).
    type: list
    elements: dict
extends_documentation_fragment:
  - kraft.kafka.kafka_connection
attributes:
  check_mode:
    support: full
    description: Check mode is the dry run; it computes and returns the full RV(plan) and RV(previous_offsets)
      without writing any offset, and fails on the same refusals as a real run.
  diff_mode:
    support: full
    description: The diff shows the committed offset of every partition in scope before and after.
notes:
  - The group must have no members (state C(Empty)), for both the classic protocol and the new consumer protocol
    (KIP-848). Otherwise the task fails naming the members (client id, host, member id) so you know which
    consumers to stop. kafka-python cannot list members of new-protocol groups; for them the message names the
    state and the C(kafka-consumer-groups.sh --describe --members) command that lists them. The same refusal
    applies in check mode, because the real run would fail.
  - The brokers also refuse offset commits from outside a group that has members, so a consumer that joins between
    the check and the commit makes the task fail on those partitions instead of being overwritten.
  - Message counts (RV(plan[].messages_skipped), RV(plan[].messages_replayed)) are offset distances over the part
    of the log still retained; compacted or transactional topics have gaps, so they are upper bounds.
  - Committed metadata and leader epoch are cleared on the moved partitions, as the Kafka CLI does.
seealso:
  - module: kraft.kafka.kafka_consumer_group_info
author:
  - kraft.kafka maintainers (@kraft-kafka)
'''

EXAMPLES = r'''
# The seed's scenario: a group 16 million messages behind skips its backlog.
- name: Dry run, nothing is written
  kraft.kafka.kafka_consumer_group_reset:
    bootstrap_servers: ["kafka1:9092", "kafka2:9092"]
    group: strategy-service-group
    strategy: to_latest
  check_mode: true
  delegate_to: localhost
  run_once: true
  register: skip_plan

- name: Show what would be skipped
  ansible.builtin.debug:
    msg: "{{ skip_plan.summary.messages_skipped }} messages would be skipped"

- name: Skip the backlog
  kraft.kafka.kafka_consumer_group_reset:
    bootstrap_servers: ["kafka1:9092", "kafka2:9092"]
    group: strategy-service-group
    strategy: to_latest
  delegate_to: localhost
  run_once: true
  register: skipped

- name: Undo it, putting every partition back where it was
  kraft.kafka.kafka_consumer_group_reset:
    bootstrap_servers: ["kafka1:9092", "kafka2:9092"]
    group: strategy-service-group
    offsets: "{{ skipped.previous_offsets }}"
  delegate_to: localhost
  run_once: true

- name: Replay the last hour of one topic
  kraft.kafka.kafka_consumer_group_reset:
    bootstrap_servers: ["kafka1:9092"]
    group: billing
    strategy: by_duration
    duration: PT1H
    topics: [invoices]
  delegate_to: localhost
  run_once: true

- name: Go back to a point in time (time zone required)
  kraft.kafka.kafka_consumer_group_reset:
    bootstrap_servers: ["kafka1:9092"]
    group: billing
    strategy: to_datetime
    datetime: "2026-11-25T06:00:00+01:00"
  delegate_to: localhost
  run_once: true

- name: Skip one poison message on one partition
  kraft.kafka.kafka_consumer_group_reset:
    bootstrap_servers: ["kafka1:9092"]
    group: billing
    strategy: shift_by
    shift: 1
    partitions:
      - {topic: invoices, partition: 3}
  delegate_to: localhost
  run_once: true
'''

RETURN = r'''
group:
  description: The group id.
  returned: always
  type: str
  sample: strategy-service-group
group_state:
  description: Group state when the plan was made (C(Empty) or C(Dead)).
  returned: always
  type: str
  sample: Empty
group_type:
  description: C(classic) or C(consumer) (new consumer protocol, KIP-848).
  returned: always
  type: str
  sample: classic
strategy:
  description: The strategy used, or C(offsets) when O(offsets) was given.
  returned: always
  type: str
  sample: to_latest
reset_timestamp:
  description: For C(to_datetime) and C(by_duration), the UTC time the offsets were looked up for.
  returned: when O(strategy) is C(to_datetime) or C(by_duration)
  type: str
  sample: "2026-11-25T12:00:00.000Z"
plan:
  description: One entry per partition in scope, sorted by topic and partition. Same content in check mode and in a
    real run.
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
    current_offset:
      description: Committed offset before the reset; null when the group had none for this partition.
      type: int
    requested_offset:
      description: The offset the strategy asked for, before clamping; null when the committed offset is removed.
      type: int
    target_offset:
      description: The offset committed by the reset; null when the committed offset is removed (undo of a first commit).
      type: int
    clamped:
      description: Whether the requested offset was outside [log start, log end] and moved to the nearest end.
      type: bool
    log_start_offset:
      description: First offset still in the log.
      type: int
    log_end_offset:
      description: Offset of the next record to be written.
      type: int
    lag_before:
      description: Lag (log end - committed) before the reset; null without a committed offset.
      type: int
    lag_after:
      description: Lag after the reset.
      type: int
    messages_skipped:
      description: Retained messages between the current and the target offset that the group will no longer read.
      type: int
    messages_replayed:
      description: Retained messages between the target and the current offset that the group will read again.
      type: int
    changed:
      description: Whether this partition's committed offset moves.
      type: bool
  sample:
    - topic: strategy
      partition: 0
      current_offset: 10
      requested_offset: 16066228
      target_offset: 16066228
      clamped: false
      log_start_offset: 0
      log_end_offset: 16066228
      lag_before: 16066218
      lag_after: 0
      messages_skipped: 16066218
      messages_replayed: 0
      changed: true
summary:
  description: Totals over RV(plan).
  returned: always
  type: dict
  contains:
    partitions:
      description: Partitions in scope.
      type: int
    partitions_changed:
      description: Partitions whose committed offset moves.
      type: int
    partitions_clamped:
      description: Partitions whose target was clamped.
      type: int
    messages_skipped:
      description: Sum of RV(plan[].messages_skipped).
      type: int
    messages_replayed:
      description: Sum of RV(plan[].messages_replayed).
      type: int
    lag_before:
      description: Total lag before (partitions with a committed offset).
      type: int
    lag_after:
      description: Total lag after.
      type: int
  sample:
    partitions: 1
    partitions_changed: 1
    partitions_clamped: 0
    messages_skipped: 16066218
    messages_replayed: 0
    lag_before: 16066218
    lag_after: 0
previous_offsets:
  description:
    - The committed offsets of every partition in scope before this run, as C({topic, partition, offset}).
      C(offset) is null for a partition that had no committed offset.
    - Pass it unchanged to O(offsets) to undo the reset.
  returned: always
  type: list
  elements: dict
  sample:
    - {topic: strategy, partition: 0, offset: 10}
'''


import functools

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kraft.kafka.plugins.module_utils.kafka_validation import new_module

from ansible_collections.kraft.kafka.plugins.module_utils.kafka_client import (
    KafkaModuleError,
    describe_kafka_error,
    kafka_connection_argument_spec,
    run_module,
)
from ansible_collections.kraft.kafka.plugins.module_utils.kafka_validation import (
    INT64_MAX, check_integer, check_text, check_topic_name, show)
from ansible_collections.kraft.kafka.plugins.module_utils.kafka_groups import (
    CLASSIC,
    INACTIVE_STATES,
    STRATEGIES,
    active_group_message,
    build_reset_plan,
    commit_offsets,
    delete_committed_offsets,
    describe_classic_groups,
    epoch_ms_to_iso,
    fetch_committed_offsets,
    fetch_log_bounds,
    fetch_offsets_for_timestamp,
    fetch_topic_partitions,
    format_partitions,
    is_consumer_group,
    list_group_listings,
    normalize_offsets_param,
    normalize_partition_list,
    not_consumer_group_message,
    plan_diff,
    previous_offsets,
    reset_timestamp_ms,
    shift_needs_committed,
    split_existing,
    summarize_plan,
    unknown_group_message,
    validate_strategy_options,
)

TIME_STRATEGIES = ('to_datetime', 'by_duration')


class ResetRequest(object):
    """The validated intent of a task, checked before connecting to Kafka."""

    def __init__(self, params):
        validate_strategy_options(params)
        self.group_id = params['group']
        self.strategy = params['strategy']
        self.restore = normalize_offsets_param(params['offsets']) if params['offsets'] is not None else None
        self.partitions = normalize_partition_list(params['partitions'], 'partitions') \
            if params['partitions'] is not None else None
        self.topics = sorted(set(params['topics'])) if params['topics'] is not None else None
        if self.partitions == [] or self.topics == []:
            raise KafkaModuleError("topics/partitions is empty; leave it out to reset every committed partition.")
        self.value = params['offset'] if self.strategy == 'to_offset' else params['shift']
        self.timestamp_ms = None
        if self.strategy in TIME_STRATEGIES:
            text = params['datetime'] if self.strategy == 'to_datetime' else params['duration']
            self.timestamp_ms = reset_timestamp_ms(self.strategy, text)

    @property
    def label(self):
        return self.strategy or 'offsets'


# ----------------------------------------------------------------- checks

def require_resettable_group(admin, group_id):
    """The group's listing; fails for unknown, non-consumer or active groups."""
    listings = list_group_listings(admin)
    listing = listings.get(group_id)
    if listing is None:
        raise KafkaModuleError(unknown_group_message([group_id], listings))
    if not is_consumer_group(listing):
        raise KafkaModuleError(not_consumer_group_message(listing))
    if listing['state'] not in INACTIVE_STATES:
        members = []
        if listing['type'] == CLASSIC:
            members = describe_classic_groups(admin, [group_id])[group_id]['members']
        raise KafkaModuleError(active_group_message(listing, members))
    return listing


def requested_scope(request, committed):
    """(topic, partition) keys named by the task, before checking they exist."""
    if request.restore is not None:
        return sorted(request.restore)
    if request.partitions is not None:
        return sorted(request.partitions)
    if request.topics is not None:
        return None  # every partition of the topics, known only from metadata
    if not committed:
        raise KafkaModuleError(
            "group %s has no committed offsets, so there is nothing to reset by default; "
            "name the topics or partitions to set." % request.group_id)
    return sorted(committed)


def resolve_scope(admin, request, committed):
    """Every partition to plan for; fails naming unknown topics and partitions."""
    keys = requested_scope(request, committed)
    topics = request.topics if keys is None else sorted(set(t for t, _p in keys))
    topic_partitions, missing_topics = fetch_topic_partitions(admin, topics)
    if missing_topics:
        raise KafkaModuleError(
            "unknown topic%s %s: %s" % ('s' if len(missing_topics) > 1 else '', ', '.join(missing_topics),
                                        'check the name, or limit the reset with topics/partitions to existing '
                                        'topics.' if request.topics is None else 'check the name.'))
    if keys is None:
        return sorted((t, p) for t in topics for p in topic_partitions[t])
    _existing, missing = split_existing(keys, topic_partitions)
    if missing:
        raise KafkaModuleError("unknown partition%s %s (%s)." % (
            's' if len(missing) > 1 else '', format_partitions(missing),
            '; '.join('%s has %d partitions' % (t, len(topic_partitions[t]))
                      for t in sorted(set(t for t, _p in missing)))))
    return keys


# -------------------------------------------------------------- planning

def make_plan(admin, request, committed, scope):
    shift_needs_committed(request.strategy, scope, committed)
    log_starts, log_ends = fetch_log_bounds(admin, scope)
    timestamp_offsets = None
    if request.timestamp_ms is not None:
        timestamp_offsets = fetch_offsets_for_timestamp(admin, scope, request.timestamp_ms)
    return build_reset_plan(request.strategy, scope, committed, log_starts, log_ends, value=request.value,
                            timestamp_offsets=timestamp_offsets, restore=request.restore)


def apply_plan(admin, group_id, plan):
    """Write the changed partitions: commits first, then removals (undo of first commits)."""
    moves = dict(((p['topic'], p['partition']), p['target_offset'])
                 for p in plan if p['changed'] and p['target_offset'] is not None)
    removals = [(p['topic'], p['partition']) for p in plan if p['changed'] and p['target_offset'] is None]
    commit_offsets(admin, group_id, moves)
    delete_committed_offsets(admin, group_id, removals)


def warn_about_clamping(module, plan):
    clamped = [(p['topic'], p['partition']) for p in plan if p['clamped']]
    if clamped:
        module.warn("targets outside the log were clamped to its start or end on %s; see plan[].clamped."
                    % format_partitions(clamped))


def reset_group(request, module, admin):
    listing = require_resettable_group(admin, request.group_id)
    committed = fetch_committed_offsets(admin, [request.group_id])[request.group_id]
    scope = resolve_scope(admin, request, committed)
    plan = make_plan(admin, request, committed, scope)
    result = dict(
        changed=any(p['changed'] for p in plan),
        group=request.group_id,
        group_state=listing['state'],
        group_type=listing['type'],
        strategy=request.label,
        plan=plan,
        summary=summarize_plan(plan),
        previous_offsets=previous_offsets(plan),
    )
    if request.timestamp_ms is not None:
        result['reset_timestamp'] = epoch_ms_to_iso(request.timestamp_ms)
    if module._diff:
        result['diff'] = plan_diff(request.group_id, plan)
    warn_about_clamping(module, plan)
    if result['changed'] and not module.check_mode:
        try:
            apply_plan(admin, request.group_id, plan)
        except Exception as exc:  # pylint: disable=broad-except
            # Part of the offsets may be written: hand back what undoes them.
            result.pop('changed')
            module.fail_json(msg='%s previous_offsets holds the offsets before this run; pass it as offsets to '
                                 'restore them.' % describe_kafka_error(exc), changed=True, **result)
    return result


# Offsets and shifts are 64-bit Kafka fields; every other number is 32-bit.
INT64_OPTIONS = ('offset', 'shift')


def check_input(params, problems, checked=None):
    """kraft.kafka.kafka_validation rules; the ResetRequest (strategy rules) goes to checked['request']."""
    check_text(problems, 'group', params['group'], 'a group id')
    for index, topic in enumerate(params['topics'] or []):
        check_topic_name(problems, 'topics[%d]' % index, topic)
    for index, item in enumerate(params['partitions'] or []):
        check_topic_name(problems, 'partitions[%d].topic' % index, item['topic'])
        check_integer(problems, 'partitions[%d].partition' % index, item['partition'], 0)
    for index, item in enumerate(params['offsets'] or []):
        if isinstance(item, dict):
            check_integer(problems, 'offsets[%d].partition' % index, item.get('partition'), 0)
            check_integer(problems, 'offsets[%d].offset' % index, item.get('offset'), 0, INT64_MAX)
    if not problems:
        request = checked_request(params, problems)
        if checked is not None:
            checked['request'] = request


def checked_request(params, problems):
    """The ResetRequest, or None with the reason added to problems."""
    try:
        request = ResetRequest(params)
    except (OverflowError, ValueError) as exc:
        # A duration or date-time beyond what datetime can represent.
        problems.add(params['strategy'] == 'by_duration' and 'duration' or 'datetime',
                     '%s is out of range (%s).' % (show(params['duration'] or params['datetime']), exc))
        return None
    if request.timestamp_ms is not None and request.timestamp_ms < 0:
        # Kafka reads negative timestamps as the latest/earliest markers: never send one.
        problems.add('duration', '%s reaches back before 1970-01-01; use strategy to_earliest to replay '
                     'everything.' % show(params['duration']))
        return None
    return request


def argument_spec():
    spec = kafka_connection_argument_spec()
    spec.update(
        group=dict(type='str', required=True, aliases=['group_id']),
        strategy=dict(type='str', choices=list(STRATEGIES)),
        offset=dict(type='int'),
        shift=dict(type='int'),
        datetime=dict(type='str'),
        duration=dict(type='str'),
        topics=dict(type='list', elements='str'),
        partitions=dict(type='list', elements='dict', options=dict(
            topic=dict(type='str', required=True),
            partition=dict(type='int', required=True),
        )),
        # No suboptions: an entry must carry its offset key explicitly (null means
        # "remove"), which an argument spec with defaults could not tell apart.
        offsets=dict(type='list', elements='dict'),
    )
    return spec


CONSTRAINTS = dict(
    required_one_of=[('strategy', 'offsets')],
    mutually_exclusive=[('strategy', 'offsets'), ('topics', 'partitions'),
                        ('offsets', 'topics'), ('offsets', 'partitions')],
    required_if=[
        ('strategy', 'to_offset', ['offset']),
        ('strategy', 'shift_by', ['shift']),
        ('strategy', 'to_datetime', ['datetime']),
        ('strategy', 'by_duration', ['duration']),
    ],
)


def main():
    module = new_module(AnsibleModule, argument_spec=argument_spec(), supports_check_mode=True, **CONSTRAINTS)
    checked = {}
    # Offsets and shifts are 64-bit Kafka fields; every other number is 32-bit.
    run_module(module, lambda mod, admin: reset_group(checked['request'], mod, admin),
               validate=functools.partial(check_input, checked=checked), int64=INT64_OPTIONS)


if __name__ == '__main__':
    main()
