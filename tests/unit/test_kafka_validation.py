# -*- coding: utf-8 -*-
"""Unit tests of plugins/module_utils/kafka_validation.py and of the input
layer every module runs before it connects (run_module -> validate_input),
with Hypothesis property tests that drive each of the 11 modules' validation
with generated wrong inputs. No cluster needed.

The properties: validation never raises; it either refuses with the one
"Nothing was changed: N problem(s) found" message (or Ansible's own type
message), or it accepts and then no number is a boolean or outside Kafka's
protocol field, and no scope option is an empty list (an empty scope never
widens to everything). Deterministic (derandomize) and bounded for CI.
"""

import copy
import json
import subprocess
import sys
import textwrap
import time
import types
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / '.cache' / 'collections'))

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator  # noqa: E402

from ansible_collections.kraft.kafka.plugins.module_utils import kafka_client as kc  # noqa: E402
from ansible_collections.kraft.kafka.plugins.module_utils import kafka_validation as kv  # noqa: E402
from ansible_collections.kraft.kafka.plugins.modules import (  # noqa: E402
    kafka_acl, kafka_cluster_health, kafka_cluster_info, kafka_consumer_group_info,
    kafka_consumer_group_reset, kafka_features, kafka_leader_election, kafka_partition_rebalance,
    kafka_quorum_status, kafka_topic, kafka_user)

_TEXT_REQUIRED = st.sampled_from(['orders', 'billing', ' orders', 'a.b', '', 'alice', 'x' * 250, 'tab\there'])

FUZZ = settings(derandomize=True, max_examples=120, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

# module -> (python module, AnsibleModule constraints, int64 options, scope list options)
MODULES = {
    'kafka_acl': (kafka_acl, {}, (), ('acls',)),
    'kafka_cluster_health': (kafka_cluster_health, {}, (), ('expected_brokers',)),
    'kafka_cluster_info': (kafka_cluster_info, {}, (), ('topics',)),
    'kafka_consumer_group_info': (kafka_consumer_group_info, {}, (), ()),
    'kafka_consumer_group_reset': (kafka_consumer_group_reset, kafka_consumer_group_reset.CONSTRAINTS,
                                   kafka_consumer_group_reset.INT64_OPTIONS, ('topics', 'partitions', 'offsets')),
    'kafka_features': (kafka_features, {}, (), ()),
    'kafka_leader_election': (kafka_leader_election, dict(mutually_exclusive=[('topics', 'partitions')]), (),
                              ('topics', 'partitions')),
    'kafka_partition_rebalance': (kafka_partition_rebalance, {}, (), ('topics', 'brokers')),
    'kafka_quorum_status': (kafka_quorum_status, {}, (), ('expected_voters',)),
    'kafka_topic': (kafka_topic, dict(mutually_exclusive=[('name', 'topics')], required_one_of=[('name', 'topics')]),
                    (), ('topics',)),
    'kafka_user': (kafka_user, dict(mutually_exclusive=[('name', 'users')], required_one_of=[('name', 'users')]),
                   (), ()),
}
# Options every generated input has (as strategies), so that most inputs pass AnsibleModule's constraints.
REQUIRED = {
    'kafka_consumer_group_reset': dict(group=_TEXT_REQUIRED, strategy=st.sampled_from(
        sorted(kafka_consumer_group_reset.STRATEGIES))),
}
CONNECTION = set(kc.kafka_connection_argument_spec())


def validate_like_module(name, raw):
    """(accepted params or None, message): what AnsibleModule plus validate_input make of raw."""
    module, constraints, int64, _scopes = MODULES[name]
    spec = module.argument_spec()
    early = kv.number_text_problems(spec, raw)  # what new_module() refuses before AnsibleModule
    if early:
        return None, kv.problems_message(early)
    result = ArgumentSpecValidator(spec, **constraints).validate(copy.deepcopy(raw))
    if result.error_messages:
        return None, 'ansible: ' + '; '.join(result.error_messages)
    fake = types.SimpleNamespace(argument_spec=spec, params=result.validated_parameters, _name=name)
    message = kc.validate_input(fake, getattr(module, 'check_input', None), int64, raw=raw)
    return (None if message else result.validated_parameters), message


# ------------------------------------------------------------ generated input

_TEXT = st.one_of(
    st.sampled_from(['', ' ', 'orders', ' orders', 'orders ', 'or\nders', 'a.b', 'a_b', '.', '..', 'x' * 250,
                     'orders-*', 'tab\there', '3', 'true', '-1', 'P1D', 'PT1H', '2026-01-01T00:00:00Z',
                     'SCRAM-SHA-512', 'User:alice', 'short', 'longenough-password']),
    st.text(max_size=12))
_INT = st.one_of(st.sampled_from([0, 1, -1, 3, 2 ** 31 - 1, 2 ** 31, 3000000000, -2 ** 31 - 1, 2 ** 63, -2 ** 63 - 1]),
                 st.integers(-2 ** 70, 2 ** 70))
_SCALAR = st.one_of(st.none(), st.booleans(), _INT, st.floats(allow_nan=True, allow_infinity=True), _TEXT)
_VALUE = st.recursive(_SCALAR,
                      lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_TEXT, inner, max_size=3)),
                      max_leaves=6)


def _option_value(option):
    """Generated values for one option: wrong types and shapes, and plausible ones."""
    kind, elements = option.get('type', 'str'), option.get('elements')
    plausible = {'int': _INT, 'float': st.floats(-2, 2), 'bool': st.booleans(), 'str': _TEXT,
                 'dict': st.dictionaries(_TEXT, _SCALAR, max_size=3)}.get(kind, _VALUE)
    if kind == 'list':
        if elements == 'dict' and option.get('options'):
            subs = option['options']
            item = st.fixed_dictionaries(
                dict((key, _option_value(sub)) for key, sub in subs.items() if sub.get('required')),
                optional=dict((key, _option_value(sub)) for key, sub in subs.items() if not sub.get('required')))
        else:
            item = {'int': _INT, 'str': _TEXT}.get(elements, _VALUE)
        plausible = st.lists(_mostly(item, _SCALAR), max_size=4)
    if option.get('choices'):
        plausible = _mostly(st.sampled_from(option['choices']), plausible)
    # Mostly the documented type (so the module's own rules are reached), sometimes any shape at all.
    return _mostly(plausible, st.one_of(_SCALAR, _VALUE))


def _mostly(usual, rare, one_in=8):
    # one_of() draws its branches about evenly; this draws `rare` about once in `one_in`.
    return st.integers(0, one_in - 1).flatmap(lambda pick: rare if pick == 0 else usual)


# Mutually exclusive options: each generated input has at most one of a group.
EXCLUSIVE = {'kafka_topic': ('name', 'topics'), 'kafka_user': ('name', 'users'),
             'kafka_leader_election': ('topics', 'partitions'),
             'kafka_consumer_group_reset': ('topics', 'partitions', 'offsets')}


def module_input(name):
    """Generated arguments of one module: required options, one of each exclusive group, any others."""
    spec = MODULES[name][0].argument_spec()
    group = EXCLUSIVE.get(name, ())
    variants = []
    for chosen in (group or (None,)):
        base = dict(REQUIRED.get(name, {}), bootstrap_servers=st.just(['127.0.0.1:9092']))
        if chosen is not None:
            base[chosen] = _TEXT_REQUIRED if chosen == 'name' else _option_value(spec[chosen])
        optional = dict((key, _option_value(option)) for key, option in spec.items()
                        if key not in CONNECTION and key not in base and key not in group)
        variants.append(st.fixed_dictionaries(base, optional=optional))
    return st.one_of(*variants)


# ------------------------------------------------------------ properties

def _numbers(spec, params, prefix, int64):
    """(path, value, wide) for every int-typed value in validated params."""
    for key, option in spec.items():
        value = params.get(key)
        if value is None:
            continue
        path = prefix + key
        wide = path in int64
        if option.get('type') == 'int':
            yield path, value, wide
        elif option.get('type') == 'list':
            for item in value:
                if option.get('elements') == 'int':
                    yield path, item, wide
                elif option.get('options') and isinstance(item, dict):
                    yield from _numbers(option['options'], item, path + '[].', int64)


def assert_property(name, raw):
    accepted, message = validate_like_module(name, raw)
    if accepted is None:
        assert message and (message.startswith('Nothing was changed: ') or message.startswith('ansible: ')), message
        return
    assert message is None
    module, _constraints, int64, scopes = MODULES[name]
    for path, value, wide in _numbers(module.argument_spec(), accepted, '', set(int64)):
        assert not isinstance(value, bool), (path, value)
        bound = kv.INT64_MAX if wide else kv.INT32_MAX
        assert -bound - 1 <= value <= bound, (path, value)
    for option in scopes:
        assert accepted.get(option) != [], (option, raw)
    if name == 'kafka_leader_election':
        # The partitions in scope are everything only when neither option is given.
        assert (kafka_leader_election.scope_topics(accepted) is None) == (
            accepted['topics'] is None and accepted['partitions'] is None)
    if name == 'kafka_topic':
        names = [s['name'] for s in kafka_topic.build_topic_specs(accepted) if s['state'] == 'present']
        assert len(set(kv.collision_key(n) for n in names)) == len(names), names
        assert all(kv.topic_name_problem(n) is None for n in names), names
    if name == 'kafka_user':
        for spec in kafka_user.build_user_specs(accepted):
            password = spec.get('password')
            if spec['state'] == 'present':
                assert password and password == password.strip() and len(password) >= 8
            assert spec['name'] == spec['name'].strip() and spec['name']


@pytest.mark.parametrize('name', sorted(MODULES))
def test_fuzzed_input_is_refused_or_planned_as_documented(name):
    @FUZZ
    @given(module_input(name))
    def check(raw):
        assert_property(name, raw)
    check()


@pytest.mark.parametrize('name', sorted(MODULES))
def test_every_module_validates_before_connecting(name):
    """Every module's main() hands its rules to run_module (no module skips the layer)."""
    module = MODULES[name][0]
    source = Path(module.__file__).read_text()
    assert 'validate=' in source.split('def main():', 1)[1], name


# ------------------------------------------------------------ the classes of the issue

def refused(name, raw):
    accepted, message = validate_like_module(name, dict(raw, bootstrap_servers=['127.0.0.1:9092']))
    assert accepted is None, 'accepted: %r' % (raw,)
    return message


@pytest.mark.parametrize('name, raw, option', [
    ('kafka_leader_election', dict(partitions=[]), 'partitions'),
    ('kafka_leader_election', dict(topics=[], election_type='unclean', allow_unclean=True), 'topics'),
    ('kafka_partition_rebalance', dict(topics=[]), 'topics'),
    ('kafka_partition_rebalance', dict(brokers=[]), 'brokers'),
    ('kafka_cluster_info', dict(topics=[]), 'topics'),
    ('kafka_cluster_health', dict(expected_brokers=[]), 'expected_brokers'),
    ('kafka_quorum_status', dict(expected_voters=[]), 'expected_voters'),
    ('kafka_acl', dict(acls=[]), 'acls'),
])
def test_empty_scope_lists_are_refused(name, raw, option):
    message = refused(name, raw)
    assert 'Nothing was changed: 1 problem(s) found: %s: an empty list is refused' % option in message


def test_unclean_empty_scope_names_leaderless_partitions():
    message = refused('kafka_leader_election', dict(partitions=[], election_type='unclean', allow_unclean=True))
    assert 'every leaderless partition' in message


@pytest.mark.parametrize('name, raw, option', [
    ('kafka_topic', dict(name='t', partitions=True), 'partitions'),
    ('kafka_topic', dict(topics=[dict(name='t', replication_factor=True)]), 'topics[0].replication_factor'),
    ('kafka_consumer_group_reset', dict(group='g', strategy='to_offset', offset=True), 'offset'),
    ('kafka_consumer_group_reset', dict(group='g', strategy='shift_by', shift=False), 'shift'),
    ('kafka_leader_election', dict(partitions=[dict(topic='t', partition=True)]), 'partitions[0].partition'),
    ('kafka_partition_rebalance', dict(brokers=[1, True]), 'brokers[1]'),
    ('kafka_leader_election', dict(only_if_skew_above=True), 'only_if_skew_above'),
])
def test_a_boolean_is_never_a_number(name, raw, option):
    message = refused(name, raw)
    assert '%s: must be ' % option in message and 'the boolean ' in message, message


@pytest.mark.parametrize('name, raw, option', [
    ('kafka_topic', dict(name='t', partitions=3000000000), 'partitions'),
    ('kafka_topic', dict(topics=[dict(name='t', partitions=2 ** 31)]), 'topics[0].partitions'),
    ('kafka_partition_rebalance', dict(brokers=[2 ** 31]), 'brokers[0]'),
    ('kafka_consumer_group_reset', dict(group='g', strategy='to_offset', offset=2 ** 63), 'offset'),
])
def test_numbers_beyond_the_protocol_field_are_refused(name, raw, option):
    message = refused(name, raw)
    assert '%s: must be from ' % option in message and "Kafka's" in message, message


def test_an_offset_fits_64_bits():
    accepted, message = validate_like_module('kafka_consumer_group_reset', dict(
        bootstrap_servers=['b:9092'], group='g', strategy='to_offset', offset=2 ** 40))
    assert message is None and accepted['offset'] == 2 ** 40


def test_topics_colliding_by_dot_and_underscore_in_one_batch_are_refused():
    message = refused('kafka_topic', dict(topics=[dict(name='a.b'), dict(name='a_b')]))
    assert "'a.b' and 'a_b' collide" in message


def test_whitespace_and_control_characters_in_names_are_shown_quoted():
    message = refused('kafka_consumer_group_reset', dict(group='billing ', strategy='to_latest'))
    assert "group: 'billing ' has leading or trailing whitespace" in message
    message = refused('kafka_cluster_info', dict(topics=['a\nb']))
    assert "'a\\nb' contains a control character" in message
    message = refused('kafka_consumer_group_info', dict(groups=['']))
    assert 'groups[0]: must be a group id, got an empty value' in message
    message = refused('kafka_consumer_group_info', dict(groups=['  ']))
    assert "a whitespace-only value '  '" in message


def test_min_insync_replicas_above_the_replication_factor_is_refused():
    message = refused('kafka_topic', dict(name='t', partitions=1, replication_factor=2,
                                          config={'min.insync.replicas': 3}))
    assert 'min.insync.replicas: 3 is above replication_factor 2' in message


def test_all_problems_are_reported_at_once():
    message = refused('kafka_partition_rebalance', dict(topics=[], brokers=[]))
    assert message.startswith('Nothing was changed: 2 problem(s) found: ')


@pytest.mark.parametrize('user, text', [
    (dict(name='alice', password='short1'), 'the password has 6 characters, at least 8'),
    (dict(name='alice', password=' padded-password'), 'leading or trailing whitespace; remove it (the value'),
    (dict(name='alice', password=''), 'password is required with state=present (got an empty value)'),
    (dict(name='alice ', password='longenough'), "user name 'alice ' has leading/trailing whitespace"),
    (dict(name='', password='longenough'), 'user name must be a non-empty string'),
])
def test_user_names_and_passwords(user, text):
    message = refused('kafka_user', user)
    assert text in message, message
    assert 'padded-password' not in message and 'short1' not in message


def test_duration_back_before_1970_is_refused():
    message = refused('kafka_consumer_group_reset', dict(group='g', strategy='by_duration', duration='P30000D'))
    assert 'duration' in message and ('1970' in message or 'out of range' in message or 'longer' in message)


# ------------------------------------------------------------ layer helpers

@pytest.mark.parametrize('value, shown', [
    ('', 'an empty value'), ('  ', "a whitespace-only value '  '"), ('retention.ms ', "'retention.ms '"),
    (None, 'null (no value)'), ([], 'an empty list'), ({}, 'an empty mapping'), (True, 'the boolean true'),
])
def test_show_quotes_values_and_names_empty_ones(value, shown):
    assert kv.show(value) == shown


def test_problems_message_counts_every_problem():
    problems = kv.Problems()
    assert kv.problems_message(problems) is None
    problems.add('a', 'x')
    problems.add(None, 'y')
    assert kv.problems_message(problems) == 'Nothing was changed: 2 problem(s) found: a: x; y'


@pytest.mark.parametrize('text, seconds', [('PT1H', 3600), ('P1DT12H', 129600), ('-PT15M', -900), ('P2W', 1209600),
                                           ('PT0.5S', 0.5)])
def test_iso_durations(text, seconds):
    assert kv.parse_duration(kv.Problems(), 'duration', text).total_seconds() == seconds


@pytest.mark.parametrize('text', ['', 'P', 'PT', '1H', 'P1H', 'P99999999999D', 'PT1H ', True])
def test_bad_durations_are_problems(text):
    problems = kv.Problems()
    assert kv.parse_duration(problems, 'duration', text) is None and len(problems) == 1


@pytest.mark.parametrize('text, problem', [('2026-01-31T12:00:00', 'no time zone'), ('1969-12-31T23:59:59Z', '1970'),
                                           ('yesterday', 'not an ISO 8601')])
def test_bad_datetimes_are_problems(text, problem):
    problems = kv.Problems()
    assert kv.parse_datetime(problems, 'datetime', text) is None
    assert problem in problems.items[0]


def test_good_datetime():
    assert kv.parse_datetime(kv.Problems(), 'datetime', '2026-01-31T12:00:00Z').year == 2026


@given(st.text(max_size=300))
@settings(derandomize=True, max_examples=300, deadline=None)
def test_topic_name_rule_matches_kafka(name):
    legal = (0 < len(name) <= 249 and name not in ('.', '..')
             and all(c.isascii() and (c.isalnum() or c in '._-') for c in name))
    problems = kv.Problems()
    assert kv.check_topic_name(problems, 'name', name) == legal


# ------------------------------------------------------------ bounding and catch-all

def test_call_bounded_abandons_a_call_that_never_returns():
    start = time.monotonic()
    with pytest.raises(kv.CallTimeout):
        kv.call_bounded(time.sleep, 0.3, 30)
    assert time.monotonic() - start < 1.5


def test_call_bounded_passes_results_and_errors_through():
    assert kv.call_bounded(lambda a, b=0: a + b, 5, 1, b=2) == 3
    with pytest.raises(ZeroDivisionError):
        kv.call_bounded(lambda: 1 / 0, 5)


class _Exit(Exception):
    pass


class _FakeModule(object):
    argument_spec = kc.kafka_connection_argument_spec()
    _name = 'kafka_example'

    def __init__(self):
        self.params = dict((k, v.get('default')) for k, v in self.argument_spec.items())
        self.params['bootstrap_servers'] = ['127.0.0.1:9']
        self.failed = None

    def add_cleanup_file(self, path):
        pass

    def fail_json(self, **kwargs):
        self.failed = kwargs
        raise _Exit()

    def exit_json(self, **kwargs):
        raise _Exit()


def test_an_unexpected_exception_becomes_a_message_with_the_traceback_kept():
    module = _FakeModule()

    def broken(module, admin):
        return {}['missing-key']
    with pytest.raises(_Exit):
        kc.run_module(module, broken)
    assert module.failed['msg'].startswith("kafka_example failed unexpectedly (KeyError: 'missing-key')")
    assert '-vvv' in module.failed['msg'] and 'Traceback' not in module.failed['msg']
    assert 'Traceback' in module.failed['exception']


def test_validation_refuses_before_the_work_function_runs():
    module = _FakeModule()
    module.params['request_timeout'] = True
    called = []
    with pytest.raises(_Exit):
        kc.run_module(module, lambda m, a: called.append(1))
    assert not called
    assert 'request_timeout: must be a number, got the boolean true' in module.failed['msg']


HANGING_MODULE = textwrap.dedent('''
    import sys, threading, time
    sys.path.insert(0, %(root)r)
    from ansible.module_utils import basic
    from ansible_collections.kraft.kafka.plugins.module_utils import kafka_client as kc

    class Admin(object):
        def create_topics(self, *a, **k):
            time.sleep(3600)  # what kafka-python does with a request it could not encode
        def close(self):
            time.sleep(3600)

    kc._connect = lambda config, module=None: Admin()
    # a non-daemon thread that never ends, like a client network thread
    threading.Thread(target=time.sleep, args=(3600,)).start()
    basic._ANSIBLE_ARGS = None
    module = basic.AnsibleModule(argument_spec=kc.kafka_connection_argument_spec())
    kc.run_module(module, lambda m, admin: admin.create_topics([]))
''')


def test_a_hanging_cluster_call_ends_the_module_process_within_timeout_plus_margin(tmp_path):
    script = tmp_path / 'hang.py'
    script.write_text(HANGING_MODULE % dict(root=str(REPO_ROOT / '.cache' / 'collections')))
    args = tmp_path / 'args.json'
    args.write_text(json.dumps(dict(ANSIBLE_MODULE_ARGS=dict(bootstrap_servers=['127.0.0.1:9'], request_timeout=1))))
    start = time.monotonic()
    done = subprocess.run([sys.executable, str(script), str(args)], capture_output=True, text=True, timeout=60, check=False)
    elapsed = time.monotonic() - start
    bound = 1 + kc.CALL_MARGIN_SECONDS
    # the call bound, then the bounded close: both well under a minute, and the process is gone
    assert elapsed < 2 * bound + 5, elapsed
    result = json.loads(done.stdout)
    assert result['failed'] and 'no answer within %ss' % bound in result['msg'], result
    assert done.returncode == 1
