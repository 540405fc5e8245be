# -*- coding: utf-8 -*-
# Copyright: kraft.kafka maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The one input-validation layer of the kraft.kafka modules.

run_module() calls validate_input() before any connection is opened. It
walks the module's argument_spec over the parameters and collects every
problem (strict numbers: a boolean is never a number; Kafka protocol
ranges; names without stray whitespace or control characters; empty scope
lists refused), then the module's own rules add theirs. All problems are
reported in one message by problems_message(), so an operator fixes the
whole input at once and nothing reaches the cluster.

Values are always shown quoted (repr), and an empty value is named as
empty, so a trailing space or an empty string is visible in the message.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import math
import re
import threading

INT32_MIN, INT32_MAX = -2 ** 31, 2 ** 31 - 1
INT64_MIN, INT64_MAX = -2 ** 63, 2 ** 63 - 1

# Kafka's topic name rules (org.apache.kafka.common.internals.Topic).
TOPIC_MAX_LENGTH = 249
_TOPIC_CHARS = re.compile(r'^[a-zA-Z0-9._-]+$')
_CONTROL = re.compile(r'[\x00-\x1f\x7f]')

# ISO 8601 duration (PnDTnHnMnS, weeks as PnW), the form kafka-consumer-groups.sh takes.
_DURATION = re.compile(
    r'^(?P<sign>-)?P(?:(?P<weeks>\d+)W|(?:(?P<days>\d+)D)?'
    r'(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?)$')


class Problems(object):
    """Collects input problems; `option` names where each one is."""

    def __init__(self):
        self.items = []

    def add(self, option, text):
        self.items.append('%s: %s' % (option, text) if option else text)

    def extend(self, texts):
        self.items.extend(texts)

    def __len__(self):
        return len(self.items)

    def __bool__(self):
        return bool(self.items)

    __nonzero__ = __bool__


def problems_message(problems):
    """The one refusal message for a list of input problems (None when there are none)."""
    items = list(problems.items if isinstance(problems, Problems) else problems)
    if not items:
        return None
    return 'Nothing was changed: %d problem(s) found: %s' % (len(items), '; '.join(items))


def show(value):
    """A value as the user should see it in a message: quoted, empty named as empty."""
    if value is None:
        return 'null (no value)'
    if isinstance(value, str) and not value.strip():
        return 'an empty value' if value == '' else 'a whitespace-only value %r' % value
    if isinstance(value, (list, dict)) and not value:
        return 'an empty %s' % ('list' if isinstance(value, list) else 'mapping')
    if isinstance(value, bool):
        return 'the boolean %s' % ('true' if value else 'false')
    return repr(value)


# ------------------------------------------------------------------ scalars

def check_integer(problems, option, value, minimum=INT32_MIN, maximum=INT32_MAX, what='a number'):
    """A whole number within [minimum, maximum]; a boolean is refused (YAML true is not 1)."""
    if value is None:
        return True
    if isinstance(value, bool) or not isinstance(value, int):
        problems.add(option, 'must be %s, got %s; write a whole number without quotes or true/false.'
                     % (what, show(value)))
        return False
    if value < minimum or value > maximum:
        problems.add(option, 'must be from %d to %d (%s), got %s.' % (minimum, maximum, _range_name(maximum), value))
        return False
    return True


def _range_name(maximum):
    if maximum == INT32_MAX:
        return "Kafka's 32-bit field"
    if maximum == INT64_MAX:
        return "Kafka's 64-bit field"
    return 'the allowed range'


def check_text(problems, option, value, what='a name', allow_empty=False):
    """Text without leading/trailing whitespace or control characters; non-empty unless allowed."""
    if value is None:
        return True
    if not isinstance(value, str):
        problems.add(option, 'must be text (%s), got %s.' % (what, show(value)))
        return False
    if value == '' and allow_empty:
        return True
    if not value.strip():
        problems.add(option, 'must be %s, got %s.' % (what, show(value)))
        return False
    if value != value.strip():
        problems.add(option, '%r has leading or trailing whitespace; remove it (Kafka would take it as '
                     'part of the %s).' % (value, what.replace('a ', '', 1)))
        return False
    if _CONTROL.search(value):
        problems.add(option, '%r contains a control character (newline, tab, ...); remove it.' % value)
        return False
    return True


def topic_name_problem(name):
    """Why Kafka would refuse `name` as a topic name, or None."""
    if name in ('.', '..'):
        return 'a topic cannot be named %r.' % name
    if len(name) > TOPIC_MAX_LENGTH:
        return 'a topic name has at most %d characters, %r has %d.' % (TOPIC_MAX_LENGTH, name[:20] + '...', len(name))
    if not _TOPIC_CHARS.match(name):
        return ('%r: a topic name may only contain ASCII letters, digits, ".", "_" and "-".' % name)
    return None


def check_topic_name(problems, option, name):
    if not check_text(problems, option, name, 'a topic name'):
        return False
    problem = topic_name_problem(name)
    if problem:
        problems.add(option, problem)
        return False
    return True


def collision_key(name):
    """Kafka refuses topics whose names differ only by '.' versus '_' (metric names collide)."""
    return name.replace('.', '_')


def check_unique(problems, option, names, topics=False):
    """Duplicates (and, for topics, '.'/'_' collisions) within one call."""
    seen = {}
    for name in names:
        if not isinstance(name, str):
            continue
        key = collision_key(name) if topics else name
        if key in seen:
            other = seen[key]
            if other == name:
                problems.add(option, '%r is given more than once; give each once.' % name)
            else:
                problems.add(option, '%r and %r collide: Kafka treats "." and "_" in topic names as the '
                             'same (metric names), so only one of them can exist.' % (other, name))
        else:
            seen[key] = name


def check_node_ids(problems, option, ids, empty_means):
    """An optional list of node ids: not empty (empty_means says why), whole numbers >= 0, each once."""
    if ids is not None and not ids:
        problems.add(option, 'an empty list is refused: %s. Omit %s to skip the comparison, or list the '
                     'node ids.' % (empty_means, option))
    for index, node in enumerate(ids or []):
        check_integer(problems, '%s[%d]' % (option, index), node, 0)
    check_unique(problems, option, [str(node) for node in ids or []])


def check_scope_list(problems, option, value, everything, omit_means):
    """An empty list where an empty scope would widen to everything is refused."""
    if value is not None and isinstance(value, list) and not value:
        problems.add(option, 'an empty list is refused: it would select %s. Omit %s to mean %s, or list '
                     'what to act on.' % (everything, option, omit_means))
        return False
    return True


def parse_duration(problems, option, value, maximum_days=3650):
    """An ISO 8601 duration (PnDTnHnMnS or PnW) as a timedelta, None when invalid."""
    if not isinstance(value, str) or not value.strip():
        problems.add(option, 'must be an ISO 8601 duration such as PT1H or P1DT12H, got %s.' % show(value))
        return None
    match = _DURATION.match(value)
    if not match or value.rstrip('T').endswith('P') or value.endswith('T'):
        problems.add(option, '%r is not an ISO 8601 duration (examples: PT30M, PT1H, P1DT12H, -PT15M).' % value)
        return None
    parts = dict((k, float(v)) for k, v in match.groupdict().items() if v and k != 'sign')
    delta = datetime.timedelta(weeks=parts.get('weeks', 0), days=parts.get('days', 0), hours=parts.get('hours', 0),
                               minutes=parts.get('minutes', 0), seconds=parts.get('seconds', 0)) \
        if sum(parts.values()) < 10 ** 9 else None
    if delta is None or delta > datetime.timedelta(days=maximum_days):
        problems.add(option, '%r is longer than %d days.' % (value, maximum_days))
        return None
    return -delta if match.group('sign') else delta


def parse_datetime(problems, option, value):
    """An ISO 8601 date-time with a time zone, as an aware datetime, None when invalid.

    The epoch is the lower bound: Kafka's timestamp lookup treats negative
    timestamps as the special earliest/latest markers.
    """
    if not isinstance(value, str) or not value.strip():
        problems.add(option, 'must be an ISO 8601 date-time such as 2026-01-31T12:00:00Z, got %s.' % show(value))
        return None
    text = value[:-1] + '+00:00' if value.endswith(('Z', 'z')) else value
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        problems.add(option, '%r is not an ISO 8601 date-time (example: 2026-01-31T12:00:00Z).' % value)
        return None
    if moment.tzinfo is None:
        problems.add(option, '%r has no time zone; add Z or an offset such as +01:00.' % value)
        return None
    if moment < datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc):
        problems.add(option, '%r is before 1970-01-01: Kafka has no records with earlier timestamps.' % value)
        return None
    return moment


# ------------------------------------------------------------------ spec walk

def _walk(problems, spec, params, prefix, int64):
    for name, option in spec.items():
        if name not in params:
            continue
        value = params[name]
        path = '%s%s' % (prefix, name)
        kind, elements = option.get('type', 'str'), option.get('elements')
        if value is None:
            continue
        if kind == 'int':
            _check_number(problems, path, value, int64)
        elif kind == 'float' and isinstance(value, bool):
            problems.add(path, 'must be a number, got %s.' % show(value))
        elif kind == 'list' and isinstance(value, list):
            for index, item in enumerate(value):
                item_path = '%s[%d]' % (path, index)
                if elements == 'int':
                    _check_number(problems, item_path, item, int64, name)
                elif elements == 'dict' and isinstance(item, dict) and option.get('options'):
                    _walk(problems, option['options'], item, item_path + '.', int64)


def _check_number(problems, path, value, int64, base=None):
    plain = re.sub(r'\[\d+\]', '[]', path)
    wide = plain in int64 or (base is not None and base in int64)
    if wide:
        check_integer(problems, path, value, INT64_MIN, INT64_MAX)
    else:
        check_integer(problems, path, value)


def check_spec_types(problems, spec, params, raw=None, int64=()):
    """Strict numbers over the whole argument_spec.

    Ansible's int type keeps a YAML boolean as True (an int subclass) and its
    float type turns it into 1.0, so the raw arguments are consulted for
    floats. Every int option is a 32-bit Kafka field unless named in int64
    (paths like 'offset' or 'partitions[].offset').
    """
    _walk(problems, spec, params, '', set(int64))
    for name, option in spec.items():
        if option.get('type') == 'float' and raw and isinstance(raw.get(name), bool):
            problems.add(name, 'must be a number, got %s.' % show(raw[name]))


def raw_module_args():
    """The module's arguments as Ansible passed them (before type coercion), {} outside a module run."""
    try:
        from ansible.module_utils import basic
        # Set by AnsibleModule from stdin; _load_params() only re-reads that copy then.
        if getattr(basic, '_ANSIBLE_ARGS', None) is None:
            return {}
        args = basic._load_params()  # pylint: disable=protected-access
    except (ImportError, SystemExit, Exception):  # pylint: disable=broad-except
        return {}
    return args if isinstance(args, dict) else {}


# ------------------------------------------------------------------ bounding

class CallTimeout(Exception):
    """A call did not return within its bound."""


def call_bounded(fn, timeout, *args, **kwargs):
    """fn(*args, **kwargs) in a daemon thread, CallTimeout after `timeout` seconds.

    kafka-python can wait forever on a request it failed to encode (the
    future is never completed); a daemon thread lets the module report and
    exit while that call is abandoned.
    """
    outcome = {}

    def target():
        try:
            outcome['value'] = fn(*args, **kwargs)
        except BaseException as exc:  # pylint: disable=broad-except
            outcome['error'] = exc

    worker = threading.Thread(target=target, name='kraft-bounded-call')
    worker.daemon = True
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise CallTimeout('no answer within %ss' % timeout)
    if 'error' in outcome:
        raise outcome['error']
    return outcome.get('value')


# ------------------------------------------------------------------ before AnsibleModule

# Ansible converts an int option given as text through decimal.Decimal: 'inf'
# raises OverflowError (a traceback) and '1e999999999' builds a huge integer
# (minutes of CPU). Such text is refused before AnsibleModule sees it.
_MAX_NUMBER_TEXT = 40


def number_text_problems(spec, raw, prefix=''):
    """Problems of int options given as text that Ansible's conversion would choke on."""
    problems = Problems()
    _number_text(problems, spec, raw if isinstance(raw, dict) else {}, prefix)
    return problems


def _number_text(problems, spec, raw, prefix):
    for name, option in spec.items():
        keys = [name] + list(option.get('aliases') or [])
        for key in keys:
            if key not in raw:
                continue
            value, path = raw[key], prefix + key
            if option.get('type') == 'int':
                _one_number_text(problems, path, value)
            elif option.get('type') == 'list' and isinstance(value, list):
                for index, item in enumerate(value):
                    item_path = '%s[%d]' % (path, index)
                    if option.get('elements') == 'int':
                        _one_number_text(problems, item_path, item)
                    elif option.get('options') and isinstance(item, dict):
                        _number_text(problems, option['options'], item, item_path + '.')


def _one_number_text(problems, path, value):
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        problems.add(path, 'must be a whole number, got %r.' % value)
    elif isinstance(value, str):
        text = value.strip().lower()
        if len(text) > _MAX_NUMBER_TEXT or re.search(r'(inf|nan|e)', text):
            problems.add(path, 'must be a whole number, got %s (text Ansible cannot read as a '
                         'number in range).' % show(value[:_MAX_NUMBER_TEXT]))


def new_module(module_class, **kwargs):
    """module_class(**kwargs) after refusing number text that would crash or stall Ansible's conversion."""
    try:
        from ansible.module_utils import basic
        raw = basic._load_params()  # pylint: disable=protected-access
    except Exception:  # pylint: disable=broad-except
        raw = {}
    problems = number_text_problems(kwargs.get('argument_spec') or {}, raw)
    if problems:
        _fail_early(problems_message(problems))
    try:
        return module_class(**kwargs)
    except (OverflowError, MemoryError) as exc:
        _fail_early('Nothing was changed: an option value could not be converted (%s: %s); give whole '
                    'numbers within Kafka\'s range.' % (type(exc).__name__, exc))


def _fail_early(message):
    # Before AnsibleModule exists there is no fail_json: answer in its JSON shape ourselves.
    import json
    import sys
    print(json.dumps(dict(failed=True, msg=message)))  # pylint: disable=ansible-bad-function
    sys.exit(1)  # pylint: disable=ansible-bad-function
