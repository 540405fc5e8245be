# -*- coding: utf-8 -*-
"""kraft.kafka.kafka_user against the secured cluster.

Credentials are checked by what matters: a client authenticating with them
(or being refused), and describe_user_scram_credentials as the admin.
"""

import json
import secrets

import pytest

from kafka_local_cluster import run_ansible_module
from secure_clients import produce, run_verbose, unique, wait_for_outcome

USER = 'kraft.kafka.kafka_user'
TOPIC = 'kraft.kafka.kafka_topic'
ACL = 'kraft.kafka.kafka_acl'
AUTH_REFUSED = 'KafkaTimeoutError'  # kafka-python reports a refused SASL login as a bootstrap timeout


def new_password():
    return secrets.token_urlsafe(18)


def credentials(admin, name):
    described = admin.describe_user_scram_credentials(None).get(name)
    if not described:
        return {}
    return dict((c['mechanism'].name.replace('_', '-'), c['iterations'])
                for c in described['credential_infos'])


@pytest.fixture(scope='module')
def writable_topic(secure_kafka_cluster, tmp_path_factory):
    """A topic every test user may write to (ACL for User:*), so a produce tests the login only."""
    name = unique('user-login-topic')
    args = secure_kafka_cluster.client_args()
    tmp = tmp_path_factory.mktemp('kafka-user-tests')
    assert not run_ansible_module(TOPIC, dict(args, name=name), tmp_dir=tmp)['failed']
    grant = run_ansible_module(ACL, dict(args, principal='User:*', resource_type='topic', resource_name=name,
                                         acls=[{'operation': 'write'}, {'operation': 'describe'}]),
                               tmp_dir=tmp)
    assert not grant['failed'], grant.get('msg')
    return name


def can_produce(cluster, name, password, topic, expected='ok'):
    return wait_for_outcome(lambda: produce(cluster, name, password, topic), expected)


# ------------------------------------------------------------------ lifecycle

def test_create_is_idempotent_and_the_user_can_log_in(run_module, admin_args, secure_admin,
                                                      secure_kafka_cluster, writable_topic):
    name, password = unique('alice'), new_password()
    args = dict(admin_args, name=name, password=password)

    planned = run_module(USER, args, check=True, diff=True)
    assert not planned['failed'], planned.get('msg')
    assert planned['changed'] and planned['changed_users'] == [name]
    assert credentials(secure_admin, name) == {}, 'check mode created the user'

    created = run_module(USER, args, diff=True)
    assert not created['failed'], created.get('msg')
    assert created['changed']
    assert created['users'][name]['credentials'] == {'SCRAM-SHA-512': {'iterations': 8192}}
    assert created['diff'][0]['before'] == {'credentials': {}}
    assert created['diff'][0]['after']['credentials'] == {'SCRAM-SHA-512': {'iterations': 8192}}
    assert credentials(secure_admin, name) == {'SCRAM-SHA-512': 8192}

    again = run_module(USER, args)
    assert not again['failed'], again.get('msg')
    assert not again['changed']
    assert again['users'][name]['actions'] == []

    assert can_produce(secure_kafka_cluster, name, password, writable_topic) == 'ok'


def test_update_password_always_rotates_the_password(run_module, admin_args, secure_kafka_cluster,
                                                     writable_topic):
    name, old, new = unique('rotate'), new_password(), new_password()
    assert run_module(USER, dict(admin_args, name=name, password=old))['changed']
    assert can_produce(secure_kafka_cluster, name, old, writable_topic) == 'ok'

    on_create = run_module(USER, dict(admin_args, name=name, password=new))
    assert not on_create['changed'], 'on_create must leave an existing password alone'

    planned = run_module(USER, dict(admin_args, name=name, password=new, update_password='always'), check=True)
    assert planned['changed']
    assert can_produce(secure_kafka_cluster, name, old, writable_topic) == 'ok', 'check mode changed it'

    rotated = run_module(USER, dict(admin_args, name=name, password=new, update_password='always'), diff=True)
    assert not rotated['failed'], rotated.get('msg')
    assert rotated['changed']
    assert rotated['diff'][0]['after']['password_set'] == ['SCRAM-SHA-512']
    assert can_produce(secure_kafka_cluster, name, new, writable_topic) == 'ok'
    assert can_produce(secure_kafka_cluster, name, old, writable_topic, AUTH_REFUSED) == AUTH_REFUSED

    again = run_module(USER, dict(admin_args, name=name, password=new, update_password='always'))
    assert again['changed'], 'always re-sets (Kafka cannot compare passwords)'


def test_iterations_change_re_sets_the_credential(run_module, admin_args, secure_admin):
    name, password = unique('iter'), new_password()
    assert run_module(USER, dict(admin_args, name=name, password=password, iterations=4096))['changed']
    assert credentials(secure_admin, name) == {'SCRAM-SHA-512': 4096}
    result = run_module(USER, dict(admin_args, name=name, password=password, iterations=10000), diff=True)
    assert result['changed']
    assert result['users'][name]['actions'] == ['re-set SCRAM-SHA-512 credential: iterations 4096 -> 10000']
    assert result['diff'][0]['before']['credentials'] == {'SCRAM-SHA-512': {'iterations': 4096}}
    assert credentials(secure_admin, name) == {'SCRAM-SHA-512': 10000}


def test_absent_removes_credentials_and_the_login(run_module, admin_args, secure_admin, secure_kafka_cluster,
                                                  writable_topic):
    name, password = unique('gone'), new_password()
    both = [{'name': name, 'password': password, 'mechanism': 'SCRAM-SHA-256'},
            {'name': name, 'password': password}]
    assert run_module(USER, dict(admin_args, users=both))['changed']
    assert credentials(secure_admin, name) == {'SCRAM-SHA-256': 8192, 'SCRAM-SHA-512': 8192}
    assert can_produce(secure_kafka_cluster, name, password, writable_topic) == 'ok'

    one = run_module(USER, dict(admin_args, name=name, mechanism='SCRAM-SHA-256', state='absent'))
    assert one['changed']
    assert credentials(secure_admin, name) == {'SCRAM-SHA-512': 8192}

    planned = run_module(USER, dict(admin_args, name=name, state='absent'), check=True, diff=True)
    assert planned['changed']
    assert planned['diff'][0]['after'] == {'credentials': {}}
    assert credentials(secure_admin, name) == {'SCRAM-SHA-512': 8192}

    removed = run_module(USER, dict(admin_args, name=name, state='absent'))
    assert removed['changed']
    assert removed['users'][name]['exists'] is False
    assert credentials(secure_admin, name) == {}
    assert can_produce(secure_kafka_cluster, name, password, writable_topic, AUTH_REFUSED) == AUTH_REFUSED

    again = run_module(USER, dict(admin_args, name=name, state='absent'))
    assert not again['failed'] and not again['changed']


def test_batch_of_users(run_module, admin_args, secure_admin):
    names = [unique('batch-%d' % index) for index in range(3)]
    users = [{'name': n, 'password': new_password()} for n in names]
    users[2]['mechanism'] = 'SCRAM-SHA-256'
    result = run_module(USER, dict(admin_args, users=users, iterations=5000))
    assert not result['failed'], result.get('msg')
    assert result['changed_users'] == names
    assert credentials(secure_admin, names[0]) == {'SCRAM-SHA-512': 5000}
    assert credentials(secure_admin, names[2]) == {'SCRAM-SHA-256': 5000}
    again = run_module(USER, dict(admin_args, users=users, iterations=5000))
    assert not again['changed']
    cleanup = run_module(USER, dict(admin_args, state='absent', users=[{'name': n} for n in names]))
    assert cleanup['changed_users'] == names


# ------------------------------------------------------------------ validation

@pytest.mark.parametrize('options, message', [
    ({'name': 'u1'}, 'password is required'),
    ({'name': 'u1', 'password': 'x', 'iterations': 1000}, 'iterations must be between 4096 and 16384'),
    ({'name': 'u1', 'password': 'x', 'iterations': 20000}, 'iterations must be between 4096 and 16384'),
    ({'users': [{'name': 'u1', 'password': 'x'}, {'name': 'u1', 'password': 'y'}]}, 'more than once'),
    ({'users': [{'name': 'u1', 'state': 'absent'}, {'name': 'u1', 'password': 'y'}]}, 'more than once'),
    ({'name': '', 'password': 'x'}, 'non-empty'),
])
def test_invalid_input_changes_nothing(run_module, admin_args, options, message):
    result = run_module(USER, dict(admin_args, **options))
    assert result['failed']
    assert 'Nothing was changed' in result['msg']
    assert message in result['msg']


# ------------------------------------------------------------------ secrets

def test_password_never_appears_in_results_or_verbose_output(run_module, admin_args, tmp_path):
    name, password = unique('secret'), 'Pw-%s' % secrets.token_hex(16)
    admin_password = admin_args['sasl_password']
    results = [run_module(USER, dict(admin_args, name=name, password=password), diff=True),
               run_module(USER, dict(admin_args, users=[{'name': name, 'password': password}],
                                     update_password='always'), diff=True)]
    for result in results:
        assert not result['failed'], result.get('msg')
        text = json.dumps(result)
        assert password not in text
        assert admin_password not in text

    rc, output = run_verbose(USER, dict(admin_args, name=name, password=password, update_password='always'),
                             tmp_path / 'verbose')
    assert rc == 0, output
    assert 'changed' in output
    assert password not in output
    assert admin_password not in output

    rc, output = run_verbose(USER, dict(admin_args, name=name, state='absent'), tmp_path / 'verbose')
    assert rc == 0, output
