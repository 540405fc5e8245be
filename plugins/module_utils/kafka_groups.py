# -*- coding: utf-8 -*-
# Copyright: kraft.kafka maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Consumer group logic shared by kafka_consumer_group_info and kafka_consumer_group_reset.

Two layers:

* pure functions (parsing, lag arithmetic, reset planning) that take plain
  values and are unit tested without a cluster;
* thin lookups that ask a kafka-python 3 KafkaAdminClient and return plain
  dicts keyed by (topic, partition) tuples, so the planning code never sees
  kafka-python types.

Group types: classic groups (the pre-KIP-848 rebalance protocol) are fully
described by DescribeGroups. Groups of the new consumer protocol (KIP-848,
ListGroups type ``consumer``) answer DescribeGroups with "not a classic
group"; kafka-python 3 has no ConsumerGroupDescribe call, so for them state
and committed offsets are known but members and assignments are not.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import re
import time

from ansible_collections.kraft.kafka.plugins.module_utils.kafka_client import KafkaModuleError

try:
    import kafka.errors as kafka_errors
    from kafka.admin import OffsetSpec
    from kafka.structs import OffsetAndMetadata, TopicPartition
except ImportError:  # reported by require_kafka_python() in the module
    kafka_errors = OffsetSpec = OffsetAndMetadata = TopicPartition = None

# Groups in these states have no members, so their offsets may be changed.
INACTIVE_STATES = ('Empty', 'Dead')
CLASSIC = 'classic'
NEW_CONSUMER = 'consumer'
# Classic groups also carry Connect workers and custom protocols; only these
# protocol types hold consumer offsets ('' = offsets committed without
# group management, e.g. assign() + commit()).
CONSUMER_PROTOCOL_TYPES = ('consumer', '')
UNKNOWN_TOPIC_OR_PARTITION = 3

STRATEGIES = ('to_earliest', 'to_latest', 'to_offset', 'shift_by', 'to_datetime', 'by_duration')
STRATEGY_VALUE_OPTION = {
    'to_offset': 'offset',
    'shift_by': 'shift',
    'to_datetime': 'datetime',
    'by_duration': 'duration',
}

NEW_PROTOCOL_MEMBERS_GAP = (
    "members and assignments of new-protocol (KIP-848) consumer groups cannot be read "
    "with kafka-python 3 (no ConsumerGroupDescribe API); run "
    "'kafka-consumer-groups.sh --bootstrap-server ... --describe --members --group %s' to see them")


# ------------------------------------------------------------------- parsing

_ISO_DATETIME = re.compile(
    r'^(?P<date>\d{4}-\d{2}-\d{2})'
    r'(?:[T ](?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d{1,9}))?)?)?'
    r'(?P<tz>Z|z|[+-]\d{2}(?::?\d{2})?)?$')


def _parse_tz(text):
    if text in ('Z', 'z'):
        return datetime.timedelta(0)
    sign = -1 if text[0] == '-' else 1
    digits = text[1:].replace(':', '')
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    return sign * datetime.timedelta(hours=hours, minutes=minutes)


def parse_iso_datetime(text):
    """An aware UTC datetime for an ISO-8601 timestamp that names its zone.

    A timestamp without zone is refused rather than read as local time: the
    module runs on whatever host executes the task, whose zone may not be the
    operator's, and a reset to the wrong hour silently skips or replays data.
    """
    match = _ISO_DATETIME.match((text or '').strip())
    if not match:
        raise KafkaModuleError(
            "datetime '%s' is not an ISO-8601 timestamp; use e.g. 2026-11-25T13:00:00Z "
            "or 2026-11-25T14:00:00+01:00." % text)
    if not match.group('tz'):
        raise KafkaModuleError(
            "datetime '%s' has no time zone; add 'Z' for UTC or an offset such as +01:00 "
            "(a zone-less time would depend on the clock settings of the host running the task)." % text)
    fraction = (match.group('fraction') or '0')[:6].ljust(6, '0')
    try:
        naive = datetime.datetime.strptime(match.group('date'), '%Y-%m-%d').replace(
            hour=int(match.group('hour') or 0), minute=int(match.group('minute') or 0),
            second=int(match.group('second') or 0), microsecond=int(fraction))
    except ValueError as exc:
        raise KafkaModuleError("datetime '%s' is not a valid date/time: %s." % (text, exc))
    return naive - _parse_tz(match.group('tz'))


_ISO_DURATION = re.compile(
    r'^P(?:(?P<weeks>\d+(?:\.\d+)?)W)?(?:(?P<days>\d+(?:\.\d+)?)D)?'
    r'(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$',
    re.IGNORECASE)
_SHORT_DURATION_PART = re.compile(r'(\d+(?:\.\d+)?)\s*(w|d|h|m|s)', re.IGNORECASE)
_SHORT_UNITS = {'w': 'weeks', 'd': 'days', 'h': 'hours', 'm': 'minutes', 's': 'seconds'}


def _iso_duration(text):
    match = _ISO_DURATION.match(text)
    if not match or text.upper() in ('P', 'PT') or text.upper().endswith('T'):
        return None
    parts = dict((k, float(v)) for k, v in match.groupdict().items() if v is not None)
    return datetime.timedelta(**parts)


def _short_duration(text):
    compact = text.replace(' ', '')
    if not compact or _SHORT_DURATION_PART.sub('', compact):
        return None
    parts = {}
    for amount, unit in _SHORT_DURATION_PART.findall(compact):
        key = _SHORT_UNITS[unit.lower()]
        parts[key] = parts.get(key, 0.0) + float(amount)
    return datetime.timedelta(**parts)


def parse_duration(text):
    """A positive timedelta from ISO-8601 (PT1H30M, P1DT2H, P2W) or 1h30m / 2d / 90s.

    Years and months are refused: their length is ambiguous.
    """
    value = (text or '').strip()
    duration = _iso_duration(value) if value[:1] in ('P', 'p') else _short_duration(value)
    if duration is None:
        raise KafkaModuleError(
            "duration '%s' is not understood; use ISO-8601 like PT1H30M, P1DT12H, P2W "
            "(no years or months) or a short form like 1h30m, 45m, 2d, 90s." % text)
    if duration <= datetime.timedelta(0):
        raise KafkaModuleError("duration '%s' must be longer than zero." % text)
    return duration


_EPOCH = datetime.datetime(1970, 1, 1)


def utc_to_epoch_ms(moment):
    """Milliseconds since the epoch for a naive datetime that holds UTC."""
    delta = moment - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1000 + delta.microseconds // 1000


def epoch_ms_to_iso(ms):
    moment = _EPOCH + datetime.timedelta(milliseconds=ms)
    return moment.strftime('%Y-%m-%dT%H:%M:%S.') + '%03dZ' % (ms % 1000)


def reset_timestamp_ms(strategy, value, now_ms=None):
    """The timestamp (ms) a time-based strategy resets to; refuses the future."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    if strategy == 'by_duration':
        return now_ms - int(parse_duration(value).total_seconds() * 1000)
    target_ms = utc_to_epoch_ms(parse_iso_datetime(value))
    if target_ms > now_ms:
        raise KafkaModuleError(
            "datetime '%s' (%s) is in the future (now is %s on the host running the task): "
            "no committed position can lie there; use strategy to_latest to skip everything."
            % (value, epoch_ms_to_iso(target_ms), epoch_ms_to_iso(now_ms)))
    return target_ms


# ----------------------------------------------------------- strategy options

def validate_strategy_options(params):
    """Refuse a value option that does not belong to the chosen strategy.

    The required value of each strategy is enforced by required_if; a stray
    option (e.g. offset with to_latest) is a sign of a mistyped strategy.
    """
    strategy = params.get('strategy')
    wanted = STRATEGY_VALUE_OPTION.get(strategy)
    stray = [option for option in sorted(set(STRATEGY_VALUE_OPTION.values()))
             if option != wanted and params.get(option) is not None]
    if stray:
        raise KafkaModuleError(
            "%s given but strategy is %s; %s" % (
                ', '.join(stray), strategy or 'not set (offsets mode)',
                'it needs only %s.' % wanted if wanted else 'it takes no value option.'))
    if strategy == 'to_offset' and params.get('offset') < 0:
        raise KafkaModuleError("offset must be 0 or more, got %s." % params.get('offset'))


def _whole_number(value, what):
    """int for an int or a string of digits (templated values arrive as strings)."""
    if isinstance(value, bool):
        raise KafkaModuleError("%s must be a whole number, got %r." % (what, value))
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if text.lstrip('-').isdigit():
        return int(text)
    raise KafkaModuleError("%s must be a whole number, got %r." % (what, value))


def normalize_partition_list(entries, option):
    """[(topic, partition)] from [{topic, partition}], refusing bad or repeated entries."""
    seen = []
    for entry in entries or []:
        if not isinstance(entry, dict) or not entry.get('topic') or entry.get('partition') is None:
            raise KafkaModuleError(
                "%s entries need a topic name and a partition number, got %r." % (option, entry))
        key = (str(entry['topic']), _whole_number(entry['partition'], '%s: partition of %s' % (option, entry['topic'])))
        if key[1] < 0:
            raise KafkaModuleError("%s: partition of %s must be 0 or more, got %s." % ((option,) + key))
        if key in seen:
            raise KafkaModuleError("%s lists %s-%s more than once." % ((option,) + key))
        seen.append(key)
    return seen


def normalize_offsets_param(entries):
    """{(topic, partition): offset or None} from the offsets option.

    None stands for "no committed offset" (what previous_offsets reports for
    a partition the reset committed for the first time); restoring it
    deletes the committed offset. The offset key must be present so that a
    forgotten offset cannot silently delete a commit.
    """
    keys = normalize_partition_list(entries, 'offsets')
    if not keys:
        raise KafkaModuleError("offsets is empty; give the previous_offsets list of an earlier reset.")
    wanted = {}
    for key, entry in zip(keys, entries):
        if 'offset' not in entry:
            raise KafkaModuleError(
                "offsets: entry for %s-%s has no offset key; give offset: N, or offset: null to "
                "remove the committed offset (as previous_offsets reports a partition that had none)." % key)
        offset = entry['offset']
        if offset is not None:
            offset = _whole_number(offset, 'offsets: offset of %s-%s' % key)
            if offset < 0:
                raise KafkaModuleError("offsets: offset of %s-%s must be 0 or more, got %s." % (key + (offset,)))
        wanted[key] = offset
    return wanted


# --------------------------------------------------------------- lag & plans

def compute_lag(committed, log_end):
    """log end - committed, as kafka-consumer-groups.sh reports it; None when unknown."""
    if committed is None or log_end is None:
        return None
    return log_end - committed


def clamp_offset(requested, log_start, log_end):
    """(offset inside [log_start, log_end], whether it had to move)."""
    if requested < log_start:
        return log_start, True
    if requested > log_end:
        return log_end, True
    return requested, False


def requested_offset(strategy, current, log_start, log_end, value=None, timestamp_offset=None):
    """The offset a strategy asks for, before clamping to the log.

    value: the offset (to_offset) or the shift (shift_by). timestamp_offset: ListOffsets' answer for the reset time, None
    or -1 when no record is that new, which means the end of the log (as the
    Kafka CLI does).
    """
    if strategy == 'to_earliest':
        return log_start
    if strategy == 'to_latest':
        return log_end
    if strategy == 'to_offset':
        return value
    if strategy == 'shift_by':
        return current + value
    if strategy in ('to_datetime', 'by_duration'):
        return log_end if timestamp_offset is None or timestamp_offset < 0 else timestamp_offset
    raise KafkaModuleError("unknown strategy '%s'; use one of %s." % (strategy, ', '.join(STRATEGIES)))


def skipped_and_replayed(current, target, log_start, log_end):
    """Records the group will no longer read / read again after moving current -> target.

    Counted over offsets still present in the log (records already removed by
    retention are neither skipped nor replayed). Offsets, not records: a
    compacted or transactional log has gaps, so these are upper bounds.
    """
    if current is None:
        return None, None
    skipped = max(0, target - max(current, log_start))
    replayed = max(0, min(current, log_end) - target)
    return skipped, replayed


def plan_partition(topic, partition, current, log_start, log_end, requested):
    """One partition's reset plan from its current position and the requested target."""
    target, clamped = clamp_offset(requested, log_start, log_end)
    skipped, replayed = skipped_and_replayed(current, target, log_start, log_end)
    return dict(
        topic=topic,
        partition=partition,
        current_offset=current,
        requested_offset=requested,
        target_offset=target,
        clamped=clamped,
        log_start_offset=log_start,
        log_end_offset=log_end,
        lag_before=compute_lag(current, log_end),
        lag_after=compute_lag(target, log_end),
        messages_skipped=skipped,
        messages_replayed=replayed,
        changed=current != target,
    )


def plan_restore_deletion(topic, partition, current, log_start, log_end):
    """Plan entry for restoring "no committed offset": the commit is deleted."""
    return dict(
        topic=topic,
        partition=partition,
        current_offset=current,
        requested_offset=None,
        target_offset=None,
        clamped=False,
        log_start_offset=log_start,
        log_end_offset=log_end,
        lag_before=compute_lag(current, log_end),
        lag_after=None,
        messages_skipped=None,
        messages_replayed=None,
        changed=current is not None,
    )


def build_reset_plan(strategy, scope, committed, log_starts, log_ends, value=None,
                     timestamp_offsets=None, restore=None):
    """The ordered per-partition plan for every (topic, partition) in scope.

    committed/log_starts/log_ends/timestamp_offsets map (topic, partition) to
    offsets; restore maps (topic, partition) to the offset to put back (None =
    delete the committed offset) and replaces strategy/value.
    """
    plan = []
    for key in sorted(scope):
        topic, partition = key
        current = committed.get(key)
        start, end = log_starts[key], log_ends[key]
        if restore is not None and restore[key] is None:
            plan.append(plan_restore_deletion(topic, partition, current, start, end))
            continue
        if restore is not None:
            requested = restore[key]
        else:
            requested = requested_offset(strategy, current, start, end, value=value,
                                         timestamp_offset=(timestamp_offsets or {}).get(key))
        plan.append(plan_partition(topic, partition, current, start, end, requested))
    return plan


def _sum_known(values):
    known = [v for v in values if v is not None]
    return sum(known) if known else (0 if not values else None)


def summarize_plan(plan):
    """Totals over a plan, for the result and the task output."""
    return dict(
        partitions=len(plan),
        partitions_changed=len([p for p in plan if p['changed']]),
        partitions_clamped=len([p for p in plan if p['clamped']]),
        messages_skipped=_sum_known([p['messages_skipped'] for p in plan]),
        messages_replayed=_sum_known([p['messages_replayed'] for p in plan]),
        lag_before=_sum_known([p['lag_before'] for p in plan]),
        lag_after=_sum_known([p['lag_after'] for p in plan]),
    )


def previous_offsets(plan):
    """What the offsets option needs to put every planned partition back."""
    return [dict(topic=p['topic'], partition=p['partition'], offset=p['current_offset']) for p in plan]


def plan_diff(group_id, plan):
    """Ansible diff of the committed offsets of the planned partitions."""
    def offsets(field):
        return dict(('%s-%s' % (p['topic'], p['partition']), p[field]) for p in plan)
    return dict(
        before=dict(group=group_id, offsets=offsets('current_offset')),
        after=dict(group=group_id, offsets=offsets('target_offset')),
        before_header='committed offsets of group %s' % group_id,
        after_header='committed offsets of group %s after reset' % group_id,
    )


def shift_needs_committed(strategy, scope, committed):
    """Refuse shift_by on partitions without a committed offset to shift from."""
    if strategy != 'shift_by':
        return
    missing = sorted(key for key in scope if committed.get(key) is None)
    if missing:
        raise KafkaModuleError(
            "shift_by moves the committed offset, but the group has none for %s; "
            "use to_offset, to_earliest or to_latest for them, or leave them out of partitions/topics."
            % format_partitions(missing))


def format_partitions(keys, limit=20):
    names = ['%s-%s' % key for key in sorted(keys)]
    more = ' and %d more' % (len(names) - limit) if len(names) > limit else ''
    return ', '.join(names[:limit]) + more


# ----------------------------------------------------------- group listings

def is_consumer_group(listing):
    """True for groups that hold consumer offsets (classic consumer or KIP-848)."""
    if listing.get('type') == NEW_CONSUMER:
        return True
    return listing.get('type') in (CLASSIC, None, '') and listing.get('protocol_type') in CONSUMER_PROTOCOL_TYPES


def _listing_from_response(entry):
    group_type = entry.get('group_type') or CLASSIC
    return dict(
        group_id=entry['group_id'],
        state=entry.get('group_state') or 'Unknown',
        type=group_type.lower(),
        protocol_type=entry.get('protocol_type') or '',
    )


def list_group_listings(admin):
    """{group_id: {group_id, state, type, protocol_type}} for every group of the cluster.

    ListGroups (v5, Kafka 4) reports every group type, including KIP-848
    consumer groups that DescribeGroups does not describe.
    """
    listings = {}
    for entry in admin.list_groups():
        listing = _listing_from_response(entry)
        listings[listing['group_id']] = listing
    return listings


def unknown_group_message(group_ids, listings):
    known = sorted(g for g, listing in listings.items() if is_consumer_group(listing))
    shown = ', '.join(known[:20]) + (' ...' if len(known) > 20 else '')
    return ("consumer group%s %s not found in the cluster (known consumer groups: %s)."
            % ('s' if len(group_ids) > 1 else '', ', '.join(sorted(group_ids)), shown or 'none'))


def not_consumer_group_message(listing):
    return ("group %s is a %s group (protocol type '%s'), not a consumer group: it has no "
            "consumer offsets to read or reset." % (listing['group_id'], listing['type'], listing['protocol_type']))


# ---------------------------------------------------------------- members

def _strip_host(host):
    # DescribeGroups reports the client address as '/10.0.0.5'.
    return (host or '').lstrip('/')


def _assignment_partitions(assignment):
    # member_assignment is decoded by kafka-python for the consumer protocol;
    # anything it could not decode stays bytes and carries no partitions.
    if not isinstance(assignment, dict):
        return []
    keys = []
    for topic_entry in assignment.get('assigned_partitions') or []:
        for partition in topic_entry.get('partitions') or []:
            keys.append((topic_entry['topic'], partition))
    return sorted(keys)


def member_summary(member):
    """Plain dict of a DescribeGroups member."""
    return dict(
        member_id=member.get('member_id'),
        group_instance_id=member.get('group_instance_id'),
        client_id=member.get('client_id'),
        host=_strip_host(member.get('client_host')),
        assignment=[dict(topic=t, partition=p) for t, p in _assignment_partitions(member.get('member_assignment'))],
    )


def partition_owners(members):
    """{(topic, partition): member summary} from member summaries."""
    owners = {}
    for member in members:
        for item in member['assignment']:
            owners[(item['topic'], item['partition'])] = member
    return owners


def describe_classic_groups(admin, group_ids):
    """{group_id: {'protocol', 'state', 'members', 'error'}} via DescribeGroups."""
    if not group_ids:
        return {}
    described = admin.describe_groups(list(group_ids))
    result = {}
    for group_id in group_ids:
        raw = described.get(group_id) or {}
        result[group_id] = dict(
            state=raw.get('group_state'),
            protocol=raw.get('protocol_data') or None,
            members=[member_summary(m) for m in raw.get('members') or []],
            error=raw.get('error'),
        )
    return result


def describe_member_names(members):
    return ', '.join('client_id=%s host=%s member_id=%s' % (m['client_id'], m['host'], m['member_id'])
                     for m in members)


def active_group_message(listing, members):
    """Why offsets cannot change while the group has members, naming them."""
    group_id = listing['group_id']
    if listing['type'] == NEW_CONSUMER:
        who = NEW_PROTOCOL_MEMBERS_GAP % group_id
    elif members:
        who = 'members: %s' % describe_member_names(members)
    else:
        who = 'the group is rebalancing'
    protocol = 'new consumer protocol, KIP-848' if listing['type'] == NEW_CONSUMER else 'classic protocol'
    return ("group %s is %s (%s); offsets can only be reset while it has no members. "
            "Stop its consumers and retry (%s)." % (group_id, listing['state'], protocol, who))


# ---------------------------------------------------------------- offsets

def fetch_committed_offsets(admin, group_ids):
    """{group_id: {(topic, partition): offset}}; partitions without commit are left out."""
    if not group_ids:
        return {}
    fetched = admin.list_group_offsets({group_id: None for group_id in group_ids})
    result = {}
    for group_id in group_ids:
        result[group_id] = dict(
            ((tp.topic, tp.partition), oam.offset)
            for tp, oam in (fetched.get(group_id) or {}).items() if oam.offset is not None and oam.offset >= 0)
    return result


def fetch_topic_partitions(admin, topics):
    """({topic: [partition, ...]} for existing topics, [missing topics])."""
    if not topics:
        return {}, []
    existing, missing = {}, []
    for topic in admin.describe_topics(sorted(set(topics))):
        if topic.get('error_code') == UNKNOWN_TOPIC_OR_PARTITION:
            missing.append(topic['name'])
        elif topic.get('error_code'):
            raise KafkaModuleError("describing topic %s failed: %s." % (topic['name'], error_name(topic['error_code'])))
        else:
            existing[topic['name']] = sorted(p['partition_index'] for p in topic['partitions'])
    return existing, sorted(missing)


def error_name(code):
    error = kafka_errors.for_code(code) if kafka_errors is not None else None
    return error.__name__ if error is not None else 'error code %s' % code


def split_existing(keys, topic_partitions):
    """(existing keys, missing keys) of (topic, partition) against topic metadata."""
    existing = [k for k in keys if k[1] in topic_partitions.get(k[0], ())]
    return existing, [k for k in keys if k not in existing]


def _list_offsets(admin, keys, spec):
    if not keys:
        return {}
    answered = admin.list_partition_offsets(dict((TopicPartition(t, p), spec) for t, p in keys))
    return dict(((tp.topic, tp.partition), found.offset) for tp, found in answered.items())


def fetch_log_bounds(admin, keys):
    """({key: log start offset}, {key: log end offset}) for existing partitions."""
    keys = sorted(set(keys))
    return _list_offsets(admin, keys, OffsetSpec.EARLIEST), _list_offsets(admin, keys, OffsetSpec.LATEST)


def fetch_offsets_for_timestamp(admin, keys, timestamp_ms):
    """{key: first offset with a record timestamp >= timestamp_ms, or -1 when none is}."""
    return _list_offsets(admin, sorted(set(keys)), int(timestamp_ms))


def commit_offsets(admin, group_id, offsets):
    """Commit {key: offset}; raise KafkaModuleError naming partitions that failed.

    Metadata and leader epoch are cleared like kafka-consumer-groups.sh does:
    both described the old position.
    """
    if not offsets:
        return
    result = admin.alter_group_offsets(group_id, dict(
        (TopicPartition(t, p), OffsetAndMetadata(offset, '', None)) for (t, p), offset in offsets.items()))
    _raise_partition_errors(result, 'commit offsets for group %s' % group_id)


def delete_committed_offsets(admin, group_id, keys):
    if not keys:
        return
    result = admin.delete_group_offsets(group_id, [TopicPartition(t, p) for t, p in keys])
    _raise_partition_errors(result, 'delete committed offsets of group %s' % group_id)


def _raise_partition_errors(result, what):
    failed = []
    for tp, error in sorted(result.items()):
        name = getattr(error, '__name__', str(error))
        if name != 'NoError':
            failed.append('%s-%s: %s' % (tp.topic, tp.partition, name))
    if failed:
        raise KafkaModuleError('Failed to %s: %s.' % (what, '; '.join(failed)))


# ------------------------------------------------------------ group report

def partition_report(key, committed, log_start, log_end, owner):
    """One row of kafka-consumer-groups.sh --describe, as a dict."""
    return dict(
        topic=key[0],
        partition=key[1],
        committed_offset=committed,
        log_start_offset=log_start,
        log_end_offset=log_end,
        lag=compute_lag(committed, log_end),
        member_id=owner['member_id'] if owner else None,
        client_id=owner['client_id'] if owner else None,
        host=owner['host'] if owner else None,
    )


def topic_totals(partitions):
    """Per-topic totals over partition rows, ordered by topic name."""
    by_topic = {}
    for row in partitions:
        by_topic.setdefault(row['topic'], []).append(row)
    return [dict(topic=topic,
                 partitions=len(rows),
                 committed_partitions=len([r for r in rows if r['committed_offset'] is not None]),
                 lag=_sum_known([r['lag'] for r in rows]))
            for topic, rows in sorted(by_topic.items())]


def build_partition_rows(committed, owners, log_starts, log_ends):
    """Rows for every partition with a commit or an owner, sorted like the CLI output."""
    keys = sorted(set(committed) | set(owners))
    return [partition_report(k, committed.get(k), log_starts.get(k), log_ends.get(k), owners.get(k))
            for k in keys]
