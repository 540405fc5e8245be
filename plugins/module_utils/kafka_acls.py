# -*- coding: utf-8 -*-
# Copyright: kraft.kafka maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""ACL binding logic for the kafka_acl module.

Two layers:

* pure functions that turn module input into canonical bindings, validate
  them and plan what to create and delete; unit tested without a cluster;
* thin converters between canonical bindings and kafka-python 3 ACL
  objects, so the planning code never sees kafka-python types.

A canonical binding is a Binding namedtuple of strings in the spelling the
module accepts and returns: permission, operation, resource type and
pattern type in lower snake case (``allow``, ``describe_configs``,
``transactional_id``, ``literal``), principal and host exactly as Kafka
stores them. Two bindings are the same ACL exactly when the tuples are
equal, which is also how Kafka compares them.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import collections
import ipaddress
import re

try:
    from kafka.admin import (
        ACL,
        ACLFilter,
        ACLOperation,
        ACLPermissionType,
        ACLResourcePatternType,
        ResourcePattern,
        ResourcePatternFilter,
        ResourceType,
    )
except ImportError:  # reported by require_kafka_python() in the module
    ACL = ACLFilter = ACLOperation = ACLPermissionType = None
    ACLResourcePatternType = ResourcePattern = ResourcePatternFilter = ResourceType = None

BINDING_FIELDS = ('principal', 'host', 'operation', 'permission', 'resource_type', 'resource_name',
                  'pattern_type')
SPEC_FIELDS = BINDING_FIELDS + ('state',)
Binding = collections.namedtuple('Binding', BINDING_FIELDS)

CLUSTER_RESOURCE_NAME = 'kafka-cluster'
PERMISSIONS = ('allow', 'deny')
PATTERN_TYPES = ('literal', 'prefixed')
STATES = ('present', 'absent')

# Which operations Kafka defines for each resource type (AclEntry.supportedOperations,
# the same table kafka-acls.sh checks against). 'all' covers every one of them.
SUPPORTED_OPERATIONS = collections.OrderedDict([
    ('topic', ('all', 'read', 'write', 'create', 'delete', 'alter', 'describe', 'describe_configs',
               'alter_configs')),
    ('group', ('all', 'read', 'describe', 'delete')),
    ('cluster', ('all', 'create', 'cluster_action', 'describe_configs', 'alter_configs',
                 'idempotent_write', 'alter', 'describe')),
    ('transactional_id', ('all', 'describe', 'write')),
    ('delegation_token', ('all', 'describe')),
])
RESOURCE_TYPES = tuple(SUPPORTED_OPERATIONS)
OPERATIONS = ('all', 'read', 'write', 'create', 'delete', 'alter', 'describe', 'cluster_action',
              'describe_configs', 'alter_configs', 'idempotent_write')

PRINCIPAL_PATTERN = re.compile(r'^User:.+$')


# ---------------------------------------------------------------- spelling

def _squash(value):
    """Compare names ignoring case, '_', '-' and spaces: Write, WRITE, describe-configs."""
    return re.sub(r'[\s_-]', '', str(value)).lower()


def _canonical(value, known):
    wanted = _squash(value)
    for name in known:
        if _squash(name) == wanted:
            return name
    return None


def canonical_operation(value):
    return _canonical(value, OPERATIONS) if value is not None else None


def canonical_resource_type(value):
    return _canonical(value, RESOURCE_TYPES) if value is not None else None


# -------------------------------------------------------------- input specs

def build_acl_specs(params):
    """One spec dict per requested binding; list items inherit unset fields from the top level."""
    defaults = dict((key, params.get(key)) for key in SPEC_FIELDS)
    if params.get('acls') is None:
        return [dict(defaults)]
    specs = []
    for item in params['acls']:
        spec = dict(defaults)
        spec.update((key, value) for key, value in item.items() if key in SPEC_FIELDS and value is not None)
        specs.append(spec)
    return specs


def _label(index, spec, single):
    if single:
        return 'ACL'
    return 'acls[%d] (%s %s on %s %s)' % (
        index, spec.get('principal'), spec.get('operation'), spec.get('resource_type'), spec.get('resource_name'))


def _principal_errors(principal):
    if not principal:
        return ['principal is required (User:<name>, or User:* for every user)']
    if not PRINCIPAL_PATTERN.match(principal):
        return ["principal '%s' must have the form User:<name> (e.g. User:alice, User:* for every "
                "user; a certificate principal is User:CN=...)" % principal]
    return []


def _host_errors(host):
    if host == '*':
        return []
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return ["host '%s' must be '*' or an IP address (Kafka matches ACL hosts against the "
                "client's IP address, never a host name)" % host]
    return []


def _operation_errors(operation, resource_type, raw_operation):
    if raw_operation is None:
        return ['operation is required (one of %s)' % ', '.join(OPERATIONS)]
    if operation is None:
        return ["unknown operation '%s' (one of %s)" % (raw_operation, ', '.join(OPERATIONS))]
    allowed = SUPPORTED_OPERATIONS.get(resource_type)
    if allowed and operation not in allowed:
        return ["operation '%s' does not apply to resource type %s (valid: %s)"
                % (operation, resource_type, ', '.join(allowed))]
    return []


def _resource_errors(resource_type, raw_type, name, pattern_type):
    if raw_type is None:
        return ['resource_type is required (one of %s)' % ', '.join(RESOURCE_TYPES)]
    if resource_type is None:
        return ["unknown resource_type '%s' (one of %s)" % (raw_type, ', '.join(RESOURCE_TYPES))]
    if resource_type == 'cluster':
        if name != CLUSTER_RESOURCE_NAME:
            return ["the cluster resource is named '%s', got resource_name '%s'"
                    % (CLUSTER_RESOURCE_NAME, name)]
        if pattern_type != 'literal':
            return ['the cluster resource only takes pattern_type literal']
        return []
    if not name:
        return ['resource_name is required for resource_type %s (* for every %s)'
                % (resource_type, resource_type.replace('_', ' '))]
    return []


def resource_name_of(spec, resource_type):
    name = spec.get('resource_name')
    if resource_type == 'cluster' and name in (None, ''):
        return CLUSTER_RESOURCE_NAME
    return name


def spec_to_binding(spec):
    """(Binding or None, [errors]) for one spec; errors are plain sentences."""
    operation = canonical_operation(spec.get('operation'))
    resource_type = canonical_resource_type(spec.get('resource_type'))
    name = resource_name_of(spec, resource_type)
    host = '*' if spec.get('host') in (None, '') else str(spec['host']).strip()
    pattern_type = spec.get('pattern_type') or 'literal'
    errors = []
    errors.extend(_principal_errors(spec.get('principal')))
    errors.extend(_host_errors(host))
    errors.extend(_resource_errors(resource_type, spec.get('resource_type'), name, pattern_type))
    errors.extend(_operation_errors(operation, resource_type, spec.get('operation')))
    if errors:
        return None, errors
    return Binding(principal=spec['principal'], host=host, operation=operation,
                   permission=spec.get('permission') or 'allow', resource_type=resource_type,
                   resource_name=name, pattern_type=pattern_type), []


def conflicting_states(specs_bindings):
    """Errors for a binding requested both present and absent."""
    states = collections.OrderedDict()
    for spec, binding in specs_bindings:
        states.setdefault(binding, set()).add(spec.get('state') or 'present')
    return ['%s is requested both present and absent' % binding_text(b)
            for b, wanted in states.items() if len(wanted) > 1]


def validate_specs(specs):
    """([(spec, Binding)], [errors]) for every spec; nothing is changed when errors exist."""
    single = len(specs) == 1
    pairs, errors = [], []
    for index, spec in enumerate(specs):
        binding, problems = spec_to_binding(spec)
        errors.extend('%s: %s' % (_label(index, spec, single), p) for p in problems)
        if binding is not None:
            pairs.append((spec, binding))
    errors.extend(conflicting_states(pairs))
    return pairs, errors


# ----------------------------------------------------------------- planning

def resource_key(binding):
    return (binding.resource_type, binding.resource_name, binding.pattern_type)


def resources_of(bindings):
    """The distinct resource patterns of bindings, in first-seen order."""
    seen = collections.OrderedDict()
    for binding in bindings:
        seen.setdefault(resource_key(binding), None)
    return list(seen)


def plan_acls(specs_bindings, existing):
    """What to create and delete so every binding has its requested state.

    `existing` is the set of bindings currently on the requested resources.
    Returns dict(create=[...], delete=[...], items=[{binding, state, changed}]),
    each binding once, in input order.
    """
    create, delete, items = [], [], []
    for spec, binding in specs_bindings:
        state = spec.get('state') or 'present'
        if state == 'present' and binding not in existing and binding not in create:
            create.append(binding)
        if state == 'absent' and binding in existing and binding not in delete:
            delete.append(binding)
        changed = binding in create or binding in delete
        items.append(dict(binding=binding, state=state, changed=changed))
    return dict(create=create, delete=delete, items=items)


def bindings_after(existing, plan):
    return (set(existing) | set(plan['create'])) - set(plan['delete'])


# ---------------------------------------------------------------- rendering

def binding_text(binding):
    """One line per binding, e.g. 'allow User:alice write on topic:orders (literal) from host *'."""
    return '%s %s %s on %s:%s (%s) from host %s' % (
        binding.permission, binding.principal, binding.operation, binding.resource_type,
        binding.resource_name, binding.pattern_type, binding.host)


def binding_dict(binding):
    return binding._asdict() if hasattr(binding, '_asdict') else dict(zip(BINDING_FIELDS, binding))


def _sort_key(binding):
    return tuple(binding)


def diff_side(bindings):
    return {'bindings': [binding_text(b) for b in sorted(bindings, key=_sort_key)]}


def acl_diff(existing, after):
    return dict(before=diff_side(existing), after=diff_side(after),
                before_header='ACLs on the requested resources', after_header='ACLs on the requested resources')


def item_result(item):
    result = binding_dict(item['binding'])
    result.update(state=item['state'], changed=item['changed'])
    return result


# ------------------------------------------------- kafka-python conversion

def _enum_member(enum, canonical):
    return enum[canonical.upper()]


def _snake(member):
    return member.name.lower()


def resource_pattern_filter(resource):
    """An exact filter for one resource pattern (not MATCH, which would add wildcards)."""
    resource_type, name, pattern_type = resource
    return ResourcePatternFilter(_enum_member(ResourceType, resource_type), name,
                                 _enum_member(ACLResourcePatternType, pattern_type))


def resource_acl_filter(resource):
    """Every ACL on one resource pattern, whoever it is for."""
    return ACLFilter(principal=None, host=None, operation=ACLOperation.ANY,
                     permission_type=ACLPermissionType.ANY,
                     resource_pattern=resource_pattern_filter(resource))


def binding_acl_filter(binding):
    """A filter that matches exactly this binding (for deletion)."""
    return ACLFilter(principal=binding.principal, host=binding.host,
                     operation=_enum_member(ACLOperation, binding.operation),
                     permission_type=_enum_member(ACLPermissionType, binding.permission),
                     resource_pattern=resource_pattern_filter(resource_key(binding)))


def to_kafka_acl(binding):
    pattern = ResourcePattern(_enum_member(ResourceType, binding.resource_type), binding.resource_name,
                              _enum_member(ACLResourcePatternType, binding.pattern_type))
    return ACL(principal=binding.principal, host=binding.host,
               operation=_enum_member(ACLOperation, binding.operation),
               permission_type=_enum_member(ACLPermissionType, binding.permission),
               resource_pattern=pattern)


def from_kafka_acl(acl):
    pattern = acl.resource_pattern
    return Binding(principal=acl.principal, host=acl.host, operation=_snake(acl.operation),
                   permission=_snake(acl.permission_type), resource_type=_snake(pattern.resource_type),
                   resource_name=pattern.resource_name, pattern_type=_snake(pattern.pattern_type))
