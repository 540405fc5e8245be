#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kraft.kafka maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: kafka_user
short_description: Manage SASL/SCRAM user credentials in a Kafka cluster
version_added: 0.1.0
description:
  - Creates, updates and deletes the SCRAM-SHA-256 and SCRAM-SHA-512 credentials of one user
    (O(name)) or many (O(users)) in a Kafka 4.x KRaft cluster through the Kafka admin API
    (kafka-python 3). The credentials live in the cluster metadata; every broker uses them for
    SASL/SCRAM authentication.
  - Kafka stores only a salted hash of the password and reports only the mechanisms and iteration
    counts a user has, so the module cannot tell whether a password is already the requested one.
    O(update_password) decides what happens for a user that already has a credential.
  - The salted password is computed where the module runs (PBKDF2 with a random salt and
    O(iterations)); the password itself is never sent to Kafka, returned or logged.
  - B(All input is validated before anything is changed), across every listed user. All changes are
    sent in one request, and every user's result is checked.
  - A user may have a credential for each mechanism. Permissions are separate; grant them with
    M(kraft.kafka.kafka_acl) to C(User:<name>).
  - The connecting principal needs C(ALTER) on the cluster resource to change credentials and
    C(DESCRIBE) on it to read them (super users have both).
author:
  - kraft.kafka maintainers (@kraft-kafka)
extends_documentation_fragment:
  - kraft.kafka.kafka_connection
attributes:
  check_mode:
    support: full
    description:
      - The current credentials are read and the result and diff tell what would be created, re-set
        and deleted; nothing is changed.
  diff_mode:
    support: full
    description:
      - Per changed user, its mechanisms with their iteration counts before and after, and which
        mechanisms get a new password. Passwords never appear in the diff.
options:
  name:
    description:
      - The SCRAM user name; clients authenticate with it as O(sasl_username) and ACLs name it as
        C(User:<name>). Mutually exclusive with O(users).
    type: str
    aliases: [user]
  password:
    description:
      - The password, required with O(state=present). Never returned or logged.
      - At least 8 characters, without leading or trailing whitespace (a templating slip that a
        client would not reproduce); an empty password is refused.
    type: str
  mechanism:
    description:
      - The SCRAM mechanism of the credential.
      - With O(state=present) the default is V(SCRAM-SHA-512).
      - With O(state=absent) and no mechanism, every credential of the user is deleted.
    type: str
    choices: [SCRAM-SHA-256, SCRAM-SHA-512]
  iterations:
    description:
      - PBKDF2 iteration count of a new or re-set credential, between 4096 and 16384 (Kafka's limits).
      - With O(update_password=on_create), an existing credential with a different iteration count is
        re-set with O(password) and this count.
    type: int
    default: 8192
  state:
    description:
      - V(present) makes sure the user has a credential for O(mechanism).
      - V(absent) deletes the credential for O(mechanism), or all of the user's credentials when
        O(mechanism) is not given.
    type: str
    choices: [present, absent]
    default: present
  update_password:
    description:
      - V(on_create) sets O(password) only when the user has no credential for the mechanism (or its
        iteration count differs from O(iterations)); a user whose password was changed elsewhere keeps
        it. Runs without changes report C(changed=false).
      - V(always) sets O(password) again on every run (with a new salt) and always reports a change,
        because Kafka cannot tell whether the password is already the same. Use it for a password
        rotation, then switch back.
    type: str
    choices: [always, on_create]
    default: on_create
  users:
    description:
      - Several users to manage in one task. Mutually exclusive with O(name).
      - The top-level O(state), O(mechanism), O(iterations) and O(update_password) are the defaults for
        every item.
      - A user may appear once per mechanism.
    type: list
    elements: dict
    suboptions:
      name:
        description: Like O(name).
        type: str
        required: true
      password:
        description: Like O(password). Never returned or logged.
        type: str
      mechanism:
        description: Like O(mechanism); defaults to the top-level O(mechanism).
        type: str
        choices: [SCRAM-SHA-256, SCRAM-SHA-512]
      iterations:
        description: Like O(iterations); defaults to the top-level O(iterations).
        type: int
      state:
        description: Like O(state); defaults to the top-level O(state).
        type: str
        choices: [present, absent]
      update_password:
        description: Like O(update_password); defaults to the top-level O(update_password).
        type: str
        choices: [always, on_create]
notes:
  - Run it once per cluster (C(run_once=true)) from a host that reaches the brokers, usually with
    C(delegate_to=localhost).
  - Brokers apply credential changes asynchronously; a client may be refused for a moment after the
    task returns.
  - The listener must enable the mechanism (C(sasl.enabled.mechanisms)) for clients to use it.
seealso:
  - module: kraft.kafka.kafka_acl
  - name: Kafka SASL/SCRAM
    description: How brokers authenticate SCRAM clients and how the credentials are stored.
    link: https://kafka.apache.org/documentation/#security_sasl_scram
'''

EXAMPLES = r'''
- name: A SCRAM-SHA-512 user for the orders service (password set once, then left alone)
  kraft.kafka.kafka_user:
    bootstrap_servers: [kafka1.example.com:9094]
    security_protocol: SASL_SSL
    sasl_mechanism: SCRAM-SHA-512
    sasl_username: admin
    sasl_password: "{{ vault_kafka_admin_password }}"
    ssl_cafile: "{{ lookup('file', 'ca.pem') }}"
    name: orders
    password: "{{ vault_kafka_orders_password }}"
  delegate_to: localhost
  run_once: true

- name: Rotate the password (reports a change on every run while update_password is always)
  kraft.kafka.kafka_user:
    bootstrap_servers: "{{ kafka_bootstrap_servers }}"
    security_protocol: SASL_SSL
    sasl_mechanism: SCRAM-SHA-512
    sasl_username: admin
    sasl_password: "{{ vault_kafka_admin_password }}"
    name: orders
    password: "{{ vault_kafka_orders_password_new }}"
    update_password: always
  delegate_to: localhost
  run_once: true

- name: Several users at once; one also gets a SCRAM-SHA-256 credential, one is removed
  kraft.kafka.kafka_user:
    bootstrap_servers: "{{ kafka_bootstrap_servers }}"
    security_protocol: SASL_SSL
    sasl_mechanism: SCRAM-SHA-512
    sasl_username: admin
    sasl_password: "{{ vault_kafka_admin_password }}"
    users:
      - name: billing
        password: "{{ vault_kafka_billing_password }}"
      - name: billing
        mechanism: SCRAM-SHA-256
        password: "{{ vault_kafka_billing_password }}"
      - name: legacy-app
        state: absent
  delegate_to: localhost
  run_once: true
'''

RETURN = r'''
changed_users:
  description: Names of the users whose credentials were (in check mode, would be) changed, in input order.
  returned: always
  type: list
  elements: str
  sample: [orders]
users:
  description:
    - One entry per requested user, keyed by user name.
    - After a real run it describes the credentials after the changes; in check mode the current ones,
      and RV(users.actions) tells what would change.
  returned: always
  type: dict
  contains:
    name:
      description: User name.
      type: str
      returned: always
    exists:
      description: Whether the user has at least one credential (after the run; in check mode, now).
      type: bool
      returned: always
    credentials:
      description: The user's mechanisms with their iteration counts. Never contains a password.
      type: dict
      returned: always
      sample: {SCRAM-SHA-512: {iterations: 8192}}
    actions:
      description: What was (in check mode, would be) done, in order; empty when nothing.
      type: list
      elements: str
      returned: always
      sample: ["create SCRAM-SHA-512 credential (8192 iterations)"]
    changed:
      description: Whether this user was (would be) changed.
      type: bool
      returned: always
'''

import re
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kraft.kafka.plugins.module_utils.kafka_validation import new_module
from ansible_collections.kraft.kafka.plugins.module_utils.kafka_client import (
    check_per_item_errors,
    kafka_connection_argument_spec,
    per_item_errors,
    run_module,
)

try:
    from kafka.admin import ConfigResource, UserScramCredentialDeletion, UserScramCredentialUpsertion
except ImportError:  # reported by require_kafka_python()
    ConfigResource = UserScramCredentialDeletion = UserScramCredentialUpsertion = None

MECHANISMS = ('SCRAM-SHA-256', 'SCRAM-SHA-512')
DEFAULT_MECHANISM = 'SCRAM-SHA-512'
# Kafka's ScramMechanism limits; the broker rejects anything outside them.
MIN_ITERATIONS = 4096
MIN_PASSWORD_LENGTH = 8
_CONTROL_CHARACTERS = re.compile(r'[\x00-\x1f\x7f]')
MAX_ITERATIONS = 16384
DEFAULT_ITERATIONS = 8192
# Top-level options that are defaults for every item of users (not password:
# each user has its own).
SPEC_KEYS = ('mechanism', 'iterations', 'state', 'update_password')
VISIBILITY_POLL_SECONDS = 0.5


# --------------------------------------------------------------- input specs

def build_user_specs(params):
    """One spec per (user, mechanism) request, with the top-level defaults applied."""
    defaults = dict((key, params.get(key)) for key in SPEC_KEYS)
    if params.get('name') is not None:
        items = [dict(defaults, name=params['name'], password=params.get('password'))]
    else:
        items = []
        for item in params.get('users') or []:
            spec = dict(defaults)
            spec.update((k, v) for k, v in item.items() if v is not None)
            items.append(spec)
    for spec in items:
        spec['state'] = spec.get('state') or 'present'
        spec['update_password'] = spec.get('update_password') or 'on_create'
        if spec.get('iterations') is None:
            spec['iterations'] = DEFAULT_ITERATIONS
        if spec['state'] == 'present' and not spec.get('mechanism'):
            spec['mechanism'] = DEFAULT_MECHANISM
    return items


def spec_errors(spec):
    name = spec.get('name')
    label = "user '%s'" % name
    if not isinstance(name, str) or not name.strip():
        return ['user name must be a non-empty string, got %r' % (name,)]
    errors = []
    if name != name.strip() or _CONTROL_CHARACTERS.search(name):
        return ['user name %r has leading/trailing whitespace or a control character; remove it' % (name,)]
    if spec['state'] == 'present' and not spec.get('password'):
        errors.append('%s: password is required with state=present (got %s)'
                      % (label, 'an empty value' if spec.get('password') == '' else 'none'))
    errors.extend(password_problems(label, spec.get('password')))
    if not MIN_ITERATIONS <= spec['iterations'] <= MAX_ITERATIONS:
        errors.append('%s: iterations must be between %d and %d, got %d'
                      % (label, MIN_ITERATIONS, MAX_ITERATIONS, spec['iterations']))
    return errors


def password_problems(label, password):
    """Why a password is refused; the message never shows the password itself."""
    if not password:
        return []
    if password != password.strip():
        return ['%s: the password has leading or trailing whitespace; remove it (the value is not shown)' % label]
    if len(password) < MIN_PASSWORD_LENGTH:
        return ['%s: the password has %d characters, at least %d are required'
                % (label, len(password), MIN_PASSWORD_LENGTH)]
    return []


def duplicate_errors(specs):
    """A (user, mechanism) may be requested once; 'all mechanisms' overlaps every mechanism."""
    errors, seen = [], {}
    for spec in specs:
        mechanisms = [spec['mechanism']] if spec.get('mechanism') else list(MECHANISMS)
        for mechanism in mechanisms:
            key = (spec['name'], mechanism)
            if key in seen:
                errors.append("user '%s' %s is requested more than once" % key)
                break
            seen[key] = spec
    return errors


def validate_specs(specs):
    errors = []
    for spec in specs:
        errors.extend(spec_errors(spec))
    errors.extend(duplicate_errors(specs))
    return errors


# ------------------------------------------------------------------ reading

def mechanism_name(mechanism):
    """'SCRAM-SHA-512' for kafka-python's ScramMechanism.SCRAM_SHA_512."""
    return getattr(mechanism, 'name', str(mechanism)).replace('_', '-')


def describe_credentials(admin):
    """{user: {mechanism: iterations}} for every user with SCRAM credentials.

    All users are described at once: asking for a named user that has no
    credential is answered with an error that kafka-python reports only
    as text.
    """
    described = admin.describe_user_scram_credentials(None)
    check_per_item_errors(dict((user, info.get('error')) for user, info in described.items()),
                          'describe SCRAM credentials')
    return dict((user, dict((mechanism_name(c['mechanism']), c['iterations'])
                            for c in info.get('credential_infos') or []))
                for user, info in described.items())


# ----------------------------------------------------------------- planning

def plan_spec(spec, current):
    """[(kind, mechanism, action text)] to bring one spec's user to its requested state."""
    existing = current.get(spec['name'], {})
    if spec['state'] == 'absent':
        mechanisms = [spec['mechanism']] if spec.get('mechanism') else sorted(existing)
        return [('delete', m, 'delete %s credential' % m) for m in mechanisms if m in existing]
    mechanism, iterations = spec['mechanism'], spec['iterations']
    if mechanism not in existing:
        return [('upsert', mechanism, 'create %s credential (%d iterations)' % (mechanism, iterations))]
    if spec['update_password'] == 'always':
        return [('upsert', mechanism, 'set a new %s password (update_password=always, %d iterations)'
                 % (mechanism, iterations))]
    if existing[mechanism] != iterations:
        return [('upsert', mechanism, 're-set %s credential: iterations %d -> %d'
                 % (mechanism, existing[mechanism], iterations))]
    return []


def credentials_after(existing, steps, iterations):
    after = dict(existing)
    for kind, mechanism, _text in steps:
        if kind == 'delete':
            after.pop(mechanism, None)
        else:
            after[mechanism] = iterations
    return after


def plan_users(specs, current):
    """[{spec, steps}] in input order."""
    return [dict(spec=spec, steps=plan_spec(spec, current)) for spec in specs]


def predicted_credentials(plans, current):
    after = dict((user, dict(creds)) for user, creds in current.items())
    for plan in plans:
        name = plan['spec']['name']
        after[name] = credentials_after(after.get(name, {}), plan['steps'], plan['spec']['iterations'])
    return after


# ----------------------------------------------------------------- changing

class ApplyError(Exception):
    """Kafka refused some changes; carries the action texts of those it made."""

    def __init__(self, message, done):
        Exception.__init__(self, message)
        self.done = done


def alteration(spec, kind, mechanism):
    if kind == 'delete':
        return UserScramCredentialDeletion(spec['name'], mechanism)
    return UserScramCredentialUpsertion(spec['name'], mechanism, spec['password'],
                                        iterations=spec['iterations'])


def alteration_rounds(plans):
    """Lists of (spec, step) in which every user appears at most once.

    Kafka refuses a request that alters one user twice ("A user credential
    cannot be altered twice in the same request"), even for two mechanisms,
    so the n-th change of every user goes into the n-th request.
    """
    rounds, seen = [], {}
    for plan in plans:
        for step in plan['steps']:
            name = plan['spec']['name']
            index = seen.get(name, 0)
            seen[name] = index + 1
            if index == len(rounds):
                rounds.append([])
            rounds[index].append((plan['spec'], step))
    return rounds


def apply_plans(admin, plans):
    """Send the changes (one request per round); raise ApplyError naming each user Kafka refused."""
    done = []
    for changes in alteration_rounds(plans):
        response = admin.alter_user_scram_credentials(
            [alteration(spec, kind, mechanism) for spec, (kind, mechanism, _text) in changes])
        failures = per_item_errors(response)
        refused = set(label for label, _error in failures)
        done.extend("user '%s': %s" % (spec['name'], step[2]) for spec, step in changes
                    if spec['name'] not in refused)
        if failures:
            raise ApplyError('Failed to alter SCRAM credentials: %s'
                             % '; '.join('%s: %s' % failure for failure in failures), done)
    return done


def changes_visible(plans, current):
    """Whether `current` shows every deletion and every credential with its new iteration count.

    A new password with an unchanged iteration count cannot be observed.
    """
    for plan in plans:
        existing = current.get(plan['spec']['name'], {})
        for kind, mechanism, _text in plan['steps']:
            if kind == 'delete' and mechanism in existing:
                return False
            if kind == 'upsert' and existing.get(mechanism) != plan['spec']['iterations']:
                return False
    return True


def wait_until_visible(admin, plans, timeout):
    """Credentials once the broker reports the creations and deletions (or at the deadline)."""
    deadline = time.monotonic() + timeout
    while True:
        current = describe_credentials(admin)
        visible = changes_visible(plans, current)
        if visible or time.monotonic() >= deadline:
            return current, visible
        time.sleep(VISIBILITY_POLL_SECONDS)


# ------------------------------------------------------------------- result

def user_names(specs):
    names = []
    for spec in specs:
        if spec['name'] not in names:
            names.append(spec['name'])
    return names


def credential_view(credentials):
    return dict((mechanism, dict(iterations=iterations)) for mechanism, iterations in sorted(credentials.items()))


def user_diff(name, before, after, new_passwords):
    after_side = dict(credentials=credential_view(after))
    if new_passwords:
        # Only which mechanisms get a new password, never the password itself.
        after_side['password_set'] = sorted(new_passwords)
    return dict(before_header='kafka user %s' % name, after_header='kafka user %s' % name,
                before=dict(credentials=credential_view(before)), after=after_side)


def build_result(plans, before, after, diff_mode):
    users, changed_users, diffs = {}, [], []
    for name in user_names(plan['spec'] for plan in plans):
        steps = [step for plan in plans if plan['spec']['name'] == name for step in plan['steps']]
        if steps:
            changed_users.append(name)
            diffs.append(user_diff(name, before.get(name, {}), after.get(name, {}),
                                   [m for kind, m, _t in steps if kind == 'upsert']))
        users[name] = dict(name=name, exists=bool(after.get(name)), changed=bool(steps),
                           credentials=credential_view(after.get(name, {})),
                           actions=[text for _kind, _m, text in steps])
    result = dict(changed=bool(changed_users), changed_users=changed_users, users=users)
    if diff_mode:
        result['diff'] = diffs
    return result


# --------------------------------------------------------------------- main

NO_SASL_WARNING = (
    'No broker listener of this cluster uses SASL (SASL_PLAINTEXT or SASL_SSL), so no client can '
    'authenticate with these SCRAM credentials yet. Add a SASL listener with SCRAM in '
    'sasl.enabled.mechanisms (kafka_config: security settings) for them to take effect.')


def listener_protocols(entries):
    """Security protocols of a broker's listeners from its described configs."""
    value = dict((key, (entry or {}).get('value')) for key, entry in (entries or {}).items())
    mapping = {}
    for pair in (value.get('listener.security.protocol.map') or '').split(','):
        if ':' in pair:
            name, protocol = pair.split(':', 1)
            mapping[name.strip().upper()] = protocol.strip().upper()
    controllers = set(n.strip().upper() for n in (value.get('controller.listener.names') or '').split(','))
    names = [item.split('://', 1)[0].strip().upper()
             for item in (value.get('listeners') or '').split(',') if '://' in item]
    # Clients never authenticate on the controller listener.
    return set(mapping.get(name, name) for name in names if name not in controllers)


def has_sasl_listener(admin):
    """Whether a broker has a SASL listener; True when that cannot be read (no warning on doubt)."""
    try:
        brokers = admin.describe_cluster().get('brokers') or []
        if not brokers:
            return True
        resource = ConfigResource('BROKER', str(brokers[0]['broker_id']))
        described = admin.describe_configs([resource], config_filter='all')
    except Exception:  # pylint: disable=broad-except
        return True
    for resources in described.values():
        for entries in (resources or {}).values():
            protocols = listener_protocols(entries)
            if protocols:
                return any(p.startswith('SASL_') for p in protocols)
    return True


def manage_users(module, admin):
    specs = build_user_specs(module.params)
    before = describe_credentials(admin)
    plans = plan_users(specs, before)
    predicted = predicted_credentials(plans, before)
    if any(step[0] == 'upsert' for plan in plans for step in plan['steps']) and not has_sasl_listener(admin):
        module.warn(NO_SASL_WARNING)
    if module.check_mode or not any(plan['steps'] for plan in plans):
        return build_result(plans, before, predicted, module._diff)
    try:
        apply_plans(admin, plans)
    except ApplyError as exc:
        fail_after_changes(module, exc)
    after, visible = wait_until_visible(admin, plans, module.params['request_timeout'])
    if not visible:
        module.warn('The credential changes were made but the broker did not report all of them '
                    'within %ss; brokers apply them asynchronously.' % module.params['request_timeout'])
        after = predicted
    return build_result(plans, before, after, module._diff)


def fail_after_changes(module, error):
    message = str(error)
    if error.done:
        message += ' (already applied before the failure: %s)' % '; '.join(error.done)
    module.fail_json(msg=message, changed=bool(error.done), actions=error.done)


def argument_spec():
    spec = kafka_connection_argument_spec()
    spec.update(
        name=dict(type='str', aliases=['user']),
        password=dict(type='str', no_log=True),
        mechanism=dict(type='str', choices=list(MECHANISMS)),
        iterations=dict(type='int', default=DEFAULT_ITERATIONS),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        update_password=dict(type='str', default='on_create', choices=['always', 'on_create'], no_log=False),
        users=dict(type='list', elements='dict', options=dict(
            name=dict(type='str', required=True),
            password=dict(type='str', no_log=True),
            mechanism=dict(type='str', choices=list(MECHANISMS)),
            iterations=dict(type='int'),
            state=dict(type='str', choices=['present', 'absent']),
            update_password=dict(type='str', choices=['always', 'on_create'], no_log=False),
        )),
    )
    return spec


def main():
    module = new_module(
        AnsibleModule,
        argument_spec=argument_spec(),
        mutually_exclusive=[('name', 'users')],
        required_one_of=[('name', 'users')],
        supports_check_mode=True,
    )
    run_module(module, manage_users, validate=check_input)


def check_input(params, problems):
    """kraft.kafka.kafka_validation rules of this module."""
    problems.extend(validate_specs(build_user_specs(params)))


if __name__ == '__main__':
    main()
