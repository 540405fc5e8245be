#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kraft.kafka maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: kafka_features
short_description: Describe and finalize KRaft feature levels (metadata.version, kraft.version, group.version, ...)
version_added: 0.1.0
description:
  - Kafka finalizes cluster-wide B(feature levels) (KIP-584), such as C(metadata.version) (the format of the
    KRaft metadata log), C(kraft.version), C(group.version), C(transaction.version),
    C(eligible.leader.replicas.version), C(share.version) and C(streams.version). New software only uses
    a new level after it is finalized, which is the last step of a rolling upgrade.
  - Without O(release_version) and O(features) the module only describes the finalized levels and the
    levels every broker supports (read-only).
  - O(release_version) sets every feature to the level of that Kafka release, like
    C(kafka-features.sh upgrade --release-version); O(features) sets single features and wins over
    O(release_version) for the features it names.
  - Upgrades only, by default. A target lower than the finalized level is refused unless
    O(allow_downgrade=true).
  - Before changing anything, the module asks B(every) registered broker which levels it supports and
    refuses when a broker cannot run the target level (it still runs an older Kafka), naming those
    brokers, or when a broker does not answer.
  - Idempotent; reports C(changed) only when a level changes.
author:
  - kraft.kafka maintainers (@kraft-kafka)
extends_documentation_fragment:
  - kraft.kafka.kafka_connection
attributes:
  check_mode:
    support: full
    description: Sends the update with C(validate_only), so the controller checks it without applying it.
  diff_mode:
    support: none
    description: RV(updates) lists every level that changes.
options:
  release_version:
    description:
      - Kafka release whose feature levels to finalize, as C(MAJOR.MINOR) (V(4.4); a patch number such as
        V(4.4.0) is ignored) or a C(metadata.version) name (V(4.4-IV2)).
      - C(MAJOR.MINOR) means the last C(metadata.version) of that release, as in Kafka's tools; every
        other feature gets the default level Kafka assigns to that C(metadata.version)
        (C(kafka-features.sh version-mapping --release-version ...) prints the same).
      - The mapping is a table taken from Kafka 4.4.0 (C(MetadataVersion) and C(Feature) of
        C(kafka-server-common)) and covers C(3.3-IV3) to C(4.4-IV2). Later releases are refused; name their
        levels in O(features) instead, for example C(metadata.version) V(35).
      - This includes C(kraft.version=1) from 3.9 on, which lets the controller quorum change its voters
        at run time (KIP-853) and cannot be undone. To keep a static quorum at C(kraft.version=0),
        set C(kraft.version) to V(0) in O(features).
    type: str
  features:
    description:
      - Feature levels to finalize, feature name to level. A level of V(0) disables the feature.
      - C(metadata.version) also takes a name such as V(4.4-IV2) or a release such as V(4.4).
      - Levels named here win over those derived from O(release_version).
    type: dict
  allow_downgrade:
    description:
      - Allow targets lower than the finalized level. Without it, such a target fails the task.
    type: bool
    default: false
  downgrade_type:
    description:
      - How to downgrade when O(allow_downgrade=true).
      - V(safe) (C(SAFE_DOWNGRADE)) is only accepted by the controller when no metadata is lost, that is
        when the versions in between did not change the format of the records.
      - V(unsafe) (C(UNSAFE_DOWNGRADE)) may drop metadata the old level cannot represent. Kafka 4.x
        controllers refuse unsafe downgrades of C(metadata.version); the option exists for features
        that allow it.
      - C(kraft.version) can never be downgraded.
    type: str
    choices: [safe, unsafe]
    default: safe
  wait_timeout:
    description:
      - Seconds to wait after finalizing until every broker reports the new levels. The task fails
        when they do not within this time.
    type: int
    default: 60
notes:
  - Controller-only nodes are not reachable through broker listeners, so the support check covers
    brokers; the active controller checks controllers itself and rejects a level a controller cannot
    run, and that error is reported as it comes.
  - "Finalize only after every node runs the new software and the cluster is healthy: a finalized
    C(metadata.version) cannot be lowered again in Kafka 4.x, so the old software can no longer be
    started on this cluster."
seealso:
  - module: kraft.kafka.kafka_cluster_info
  - name: Upgrading a KRaft cluster
    description: Kafka documentation of the rolling upgrade and the finalization step.
    link: https://kafka.apache.org/documentation/#upgrade
'''

EXAMPLES = r'''
- name: Show finalized and supported feature levels
  kraft.kafka.kafka_features:
    bootstrap_servers: "{{ kafka_bootstrap_servers }}"
  delegate_to: localhost
  run_once: true
  register: features

- name: Finalize Kafka 4.4 after every node runs it (the last step of a rolling upgrade)
  kraft.kafka.kafka_features:
    bootstrap_servers: "{{ kafka_bootstrap_servers }}"
    release_version: "4.4"
  delegate_to: localhost
  run_once: true

- name: Same, but keep the static controller quorum (kraft.version 0)
  kraft.kafka.kafka_features:
    bootstrap_servers: "{{ kafka_bootstrap_servers }}"
    release_version: "4.4"
    features:
      kraft.version: 0
  delegate_to: localhost
  run_once: true

- name: Only enable the new consumer group protocol
  kraft.kafka.kafka_features:
    bootstrap_servers: "{{ kafka_bootstrap_servers }}"
    features:
      group.version: 1
  delegate_to: localhost
  run_once: true
'''

RETURN = r'''
finalized:
  description: Finalized level of every known feature after the task (predicted in check mode); V(0) = not finalized.
  returned: success
  type: dict
  sample: {metadata.version: 33, kraft.version: 0, group.version: 1, transaction.version: 2}
finalized_before:
  description: Finalized levels before the task.
  returned: success
  type: dict
  sample: {metadata.version: 25, kraft.version: 0, group.version: 1, transaction.version: 2}
metadata_version:
  description: Name of the finalized C(metadata.version) after the task (predicted in check mode); null when the level is not in the table.
  returned: success
  type: str
  sample: 4.4-IV2
metadata_version_before:
  description: Name of the finalized C(metadata.version) before the task.
  returned: success
  type: str
  sample: 4.0-IV3
supported:
  description: Levels every answering broker supports, as C(name) to C(min) and C(max) (the intersection of RV(brokers[].supported)).
  returned: success
  type: dict
  sample: {metadata.version: {min: 7, max: 33}}
brokers:
  description: What each registered broker supports, sorted by id.
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: Broker id.
      type: int
    fenced:
      description: Whether the broker is fenced.
      type: bool
    reachable:
      description: Whether the broker answered.
      type: bool
    supported:
      description: Feature name to C(min) and C(max) level the broker supports; empty when it did not answer.
      type: dict
    error:
      description: Why the broker could not be asked; null when it answered.
      type: str
target:
  description: Resolved target level of every feature the task manages (empty when only describing).
  returned: success
  type: dict
  sample: {metadata.version: 33, share.version: 2}
updates:
  description: Levels that change (or, in check mode, would change).
  returned: success
  type: list
  elements: dict
  contains:
    feature:
      description: Feature name.
      type: str
    from:
      description: Finalized level before.
      type: int
    to:
      description: Target level.
      type: int
    type:
      description: V(upgrade), V(safe_downgrade) or V(unsafe_downgrade).
      type: str
  sample: [{feature: metadata.version, from: 25, to: 33, type: upgrade}]
'''

import re
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kraft.kafka.plugins.module_utils.kafka_validation import new_module
from ansible_collections.kraft.kafka.plugins.module_utils.kafka_validation import (
    call_bounded, check_integer, check_text)

from ansible_collections.kraft.kafka.plugins.module_utils import kafka_versions
from ansible_collections.kraft.kafka.plugins.module_utils.kafka_client import (
    CLIENT_ID,
    KafkaModuleError,
    describe_kafka_error,
    kafka_connection_argument_spec,
    run_module,
)

try:
    from kafka.protocol.metadata import ApiVersionsRequest
except ImportError:  # reported by require_kafka_python() in run_module
    ApiVersionsRequest = None

METADATA_VERSION = 'metadata.version'
KRAFT_VERSION = 'kraft.version'

# metadata.version levels: the one table of the collection (module_utils/kafka_versions.py).
METADATA_VERSIONS = kafka_versions.METADATA_VERSIONS

# Default level of each feature for a metadata.version (Feature.defaultLevel() of Kafka 4.4.0):
# (first metadata.version level, feature level from there on).
FEATURE_DEFAULTS = {
    KRAFT_VERSION: ((7, 0), (21, 1)),
    'transaction.version': ((7, 0), (24, 2)),
    'group.version': ((7, 0), (22, 1)),
    'eligible.leader.replicas.version': ((7, 0), (26, 1)),
    'share.version': ((7, 0), (28, 1), (31, 2)),
    'streams.version': ((7, 0), (29, 1)),
}

UPGRADE = 'upgrade'
DOWNGRADE_TYPES = {'safe': 'safe_downgrade', 'unsafe': 'unsafe_downgrade'}
# kafka-python's UpdateFeatureType names.
UPDATE_TYPE_NAMES = {'upgrade': 'UPGRADE', 'safe_downgrade': 'SAFE_DOWNGRADE',
                     'unsafe_downgrade': 'UNSAFE_DOWNGRADE'}
POLL_INTERVAL_SECONDS = 0.5
_RELEASE = re.compile(r'^(\d+)\.(\d+)(?:\.\d+)?$')


# ------------------------------------------------------------------ params

def argument_spec():
    spec = kafka_connection_argument_spec()
    spec.update(
        release_version=dict(type='str'),
        features=dict(type='dict'),
        allow_downgrade=dict(type='bool', default=False),
        downgrade_type=dict(type='str', default='safe', choices=['safe', 'unsafe']),
        wait_timeout=dict(type='int', default=60),
    )
    return spec


# ------------------------------------------------------------ version table

def metadata_version_name(level):
    return dict(METADATA_VERSIONS).get(level)


def known_releases():
    return sorted(set(name.split('-', 1)[0] for _level, name in METADATA_VERSIONS),
                  key=lambda text: tuple(int(p) for p in text.split('.')))


def metadata_version_level(text):
    """Level of a metadata.version name (4.4-IV2) or release (4.4, 4.4.0: its last level)."""
    text = str(text).strip()
    by_name = dict((name, level) for level, name in METADATA_VERSIONS)
    if text in by_name:
        return by_name[text]
    match = _RELEASE.match(text)
    if match:
        release = '%s.%s' % match.groups()
        levels = [level for level, name in METADATA_VERSIONS if name.split('-', 1)[0] == release]
        if levels:
            return max(levels)
    raise KafkaModuleError(
        "'%s' is not a Kafka release this module knows (%s, or a metadata.version name such as %s). "
        "For a newer release give the levels in features, e.g. {metadata.version: <level>}; "
        "kafka-features.sh version-mapping --release-version <release> prints them."
        % (text, ', '.join(known_releases()), METADATA_VERSIONS[-1][1]))


def default_level(feature, metadata_level):
    level = 0
    for since, value in FEATURE_DEFAULTS[feature]:
        if metadata_level >= since:
            level = value
    return level


def release_targets(release_version):
    """{feature: level} of every feature for a release, like kafka-features.sh version-mapping."""
    metadata_level = metadata_version_level(release_version)
    targets = dict((feature, default_level(feature, metadata_level)) for feature in FEATURE_DEFAULTS)
    targets[METADATA_VERSION] = metadata_level
    return targets


def explicit_level(feature, value):
    if isinstance(value, bool):
        raise KafkaModuleError('features.%s: level must be a whole number, got %r.' % (feature, value))
    if isinstance(value, int):
        level = value
    elif re.match(r'^\s*\d+\s*$', str(value)):
        level = int(value)
    elif feature == METADATA_VERSION:
        level = metadata_version_level(value)
    else:
        raise KafkaModuleError('features.%s: level must be a whole number, got %r.' % (feature, value))
    if level < 0:
        raise KafkaModuleError('features.%s: level must be 0 or more, got %d.' % (feature, level))
    return level


def resolve_targets(params):
    targets = release_targets(params['release_version']) if params['release_version'] else {}
    for feature, value in (params['features'] or {}).items():
        targets[str(feature)] = explicit_level(str(feature), value)
    return targets


# ------------------------------------------------------------ broker answers

def broker_list(admin):
    """[(broker_id, fenced)] of every registered broker."""
    cluster = admin.describe_cluster()
    return sorted((b['broker_id'], bool(b.get('is_fenced'))) for b in cluster.get('brokers') or [])


def ask_broker(admin, broker_id):
    """ApiVersions of one broker: ({name: {min, max}}, {name: finalized level}).

    kafka-python's describe_features() asks whichever broker is least loaded, but a broker that
    still runs an older Kafka is only visible by asking each one, so this sends the request to
    a given node through the client's connection manager.
    """
    client = admin.connect() if hasattr(admin, 'connect') else admin
    manager = client._manager  # pylint: disable=protected-access

    async def request():
        return await manager.send(ApiVersionsRequest(client_software_name=CLIENT_ID.replace('.', '-'),
                                                     client_software_version='1', min_version=3),
                                  node_id=broker_id)
    # This request bypasses the LazyAdminClient, so it is bounded here.
    bound = getattr(admin, 'call_bound', None)
    response = call_bounded(manager.run, bound, request) if bound else manager.run(request)
    if response.error_code:
        raise KafkaModuleError('ApiVersions error code %s' % response.error_code)
    supported = dict((f.name, dict(min=f.min_version, max=f.max_version))
                     for f in response.supported_features or [])
    finalized = dict((f.name, f.max_version_level) for f in response.finalized_features or [])
    return supported, finalized


def broker_reports(admin):
    """Per-broker answers (see RETURN brokers) and the finalized levels the first answer reports."""
    reports, finalized = [], None
    for broker_id, fenced in broker_list(admin):
        report = dict(id=broker_id, fenced=fenced, reachable=False, supported={}, error=None)
        try:
            report['supported'], answered = ask_broker(admin, broker_id)
            report['reachable'] = True
            finalized = answered if finalized is None else finalized
        except Exception as exc:  # pylint: disable=broad-except
            report['error'] = describe_kafka_error(exc)
        reports.append(report)
    if not reports:
        raise KafkaModuleError('The cluster has no registered broker.')
    if finalized is None:
        raise KafkaModuleError('No broker answered an ApiVersions request: %s' % '; '.join(
            'broker %d: %s' % (r['id'], r['error']) for r in reports))
    return reports, finalized


def common_support(reports):
    """{feature: {min, max}} every answering broker supports."""
    answered = [r['supported'] for r in reports if r['reachable']]
    names = set()
    for supported in answered:
        names.update(supported)
    common = {}
    for name in sorted(names):
        ranges = [s[name] for s in answered if name in s]
        if len(ranges) == len(answered):
            common[name] = dict(min=max(r['min'] for r in ranges), max=min(r['max'] for r in ranges))
    return common


def all_levels(finalized, reports):
    """Finalized level of every feature any broker knows; 0 where none is finalized."""
    names = set(finalized)
    for report in reports:
        names.update(report['supported'])
    return dict((name, finalized.get(name, 0)) for name in sorted(names))


# ------------------------------------------------------------------ plan

def plan_updates(targets, current, params):
    """[{feature, from, to, type}] for targets that differ from the finalized level."""
    updates, downgrades = [], []
    for feature in sorted(targets):
        before, after = current.get(feature, 0), targets[feature]
        if before == after:
            continue
        kind = UPGRADE if after > before else DOWNGRADE_TYPES[params['downgrade_type']]
        if kind != UPGRADE:
            downgrades.append('%s %s -> %s' % (feature, level_text(feature, before), level_text(feature, after)))
        updates.append({'feature': feature, 'from': before, 'to': after, 'type': kind})
    if downgrades and not params['allow_downgrade']:
        raise KafkaModuleError(
            'Refusing to downgrade %s: the targets are below the finalized levels. Set allow_downgrade: true '
            '(with downgrade_type safe or unsafe) if that is what you want.' % ', '.join(downgrades))
    return updates


def level_text(feature, level):
    name = metadata_version_name(level) if feature == METADATA_VERSION else None
    return '%d (%s)' % (level, name) if name else str(level)


def support_problems(updates, reports):
    """Why some brokers cannot take the target levels (empty when all can)."""
    known = set()
    for report in reports:
        known.update(report['supported'])
    problems = unknown_feature_problems(updates, known)
    updates = [u for u in updates if u['feature'] in known]
    problems.extend(unreachable_problems(updates, reports))
    for update in updates:
        problems.extend(unsupported_level_problems(update, [r for r in reports if r['reachable']]))
    return problems


def unknown_feature_problems(updates, known):
    unknown = [u['feature'] for u in updates if u['feature'] not in known]
    if not unknown:
        return []
    return ['no broker knows feature(s) %s (known: %s)' % (', '.join(unknown), ', '.join(sorted(known)))]


def unreachable_problems(updates, reports):
    unreachable = [r for r in reports if not r['reachable']]
    if not unreachable or not updates:
        return []
    return ['broker(s) %s did not answer, so it is unknown which levels they support (%s)' % (
        ', '.join(str(r['id']) for r in unreachable), '; '.join(r['error'] or '' for r in unreachable))]


def unsupported_level_problems(update, reports):
    """Brokers whose supported range misses the target: above it they run an older Kafka."""
    behind = [r for r in reports if not supports(r['supported'], update)]
    if not behind:
        return []
    too_new = all(update['feature'] in r['supported'] and update['to'] < r['supported'][update['feature']]['min']
                  for r in behind)
    why = ('their Kafka no longer supports levels that low' if too_new
           else 'they still run an older Kafka')
    return ['%s %s is not supported by broker(s) %s (%s): %s' % (
        update['feature'], level_text(update['feature'], update['to']), ', '.join(str(r['id']) for r in behind),
        '; '.join('broker %d supports %s' % (r['id'], range_text(update['feature'], r['supported']))
                  for r in behind), why)]


def supports(supported, update):
    found = supported.get(update['feature'])
    if found is None:
        return update['to'] == 0
    return update['to'] == 0 or found['min'] <= update['to'] <= found['max']


def range_text(feature, supported):
    found = supported.get(feature)
    if found is None:
        return 'no such feature'
    return '%s to %s' % (level_text(feature, found['min']), level_text(feature, found['max']))


# ---------------------------------------------------------------- apply

def send_updates(admin, updates, validate_only, timeout_ms):
    """UpdateFeatures through the controller; raise with Kafka's message on any failure."""
    request = dict((u['feature'], (UPDATE_TYPE_NAMES[u['type']], u['to'])) for u in updates)
    answers = admin.update_features(request, validate_only=validate_only, timeout_ms=timeout_ms)
    failed = ['%s: %s' % (feature, answer) for feature, answer in sorted(answers.items()) if answer != 'OK']
    if failed:
        raise KafkaModuleError('The controller refused to %s the feature levels: %s' % (
            'validate' if validate_only else 'finalize', '; '.join(failed)))


def wait_until_finalized(admin, targets, timeout):
    """Poll every broker until each reports the target levels; return the brokers that do not."""
    deadline = time.monotonic() + timeout
    while True:
        behind = []
        for broker_id, _fenced in broker_list(admin):
            try:
                finalized = ask_broker(admin, broker_id)[1]
            except Exception:  # pylint: disable=broad-except
                behind.append(broker_id)
                continue
            if any(finalized.get(name, 0) != level for name, level in targets.items()):
                behind.append(broker_id)
        if not behind or time.monotonic() >= deadline:
            return behind
        time.sleep(POLL_INTERVAL_SECONDS)


# ---------------------------------------------------------------- module

_RESPONSE_MESSAGE = re.compile(r"error_message='(.*?)'[,)]")


def wrap_kafka_refusal(exc):
    """A KafkaModuleError with the controller's own explanation.

    kafka-python raises the whole request/response repr; the response's error_message is the part
    that tells the user why (for example "Unsafe metadata downgrade is not supported").
    """
    if isinstance(exc, KafkaModuleError):
        return exc
    found = _RESPONSE_MESSAGE.search(str(exc))
    if found:
        return KafkaModuleError('The controller refused the feature update (%s): %s'
                                % (type(exc).__name__, found.group(1)))
    return KafkaModuleError('The controller refused the feature update: %s' % describe_kafka_error(exc))


def validate_params(params):
    if params['wait_timeout'] < 0:
        raise KafkaModuleError('wait_timeout must be 0 or more, got %d.' % params['wait_timeout'])


def manage_features(module, admin):
    params = module.params
    validate_params(params)
    targets = resolve_targets(params)
    reports, finalized = broker_reports(admin)
    supported = common_support(reports)
    before = all_levels(finalized, reports)
    updates = plan_updates(targets, before, params)
    problems = support_problems(updates, reports)
    if problems:
        raise KafkaModuleError('Refusing to finalize feature levels: %s. Upgrade the software on those nodes '
                               '(and start them) first.' % '; '.join(problems))
    after = dict(before, **dict((u['feature'], u['to']) for u in updates))
    result = dict(changed=bool(updates), target=targets, updates=updates, brokers=reports, supported=supported,
                  finalized_before=before, finalized=after,
                  metadata_version_before=metadata_version_name(before.get(METADATA_VERSION, 0)),
                  metadata_version=metadata_version_name(after.get(METADATA_VERSION, 0)))
    if not updates:
        return result
    try:
        send_updates(admin, updates, module.check_mode, params['request_timeout'] * 1000)
    except Exception as exc:  # pylint: disable=broad-except
        raise wrap_kafka_refusal(exc)
    if module.check_mode:
        return result
    behind = wait_until_finalized(admin, dict((u['feature'], u['to']) for u in updates), params['wait_timeout'])
    if behind:
        module.fail_json(msg='Finalized, but after %ss broker(s) %s do not report the new levels yet.'
                         % (params['wait_timeout'], ', '.join(str(b) for b in behind)), **result)
    return result


def main():
    module = new_module(AnsibleModule, argument_spec=argument_spec(), supports_check_mode=True)
    run_module(module, manage_features, validate=check_input)


# Feature levels are 16-bit fields of the UpdateFeatures request.
MAX_FEATURE_LEVEL = 2 ** 15 - 1


def check_input(params, problems):
    """kraft.kafka.kafka_validation rules: feature names and levels, before any connection."""
    check_integer(problems, 'wait_timeout', params['wait_timeout'], 0)
    check_text(problems, 'release_version', params['release_version'], 'a release such as 4.4')
    features = params['features'] or {}
    for feature in features:
        check_text(problems, 'features', feature, 'a feature name')
    if problems:
        return
    for feature, value in features.items():
        try:
            level = explicit_level(str(feature), value)
        except KafkaModuleError as exc:
            problems.add(None, str(exc))
            continue
        check_integer(problems, 'features.%s' % feature, level, 0, MAX_FEATURE_LEVEL)
    try:
        resolve_targets(params)
    except KafkaModuleError as exc:
        if not problems:
            problems.add(None, str(exc))


if __name__ == '__main__':
    main()
