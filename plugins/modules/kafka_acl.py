#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kraft.kafka maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: kafka_acl
short_description: Grant and revoke Kafka ACLs (authorizer bindings)
version_added: 0.1.0
description:
  - Manages one ACL binding (O(principal), O(host), O(operation), O(permission) on O(resource_type)
    O(resource_name) with O(pattern_type)) or many (O(acls)) in a Kafka 4.x KRaft cluster whose
    brokers run an authorizer (C(authorizer.class.name), e.g.
    C(org.apache.kafka.metadata.authorizer.StandardAuthorizer)), through the Kafka admin API
    (kafka-python 3).
  - A binding is compared exactly, field by field, as Kafka compares ACLs. V(present) creates the
    binding if that exact binding does not exist; V(absent) deletes that exact binding and nothing
    else. Other ACLs on the same resources are never touched, so several tasks (or teams) can manage
    their own bindings on shared resources.
  - B(All input is validated before anything is changed), across every listed binding - principal
    form, host, operation and resource type names, operations that do not apply to the resource type,
    the cluster resource name and a binding requested both V(present) and V(absent).
  - Missing bindings are created in one request and bindings to remove are deleted in one request;
    every binding's result is checked, and a failure names the binding and the broker's reason.
  - After a change the module waits (up to O(request_timeout) seconds) until the broker it talks to
    reports the new bindings, so a following task sees them.
  - The connecting principal needs C(ALTER) on the cluster resource to change ACLs and C(DESCRIBE)
    on it to read them (super users have both).
author:
  - kraft.kafka maintainers (@kraft-kafka)
extends_documentation_fragment:
  - kraft.kafka.kafka_connection
attributes:
  check_mode:
    support: full
    description:
      - The current bindings are read and the result and diff tell what would be created and deleted;
        nothing is changed.
  diff_mode:
    support: full
    description:
      - Every binding on the requested resource patterns, before and after, one line per binding.
options:
  acls:
    description:
      - Several bindings to manage in one task.
      - Each item takes the same keys as the single-binding options; a key an item does not set is
        taken from the top-level option, so a shared O(principal) or O(resource_name) can be given
        once.
      - When O(acls) is not given, the top-level options describe one binding.
      - An empty list is refused, since it names no binding, and the top-level options would be ignored.
    type: list
    elements: dict
    suboptions:
      principal:
        description: Like O(principal).
        type: str
      host:
        description: Like O(host).
        type: str
      operation:
        description: Like O(operation).
        type: str
      permission:
        description: Like O(permission).
        type: str
        choices: [allow, deny]
      resource_type:
        description: Like O(resource_type).
        type: str
      resource_name:
        description: Like O(resource_name).
        type: str
      pattern_type:
        description: Like O(pattern_type).
        type: str
        choices: [literal, prefixed]
      state:
        description: Like O(state).
        type: str
        choices: [present, absent]
  principal:
    description:
      - Who the binding is for, C(User:<name>). A SASL/SCRAM user is C(User:<user name>); a client
        authenticated by certificate is C(User:CN=...) (its certificate subject, unless
        C(ssl.principal.mapping.rules) maps it); C(User:*) is every user.
    type: str
  host:
    description:
      - Client IP address the binding applies to, or V(*) for every address.
      - Kafka compares it with the client's IP address, so host names never match.
    type: str
    default: '*'
  operation:
    description:
      - What the principal may (or may not) do.
      - One of V(all), V(read), V(write), V(create), V(delete), V(alter), V(describe),
        V(cluster_action), V(describe_configs), V(alter_configs), V(idempotent_write). Case, C(_) and
        C(-) do not matter (V(Write), V(DescribeConfigs) and V(describe-configs) are accepted); results
        use the lower case form.
      - 'Operations that apply per resource type: topic - read, write, create, delete, alter, describe,
        describe_configs, alter_configs; group - read, describe, delete; cluster - create,
        cluster_action, describe_configs, alter_configs, idempotent_write, alter, describe;
        transactional_id - describe, write; delegation_token - describe. V(all) applies to each.'
    type: str
  permission:
    description:
      - V(allow) grants the operation, V(deny) forbids it (a deny binding wins over allow bindings).
    type: str
    choices: [allow, deny]
    default: allow
  resource_type:
    description:
      - Kind of resource, one of V(topic), V(group), V(cluster), V(transactional_id),
        V(delegation_token). Case, C(_) and C(-) do not matter.
    type: str
  resource_name:
    description:
      - Name of the resource, or with O(pattern_type=prefixed) a name prefix. V(*) with
        O(pattern_type=literal) is every resource of the type.
      - For O(resource_type=cluster) it is always V(kafka-cluster), which is also the default there.
    type: str
  pattern_type:
    description:
      - V(literal) matches the resource named O(resource_name) (or every resource for V(*)).
      - V(prefixed) matches every resource whose name starts with O(resource_name).
    type: str
    choices: [literal, prefixed]
    default: literal
  state:
    description:
      - V(present) creates the binding when it is missing.
      - V(absent) deletes exactly this binding when it exists.
    type: str
    choices: [present, absent]
    default: present
notes:
  - Run it once per cluster (C(run_once=true)) from a host that reaches the brokers, usually with
    C(delegate_to=localhost).
  - Kafka applies ACL changes on every broker asynchronously; clients may be refused for a moment
    after the task returns.
seealso:
  - name: Kafka authorization and ACLs
    description: Operations, resources and the ACLs each client request needs.
    link: https://kafka.apache.org/documentation/#security_authz
  - module: kraft.kafka.kafka_user
'''

EXAMPLES = r'''
- name: Let the orders service produce to and consume from its topic
  kraft.kafka.kafka_acl:
    bootstrap_servers: [kafka1.example.com:9094]
    security_protocol: SASL_SSL
    sasl_mechanism: SCRAM-SHA-512
    sasl_username: admin
    sasl_password: "{{ vault_kafka_admin_password }}"
    ssl_cafile: "{{ lookup('file', 'ca.pem') }}"
    principal: User:orders
    acls:
      - {operation: write, resource_type: topic, resource_name: orders}
      - {operation: describe, resource_type: topic, resource_name: orders}
      - {operation: read, resource_type: topic, resource_name: orders}
      - {operation: read, resource_type: group, resource_name: orders-service}
  delegate_to: localhost
  run_once: true

- name: Read access to every topic starting with "metrics." for the dashboards
  kraft.kafka.kafka_acl:
    bootstrap_servers: "{{ kafka_bootstrap_servers }}"
    security_protocol: SASL_SSL
    sasl_mechanism: SCRAM-SHA-512
    sasl_username: admin
    sasl_password: "{{ vault_kafka_admin_password }}"
    principal: User:grafana
    operation: read
    resource_type: topic
    resource_name: metrics.
    pattern_type: prefixed
  delegate_to: localhost
  run_once: true

- name: Idempotent producers need IdempotentWrite on the cluster
  kraft.kafka.kafka_acl:
    bootstrap_servers: "{{ kafka_bootstrap_servers }}"
    security_protocol: SASL_SSL
    sasl_mechanism: SCRAM-SHA-512
    sasl_username: admin
    sasl_password: "{{ vault_kafka_admin_password }}"
    principal: User:orders
    operation: IdempotentWrite
    resource_type: cluster
  delegate_to: localhost
  run_once: true

- name: Revoke the write grant again
  kraft.kafka.kafka_acl:
    bootstrap_servers: "{{ kafka_bootstrap_servers }}"
    security_protocol: SASL_SSL
    sasl_mechanism: SCRAM-SHA-512
    sasl_username: admin
    sasl_password: "{{ vault_kafka_admin_password }}"
    principal: User:orders
    operation: write
    resource_type: topic
    resource_name: orders
    state: absent
  delegate_to: localhost
  run_once: true
'''

RETURN = r'''
acls:
  description:
    - One entry per requested binding, in input order, in canonical spelling (lower case operation,
      permission, resource type and pattern type).
  returned: always
  type: list
  elements: dict
  contains:
    principal:
      description: The principal.
      type: str
      returned: always
    host:
      description: The host (an IP address or C(*)).
      type: str
      returned: always
    operation:
      description: The operation.
      type: str
      returned: always
    permission:
      description: V(allow) or V(deny).
      type: str
      returned: always
    resource_type:
      description: The resource type.
      type: str
      returned: always
    resource_name:
      description: The resource name or prefix.
      type: str
      returned: always
    pattern_type:
      description: V(literal) or V(prefixed).
      type: str
      returned: always
    state:
      description: The requested state.
      type: str
      returned: always
    changed:
      description: Whether the binding was (in check mode, would be) created or deleted.
      type: bool
      returned: always
  sample:
    - {principal: "User:orders", host: "*", operation: write, permission: allow, resource_type: topic,
       resource_name: orders, pattern_type: literal, state: present, changed: true}
created:
  description: Bindings that were (in check mode, would be) created, with the same keys as RV(acls).
  returned: always
  type: list
  elements: dict
deleted:
  description: Bindings that were (in check mode, would be) deleted, with the same keys as RV(acls).
  returned: always
  type: list
  elements: dict
'''

import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kraft.kafka.plugins.module_utils.kafka_validation import new_module
from ansible_collections.kraft.kafka.plugins.module_utils.kafka_validation import check_scope_list
from ansible_collections.kraft.kafka.plugins.module_utils.kafka_client import (
    KafkaModuleError,
    kafka_connection_argument_spec,
    per_item_errors,
    run_module,
)
from ansible_collections.kraft.kafka.plugins.module_utils.kafka_acls import (
    PATTERN_TYPES,
    PERMISSIONS,
    STATES,
    acl_diff,
    binding_acl_filter,
    binding_dict,
    binding_text,
    bindings_after,
    build_acl_specs,
    from_kafka_acl,
    item_result,
    plan_acls,
    resource_acl_filter,
    resources_of,
    to_kafka_acl,
    validate_specs,
)

try:
    import kafka.errors as kafka_errors
except ImportError:  # reported by require_kafka_python()
    kafka_errors = None

VISIBILITY_POLL_SECONDS = 0.5


class ApplyError(Exception):
    """A change failed after others were made; carries what was done."""

    def __init__(self, message, created, deleted):
        Exception.__init__(self, message)
        self.created = created
        self.deleted = deleted


# ------------------------------------------------------------------ reading

def describe_bindings(admin, resources):
    """Every binding on the given resource patterns (exact pattern match, one request each)."""
    found = set()
    for resource in resources:
        try:
            acls, _error = admin.describe_acls(resource_acl_filter(resource))
        except Exception as exc:  # pylint: disable=broad-except
            if kafka_errors is not None and isinstance(exc, kafka_errors.SecurityDisabledError):
                raise KafkaModuleError(
                    'The cluster has no authorizer, so it has no ACLs: set authorizer.class.name='
                    'org.apache.kafka.metadata.authorizer.StandardAuthorizer on every node first.')
            raise
        found.update(from_kafka_acl(acl) for acl in acls)
    return found


# ------------------------------------------------------------------ changing

def create_bindings(admin, bindings):
    """Create bindings in one request; (created, [(binding text, error)])."""
    if not bindings:
        return [], []
    acls = [to_kafka_acl(b) for b in bindings]
    response = admin.create_acls(acls)
    succeeded = response.get('succeeded') or []
    errors = list(response.get('failed') or [])
    created, failures = [], []
    # kafka-python lists the errors of failed creations in request order,
    # without the ACL they belong to: pair them with the ACLs not succeeded.
    for binding, acl in zip(bindings, acls):
        if any(acl is ok for ok in succeeded):
            created.append(binding)
        else:
            failures.append((binding_text(binding), errors.pop(0) if errors else 'no result from the broker'))
    return created, per_item_errors(failures)


def delete_bindings(admin, bindings):
    """Delete exactly these bindings in one request; (deleted, [(binding text, error)])."""
    if not bindings:
        return [], []
    results = admin.delete_acls([binding_acl_filter(b) for b in bindings])
    outcomes = [(binding_text(b), result[2]) for b, result in zip(bindings, results)]
    failures = per_item_errors(outcomes)
    failed = set(label for label, _error in failures)
    deleted = [b for b in bindings if binding_text(b) not in failed]
    return deleted, failures


def _failure_text(failures):
    return '; '.join('%s: %s' % f for f in failures)


def apply_plan(admin, plan):
    """Create first, then delete, so replacing a grant never leaves a gap."""
    created, create_failures = create_bindings(admin, plan['create'])
    if create_failures:
        raise ApplyError('Failed to create ACLs: %s' % _failure_text(create_failures), created, [])
    deleted, delete_failures = delete_bindings(admin, plan['delete'])
    if delete_failures:
        raise ApplyError('Failed to delete ACLs: %s' % _failure_text(delete_failures), created, deleted)
    return created, deleted


def wait_until_visible(admin, resources, plan, timeout):
    """The bindings on the resources once the broker reports the changes (or at the deadline)."""
    deadline = time.monotonic() + timeout
    while True:
        current = describe_bindings(admin, resources)
        visible = set(plan['create']) <= current and not (set(plan['delete']) & current)
        if visible or time.monotonic() >= deadline:
            return current, visible
        time.sleep(VISIBILITY_POLL_SECONDS)


# ---------------------------------------------------------------------- main

def build_result(plan, before, after, diff_mode):
    result = dict(changed=bool(plan['create'] or plan['delete']),
                  acls=[item_result(item) for item in plan['items']],
                  created=[binding_dict(b) for b in plan['create']],
                  deleted=[binding_dict(b) for b in plan['delete']])
    if diff_mode:
        result['diff'] = acl_diff(before, after)
    return result


def fail_after_changes(module, error):
    done = [binding_text(b) for b in error.created] + [binding_text(b) for b in error.deleted]
    message = str(error)
    if done:
        message += ' (already applied before the failure: %s)' % '; '.join(done)
    module.fail_json(msg=message, changed=bool(done), created=[binding_dict(b) for b in error.created],
                     deleted=[binding_dict(b) for b in error.deleted])


def manage_acls(module, admin):
    pairs, errors = validate_specs(build_acl_specs(module.params))
    if errors:
        raise KafkaModuleError('Nothing was changed: %d problem(s) found: %s' % (len(errors), '; '.join(errors)))
    resources = resources_of(binding for _spec, binding in pairs)
    before = describe_bindings(admin, resources)
    plan = plan_acls(pairs, before)
    if module.check_mode or not (plan['create'] or plan['delete']):
        return build_result(plan, before, bindings_after(before, plan), module._diff)
    try:
        apply_plan(admin, plan)
    except ApplyError as exc:
        fail_after_changes(module, exc)
    after, visible = wait_until_visible(admin, resources, plan, module.params['request_timeout'])
    if not visible:
        module.warn('The ACL changes were made but the broker did not report all of them within '
                    '%ss; brokers apply ACL changes asynchronously.' % module.params['request_timeout'])
    return build_result(plan, before, after, module._diff)


def binding_options():
    return dict(
        principal=dict(type='str'),
        host=dict(type='str'),
        operation=dict(type='str'),
        permission=dict(type='str', choices=list(PERMISSIONS)),
        resource_type=dict(type='str'),
        resource_name=dict(type='str'),
        pattern_type=dict(type='str', choices=list(PATTERN_TYPES)),
        state=dict(type='str', choices=list(STATES)),
    )


def argument_spec():
    spec = kafka_connection_argument_spec()
    spec.update(binding_options())
    spec['host']['default'] = '*'
    spec['permission']['default'] = 'allow'
    spec['pattern_type']['default'] = 'literal'
    spec['state']['default'] = 'present'
    spec['acls'] = dict(type='list', elements='dict', options=binding_options())
    return spec


def main():
    module = new_module(AnsibleModule, argument_spec=argument_spec(), supports_check_mode=True)
    run_module(module, manage_acls, validate=check_input)


def check_input(params, problems):
    """kraft.kafka.kafka_validation rules: the binding checks of kafka_acls, before any connection."""
    check_scope_list(problems, 'acls', params['acls'], 'no binding while the top-level options are ignored',
                     'one binding from the top-level options')
    if not problems:
        problems.extend(validate_specs(build_acl_specs(params))[1])


if __name__ == '__main__':
    main()
