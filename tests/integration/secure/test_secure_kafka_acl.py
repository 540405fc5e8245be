# -*- coding: utf-8 -*-
"""kraft.kafka.kafka_acl against the secured cluster (StandardAuthorizer,
allow.everyone.if.no.acl.found=false).

What a binding does is checked with real clients: a SCRAM user produces and
consumes, or is refused with the authorization error Kafka sends.
"""

import secrets

import pytest
from kafka.admin import ACLFilter, ACLOperation, ACLPermissionType, ACLResourcePatternType
from kafka.admin import ResourcePatternFilter, ResourceType

from secure_clients import consume, produce, unique, wait_for_outcome

ACL = 'kraft.kafka.kafka_acl'
USER = 'kraft.kafka.kafka_user'
TOPIC = 'kraft.kafka.kafka_topic'


def acls_for(admin, principal):
    """Every binding of principal, as sorted (operation, resource type, name, pattern, permission, host)."""
    acls, _error = admin.describe_acls(ACLFilter(
        principal=principal, host=None, operation=ACLOperation.ANY, permission_type=ACLPermissionType.ANY,
        resource_pattern=ResourcePatternFilter(ResourceType.ANY, None, ACLResourcePatternType.ANY)))
    return sorted((a.operation.name, a.resource_pattern.resource_type.name, a.resource_pattern.resource_name,
                   a.resource_pattern.pattern_type.name, a.permission_type.name, a.host) for a in acls)


@pytest.fixture
def app(run_module, admin_args):
    """A fresh SCRAM user with no ACLs, a topic and a group name for it."""
    name, password = unique('app'), secrets.token_urlsafe(18)
    topic, group = unique('acl-topic'), unique('acl-group')
    assert not run_module(USER, dict(admin_args, name=name, password=password))['failed']
    assert not run_module(TOPIC, dict(admin_args, name=topic))['failed']
    return dict(name=name, password=password, principal='User:%s' % name, topic=topic, group=group)


def app_grants(app):
    return [
        {'operation': 'Write', 'resource_type': 'topic', 'resource_name': app['topic']},
        {'operation': 'Describe', 'resource_type': 'topic', 'resource_name': app['topic']},
        {'operation': 'Read', 'resource_type': 'topic', 'resource_name': app['topic']},
        {'operation': 'Read', 'resource_type': 'group', 'resource_name': app['group']},
    ]


def producing(cluster, app):
    return lambda: produce(cluster, app['name'], app['password'], app['topic'])


def consuming(cluster, app):
    return lambda: consume(cluster, app['name'], app['password'], app['topic'], app['group'])


# --------------------------------------------------------------- grant/revoke

def test_grant_and_revoke_produce_and_consume(run_module, admin_args, secure_admin, secure_kafka_cluster, app):
    cluster = secure_kafka_cluster
    args = dict(admin_args, principal=app['principal'], acls=app_grants(app))
    assert wait_for_outcome(producing(cluster, app), 'TopicAuthorizationFailedError') \
        == 'TopicAuthorizationFailedError'

    planned = run_module(ACL, args, check=True, diff=True)
    assert not planned['failed'], planned.get('msg')
    assert planned['changed'] and len(planned['created']) == 4
    assert planned['diff']['before'] == {'bindings': []}
    assert len(planned['diff']['after']['bindings']) == 4
    assert acls_for(secure_admin, app['principal']) == [], 'check mode created ACLs'

    granted = run_module(ACL, args, diff=True)
    assert not granted['failed'], granted.get('msg')
    assert granted['changed'] and all(item['changed'] for item in granted['acls'])
    assert [a['operation'] for a in granted['acls']] == ['write', 'describe', 'read', 'read']
    assert acls_for(secure_admin, app['principal']) == sorted([
        ('DESCRIBE', 'TOPIC', app['topic'], 'LITERAL', 'ALLOW', '*'),
        ('READ', 'GROUP', app['group'], 'LITERAL', 'ALLOW', '*'),
        ('READ', 'TOPIC', app['topic'], 'LITERAL', 'ALLOW', '*'),
        ('WRITE', 'TOPIC', app['topic'], 'LITERAL', 'ALLOW', '*'),
    ])

    again = run_module(ACL, args)
    assert not again['failed'] and not again['changed']
    assert again['created'] == [] and again['deleted'] == []

    assert wait_for_outcome(producing(cluster, app), 'ok') == 'ok'
    assert wait_for_outcome(consuming(cluster, app), 'ok') == 'ok'

    revoke = dict(args, state='absent')
    planned = run_module(ACL, revoke, check=True)
    assert planned['changed'] and len(planned['deleted']) == 4
    assert len(acls_for(secure_admin, app['principal'])) == 4, 'check mode deleted ACLs'

    revoked = run_module(ACL, revoke, diff=True)
    assert not revoked['failed'], revoked.get('msg')
    assert revoked['changed'] and len(revoked['deleted']) == 4
    assert revoked['diff']['after'] == {'bindings': []}
    assert acls_for(secure_admin, app['principal']) == []
    assert wait_for_outcome(producing(cluster, app), 'TopicAuthorizationFailedError') \
        == 'TopicAuthorizationFailedError'

    again = run_module(ACL, revoke)
    assert not again['failed'] and not again['changed']


def test_group_acl_is_needed_to_consume(run_module, admin_args, secure_kafka_cluster, app):
    grants = [g for g in app_grants(app) if g['resource_type'] == 'topic']
    assert run_module(ACL, dict(admin_args, principal=app['principal'], acls=grants))['changed']
    assert wait_for_outcome(producing(secure_kafka_cluster, app), 'ok') == 'ok'
    assert wait_for_outcome(consuming(secure_kafka_cluster, app), 'GroupAuthorizationFailedError') \
        == 'GroupAuthorizationFailedError'


def test_absent_removes_only_the_named_binding(run_module, admin_args, secure_admin, app):
    args = dict(admin_args, principal=app['principal'], acls=app_grants(app))
    assert run_module(ACL, args)['changed']
    other = dict(admin_args, principal='User:%s' % unique('other'), operation='read', resource_type='topic',
                 resource_name=app['topic'])
    assert run_module(ACL, other)['changed']

    result = run_module(ACL, dict(admin_args, principal=app['principal'], operation='write',
                                  resource_type='topic', resource_name=app['topic'], state='absent'), diff=True)
    assert result['changed']
    assert [d['operation'] for d in result['deleted']] == ['write']
    assert len(result['diff']['before']['bindings']) == 4  # 3 of the app's + the other principal's
    assert len(result['diff']['after']['bindings']) == 3
    remaining = [a[0] for a in acls_for(secure_admin, app['principal'])]
    assert sorted(remaining) == ['DESCRIBE', 'READ', 'READ']
    assert len(acls_for(secure_admin, other['principal'])) == 1


def test_prefixed_deny_and_cluster_bindings(run_module, admin_args, secure_admin):
    principal = 'User:%s' % unique('misc')
    prefix = unique('team') + '.'
    acls = [
        {'operation': 'read', 'resource_type': 'topic', 'resource_name': prefix, 'pattern_type': 'prefixed'},
        {'operation': 'write', 'resource_type': 'topic', 'resource_name': prefix, 'pattern_type': 'prefixed',
         'permission': 'deny', 'host': '10.1.2.3'},
        {'operation': 'IdempotentWrite', 'resource_type': 'Cluster'},
        {'operation': 'describe', 'resource_type': 'transactional-id', 'resource_name': '*'},
    ]
    result = run_module(ACL, dict(admin_args, principal=principal, acls=acls))
    assert not result['failed'], result.get('msg')
    assert result['changed']
    assert acls_for(secure_admin, principal) == sorted([
        ('READ', 'TOPIC', prefix, 'PREFIXED', 'ALLOW', '*'),
        ('WRITE', 'TOPIC', prefix, 'PREFIXED', 'DENY', '10.1.2.3'),
        ('IDEMPOTENT_WRITE', 'CLUSTER', 'kafka-cluster', 'LITERAL', 'ALLOW', '*'),
        ('DESCRIBE', 'TRANSACTIONAL_ID', '*', 'LITERAL', 'ALLOW', '*'),
    ])
    assert result['acls'][2]['resource_name'] == 'kafka-cluster'
    assert result['acls'][3]['resource_type'] == 'transactional_id'
    again = run_module(ACL, dict(admin_args, principal=principal, acls=acls))
    assert not again['changed']
    removed = run_module(ACL, dict(admin_args, principal=principal, acls=acls, state='absent'))
    assert removed['changed'] and len(removed['deleted']) == 4
    assert acls_for(secure_admin, principal) == []


# ------------------------------------------------------------------ validation

@pytest.mark.parametrize('options, message', [
    ({'principal': 'alice', 'operation': 'read', 'resource_type': 'topic', 'resource_name': 't'},
     'must have the form User:<name>'),
    ({'principal': 'Group:ops', 'operation': 'read', 'resource_type': 'topic', 'resource_name': 't'},
     'must have the form User:<name>'),
    ({'principal': 'User:a', 'operation': 'fly', 'resource_type': 'topic', 'resource_name': 't'},
     "unknown operation 'fly'"),
    ({'principal': 'User:a', 'operation': 'read', 'resource_type': 'queue', 'resource_name': 't'},
     "unknown resource_type 'queue'"),
    ({'principal': 'User:a', 'operation': 'write', 'resource_type': 'group', 'resource_name': 'g'},
     "operation 'write' does not apply to resource type group"),
    ({'principal': 'User:a', 'operation': 'read', 'resource_type': 'topic'}, 'resource_name is required'),
    ({'principal': 'User:a', 'operation': 'alter', 'resource_type': 'cluster', 'resource_name': 'prod'},
     "the cluster resource is named 'kafka-cluster'"),
    ({'principal': 'User:a', 'operation': 'read', 'resource_type': 'topic', 'resource_name': 't',
      'host': 'client.example.com'}, 'must be \'*\' or an IP address'),
    ({'principal': 'User:a', 'resource_type': 'topic', 'resource_name': 't',
      'acls': [{'operation': 'read'}, {'operation': 'read', 'state': 'absent'}]},
     'requested both present and absent'),
])
def test_invalid_input_changes_nothing(run_module, admin_args, options, message):
    result = run_module(ACL, dict(admin_args, **options))
    assert result['failed']
    assert 'Nothing was changed' in result['msg']
    assert message in result['msg']


def test_one_bad_item_stops_the_whole_task(run_module, admin_args, secure_admin):
    principal = 'User:%s' % unique('partial')
    acls = [{'operation': 'read', 'resource_type': 'topic', 'resource_name': 'fine'},
            {'operation': 'read', 'resource_type': 'topic', 'resource_name': 'fine', 'principal': 'nobody'}]
    result = run_module(ACL, dict(admin_args, principal=principal, acls=acls))
    assert result['failed']
    assert 'acls[1]' in result['msg']
    assert acls_for(secure_admin, principal) == []


def test_non_admin_cannot_change_acls(run_module, admin_args, secure_kafka_cluster, app):
    args = secure_kafka_cluster.client_args(app['name'], app['password'])
    result = run_module(ACL, dict(args, principal=app['principal'], operation='all', resource_type='topic',
                                  resource_name='*'))
    assert result['failed']
    assert 'Not authorized' in result['msg'] or 'ClusterAuthorizationFailed' in result['msg']
