# -*- coding: utf-8 -*-
# Copyright: kraft.kafka maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Filters used by the kraft.kafka roles instead of inline Jinja.

Every filter that takes ``nodes`` expects a list of ``kafka_node`` dicts as
described in CONTRIBUTING.md ("The node contract between roles and
filters"). The documentation of each filter lives next to this file in
``<filter name>.yml`` so that ``ansible-doc -t filter`` can render it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import re
import uuid
import zlib

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

KNOWN_ROLES = ('broker', 'controller')

# node.id is a Java int; Kafka rejects negative ids.
MAX_NODE_ID = 2 ** 31 - 1

# Which kafka_node key holds the listener port for each process role.
PORT_KEY = {'broker': 'broker_port', 'controller': 'controller_port'}

# Names without trailing digits hash into this range, well away from the
# small ids that "kafka-1" style names produce, so both styles can coexist.
HASHED_ID_MIN = 1000
HASHED_ID_MAX = 9999

# Namespace for seeded cluster ids and directory ids. Changing it changes
# every derived id, which would make already formatted clusters look foreign:
# never change it.
KRAFT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, 'https://example.invalid/kraft/kafka')

# Kafka reserves Uuid(0, 0) (ZERO_UUID) and Uuid(0, 1) (METADATA_TOPIC_ID)
# for any Uuid, and the first 100 values for log directory ids
# (DirectoryId.UNASSIGNED, LOST, MIGRATING, ...).
RESERVED_UUID_LIMIT = 2
RESERVED_DIRECTORY_ID_LIMIT = 100

KAFKA_UUID_RE = re.compile(r'^[A-Za-z0-9_-]{22}$')
# ASCII digits only: str.isdigit() also accepts "²", which int() rejects.
DIGITS_RE = re.compile(r'^[0-9]+$')


# --------------------------------------------------------------------------
# Node helpers
# --------------------------------------------------------------------------

def _node_label(node, index):
    """Name a node in error messages even when it is malformed."""
    if isinstance(node, Mapping) and node.get('name'):
        return str(node['name'])
    return 'node #%d' % index


def _as_int(value):
    """Return value as int, or None. Accepts int-like strings because values
    templated through "{{ }}" may arrive as text; refuses bools because
    ``True`` is an int in Python but never a valid id or port."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return int(value)
    if isinstance(value, str) and DIGITS_RE.match(value.strip()):
        return int(value.strip())
    return None


# The _parse_* helpers return (value, None) or (None, problem) so that
# kafka_validate_nodes can collect every problem while the other filters
# raise on the first one.

def _parse_node_id(node, label):
    node_id = _as_int(node.get('id'))
    if node_id is None or not 0 <= node_id <= MAX_NODE_ID:
        return None, '%s: id must be an integer between 0 and %d, got %r' % (
            label, MAX_NODE_ID, node.get('id'))
    return node_id, None


def _parse_port(node, role, label):
    key = PORT_KEY[role]
    port = _as_int(node.get(key))
    if port is None or not 1 <= port <= 65535:
        return None, '%s has role %s but %s is missing or not a port (1-65535): %r' % (
            label, role, key, node.get(key))
    return port, None


def _parse_host(node, label):
    host = node.get('host')
    if not isinstance(host, str) or not host.strip():
        return None, '%s: host is missing or empty: %r' % (label, host)
    return host.strip(), None


def _required(parsed):
    value, problem = parsed
    if problem:
        raise AnsibleFilterError('kafka node ' + problem)
    return value


def _node_id(node, label):
    return _required(_parse_node_id(node, label))


def _node_port(node, role, label):
    return _required(_parse_port(node, role, label))


def _node_host(node, label):
    return _required(_parse_host(node, label))


def _node_roles(node):
    roles = node.get('roles') or []
    if isinstance(roles, str):
        # Tolerate the process.roles spelling "broker,controller".
        roles = roles.split(',')
    elif not isinstance(roles, (list, tuple, set, frozenset)):
        roles = [roles]
    return [str(r).strip() for r in roles if str(r).strip()]


def _format_host(host):
    """Bracket IPv6 literals so the colon before the port is unambiguous;
    Kafka's host:port parsers (clients, quorum voters, --initial-controllers)
    all accept "[addr]:port"."""
    if ':' in host and not host.startswith('['):
        return '[%s]' % host
    return host


def _require_list(nodes, filter_name):
    if isinstance(nodes, (str, bytes, Mapping)) or not hasattr(nodes, '__iter__'):
        raise AnsibleFilterError(
            '%s expects a list of kafka_node dicts, got %s' % (filter_name, type(nodes).__name__))
    return list(nodes)


def _check_nodes_list(nodes, filter_name):
    nodes = _require_list(nodes, filter_name)
    for index, node in enumerate(nodes):
        if not isinstance(node, Mapping):
            raise AnsibleFilterError(
                '%s: element #%d is not a kafka_node dict but %s (is kafka_node set on every host?)'
                % (filter_name, index, type(node).__name__))
    return nodes


def _check_unique_ids(nodes, filter_name):
    """Return [(id, label, node)] for all nodes; raise on duplicate ids."""
    seen = {}
    entries = []
    for index, node in enumerate(nodes):
        label = _node_label(node, index)
        node_id = _node_id(node, label)
        seen.setdefault(node_id, []).append(label)
        entries.append((node_id, label, node))
    duplicates = ['%d (%s)' % (node_id, ', '.join(labels))
                  for node_id, labels in sorted(seen.items()) if len(labels) > 1]
    if duplicates:
        raise AnsibleFilterError(
            '%s: duplicate node ids: %s' % (filter_name, '; '.join(duplicates)))
    return entries


def _members(nodes, role, filter_name):
    """Sorted [(id, label, node)] of the nodes that have ``role``."""
    nodes = _check_nodes_list(nodes, filter_name)
    entries = _check_unique_ids(nodes, filter_name)
    members = sorted((e for e in entries if role in _node_roles(e[2])), key=lambda e: e[0])
    if not members:
        raise AnsibleFilterError(
            '%s: no node has the %s role among %d node(s): %s'
            % (filter_name, role, len(entries), ', '.join(e[1] for e in entries) or '(none)'))
    return members


def _endpoint(node, role, label):
    return '%s:%d' % (_format_host(_node_host(node, label)), _node_port(node, role, label))


# --------------------------------------------------------------------------
# Quorum and bootstrap strings
# --------------------------------------------------------------------------

def kafka_quorum_voters(nodes):
    """controller.quorum.voters: "id@host:port,..." of the controllers."""
    members = _members(nodes, 'controller', 'kafka_quorum_voters')
    return ','.join('%d@%s' % (node_id, _endpoint(node, 'controller', label))
                    for node_id, label, node in members)


def kafka_bootstrap_servers(nodes, role='broker'):
    """["host:port", ...] of the brokers (or controllers), sorted by id."""
    if role not in KNOWN_ROLES:
        raise AnsibleFilterError(
            'kafka_bootstrap_servers: role must be one of %s, got %r' % (', '.join(KNOWN_ROLES), role))
    members = _members(nodes, role, 'kafka_bootstrap_servers')
    return [_endpoint(node, role, label) for _node_id, label, node in members]


def kafka_initial_controllers(nodes):
    """kafka-storage format --initial-controllers: "id@host:port:dirid,..."."""
    members = _members(nodes, 'controller', 'kafka_initial_controllers')
    parts = []
    for node_id, label, node in members:
        directory_id = node.get('directory_id')
        if not kafka_valid_uuid(directory_id, reserved=RESERVED_DIRECTORY_ID_LIMIT):
            raise AnsibleFilterError(
                'kafka_initial_controllers: controller %s needs a directory_id that is a valid '
                'Kafka Uuid (22 url-safe base64 characters, not starting with "-", not reserved), '
                'got %r; derive one with kraft.kafka.kafka_directory_id' % (label, directory_id))
        parts.append('%d@%s:%s' % (node_id, _endpoint(node, 'controller', label), directory_id))
    return ','.join(parts)


# --------------------------------------------------------------------------
# Java .properties rendering
# --------------------------------------------------------------------------

# Escapes shared by keys and values (java.util.Properties#saveConvert).
_CONTROL_ESCAPES = {'\t': '\\t', '\n': '\\n', '\r': '\\r', '\f': '\\f'}
# Characters that would end a key or turn its line into a comment.
_KEY_SPECIALS = frozenset(' =:#!')


def _unicode_escape(char):
    """\\uXXXX in UTF-16 code units, as Java reads them: characters outside
    the BMP become a surrogate pair."""
    units = char.encode('utf-16-be', 'surrogatepass')
    return ''.join('\\u%02X%02X' % (units[i], units[i + 1]) for i in range(0, len(units), 2))


def _escape_char(char):
    if char == '\\':
        return '\\\\'
    if char in _CONTROL_ESCAPES:
        return _CONTROL_ESCAPES[char]
    if not ' ' <= char <= '~':
        return _unicode_escape(char)
    return char


def _escape_key(key):
    return ''.join('\\' + c if c in _KEY_SPECIALS else _escape_char(c) for c in key)


def _escape_value(value):
    escaped = [_escape_char(c) for c in value]
    # Properties.load strips whitespace before a value, so a leading space
    # must be escaped. Trailing spaces survive load, but editors and config
    # management tools like to strip them, so escape those too.
    for index in range(len(value)):
        if value[index] != ' ':
            break
        escaped[index] = '\\ '
    for index in range(len(value) - 1, -1, -1):
        if value[index] != ' ':
            break
        escaped[index] = '\\ '
    return ''.join(escaped)


def _property_text(value, key):
    """Python value -> the text Kafka expects."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, bytes):
        try:
            return value.decode('utf-8')
        except UnicodeDecodeError:
            raise AnsibleFilterError('kafka_properties: %r is bytes that are not UTF-8' % (key,))
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        raise AnsibleFilterError(
            'kafka_properties: value of %r is a dict; a .properties value must be a scalar or a list'
            % (key,))
    if isinstance(value, (list, tuple)):
        return ','.join(_property_text(item, key) for item in value if item is not None)
    return str(value)


def _header_lines(header):
    if header is None:
        return []
    if isinstance(header, str):
        header = [header]
    lines = []
    for item in header:
        for line in str(item).splitlines() or ['']:
            # Escape like the values so the file stays pure ASCII.
            text = ''.join(c if ' ' <= c <= '~' else _unicode_escape(c) for c in line)
            lines.append(('# ' + text).rstrip())
    return lines


def kafka_properties(mapping, header=None):
    """Render a dict as the text of a Java .properties file (pure ASCII)."""
    if not isinstance(mapping, Mapping):
        raise AnsibleFilterError(
            'kafka_properties expects a dict, got %s' % type(mapping).__name__)
    lines = _header_lines(header)
    for key, value in mapping.items():
        if value is None:
            continue
        key_text = _property_text(key, key)
        if key_text == '':
            raise AnsibleFilterError('kafka_properties: empty property name (value %r)' % (value,))
        lines.append('%s=%s' % (_escape_key(key_text), _escape_value(_property_text(value, key))))
    return '\n'.join(lines) + '\n'


# --------------------------------------------------------------------------
# Kafka Uuids: cluster ids and directory ids
# --------------------------------------------------------------------------

def _uuid_string(raw):
    """Kafka's Uuid.toString(): url-safe base64 of the 16 bytes, no padding."""
    return base64.urlsafe_b64encode(raw).decode('ascii').rstrip('=')


def _uuid_bytes(text):
    """The 16 bytes a Kafka Uuid string stands for, or None."""
    if not isinstance(text, str) or not KAFKA_UUID_RE.match(text):
        return None
    try:
        raw = base64.urlsafe_b64decode(str(text) + '==')
    except (binascii.Error, ValueError):
        return None
    # 22 characters carry 132 bits, so the last character has 4 unused bits.
    # Java's decoder ignores them like Python's does, and real clusters use
    # such ids (the Kafka docs' "MkU3OEVBNTcwNTJENDM2Qk" has them set), so a
    # non-canonical spelling is still valid. Generated ids are canonical.
    if len(raw) != 16:
        return None
    return raw


def _is_usable(raw, reserved, text=None):
    """Not starting with "-" (looks like a CLI option) and not reserved."""
    if (text or _uuid_string(raw)).startswith('-'):
        return False
    return int(binascii.hexlify(raw), 16) >= reserved


def _derived_uuid(name):
    """Deterministic usable Uuid: uuid5 of name, re-derived with a counter in
    the rare (about 1 in 64) case that the result starts with "-". The
    stricter directory-id reservation is used for cluster ids too: it costs
    nothing and keeps one code path."""
    counter = 0
    while True:
        suffix = '' if counter == 0 else '#%d' % counter
        raw = uuid.uuid5(KRAFT_NAMESPACE, name + suffix).bytes
        if _is_usable(raw, RESERVED_DIRECTORY_ID_LIMIT):
            return _uuid_string(raw)
        counter += 1


def kafka_cluster_id(seed=None):
    """A Kafka cluster id; random without seed, deterministic with one."""
    if seed is None or seed == '':
        while True:
            raw = uuid.uuid4().bytes
            if _is_usable(raw, RESERVED_UUID_LIMIT):
                return _uuid_string(raw)
    return _derived_uuid('cluster-id:' + str(seed))


def kafka_valid_uuid(value, reserved=RESERVED_UUID_LIMIT):
    """Whether value is a Kafka Uuid string that is not reserved and does
    not start with "-". Never raises."""
    raw = _uuid_bytes(value)
    return raw is not None and _is_usable(raw, reserved, value)


def kafka_directory_id(cluster_id, node_id):
    """Deterministic metadata directory id for one node of one cluster."""
    if not kafka_valid_uuid(cluster_id):
        raise AnsibleFilterError(
            'kafka_directory_id: cluster_id %r is not a valid Kafka Uuid string' % (cluster_id,))
    parsed_id = _as_int(node_id)
    if parsed_id is None or not 0 <= parsed_id <= MAX_NODE_ID:
        raise AnsibleFilterError(
            'kafka_directory_id: node_id must be an integer between 0 and %d, got %r'
            % (MAX_NODE_ID, node_id))
    return _derived_uuid('directory-id:%s:%d' % (cluster_id, parsed_id))


# --------------------------------------------------------------------------
# Node ids
# --------------------------------------------------------------------------

_TRAILING_DIGITS_RE = re.compile(r'([0-9]+)$')


def kafka_node_id(name):
    """Stable node id from an inventory hostname (trailing digits or crc32)."""
    if not isinstance(name, str) or not name.strip():
        raise AnsibleFilterError('kafka_node_id expects a non-empty host name, got %r' % (name,))
    name = name.strip()
    match = _TRAILING_DIGITS_RE.search(name)
    if match:
        node_id = int(match.group(1))
        if node_id > MAX_NODE_ID:
            raise AnsibleFilterError(
                'kafka_node_id: %r ends in %s, more than the largest node id %d; '
                'set kafka_node_id explicitly for this host' % (name, match.group(1), MAX_NODE_ID))
        return node_id
    # crc32 rather than hash(): Python's str hash is salted per process.
    span = HASHED_ID_MAX - HASHED_ID_MIN + 1
    return HASHED_ID_MIN + (zlib.crc32(name.encode('utf-8')) & 0xffffffff) % span


# --------------------------------------------------------------------------
# Whole-cluster validation
# --------------------------------------------------------------------------

def _problems_per_node(nodes):
    """Problems visible on one node alone, plus data for cross-node checks."""
    problems = []
    ids = {}
    listeners = {}
    roles_count = {'broker': 0, 'controller': 0}
    for index, node in enumerate(nodes):
        label = _node_label(node, index)
        if not isinstance(node, Mapping):
            problems.append('%s is not a kafka_node dict but %s' % (label, type(node).__name__))
            continue
        node_id, problem = _parse_node_id(node, label)
        if problem:
            problems.append(problem)
        else:
            ids.setdefault(node_id, []).append(label)
        roles = _node_roles(node)
        unknown = [r for r in roles if r not in KNOWN_ROLES]
        if unknown:
            problems.append('%s has unknown role(s) %s (allowed: %s)'
                            % (label, ', '.join(unknown), ', '.join(KNOWN_ROLES)))
        known = [r for r in KNOWN_ROLES if r in roles]
        if not known:
            problems.append('%s has neither the broker nor the controller role' % label)
        host, problem = _parse_host(node, label)
        if known and problem:
            problems.append(problem)
        for role in known:
            roles_count[role] += 1
            port, problem = _parse_port(node, role, label)
            if problem:
                problems.append(problem)
            elif host:
                # "::1" and "[::1]", "Kafka1" and "kafka1" are the same listener.
                key = (_format_host(host.lower()), port)
                listeners.setdefault(key, []).append('%s (%s)' % (label, PORT_KEY[role]))
    return problems, ids, listeners, roles_count


def _problems_across_nodes(ids, listeners, roles_count):
    problems = []
    for node_id, labels in sorted(ids.items()):
        if len(labels) > 1:
            problems.append('node id %d is used by %s' % (node_id, ', '.join(labels)))
    for (host, port), users in sorted(listeners.items()):
        if len(users) > 1:
            problems.append('%s:%d is used by %s' % (host, port, ', '.join(users)))
    if not roles_count['controller']:
        problems.append('no node has the controller role')
    if not roles_count['broker']:
        problems.append('no node has the broker role')
    return problems


def _problems_replication(brokers, min_insync_replicas, replication_factors):
    problems = []
    factors = replication_factors or {}
    if not isinstance(factors, Mapping):
        return ['replication_factors must be a dict of name -> int, got %s' % type(factors).__name__]
    min_isr = None
    if min_insync_replicas is not None:
        min_isr = _as_int(min_insync_replicas)
        if min_isr is None or min_isr < 1:
            problems.append('min.insync.replicas must be a positive integer, got %r' % (min_insync_replicas,))
            min_isr = None
    for name, value in factors.items():
        factor = _as_int(value)
        if factor is None or factor < 1:
            problems.append('%s must be a positive integer, got %r' % (name, value))
            continue
        if factor > brokers:
            problems.append('%s is %d but there are only %d broker(s)' % (name, factor, brokers))
        if min_isr is not None and min_isr > factor:
            problems.append('min.insync.replicas is %d, larger than %s (%d): producers with '
                            'acks=all could never write' % (min_isr, name, factor))
    return problems


def kafka_validate_nodes(nodes, min_insync_replicas=None, replication_factors=None):
    """Return nodes unchanged, or raise listing every problem found."""
    # Elements that are not dicts are reported with the other problems.
    node_list = _require_list(nodes, 'kafka_validate_nodes')
    problems, ids, listeners, roles_count = _problems_per_node(node_list)
    problems.extend(_problems_across_nodes(ids, listeners, roles_count))
    problems.extend(_problems_replication(roles_count['broker'], min_insync_replicas, replication_factors))
    if problems:
        raise AnsibleFilterError(
            'kafka_validate_nodes found %d problem(s) in %d node(s):\n- %s'
            % (len(problems), len(node_list), '\n- '.join(problems)))
    return nodes


class FilterModule(object):
    """kraft.kafka filters."""

    def filters(self):
        return {
            'kafka_quorum_voters': kafka_quorum_voters,
            'kafka_bootstrap_servers': kafka_bootstrap_servers,
            'kafka_initial_controllers': kafka_initial_controllers,
            'kafka_properties': kafka_properties,
            'kafka_cluster_id': kafka_cluster_id,
            'kafka_valid_uuid': kafka_valid_uuid,
            'kafka_node_id': kafka_node_id,
            'kafka_directory_id': kafka_directory_id,
            'kafka_validate_nodes': kafka_validate_nodes,
        }
