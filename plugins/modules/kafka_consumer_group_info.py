#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kraft.kafka maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: kafka_consumer_group_info
short_description: Report Kafka consumer groups with members, committed offsets and lag
version_added: 0.1.0
description:
  - Reads consumer groups of a Kafka 4.x cluster, the data behind
    C(kafka-consumer-groups.sh --describe --group G), that is state, protocol, members and, per partition,
    the committed offset, the log end offset, the lag and the member that owns the partition.
  - Adds the log start offset of each partition and lag totals per topic and per group.
  - Covers classic groups and groups of the new consumer protocol (KIP-848, C(group.protocol=consumer)).
    For new-protocol groups the state, committed offsets and lag are reported, but B(not their members), because
    kafka-python 3 has no ConsumerGroupDescribe call, and DescribeGroups answers "not a classic group" for
    them. Such groups have RV(groups[].members_described=false) and a note in RV(groups[].warnings); use
    C(kafka-consumer-groups.sh --describe --members --group G) to see their members.
  - Read only; never changes the cluster, so it runs the same in check mode.
options:
  groups:
    description:
      - Consumer group ids to report.
      - When omitted or empty, every consumer group of the cluster is reported (classic groups of protocol
        type C(consumer) or without protocol type, and new-protocol consumer groups). Connect, share and
        streams groups are left out.
    type: list
    elements: str
    aliases: [group]
  fail_on_missing:
    description:
      - What to do with a group id in O(groups) that the cluster does not know (or that is not a consumer group).
      - V(true) fails the task naming the unknown groups and the known ones, so a typo cannot pass as
        "no lag".
      - V(false) reports the group with RV(groups[].exists=false) and carries on.
    type: bool
    default: true
extends_documentation_fragment:
  - kraft.kafka.kafka_connection
attributes:
  check_mode:
    support: full
    description: Read only; runs the same queries in check mode.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
notes:
  - Lag is C(log end offset - committed offset), read uncommitted, exactly as C(kafka-consumer-groups.sh) computes it.
    Offsets are not message counts on compacted or transactional topics.
  - Partitions of a topic that was deleted while the group still has a committed offset are reported with
    RV(groups[].partitions[].log_end_offset) and RV(groups[].partitions[].lag) C(null).
seealso:
  - module: kraft.kafka.kafka_consumer_group_reset
author:
  - kraft.kafka maintainers (@kraft-kafka)
'''

EXAMPLES = r'''
- name: Lag of one group
  kraft.kafka.kafka_consumer_group_info:
    bootstrap_servers: ["kafka1:9092", "kafka2:9092"]
    groups: [strategy-service-group]
  delegate_to: localhost
  run_once: true
  register: lag

- name: Fail when the group is more than a million messages behind
  ansible.builtin.assert:
    that: lag.groups[0].lag < 1000000
    fail_msg: "{{ lag.groups[0].group_id }} is {{ lag.groups[0].lag }} messages behind"

- name: Every consumer group, tolerating a group that may not exist yet
  kraft.kafka.kafka_consumer_group_info:
    bootstrap_servers: ["kafka1:9092"]
    groups: [billing, maybe-new-group]
    fail_on_missing: false
  delegate_to: localhost
  run_once: true
  register: all_groups

- name: Show lag per topic
  ansible.builtin.debug:
    msg: "{{ item.0.group_id }} {{ item.1.topic }}: {{ item.1.lag }}"
  loop: "{{ all_groups.groups | selectattr('exists') | subelements('topics') }}"
'''

RETURN = r'''
groups:
  description: One entry per reported group, ordered by group id.
  returned: always
  type: list
  elements: dict
  contains:
    group_id:
      description: The group id.
      type: str
      sample: strategy-service-group
    exists:
      description: Whether the cluster knows this consumer group. Only V(false) with O(fail_on_missing=false);
        the other keys are then absent.
      type: bool
      sample: true
    state:
      description: Group state from ListGroups, e.g. C(Empty), C(Stable), C(PreparingRebalance),
        C(CompletingRebalance) (classic) or C(Assigning), C(Reconciling) (new protocol), C(Dead).
      type: str
      sample: Empty
    type:
      description: C(classic) (pre-KIP-848 rebalance protocol) or C(consumer) (new consumer protocol, KIP-848).
      type: str
      sample: classic
    protocol_type:
      description: Group protocol type, C(consumer) for consumer groups (empty for offsets committed without group management).
      type: str
      sample: consumer
    protocol:
      description: Partition assignor chosen for a classic group with members (C(range), C(roundrobin),
        C(cooperative-sticky), ...); null when the group is empty or uses the new protocol.
      type: str
      sample: range
    members_described:
      description: Whether RV(groups[].members) is known. V(false) for new-protocol groups that have members
        (see description); an C(Empty) group of either protocol has no members.
      type: bool
      sample: true
    member_count:
      description: Number of members; null when RV(groups[].members_described=false).
      type: int
      sample: 1
    members:
      description: Members of a classic group (empty list when the group is empty or not described).
      type: list
      elements: dict
      contains:
        member_id:
          description: Member id given by the coordinator (the CLI's CONSUMER-ID).
          type: str
        group_instance_id:
          description: Static membership id (C(group.instance.id)), or null.
          type: str
        client_id:
          description: The consumer's C(client.id).
          type: str
        host:
          description: Address the member connects from (without the CLI's leading slash).
          type: str
        assignment:
          description: Partitions assigned to the member, as C({topic, partition}).
          type: list
          elements: dict
    partitions:
      description: One row per partition with a committed offset or an owner, sorted by topic and partition,
        like the rows of C(kafka-consumer-groups.sh --describe).
      type: list
      elements: dict
      contains:
        topic:
          description: Topic name.
          type: str
        partition:
          description: Partition number.
          type: int
        committed_offset:
          description: Committed offset (the CLI's CURRENT-OFFSET), null when the group has none.
          type: int
        log_start_offset:
          description: First offset still in the log; null when the partition no longer exists.
          type: int
        log_end_offset:
          description: Offset the next record will get (LOG-END-OFFSET); null when the partition no longer exists.
          type: int
        lag:
          description: RV(groups[].partitions[].log_end_offset) minus RV(groups[].partitions[].committed_offset);
            null when either is unknown.
          type: int
        member_id:
          description: Member that owns the partition, or null.
          type: str
        client_id:
          description: client.id of the owner, or null.
          type: str
        host:
          description: Host of the owner, or null.
          type: str
    topics:
      description: Totals per topic.
      type: list
      elements: dict
      contains:
        topic:
          description: Topic name.
          type: str
        partitions:
          description: Partition rows of this topic.
          type: int
        committed_partitions:
          description: Partitions with a committed offset.
          type: int
        lag:
          description: Sum of the known partition lags; null when none is known.
          type: int
    lag:
      description: Sum of the known partition lags of the group (0 for a group without offsets).
      type: int
      sample: 16066218
    warnings:
      description: What could not be reported for this group.
      type: list
      elements: str
  sample:
    - group_id: strategy-service-group
      exists: true
      state: Empty
      type: classic
      protocol_type: consumer
      protocol: null
      members_described: true
      member_count: 0
      members: []
      partitions:
        - {topic: strategy, partition: 0, committed_offset: 10, log_start_offset: 0, log_end_offset: 16066228,
           lag: 16066218, member_id: null, client_id: null, host: null}
      topics:
        - {topic: strategy, partitions: 1, committed_partitions: 1, lag: 16066218}
      lag: 16066218
      warnings: []
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kraft.kafka.plugins.module_utils.kafka_validation import new_module
from ansible_collections.kraft.kafka.plugins.module_utils.kafka_validation import (
    check_text, check_unique)

from ansible_collections.kraft.kafka.plugins.module_utils.kafka_client import (
    KafkaModuleError,
    kafka_connection_argument_spec,
    run_module,
)
from ansible_collections.kraft.kafka.plugins.module_utils.kafka_groups import (
    CLASSIC,
    INACTIVE_STATES,
    NEW_PROTOCOL_MEMBERS_GAP,
    build_partition_rows,
    describe_classic_groups,
    fetch_committed_offsets,
    fetch_log_bounds,
    fetch_topic_partitions,
    is_consumer_group,
    list_group_listings,
    not_consumer_group_message,
    partition_owners,
    split_existing,
    topic_totals,
    unknown_group_message,
)


def select_groups(requested, listings, fail_on_missing):
    """(listings to describe, ids reported as missing); raises on missing when asked to."""
    if not requested:
        everything = [listing for listing in listings.values() if is_consumer_group(listing)]
        return sorted(everything, key=lambda listing: listing['group_id']), []
    found, missing = [], []
    for group_id in sorted(set(requested)):
        listing = listings.get(group_id)
        if listing is not None and not is_consumer_group(listing):
            if fail_on_missing:
                raise KafkaModuleError(not_consumer_group_message(listing))
            missing.append(group_id)
        elif listing is None:
            missing.append(group_id)
        else:
            found.append(listing)
    if missing and fail_on_missing:
        raise KafkaModuleError(unknown_group_message(missing, listings) +
                               ' Set fail_on_missing: false to report them with exists: false instead.')
    return found, missing


def classic_details(admin, listings):
    """DescribeGroups answers for the classic groups among listings."""
    return describe_classic_groups(admin, [listing['group_id'] for listing in listings if listing['type'] == CLASSIC])


def log_bounds_for(admin, committed, details):
    """Log start/end offsets of every partition any group has a commit for or owns."""
    keys = set()
    for offsets in committed.values():
        keys.update(offsets)
    for detail in details.values():
        keys.update(partition_owners(detail['members']))
    topic_partitions, _missing = fetch_topic_partitions(admin, set(t for t, _p in keys))
    existing, _gone = split_existing(sorted(keys), topic_partitions)
    return fetch_log_bounds(admin, existing)


def group_report(listing, committed, detail, log_starts, log_ends):
    """The result entry of one existing group."""
    warnings = []
    members = detail['members'] if detail else []
    # An Empty/Dead group has no members whatever its protocol.
    described = detail is not None or listing['state'] in INACTIVE_STATES
    if not described:
        warnings.append(NEW_PROTOCOL_MEMBERS_GAP % listing['group_id'])
    elif detail and detail.get('error'):
        warnings.append('DescribeGroups: %s' % detail['error'])
    rows = build_partition_rows(committed, partition_owners(members), log_starts, log_ends)
    gone = sorted(set('%s-%s' % (r['topic'], r['partition']) for r in rows if r['log_end_offset'] is None))
    if gone:
        warnings.append('committed offsets for partitions that no longer exist: %s' % ', '.join(gone))
    return dict(
        group_id=listing['group_id'],
        exists=True,
        state=listing['state'],
        type=listing['type'],
        protocol_type=listing['protocol_type'],
        protocol=detail['protocol'] if detail else None,
        members_described=described,
        member_count=len(members) if described else None,
        members=members,
        partitions=rows,
        topics=topic_totals(rows),
        lag=sum(r['lag'] for r in rows if r['lag'] is not None),
        warnings=warnings,
    )


def report_groups(module, admin):
    listings = list_group_listings(admin)
    found, missing = select_groups(module.params['groups'], listings, module.params['fail_on_missing'])
    group_ids = [listing['group_id'] for listing in found]
    committed = fetch_committed_offsets(admin, group_ids)
    details = classic_details(admin, found)
    log_starts, log_ends = log_bounds_for(admin, committed, details)
    reports = [group_report(listing, committed[listing['group_id']], details.get(listing['group_id']),
                            log_starts, log_ends)
               for listing in found]
    reports.extend(dict(group_id=group_id, exists=False) for group_id in missing)
    return dict(changed=False, groups=sorted(reports, key=lambda r: r['group_id']))


def argument_spec():
    spec = kafka_connection_argument_spec()
    spec.update(
        groups=dict(type='list', elements='str', aliases=['group']),
        fail_on_missing=dict(type='bool', default=True),
    )
    return spec


def main():
    module = new_module(AnsibleModule, argument_spec=argument_spec(), supports_check_mode=True)
    run_module(module, report_groups, validate=check_input)


def check_input(params, problems):
    """kraft.kafka.kafka_validation rules; read-only, so an empty groups list keeps its documented meaning."""
    for index, group in enumerate(params['groups'] or []):
        check_text(problems, 'groups[%d]' % index, group, 'a group id')
    check_unique(problems, 'groups', params['groups'] or [])


if __name__ == '__main__':
    main()
