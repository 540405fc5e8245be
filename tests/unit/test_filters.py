# -*- coding: utf-8 -*-
"""Unit tests for plugins/filter/kafka.py.

The kafka_properties tests load the rendered text with the real
java.util.Properties (tests/unit/java/PropertiesDump.java) and compare what
Java sees with the input; they are skipped only when no `java` is on PATH.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import os
import random
import shutil
import subprocess
import sys
import uuid

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.kraft.kafka.plugins.filter import kafka as kf

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
JAVA_DUMP = os.path.join(HERE, 'java', 'PropertiesDump.java')

FILTER_NAMES = (
    'kafka_quorum_voters', 'kafka_bootstrap_servers', 'kafka_initial_controllers',
    'kafka_properties', 'kafka_cluster_id', 'kafka_valid_uuid', 'kafka_node_id',
    'kafka_directory_id', 'kafka_validate_nodes',
)

CLUSTER_ID = 'MkU3OEVBNTcwNTJENDM2Qk'  # the example id of the Kafka docs
ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA'
METADATA_TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAAAQ'


def node(name, node_id, roles, host=None, broker_port=9092, controller_port=9093, directory_id=None):
    """A kafka_node dict as the kafka_config role sets it."""
    return {
        'name': name,
        'instance': 'kafka',
        'id': node_id,
        'roles': list(roles),
        'host': host or name,
        'broker_port': broker_port if 'broker' in roles else None,
        'controller_port': controller_port if 'controller' in roles else None,
        'directory_id': directory_id,
    }


@pytest.fixture
def combined():
    """Three combined nodes, listed out of id order on purpose."""
    return [
        node('kafka3', 3, ['broker', 'controller']),
        node('kafka1', 1, ['broker', 'controller']),
        node('kafka2', 2, ['broker', 'controller']),
    ]


@pytest.fixture
def split():
    """Dedicated controllers and brokers."""
    return [
        node('b5', 5, ['broker']),
        node('c2', 2, ['controller']),
        node('b4', 4, ['broker']),
        node('c1', 1, ['controller']),
        node('c3', 3, ['controller']),
    ]


def error_of(func, *args, **kwargs):
    with pytest.raises(AnsibleFilterError) as info:
        func(*args, **kwargs)
    return str(info.value)


def uuid_bytes(text):
    return base64.urlsafe_b64decode(text + '==')


# --------------------------------------------------------------------------
# FilterModule
# --------------------------------------------------------------------------

def test_filter_module_exposes_every_filter():
    filters = kf.FilterModule().filters()
    assert sorted(filters) == sorted(FILTER_NAMES)
    assert all(callable(f) for f in filters.values())


@pytest.mark.parametrize('name', FILTER_NAMES)
def test_every_filter_has_a_doc_file(name):
    import yaml
    path = os.path.join(REPO_ROOT, 'plugins', 'filter', name + '.yml')
    with open(path) as handle:
        doc = yaml.safe_load(handle)
    assert set(doc) == {'DOCUMENTATION', 'EXAMPLES', 'RETURN'}
    assert doc['DOCUMENTATION']['name'] == name
    assert '_value' in doc['RETURN']
    assert 'kraft.kafka.' + name in doc['EXAMPLES']


# --------------------------------------------------------------------------
# kafka_quorum_voters
# --------------------------------------------------------------------------

def test_quorum_voters_sorted_by_id(combined):
    assert kf.kafka_quorum_voters(combined) == '1@kafka1:9093,2@kafka2:9093,3@kafka3:9093'


def test_quorum_voters_only_controllers(split):
    assert kf.kafka_quorum_voters(split) == '1@c1:9093,2@c2:9093,3@c3:9093'


def test_quorum_voters_numeric_sort_not_text_sort():
    nodes = [node('k10', 10, ['controller']), node('k9', 9, ['controller'])]
    assert kf.kafka_quorum_voters(nodes) == '9@k9:9093,10@k10:9093'


def test_quorum_voters_accepts_text_numbers():
    nodes = [node('a', '1', ['controller'], controller_port='19093')]
    assert kf.kafka_quorum_voters(nodes) == '1@a:19093'


def test_quorum_voters_brackets_ipv6():
    nodes = [node('a', 1, ['controller'], host='fd00::1'), node('b', 2, ['controller'], host='[fd00::2]')]
    assert kf.kafka_quorum_voters(nodes) == '1@[fd00::1]:9093,2@[fd00::2]:9093'


def test_quorum_voters_accepts_process_roles_string():
    nodes = [node('a', 1, ['controller'])]
    nodes[0]['roles'] = 'broker,controller'
    nodes[0]['broker_port'] = 9092
    assert kf.kafka_quorum_voters(nodes) == '1@a:9093'


def test_quorum_voters_no_controller(split):
    brokers = [n for n in split if 'controller' not in n['roles']]
    message = error_of(kf.kafka_quorum_voters, brokers)
    assert 'no node has the controller role' in message
    assert 'b4' in message and 'b5' in message


def test_quorum_voters_empty_list():
    assert 'no node has the controller role' in error_of(kf.kafka_quorum_voters, [])


def test_quorum_voters_duplicate_ids_name_the_hosts(combined):
    combined[2]['id'] = 1
    message = error_of(kf.kafka_quorum_voters, combined)
    assert 'duplicate node ids' in message
    assert '1 (kafka1, kafka2)' in message


def test_quorum_voters_duplicate_id_with_a_broker_counts(split):
    split[0]['id'] = 1  # broker b5 now collides with controller c1
    assert 'b5' in error_of(kf.kafka_quorum_voters, split)


@pytest.mark.parametrize('host', [None, '', '  '])
def test_quorum_voters_missing_host(combined, host):
    combined[1]['host'] = host
    message = error_of(kf.kafka_quorum_voters, combined)
    assert 'kafka1' in message and 'host' in message


def test_quorum_voters_host_key_absent(combined):
    del combined[1]['host']
    assert 'kafka1: host is missing' in error_of(kf.kafka_quorum_voters, combined)


@pytest.mark.parametrize('port', [None, 0, 65536, 'x', True, -1])
def test_quorum_voters_bad_port(combined, port):
    combined[0]['controller_port'] = port
    message = error_of(kf.kafka_quorum_voters, combined)
    assert 'kafka3' in message and 'controller_port' in message


def test_quorum_voters_port_key_absent(combined):
    del combined[0]['controller_port']
    assert 'controller_port' in error_of(kf.kafka_quorum_voters, combined)


@pytest.mark.parametrize('bad_id', [None, -1, '-1', 'one', '\u00b2', '\u0661', True, 1.5, 2 ** 31])
def test_quorum_voters_bad_id(combined, bad_id):
    combined[0]['id'] = bad_id
    message = error_of(kf.kafka_quorum_voters, combined)
    assert 'kafka3' in message and 'id must be an integer' in message


@pytest.mark.parametrize('bad', ['kafka1', {'name': 'a'}, None, 42])
def test_quorum_voters_not_a_list(bad):
    assert 'expects a list of kafka_node dicts' in error_of(kf.kafka_quorum_voters, bad)


def test_quorum_voters_element_not_a_dict(combined):
    combined.append(None)
    message = error_of(kf.kafka_quorum_voters, combined)
    assert 'element #3' in message and 'kafka_node' in message


# --------------------------------------------------------------------------
# kafka_bootstrap_servers
# --------------------------------------------------------------------------

def test_bootstrap_servers_brokers(split):
    assert kf.kafka_bootstrap_servers(split) == ['b4:9092', 'b5:9092']


def test_bootstrap_servers_controllers(split):
    assert kf.kafka_bootstrap_servers(split, 'controller') == ['c1:9093', 'c2:9093', 'c3:9093']


def test_bootstrap_servers_combined_sorted(combined):
    assert kf.kafka_bootstrap_servers(combined) == ['kafka1:9092', 'kafka2:9092', 'kafka3:9092']
    assert kf.kafka_bootstrap_servers(combined, role='controller') == [
        'kafka1:9093', 'kafka2:9093', 'kafka3:9093']


def test_bootstrap_servers_ipv6():
    nodes = [node('a', 1, ['broker'], host='::1')]
    assert kf.kafka_bootstrap_servers(nodes) == ['[::1]:9092']


def test_bootstrap_servers_unknown_role(split):
    assert "role must be one of broker, controller, got 'client'" in error_of(
        kf.kafka_bootstrap_servers, split, 'client')


def test_bootstrap_servers_no_broker(split):
    controllers = [n for n in split if 'broker' not in n['roles']]
    assert 'no node has the broker role' in error_of(kf.kafka_bootstrap_servers, controllers)


def test_bootstrap_servers_missing_broker_port(split):
    split[0]['broker_port'] = None
    message = error_of(kf.kafka_bootstrap_servers, split)
    assert 'b5' in message and 'broker_port' in message


def test_bootstrap_servers_duplicate_ids(split):
    split[2]['id'] = 5
    assert '5 (b5, b4)' in error_of(kf.kafka_bootstrap_servers, split)


# --------------------------------------------------------------------------
# kafka_initial_controllers
# --------------------------------------------------------------------------

def with_directory_ids(nodes):
    for n in nodes:
        if 'controller' in n['roles']:
            n['directory_id'] = kf.kafka_directory_id(CLUSTER_ID, n['id'])
    return nodes


def test_initial_controllers(split):
    with_directory_ids(split)
    by_id = dict((n['id'], n['directory_id']) for n in split)
    assert kf.kafka_initial_controllers(split) == '1@c1:9093:%s,2@c2:9093:%s,3@c3:9093:%s' % (
        by_id[1], by_id[2], by_id[3])


def test_initial_controllers_parses_like_kafka(combined):
    """Mirror Kafka's DynamicVoter.parse: id@host:port:directoryId."""
    combined[0]['host'] = 'fd00::3'
    with_directory_ids(combined)
    for voter in kf.kafka_initial_controllers(combined).split(','):
        node_id, rest = voter.split('@', 1)
        if rest.startswith('['):
            host, rest = rest[1:].split(']', 1)
        else:
            host, rest = rest.split(':', 1)
            rest = ':' + rest
        port, directory_id = rest[1:].split(':', 1)
        assert int(node_id) in (1, 2, 3) and host and int(port) == 9093
        assert kf.kafka_valid_uuid(directory_id, reserved=100)


def test_initial_controllers_accepts_kafka_generated_id():
    nodes = [node('a', 1, ['controller'], directory_id=CLUSTER_ID)]
    assert kf.kafka_initial_controllers(nodes) == '1@a:9093:' + CLUSTER_ID


@pytest.mark.parametrize('directory_id', [
    None, '', 'short', '-kU3OEVBNTcwNTJENDM2Qk', ZERO_UUID, METADATA_TOPIC_ID,
    'AAAAAAAAAAAAAAAAAAAAYw',  # 99: reserved for log directories
    'MkU3OEVBNTcwNTJENDM2Q+', 12345,
])
def test_initial_controllers_bad_directory_id(split, directory_id):
    with_directory_ids(split)
    split[1]['directory_id'] = directory_id  # c2
    message = error_of(kf.kafka_initial_controllers, split)
    assert 'controller c2 needs a directory_id' in message
    assert 'kafka_directory_id' in message


def test_initial_controllers_ignores_brokers_without_directory_id(split):
    with_directory_ids(split)
    assert 'b4' not in kf.kafka_initial_controllers(split)


def test_initial_controllers_no_controller():
    nodes = [node('b', 1, ['broker'])]
    assert 'no node has the controller role' in error_of(kf.kafka_initial_controllers, nodes)


# --------------------------------------------------------------------------
# kafka_properties: exact text
# --------------------------------------------------------------------------

def test_properties_simple_kafka_config():
    text = kf.kafka_properties({
        'node.id': 1,
        'process.roles': ['broker', 'controller'],
        'listeners': 'PLAINTEXT://:9092,CONTROLLER://:9093',
        'controller.quorum.voters': '1@h1:9093',
        'auto.create.topics.enable': False,
        'log.retention.ms': -1,
        'sasl.jaas.config': None,
    })
    assert text == (
        'node.id=1\n'
        'process.roles=broker,controller\n'
        'listeners=PLAINTEXT://:9092,CONTROLLER://:9093\n'
        'controller.quorum.voters=1@h1:9093\n'
        'auto.create.topics.enable=false\n'
        'log.retention.ms=-1\n'
    )


def test_properties_keeps_mapping_order():
    keys = ['z', 'a', 'm', 'b']
    text = kf.kafka_properties(dict((k, k) for k in keys))
    assert [line.split('=')[0] for line in text.splitlines()] == keys


def test_properties_key_escapes():
    assert kf.kafka_properties({'a b=c:d#e!f\\g': 'v'}) == 'a\\ b\\=c\\:d\\#e\\!f\\\\g=v\n'


def test_properties_value_escapes():
    text = kf.kafka_properties({'k': '  a=b:c #!\\d  '})
    assert text == 'k=\\ \\ a=b:c #!\\\\d\\ \\ \n'


def test_properties_control_and_unicode():
    text = kf.kafka_properties({'k\t': 'a\tb\nc\rd\fe\x00\x7f\u00e9\u4e2d\U0001F600'})
    assert text == 'k\\t=a\\tb\\nc\\rd\\fe\\u0000\\u007F\\u00E9\\u4E2D\\uD83D\\uDE00\n'


def test_properties_output_is_ascii():
    text = kf.kafka_properties({'cl\u00e9': '\u4e2d\u6587 \U0001F600'}, header='\u00e9t\u00e9')
    text.encode('ascii')


def test_properties_conversions():
    text = kf.kafka_properties({
        't': True, 'f': False, 'i': 3, 'x': 1.5, 'l': ['a', None, True, 2], 'tuple': ('x', 'y'),
        'empty_list': [], 'empty': '', 'n': None, 5: 'int key', b'raw': b'bytes',
    })
    assert text == 't=true\nf=false\ni=3\nx=1.5\nl=a,true,2\ntuple=x,y\nempty_list=\nempty=\n5=int key\nraw=bytes\n'


def test_properties_header_string_and_list():
    assert kf.kafka_properties({'a': 1}, header='Managed by Ansible\nline 2') == (
        '# Managed by Ansible\n# line 2\na=1\n')
    assert kf.kafka_properties({'a': 1}, header=['one', '', 'th\u00e9']) == (
        '# one\n#\n# th\\u00E9\na=1\n')


def test_properties_empty_mapping():
    assert kf.kafka_properties({}) == '\n'
    assert kf.kafka_properties({}, header='only a header') == '# only a header\n'


def test_properties_rejects_dict_value():
    assert "value of 'ssl' is a dict" in error_of(kf.kafka_properties, {'ssl': {'a': 1}})


def test_properties_rejects_non_utf8_bytes():
    assert "'k' is bytes that are not UTF-8" in error_of(kf.kafka_properties, {'k': b'\xff'})


def test_properties_rejects_empty_key():
    assert 'empty property name' in error_of(kf.kafka_properties, {'': 'x'})


@pytest.mark.parametrize('bad', [['a=b'], 'a=b', None])
def test_properties_rejects_non_mapping(bad):
    assert 'expects a dict' in error_of(kf.kafka_properties, bad)


# --------------------------------------------------------------------------
# kafka_properties: proven with java.util.Properties.load
# --------------------------------------------------------------------------

# Every case below is rendered, loaded by Java, and must come back as-is.
JAVA_CASES = {
    'kafka': {
        'node.id': '1',
        'listeners': 'PLAINTEXT://0.0.0.0:9092,CONTROLLER://:9093',
        'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
        'controller.quorum.voters': '1@h1:9093,2@h2:9093',
        'log.dirs': '/var/lib/kafka/a,/var/lib/kafka/b',
        'sasl.jaas.config': 'org.apache.kafka.common.security.plain.PlainLoginModule required '
                            'username="admin" password="s3cr=t:#!";',
    },
    'separators': {
        'key=with=equals': 'value=with=equals',
        'key:with:colons': 'value:with:colons',
        '=leading-equals-key': '=leading equals value',
        ':leading-colon-key': ':leading colon value',
        'k': '==', 'k2': '::', 'k3': '=:=:',
    },
    'spaces': {
        ' leading space key': ' leading space value',
        'inner space key': 'inner space value',
        'trailing space key ': 'trailing space value ',
        '   ': '   ',
        'only-value-spaces': ' ',
        'empty': '',
    },
    'backslashes': {
        'C:\\kafka\\logs': 'C:\\kafka\\logs',
        'trailing-backslash\\': 'line continuation?\\',
        'double\\\\': '\\\\',
        'u-escape-lookalike': '\\u0041 is not A',
        'key\\u0041': '\\n is not a newline',
    },
    'comments': {
        '#hash-key': '#hash value',
        '!bang-key': '!bang value',
        'inner#hash': 'inner # hash',
        'inner!bang': 'inner ! bang',
        '#': '!',
    },
    'control': {
        'tab\tkey': 'tab\tvalue',
        'newline\nkey': 'multi\nline\nvalue\n',
        'cr\rkey': 'cr\r\nlf',
        'ff\fkey': '\fform feed',
        '\tleading-tab': '\tleading tab',
        'nul\x00del\x7f': 'bell\x07esc\x1b',
    },
    'unicode': {
        'caf\u00e9': 'cr\u00e8me br\u00fbl\u00e9e',
        '\u4e2d\u6587': '\u4e2d\u6587\u914d\u7f6e',
        'emoji\U0001F600': '\U0001F680 outside the BMP \U0010FFFF',
        'latin1\u00ff\u0080': '\u00a0nbsp\u00a0',
        'bom\ufeff': '\u2028line separator\u2029',
    },
}


def fuzz_case(seed, count):
    """Random keys and values built from the characters that matter."""
    rng = random.Random(seed)
    pool = (list(' =:#!\\\t\n\r\f\x00\x0b\x1f\x7f\x80\x85\xa0\xe9\xff') +
            ['\u0100', '\u2028', '\u4e2d', '\ufeff', '\ufffd', '\U0001F600', '\U00020000', '\ud800'] +
            list('azAZ09._-/@"\'{}'))
    mapping = {}
    while len(mapping) < count:
        key = ''.join(rng.choice(pool) for dummy in range(rng.randint(1, 12)))
        mapping[key] = ''.join(rng.choice(pool) for dummy in range(rng.randint(0, 16)))
    return mapping


JAVA_CASES['fuzz'] = fuzz_case(20240601, 400)

JAVA_HEADER = ['Managed by Ansible', 'caf\u00e9 \U0001F600', 'a=b', '! not a property', '']


def java_load(tmp_dir, cases):
    """Render every case, load all of them in one JVM, return {case: dict}."""
    java = shutil.which('java')
    if not java:
        pytest.skip('java is not installed')
    paths = []
    for name, mapping in cases.items():
        path = os.path.join(str(tmp_dir), name + '.properties')
        text = kf.kafka_properties(mapping, header=JAVA_HEADER)
        # Write bytes as ASCII: any non-ASCII character left would fail here.
        with open(path, 'wb') as handle:
            handle.write(text.encode('ascii'))
        paths.append(path)
    result = subprocess.run([java, JAVA_DUMP] + paths, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, timeout=300, check=False)
    assert result.returncode == 0, result.stderr.decode('utf-8', 'replace')
    loaded = json.loads(result.stdout.decode('ascii'))
    return dict(zip(cases, loaded))


@pytest.fixture(scope='module')
def java_loaded(tmp_path_factory):
    return java_load(tmp_path_factory.mktemp('properties'), JAVA_CASES)


@pytest.mark.parametrize('case', sorted(JAVA_CASES))
def test_properties_java_loads_exactly_the_input(java_loaded, case):
    expected = JAVA_CASES[case]
    loaded = java_loaded[case]
    missing = dict((k, v) for k, v in expected.items() if loaded.get(k) != v)
    extra = sorted(set(loaded) - set(expected))
    assert not missing and not extra, 'Java saw something else for %r; extra keys %r' % (
        dict((k, loaded.get(k)) for k in missing), extra)
    assert loaded == expected


def test_properties_java_sees_converted_values(tmp_path):
    loaded = java_load(tmp_path, {'typed': {
        'flag': True, 'off': False, 'n': 3, 'roles': ['broker', 'controller'], 'skip': None}})
    assert loaded['typed'] == {
        'flag': 'true', 'off': 'false', 'n': '3', 'roles': 'broker,controller'}


# --------------------------------------------------------------------------
# kafka_cluster_id / kafka_valid_uuid
# --------------------------------------------------------------------------

def assert_kafka_uuid(text, reserved=2):
    assert isinstance(text, str)
    assert len(text) == 22
    assert not text.startswith('-')
    raw = uuid_bytes(text)
    assert len(raw) == 16
    # Kafka's Uuid.toString() of those bytes is exactly this string.
    assert base64.urlsafe_b64encode(raw).decode('ascii').rstrip('=') == text
    assert int.from_bytes(raw, 'big') >= reserved


@pytest.mark.parametrize('seed', [None, ''])
def test_cluster_id_random(seed):
    ids = set(kf.kafka_cluster_id(seed) for dummy in range(200))
    assert len(ids) == 200
    for cluster_id in ids:
        assert_kafka_uuid(cluster_id)
        assert kf.kafka_valid_uuid(cluster_id)


def test_cluster_id_default_argument():
    assert_kafka_uuid(kf.kafka_cluster_id())


def test_cluster_id_seeded_is_deterministic_and_pinned():
    assert kf.kafka_cluster_id('prod-eu-1') == kf.kafka_cluster_id('prod-eu-1')
    # Pinned: a change here would give every seeded cluster a new id.
    assert kf.kafka_cluster_id('prod-eu-1') == 'mSWcatYNWFyN9feenfOcvw'
    assert kf.kafka_cluster_id(42) == kf.kafka_cluster_id('42')


def test_cluster_id_seeds_differ():
    ids = set(kf.kafka_cluster_id('seed-%d' % i) for i in range(500))
    assert len(ids) == 500


def test_cluster_id_never_starts_with_dash():
    # About 1 in 64 raw ids starts with "-": among 5000 seeds ~78 would.
    for i in range(5000):
        assert_kafka_uuid(kf.kafka_cluster_id('s%d' % i))


def test_cluster_id_retries_dash_and_reserved(monkeypatch):
    dash = uuid.UUID(bytes=b'\xf8' + b'\x00' * 15)  # "-A..."
    zero = uuid.UUID(int=0)
    one = uuid.UUID(int=1)
    good = uuid.UUID(bytes=b'\x01' * 16)
    sequence = iter([dash, zero, one, good])
    monkeypatch.setattr(kf.uuid, 'uuid4', lambda: next(sequence))
    assert base64.urlsafe_b64encode(dash.bytes).decode().startswith('-')
    assert kf.kafka_cluster_id() == 'AQEBAQEBAQEBAQEBAQEBAQ'


@pytest.mark.parametrize('value', [
    CLUSTER_ID,                 # Kafka docs example; its last 4 bits are not zero
    'AQEBAQEBAQEBAQEBAQEBAQ',
    '_____________________w',   # "_" and "-" are the url-safe characters
    'A-_AAAAAAAAAAAAAAAAAAA',
    'AAAAAAAAAAAAAAAAAAAAAg',   # 2: fine for cluster ids
])
def test_valid_uuid_true(value):
    assert kf.kafka_valid_uuid(value) is True


@pytest.mark.parametrize('value', [
    '-kU3OEVBNTcwNTJENDM2Qk',   # looks like a CLI option
    ZERO_UUID, METADATA_TOPIC_ID,
    CLUSTER_ID[:-1], CLUSTER_ID + 'A', CLUSTER_ID + '==',
    'MkU3OEVBNTcwNTJENDM2Q+', 'MkU3OEVBNTcwNTJENDM2Q/', 'MkU3OEVBNTcwNTJENDM2Q=',
    'MkU3OEVBNTcwNTJENDM2Q ', ' MkU3OEVBNTcwNTJENDM2Q',
    '2e5a7b4c-7f6e-4a1b-9c3d-1234567890ab',  # a java.util.UUID string, not a Kafka one
    '', None, 42, b'MkU3OEVBNTcwNTJENDM2Qk', ['x'], {'a': 1},
])
def test_valid_uuid_false(value):
    assert kf.kafka_valid_uuid(value) is False


def test_valid_uuid_reserved_directory_ids():
    ninety_nine = base64.urlsafe_b64encode((99).to_bytes(16, 'big')).decode().rstrip('=')
    hundred = base64.urlsafe_b64encode((100).to_bytes(16, 'big')).decode().rstrip('=')
    assert kf.kafka_valid_uuid(ninety_nine) is True
    assert kf.kafka_valid_uuid(ninety_nine, reserved=100) is False
    assert kf.kafka_valid_uuid(hundred, reserved=100) is True
    assert kf.kafka_valid_uuid(ZERO_UUID, reserved=0) is True


# --------------------------------------------------------------------------
# kafka_directory_id
# --------------------------------------------------------------------------

def test_directory_id_deterministic_and_pinned():
    assert kf.kafka_directory_id(CLUSTER_ID, 1) == kf.kafka_directory_id(CLUSTER_ID, 1)
    assert kf.kafka_directory_id(CLUSTER_ID, 1) == 'o5_CL_24WoiBRFgrpIuogA'
    assert kf.kafka_directory_id(CLUSTER_ID, '1') == kf.kafka_directory_id(CLUSTER_ID, 1)


def test_directory_id_depends_on_cluster_and_node():
    other_cluster = kf.kafka_cluster_id('other')
    ids = set()
    for node_id in range(300):
        ids.add(kf.kafka_directory_id(CLUSTER_ID, node_id))
        ids.add(kf.kafka_directory_id(other_cluster, node_id))
    assert len(ids) == 600


def test_directory_id_always_usable():
    for node_id in range(5000):
        directory_id = kf.kafka_directory_id(CLUSTER_ID, node_id)
        assert_kafka_uuid(directory_id, reserved=100)
        assert kf.kafka_valid_uuid(directory_id, reserved=100)


def test_directory_id_retries_dash(monkeypatch):
    real_uuid5 = uuid.uuid5
    calls = []

    def fake_uuid5(namespace, name):
        calls.append(name)
        if len(calls) == 1:
            return uuid.UUID(bytes=b'\xfb' + b'\x00' * 15)  # starts with "-"
        if len(calls) == 2:
            return uuid.UUID(int=50)  # reserved for directories
        return real_uuid5(namespace, name)

    monkeypatch.setattr(kf.uuid, 'uuid5', fake_uuid5)
    directory_id = kf.kafka_directory_id(CLUSTER_ID, 7)
    assert len(calls) == 3 and calls[1] == calls[0] + '#1' and calls[2] == calls[0] + '#2'
    assert_kafka_uuid(directory_id, reserved=100)


@pytest.mark.parametrize('cluster_id', ['', None, 'not-a-uuid', ZERO_UUID, '-kU3OEVBNTcwNTJENDM2Qk'])
def test_directory_id_bad_cluster_id(cluster_id):
    assert 'is not a valid Kafka Uuid' in error_of(kf.kafka_directory_id, cluster_id, 1)


@pytest.mark.parametrize('node_id', [None, -1, 'x', True, 2 ** 31])
def test_directory_id_bad_node_id(node_id):
    assert 'node_id must be an integer' in error_of(kf.kafka_directory_id, CLUSTER_ID, node_id)


# --------------------------------------------------------------------------
# kafka_node_id
# --------------------------------------------------------------------------

@pytest.mark.parametrize('name, expected', [
    ('kafka-1', 1), ('kafka1', 1), ('broker03', 3), ('kafka-0', 0), ('node_12', 12),
    ('10.0.0.11', 11), ('7', 7), ('k-2147483647', 2 ** 31 - 1), (' kafka-4 ', 4),
])
def test_node_id_trailing_digits(name, expected):
    assert kf.kafka_node_id(name) == expected


def test_node_id_hash_range_and_pinned():
    assert kf.kafka_node_id('kafka-east') == kf.kafka_node_id('kafka-east')
    # Pinned: crc32 is stable across processes and Python versions, unlike hash().
    assert kf.kafka_node_id('abc') == 2578
    assert kf.kafka_node_id('kafka1.example.com') == kf.kafka_node_id('kafka1.example.com')
    for i in range(2000):
        assert 1000 <= kf.kafka_node_id('host-%d-x' % i) <= 9999


def test_node_id_hash_in_fresh_process():
    """Guard against a salted hash sneaking in: another interpreter agrees."""
    collections_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.dirname(os.path.dirname(os.path.abspath(kf.__file__)))))))
    code = ('import sys; sys.path.insert(0, %r); '
            'from ansible_collections.kraft.kafka.plugins.filter import kafka; '
            'print(kafka.kafka_node_id("zookeeper-free"))') % (collections_root,)
    env = dict(os.environ, PYTHONHASHSEED='12345')
    out = subprocess.check_output([sys.executable, '-c', code], env=env)
    assert int(out) == kf.kafka_node_id('zookeeper-free')


def test_node_id_too_large():
    message = error_of(kf.kafka_node_id, 'host-99999999999')
    assert 'set kafka_node_id explicitly' in message


@pytest.mark.parametrize('bad', ['', '   ', None, 3, ['kafka-1']])
def test_node_id_bad_input(bad):
    assert 'expects a non-empty host name' in error_of(kf.kafka_node_id, bad)


# --------------------------------------------------------------------------
# kafka_validate_nodes
# --------------------------------------------------------------------------

def test_validate_returns_input_unchanged(combined, split):
    assert kf.kafka_validate_nodes(combined) is combined
    assert kf.kafka_validate_nodes(split, min_insync_replicas=2,
                                   replication_factors={'default.replication.factor': 2}) is split


def test_validate_two_instances_on_one_host():
    nodes = [node('a', 1, ['broker', 'controller'], host='10.0.0.1'),
             node('b', 2, ['broker'], host='10.0.0.1', broker_port=9094)]
    assert kf.kafka_validate_nodes(nodes) is nodes


def test_validate_duplicate_ids(combined):
    combined[0]['id'] = 2
    message = error_of(kf.kafka_validate_nodes, combined)
    assert 'node id 2 is used by kafka3, kafka2' in message


def test_validate_duplicate_listeners():
    nodes = [node('a', 1, ['broker', 'controller'], host='10.0.0.1'),
             node('b', 2, ['broker', 'controller'], host='10.0.0.1')]
    message = error_of(kf.kafka_validate_nodes, nodes)
    assert '10.0.0.1:9092 is used by a (broker_port), b (broker_port)' in message
    assert '10.0.0.1:9093 is used by a (controller_port), b (controller_port)' in message


def test_validate_same_port_for_both_listeners_of_one_node():
    nodes = [node('a', 1, ['broker', 'controller'], broker_port=9092, controller_port=9092)]
    assert 'a:9092 is used by a (broker_port), a (controller_port)' in error_of(
        kf.kafka_validate_nodes, nodes)


def test_validate_ipv6_brackets_are_the_same_host():
    nodes = [node('a', 1, ['broker', 'controller'], host='fd00::1'),
             node('b', 2, ['broker'], host='[FD00::1]')]
    assert '[fd00::1]:9092 is used by a (broker_port), b (broker_port)' in error_of(
        kf.kafka_validate_nodes, nodes)


def test_validate_roles_not_a_list(combined):
    combined[0]['roles'] = 7
    assert 'kafka3 has unknown role(s) 7' in error_of(kf.kafka_validate_nodes, combined)


def test_validate_host_comparison_ignores_case():
    nodes = [node('a', 1, ['broker', 'controller'], host='Kafka.example.com'),
             node('b', 2, ['broker'], host='kafka.example.com')]
    assert 'kafka.example.com:9092 is used by a (broker_port), b (broker_port)' in error_of(
        kf.kafka_validate_nodes, nodes)


def test_validate_no_role_and_unknown_role(combined):
    combined[0]['roles'] = []
    combined[1]['roles'] = ['broker', 'zookeeper']
    message = error_of(kf.kafka_validate_nodes, combined)
    assert 'kafka3 has neither the broker nor the controller role' in message
    assert 'kafka1 has unknown role(s) zookeeper' in message


def test_validate_no_controller_no_broker():
    message = error_of(kf.kafka_validate_nodes, [node('a', 1, ['observer'])])
    assert 'no node has the controller role' in message
    assert 'no node has the broker role' in message
    assert error_of(kf.kafka_validate_nodes, []).count('no node has') == 2


def test_validate_missing_ports_and_host(split):
    split[0]['broker_port'] = None
    split[1]['controller_port'] = 'x'
    split[2]['host'] = ''
    message = error_of(kf.kafka_validate_nodes, split)
    assert 'b5 has role broker but broker_port is missing' in message
    assert 'c2 has role controller but controller_port is missing' in message
    assert "b4: host is missing or empty: ''" in message


def test_validate_bad_id_and_non_dict(combined):
    combined[0]['id'] = 'three'
    combined.append('kafka4')
    message = error_of(kf.kafka_validate_nodes, combined)
    assert "kafka3: id must be an integer between 0 and 2147483647, got 'three'" in message
    assert 'node #3 is not a kafka_node dict but str' in message


def test_validate_replication_factor_larger_than_brokers(split):
    message = error_of(kf.kafka_validate_nodes, split, replication_factors={
        'offsets.topic.replication.factor': 3, 'default.replication.factor': 2})
    assert 'offsets.topic.replication.factor is 3 but there are only 2 broker(s)' in message
    assert 'default.replication.factor' not in message


def test_validate_min_isr_larger_than_replication_factor(combined):
    message = error_of(kf.kafka_validate_nodes, combined, min_insync_replicas=3,
                       replication_factors={'default.replication.factor': 2,
                                            'offsets.topic.replication.factor': 3})
    assert 'min.insync.replicas is 3, larger than default.replication.factor (2)' in message
    assert 'offsets.topic.replication.factor (3)' not in message


def test_validate_min_isr_equal_to_factor_is_fine(combined):
    assert kf.kafka_validate_nodes(combined, 3, {'default.replication.factor': 3}) is combined


@pytest.mark.parametrize('factors, expected', [
    ({'default.replication.factor': 0}, 'default.replication.factor must be a positive integer'),
    ({'default.replication.factor': 'three'}, 'default.replication.factor must be a positive integer'),
    (['default.replication.factor'], 'replication_factors must be a dict'),
])
def test_validate_bad_replication_factors(combined, factors, expected):
    assert expected in error_of(kf.kafka_validate_nodes, combined, replication_factors=factors)


@pytest.mark.parametrize('min_isr', [0, -1, 'two'])
def test_validate_bad_min_isr(combined, min_isr):
    assert 'min.insync.replicas must be a positive integer' in error_of(
        kf.kafka_validate_nodes, combined, min_insync_replicas=min_isr)


def test_validate_lists_every_problem_at_once(split):
    split[0]['id'] = 1
    split[2]['roles'] = []
    message = error_of(kf.kafka_validate_nodes, split, min_insync_replicas=2,
                       replication_factors={'default.replication.factor': 3})
    assert message.startswith('kafka_validate_nodes found 3 problem(s) in 5 node(s):')
    assert 'node id 1 is used by b5, c1' in message
    assert 'b4 has neither the broker nor the controller role' in message
    assert 'default.replication.factor is 3 but there are only 1 broker(s)' in message
    assert 'min.insync.replicas is 2, larger than' not in message
    assert 'no node has the broker role' not in message


@pytest.mark.parametrize('bad', ['kafka1', {'name': 'a'}, None])
def test_validate_not_a_list(bad):
    assert 'expects a list of kafka_node dicts' in error_of(kf.kafka_validate_nodes, bad)


# --------------------------------------------------------------------------
# Through Ansible itself
# --------------------------------------------------------------------------

def run_ansible_debug(expression):
    ansible = os.path.join(os.path.dirname(sys.executable), 'ansible')
    link = os.path.join(REPO_ROOT, '.cache', 'collections', 'ansible_collections', 'kraft', 'kafka')
    if not os.path.exists(ansible) or not os.path.isdir(link):
        pytest.skip('needs .venv/bin/ansible and the collection link from tools/venv.sh')
    result = subprocess.run(
        [ansible, 'localhost', '-i', 'localhost,', '-c', 'local', '-m', 'debug',
         '-a', 'msg={{ %s }}' % expression],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120, check=False)
    return result.returncode, result.stdout.decode('utf-8', 'replace')


def test_filters_work_in_a_real_template():
    rc, output = run_ansible_debug(
        "[{'name':'a','id':1,'roles':['controller'],'host':'h','controller_port':9093}]"
        " | kraft.kafka.kafka_quorum_voters")
    assert rc == 0, output
    assert '1@h:9093' in output


def test_filter_errors_reach_the_play():
    rc, output = run_ansible_debug(
        "[{'name':'a','id':1,'roles':['broker'],'host':'h','broker_port':9092}]"
        " | kraft.kafka.kafka_validate_nodes")
    assert rc != 0
    assert 'no node has the controller role' in output
