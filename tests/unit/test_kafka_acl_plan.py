# -*- coding: utf-8 -*-
"""Unit tests for the pure ACL logic in plugins/module_utils/kafka_acls.py."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.kraft.kafka.plugins.module_utils import kafka_acls as ka
from kafka.admin import ACL, ACLOperation, ACLPermissionType, ACLResourcePatternType, ResourceType

TOP_DEFAULTS = dict(principal=None, host='*', operation=None, permission='allow', resource_type=None,
                    resource_name=None, pattern_type='literal', state='present', acls=None)


def params(**kwargs):
    merged = dict(TOP_DEFAULTS)
    merged.update(kwargs)
    return merged


def binding(principal='User:alice', host='*', operation='read', permission='allow', resource_type='topic',
            resource_name='orders', pattern_type='literal'):
    return ka.Binding(principal, host, operation, permission, resource_type, resource_name, pattern_type)


def validated(**kwargs):
    return ka.validate_specs(ka.build_acl_specs(params(**kwargs)))


# ------------------------------------------------------------------ spelling

@pytest.mark.parametrize('raw, expected', [
    ('read', 'read'), ('Read', 'read'), ('WRITE', 'write'), ('DescribeConfigs', 'describe_configs'),
    ('describe-configs', 'describe_configs'), ('ALTER_CONFIGS', 'alter_configs'),
    ('IdempotentWrite', 'idempotent_write'), ('cluster action', 'cluster_action'), ('All', 'all'),
    ('any', None), ('unknown', None), ('fly', None), ('', None),
])
def test_canonical_operation(raw, expected):
    assert ka.canonical_operation(raw) == expected


@pytest.mark.parametrize('raw, expected', [
    ('topic', 'topic'), ('Topic', 'topic'), ('GROUP', 'group'), ('TransactionalId', 'transactional_id'),
    ('transactional-id', 'transactional_id'), ('delegation_token', 'delegation_token'),
    ('Cluster', 'cluster'), ('any', None), ('user', None), ('queue', None),
])
def test_canonical_resource_type(raw, expected):
    assert ka.canonical_resource_type(raw) == expected


# ------------------------------------------------------------------ specs

def test_single_binding_from_top_level_options():
    pairs, errors = validated(principal='User:alice', operation='Read', resource_type='Topic',
                              resource_name='orders')
    assert errors == []
    assert [b for _s, b in pairs] == [binding()]


def test_list_items_inherit_unset_fields():
    pairs, errors = validated(principal='User:alice', resource_type='topic', resource_name='orders', acls=[
        {'operation': 'write'},
        {'operation': 'read', 'resource_type': 'group', 'resource_name': 'svc', 'host': '10.0.0.1'},
        {'operation': 'describe', 'principal': 'User:bob', 'permission': 'deny', 'state': 'absent'},
    ])
    assert errors == []
    assert [b for _s, b in pairs] == [
        binding(operation='write'),
        binding(resource_type='group', resource_name='svc', host='10.0.0.1'),
        binding(principal='User:bob', operation='describe', permission='deny'),
    ]
    assert [s['state'] for s, _b in pairs] == ['present', 'present', 'absent']


def test_cluster_resource_name_defaults_to_kafka_cluster():
    pairs, errors = validated(principal='User:a', operation='alter', resource_type='cluster')
    assert errors == []
    assert pairs[0][1].resource_name == 'kafka-cluster'


def test_empty_acls_list_means_nothing_to_do():
    assert validated(principal='User:a', acls=[]) == ([], [])


@pytest.mark.parametrize('options, message', [
    (dict(principal=None, operation='read', resource_type='topic', resource_name='t'), 'principal is required'),
    (dict(principal='alice', operation='read', resource_type='topic', resource_name='t'), 'User:<name>'),
    (dict(principal='User:', operation='read', resource_type='topic', resource_name='t'), 'User:<name>'),
    (dict(principal='Group:x', operation='read', resource_type='topic', resource_name='t'), 'User:<name>'),
    (dict(principal='User:a', operation=None, resource_type='topic', resource_name='t'), 'operation is required'),
    (dict(principal='User:a', operation='any', resource_type='topic', resource_name='t'), "unknown operation 'any'"),
    (dict(principal='User:a', operation='read', resource_type=None, resource_name='t'), 'resource_type is required'),
    (dict(principal='User:a', operation='read', resource_type='any', resource_name='t'), "unknown resource_type"),
    (dict(principal='User:a', operation='read', resource_type='topic'), 'resource_name is required'),
    (dict(principal='User:a', operation='read', resource_type='topic', resource_name=''), 'resource_name is required'),
    (dict(principal='User:a', operation='write', resource_type='group', resource_name='g'), 'does not apply'),
    (dict(principal='User:a', operation='cluster_action', resource_type='topic', resource_name='t'),
     'does not apply'),
    (dict(principal='User:a', operation='read', resource_type='delegation_token', resource_name='t'),
     'does not apply'),
    (dict(principal='User:a', operation='alter', resource_type='cluster', resource_name='prod'), 'kafka-cluster'),
    (dict(principal='User:a', operation='alter', resource_type='cluster', pattern_type='prefixed'), 'literal'),
    (dict(principal='User:a', operation='read', resource_type='topic', resource_name='t', host='db1'),
     'IP address'),
    (dict(principal='User:a', operation='read', resource_type='topic', resource_name='t', host='10.0.0.256'),
     'IP address'),
])
def test_invalid_binding(options, message):
    pairs, errors = validated(**options)
    assert pairs == []
    assert len(errors) == 1 and message in errors[0], errors


def test_ipv6_host_and_wildcards_are_valid():
    pairs, errors = validated(principal='User:*', operation='all', resource_type='topic', resource_name='*',
                              host='::1')
    assert errors == []
    assert pairs[0][1] == binding(principal='User:*', operation='all', resource_name='*', host='::1')


def test_every_error_of_every_item_is_reported_with_its_index():
    _pairs, errors = validated(principal='User:a', resource_type='topic', acls=[
        {'operation': 'read', 'resource_name': 'ok'},
        {'operation': 'fly', 'resource_name': 'x'},
        {'operation': 'read', 'principal': 'bob'},
    ])
    assert len(errors) == 3
    assert errors[0].startswith('acls[1]') and 'fly' in errors[0]
    assert all(e.startswith('acls[2]') for e in errors[1:])


def test_same_binding_present_and_absent_is_an_error():
    _pairs, errors = validated(principal='User:a', resource_type='topic', resource_name='t', acls=[
        {'operation': 'Read'}, {'operation': 'read', 'state': 'absent'}])
    assert errors == ['allow User:a read on topic:t (literal) from host * is requested both present and absent']


# ------------------------------------------------------------------ planning

def pairs_for(*specs):
    return [(dict(state=state), b) for state, b in specs]


def test_plan_creates_missing_and_deletes_existing_only():
    read, write, describe = binding(), binding(operation='write'), binding(operation='describe')
    plan = ka.plan_acls(pairs_for(('present', read), ('present', write), ('absent', describe),
                                  ('absent', binding(operation='delete'))),
                        existing={write, describe})
    assert plan['create'] == [read]
    assert plan['delete'] == [describe]
    assert [i['changed'] for i in plan['items']] == [True, False, True, False]
    assert ka.bindings_after({write, describe}, plan) == {read, write}


def test_bindings_differing_in_any_field_are_different_acls():
    base = binding()
    variants = [binding(principal='User:bob'), binding(host='10.0.0.1'), binding(operation='write'),
                binding(permission='deny'), binding(resource_type='group'), binding(resource_name='other'),
                binding(pattern_type='prefixed')]
    for variant in variants:
        plan = ka.plan_acls(pairs_for(('present', variant)), existing={base})
        assert plan['create'] == [variant]
        plan = ka.plan_acls(pairs_for(('absent', variant)), existing={base})
        assert plan['delete'] == []


def test_duplicate_requests_are_planned_once():
    read = binding()
    plan = ka.plan_acls(pairs_for(('present', read), ('present', read)), existing=set())
    assert plan['create'] == [read]
    assert len(plan['items']) == 2


def test_resources_of_keeps_first_seen_order():
    bindings = [binding(resource_name='b'), binding(resource_name='a', operation='write'),
                binding(resource_name='b', operation='write'), binding(resource_name='b', pattern_type='prefixed')]
    assert ka.resources_of(bindings) == [('topic', 'b', 'literal'), ('topic', 'a', 'literal'),
                                         ('topic', 'b', 'prefixed')]


# ------------------------------------------------------------------ rendering

def test_diff_lists_sorted_binding_lines():
    diff = ka.acl_diff({binding(operation='write')}, {binding(), binding(operation='write')})
    assert diff['before'] == {'bindings': ['allow User:alice write on topic:orders (literal) from host *']}
    assert diff['after']['bindings'] == ['allow User:alice read on topic:orders (literal) from host *',
                                         'allow User:alice write on topic:orders (literal) from host *']


def test_item_result_uses_input_spelling():
    result = ka.item_result(dict(binding=binding(), state='present', changed=True))
    assert result == dict(principal='User:alice', host='*', operation='read', permission='allow',
                          resource_type='topic', resource_name='orders', pattern_type='literal',
                          state='present', changed=True)


# ------------------------------------------------- kafka-python conversion

@pytest.mark.parametrize('canonical', [
    binding(),
    binding(operation='describe_configs', permission='deny', host='10.0.0.1'),
    binding(resource_type='transactional_id', operation='write', resource_name='tx-', pattern_type='prefixed'),
    binding(resource_type='cluster', operation='idempotent_write', resource_name='kafka-cluster'),
    binding(resource_type='delegation_token', operation='describe', resource_name='*'),
])
def test_conversion_round_trip(canonical):
    acl = ka.to_kafka_acl(canonical)
    assert isinstance(acl, ACL)
    assert ka.from_kafka_acl(acl) == canonical


def test_kafka_types_of_a_converted_binding():
    acl = ka.to_kafka_acl(binding(operation='describe_configs', resource_type='group', pattern_type='prefixed'))
    assert acl.operation == ACLOperation.DESCRIBE_CONFIGS
    assert acl.permission_type == ACLPermissionType.ALLOW
    assert acl.resource_pattern.resource_type == ResourceType.GROUP
    assert acl.resource_pattern.pattern_type == ACLResourcePatternType.PREFIXED


def test_filters_are_exact():
    resource_filter = ka.resource_acl_filter(('topic', 'orders', 'literal'))
    assert resource_filter.principal is None and resource_filter.operation == ACLOperation.ANY
    assert resource_filter.resource_pattern.pattern_type == ACLResourcePatternType.LITERAL
    exact = ka.binding_acl_filter(binding(host='10.0.0.1'))
    assert (exact.principal, exact.host, exact.operation, exact.permission_type) == (
        'User:alice', '10.0.0.1', ACLOperation.READ, ACLPermissionType.ALLOW)
    assert exact.resource_pattern.resource_name == 'orders'


# ------------------------------------------- per-item results (kafka_acl module)

class FakeAdmin(object):
    """Answers create_acls/delete_acls the way kafka-python 3 shapes the results."""

    def __init__(self, create_errors=None, delete_errors=None):
        self.create_errors = create_errors or {}
        self.delete_errors = delete_errors or {}

    def create_acls(self, acls):
        result = {'succeeded': [], 'failed': []}
        for acl in acls:
            error = self.create_errors.get(acl.resource_pattern.resource_name)
            if error:
                result['failed'].append(error)
            else:
                result['succeeded'].append(acl)
        return result

    def delete_acls(self, filters):
        from kafka.errors import NoError
        return [(f, [], self.delete_errors.get(f.resource_pattern.resource_name, NoError)) for f in filters]


def test_create_failures_name_the_binding():
    from ansible_collections.kraft.kafka.plugins.modules import kafka_acl
    from kafka.errors import InvalidRequestError
    ok, bad = binding(resource_name='ok'), binding(resource_name='bad')
    created, failures = kafka_acl.create_bindings(FakeAdmin(create_errors={'bad': InvalidRequestError}), [ok, bad])
    assert created == [ok]
    assert len(failures) == 1
    assert failures[0][0] == ka.binding_text(bad)
    assert failures[0][1].startswith('InvalidRequestError')


def test_delete_failures_name_the_binding_and_keep_the_rest():
    from ansible_collections.kraft.kafka.plugins.modules import kafka_acl
    from kafka.errors import SecurityDisabledError
    ok, bad = binding(resource_name='ok'), binding(resource_name='bad')
    deleted, failures = kafka_acl.delete_bindings(FakeAdmin(delete_errors={'bad': SecurityDisabledError}), [ok, bad])
    assert deleted == [ok]
    assert [label for label, _error in failures] == [ka.binding_text(bad)]


def test_apply_plan_reports_what_was_done_before_a_failure():
    from ansible_collections.kraft.kafka.plugins.modules import kafka_acl
    from kafka.errors import InvalidRequestError
    new, old = binding(resource_name='new'), binding(resource_name='old')
    admin = FakeAdmin(delete_errors={'old': InvalidRequestError})
    with pytest.raises(kafka_acl.ApplyError) as raised:
        kafka_acl.apply_plan(admin, dict(create=[new], delete=[old], items=[]))
    assert raised.value.created == [new] and raised.value.deleted == []
    assert 'Failed to delete ACLs' in str(raised.value) and 'topic:old' in str(raised.value)
