# -*- coding: utf-8 -*-
# Copyright: kraft.kafka maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The one kafka-python 3 admin client layer every kraft.kafka module uses.

Modules build their argument_spec from kafka_connection_argument_spec() and
hand their work to run_module(module, fn): fn gets an admin client that
connects on first use; Kafka errors become actionable fail_json messages;
the client is closed and temporary PEM files are removed.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import atexit
import base64
import collections
import logging
import os
import socket
import ssl
import sys
import tempfile
import time
import traceback
import uuid

from ansible_collections.kraft.kafka.plugins.module_utils.kafka_validation import (
    CallTimeout, Problems, call_bounded, check_spec_types, problems_message, raw_module_args)

KAFKA_PYTHON_REQUIREMENT = "kafka-python>=3.0.12,<4"
KAFKA_PYTHON_MIN_VERSION = (3, 0, 12)
KAFKA_PYTHON_MAX_VERSION = (4,)
CLIENT_ID = 'kraft.kafka'

KAFKA_PYTHON_IMPORT_ERROR = None
KAFKA_PYTHON_VERSION = None
try:
    import kafka.errors as kafka_errors
    from kafka.admin import KafkaAdminClient
    from kafka.version import __version__ as KAFKA_PYTHON_VERSION
    HAS_KAFKA_PYTHON = True
except ImportError:
    kafka_errors = None
    KafkaAdminClient = None
    HAS_KAFKA_PYTHON = False
    KAFKA_PYTHON_IMPORT_ERROR = traceback.format_exc()

SECURITY_PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL']
SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']
SASL_PROTOCOLS = ('SASL_PLAINTEXT', 'SASL_SSL')
SSL_PROTOCOLS = ('SSL', 'SASL_SSL')
PEM_OPTIONS = ('ssl_cafile', 'ssl_certfile', 'ssl_keyfile')

# A TCP probe of the bootstrap servers runs before kafka-python's bootstrap,
# which otherwise retries an unreachable address until request_timeout.
PROBE_TIMEOUT_SECONDS = 5.0


class KafkaModuleError(Exception):
    """An error whose message already tells the user what to do."""


def kafka_connection_argument_spec():
    """The shared connection options; modules update() it with their own."""
    return dict(
        bootstrap_servers=dict(type='list', elements='str', required=True),
        security_protocol=dict(type='str', default='PLAINTEXT', choices=SECURITY_PROTOCOLS),
        sasl_mechanism=dict(type='str', choices=SASL_MECHANISMS),
        sasl_username=dict(type='str'),
        sasl_password=dict(type='str', no_log=True),
        ssl_cafile=dict(type='str'),
        ssl_certfile=dict(type='str'),
        # May hold the private key itself (PEM content), so it is masked like a password.
        ssl_keyfile=dict(type='str', no_log=True),
        ssl_keyfile_password=dict(type='str', no_log=True),
        ssl_check_hostname=dict(type='bool', default=True),
        request_timeout=dict(type='int', default=30),
    )


# ---------------------------------------------------------------- kafka-python

def _version_tuple(version):
    parts = []
    for piece in str(version).split('.'):
        digits = ''
        for char in piece:
            if not char.isdigit():
                break
            digits += char
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def kafka_python_problem():
    """None when a usable kafka-python is importable, else why not."""
    if not HAS_KAFKA_PYTHON:
        return 'kafka-python is not installed'
    version = _version_tuple(KAFKA_PYTHON_VERSION)
    if not KAFKA_PYTHON_MIN_VERSION <= version < KAFKA_PYTHON_MAX_VERSION:
        return 'kafka-python %s is installed, this collection needs %s' % (
            KAFKA_PYTHON_VERSION, KAFKA_PYTHON_REQUIREMENT)
    return None


def require_kafka_python(module):
    """fail_json with the install command when kafka-python is missing or wrong."""
    problem = kafka_python_problem()
    if problem is None:
        return
    module.fail_json(
        msg="%s for the Python that runs this module (%s). Install it with: "
            "%s -m pip install '%s' (kraft.kafka modules run where the task "
            "runs, usually the controller with delegate_to: localhost)."
            % (problem, sys.executable, sys.executable, KAFKA_PYTHON_REQUIREMENT),
        exception=KAFKA_PYTHON_IMPORT_ERROR)


# ------------------------------------------------------------ temporary files

_TEMP_FILES = []


def cleanup_temp_files():
    """Remove every PEM temp file written by this process (idempotent)."""
    while _TEMP_FILES:
        path = _TEMP_FILES.pop()
        try:
            os.unlink(path)
        except OSError:
            pass


atexit.register(cleanup_temp_files)


def _looks_like_pem(value):
    return '-----BEGIN ' in value


def _materialize_pem(option, value):
    """Return a path for an ssl_* option: the path itself or a 0600 temp file."""
    if not _looks_like_pem(value):
        if not os.path.isfile(value):
            raise KafkaModuleError(
                "%s: '%s' is neither PEM content nor a readable file on the host "
                "that runs the module. Pass a path that exists there or the PEM "
                "text itself (e.g. \"{{ lookup('file', 'ca.pem') }}\")." % (option, value))
        return value
    # mkstemp creates the file 0600, so the key never becomes world readable.
    fd, path = tempfile.mkstemp(prefix='kraft-kafka-%s-' % option.replace('_', '-'), suffix='.pem')
    _TEMP_FILES.append(path)
    with os.fdopen(fd, 'w') as handle:
        handle.write(value if value.endswith('\n') else value + '\n')
    return path


# ---------------------------------------------------------- client configuration

def _clean_bootstrap_servers(servers):
    cleaned = [s.strip() for s in (servers or []) if s and s.strip()]
    if not cleaned:
        raise KafkaModuleError(
            "bootstrap_servers is empty: give at least one broker listener as host:port, "
            "e.g. ['kafka1.example.com:9092'].")
    for server in cleaned:
        host, sep, port = server.rpartition(':')
        if sep and (not host or not port.isdigit() or not 0 < int(port) < 65536):
            raise KafkaModuleError(
                "bootstrap_servers entry '%s' is not host:port with a port between 1 and 65535." % server)
    return cleaned


def _check_sasl_options(params):
    protocol = params.get('security_protocol') or 'PLAINTEXT'
    sasl_options = ('sasl_mechanism', 'sasl_username', 'sasl_password')
    if protocol in SASL_PROTOCOLS:
        missing = [name for name in sasl_options if not params.get(name)]
        if missing:
            raise KafkaModuleError(
                "security_protocol=%s needs %s; missing: %s. Set them to the "
                "SASL credentials the brokers accept (sasl_mechanism one of %s)."
                % (protocol, ', '.join(sasl_options), ', '.join(missing), ', '.join(SASL_MECHANISMS)))
        return
    given = [name for name in sasl_options if params.get(name)]
    if given:
        # Silently dropping credentials would connect unauthenticated.
        raise KafkaModuleError(
            "%s given but security_protocol=%s does not use SASL: set security_protocol "
            "to SASL_PLAINTEXT or SASL_SSL, or remove them." % (', '.join(given), protocol))


def _check_ssl_options(params):
    protocol = params.get('security_protocol') or 'PLAINTEXT'
    ssl_options = PEM_OPTIONS + ('ssl_keyfile_password',)
    given = [name for name in ssl_options if params.get(name)]
    if protocol not in SSL_PROTOCOLS and given:
        raise KafkaModuleError(
            "%s given but security_protocol=%s does not use TLS: set security_protocol "
            "to SSL or SASL_SSL, or remove them." % (', '.join(given), protocol))
    if params.get('ssl_keyfile') and not params.get('ssl_certfile'):
        raise KafkaModuleError(
            "ssl_keyfile needs ssl_certfile: a client key is only used together with its certificate.")
    if params.get('ssl_keyfile_password') and not (params.get('ssl_keyfile') or params.get('ssl_certfile')):
        raise KafkaModuleError(
            "ssl_keyfile_password given without ssl_keyfile or ssl_certfile to decrypt.")


def _check_timeout(params):
    timeout = params.get('request_timeout')
    timeout = 30 if timeout is None else timeout
    if timeout < 1:
        raise KafkaModuleError("request_timeout must be at least 1 second, got %s." % timeout)
    return int(timeout)


def kafka_client_config(params):
    """kwargs valid for both KafkaAdminClient and KafkaConsumer.

    Raises KafkaModuleError when options do not fit together. PEM content in
    ssl_* options is written to 0600 temp files (removed by
    cleanup_temp_files() or at interpreter exit).
    """
    servers = _clean_bootstrap_servers(params.get('bootstrap_servers'))
    _check_sasl_options(params)
    _check_ssl_options(params)
    timeout_ms = _check_timeout(params) * 1000
    protocol = params.get('security_protocol') or 'PLAINTEXT'
    config = dict(
        bootstrap_servers=servers,
        client_id=CLIENT_ID,
        security_protocol=protocol,
        request_timeout_ms=timeout_ms,
        # Bootstrap shares the request budget, so one option bounds a task.
        bootstrap_timeout_ms=timeout_ms,
    )
    if protocol in SASL_PROTOCOLS:
        config.update(
            sasl_mechanism=params['sasl_mechanism'],
            sasl_plain_username=params['sasl_username'],
            sasl_plain_password=params['sasl_password'],
        )
    if protocol in SSL_PROTOCOLS:
        config['ssl_check_hostname'] = params.get('ssl_check_hostname', True) is not False
        for option in PEM_OPTIONS:
            if params.get(option):
                config[option] = _materialize_pem(option, params[option])
        if params.get('ssl_keyfile_password'):
            config['ssl_password'] = params['ssl_keyfile_password']
    return config


# ------------------------------------------------------- connection diagnostics

class _ConnectionErrorRecorder(logging.Handler):
    """Keeps the last connection errors kafka-python logs while bootstrapping.

    kafka-python retries failed bootstrap connections (including SASL and TLS
    failures) until its deadline and then raises a bare timeout; the logged
    causes are what tells the user whether to fix credentials or the network.
    """

    def __init__(self):
        logging.Handler.__init__(self, level=logging.WARNING)
        self.errors = collections.deque(maxlen=20)

    def emit(self, record):
        args = record.args if isinstance(record.args, tuple) else ()
        for arg in args:
            if isinstance(arg, BaseException):
                self.errors.append(arg)

    def reset(self):
        self.errors.clear()


_RECORDER = _ConnectionErrorRecorder()
if HAS_KAFKA_PYTHON:
    logging.getLogger('kafka').addHandler(_RECORDER)


def recent_connection_errors():
    """Distinct connection errors seen since the last open_admin_client()."""
    seen = []
    for exc in _RECORDER.errors:
        text = '%s: %s' % (type(exc).__name__, exc) if type(exc).__name__ not in str(exc) else str(exc)
        if text not in seen:
            seen.append(text)
    return seen


def _split_host_port(server):
    host, sep, port = server.rpartition(':')
    if not sep:
        return server, 9092
    return host.strip('[]'), int(port)


def _probe_server(server, timeout):
    """None if a TCP connection to server opens, else a short reason."""
    host, port = _split_host_port(server)
    try:
        conn = socket.create_connection((host, port), timeout=timeout)
    except socket.gaierror as exc:
        return 'name does not resolve (%s)' % exc.strerror
    except socket.timeout:
        return 'no answer within %ss (filtered by a firewall or host down?)' % timeout
    except OSError as exc:
        return exc.strerror or str(exc)
    conn.close()
    return None


def probe_bootstrap_servers(servers, timeout=PROBE_TIMEOUT_SECONDS):
    """Raise KafkaModuleError naming each server when none accepts TCP."""
    failures = []
    for server in servers:
        reason = _probe_server(server, timeout)
        if reason is None:
            return
        failures.append('%s: %s' % (server, reason))
    raise KafkaModuleError(
        "Cannot reach any bootstrap server (%s). Check bootstrap_servers addresses and "
        "ports, that the brokers are running, firewalls between this host and the "
        "brokers, and that the broker listeners/advertised.listeners use an address "
        "reachable from here." % '; '.join(failures))


# ------------------------------------------------------------ error messages

def _error_class(name):
    return getattr(kafka_errors, name, None) if kafka_errors else None


def _is_instance(exc, *names):
    classes = tuple(c for c in (_error_class(n) for n in names) if c is not None)
    return bool(classes) and isinstance(exc, classes)


_AUTHORIZATION_HINTS = (
    ('TopicAuthorizationFailedError',
     "the principal lacks a Topic ACL for this operation (e.g. DESCRIBE, CREATE, ALTER, "
     "ALTER_CONFIGS or DELETE on the topic; kafka-acls.sh --add --operation ... --topic ...)"),
    ('GroupAuthorizationFailedError',
     "the principal lacks a Group ACL (DESCRIBE or READ on the consumer group; "
     "kafka-acls.sh --add --operation Read --group ...)"),
    ('ClusterAuthorizationFailedError',
     "the principal lacks a Cluster ACL (DESCRIBE for status, ALTER or ALTER_CONFIGS "
     "for changes; kafka-acls.sh --add --operation Describe --cluster)"),
    ('TransactionalIdAuthorizationFailedError',
     "the principal lacks a TransactionalId ACL"),
)


def _authorization_message(exc):
    for name, hint in _AUTHORIZATION_HINTS:
        if _is_instance(exc, name):
            return "Not authorized: %s (%s)." % (hint, name)
    return "Not authorized: the principal lacks an ACL for this operation (%s)." % exc


def _authentication_message(detail):
    return ("Authentication failed (%s). Check sasl_username, sasl_password and that "
            "sasl_mechanism matches a mechanism enabled on the broker listener "
            "(sasl.enabled.mechanisms), and that security_protocol matches the listener."
            % detail)


def _tls_message(detail):
    return ("TLS handshake failed (%s). Check security_protocol matches the listener, "
            "ssl_cafile trusts the broker certificate, the certificate names the address in "
            "bootstrap_servers/advertised.listeners (or set ssl_check_hostname: false), "
            "and ssl_certfile/ssl_keyfile for mutual TLS." % detail)


def _sasl_state_message(detail):
    return ("The broker rejected the SASL handshake (%s): the listener in bootstrap_servers "
            "probably does not use SASL. Set security_protocol to the listener's protocol "
            "(see listener.security.protocol.map on the broker)." % detail)


def _bootstrap_timeout_message(exc):
    recent = [text for text in recent_connection_errors() if text != str(exc)]
    joined = '; '.join(recent)
    if 'IllegalSaslState' in joined:
        return _sasl_state_message(joined)
    if any(word in joined for word in ('Sasl', 'SASL', 'Authentication')):
        return _authentication_message(joined)
    if any(word in joined for word in ('SSL', 'CERTIFICATE', 'certificate', 'Handshake')):
        return _tls_message(joined)
    if 'IncompatibleBrokerVersion' in joined or 'UnsupportedVersion' in joined:
        return ("The bootstrap server answered but does not serve client metadata: "
                "bootstrap_servers must list broker listeners, not controller listeners.")
    detail = ('; last errors: %s' % '; '.join(recent[-3:])) if recent else ''
    return ("Could not bootstrap from the Kafka cluster (%s)%s. Check bootstrap_servers "
            "addresses and ports, firewalls, that security_protocol matches the listener, "
            "and that advertised.listeners are reachable from this host." % (exc, detail))


def describe_kafka_error(exc, context=''):
    """An actionable one-line message for exc; never contains credentials."""
    prefix = '%s: ' % context if context else ''
    if isinstance(exc, KafkaModuleError):
        return prefix + str(exc)
    if _is_instance(exc, 'IllegalSaslStateError'):
        return prefix + _sasl_state_message('%s' % exc)
    if _is_instance(exc, 'SaslAuthenticationFailedError', 'UnsupportedSaslMechanismError',
                    'AuthenticationFailedError'):
        return prefix + _authentication_message('%s' % exc)
    if _is_instance(exc, 'AuthorizationError'):
        return prefix + _authorization_message(exc)
    if isinstance(exc, ssl.SSLError):
        return prefix + _tls_message('%s' % exc)
    if _is_instance(exc, 'UnknownTopicOrPartitionError'):
        return prefix + "Unknown topic or partition (%s): it does not exist or is not yet known to the broker." % exc
    if _is_instance(exc, 'KafkaTimeoutError') and 'bootstrap' in str(exc):
        return prefix + _bootstrap_timeout_message(exc)
    if _is_instance(exc, 'RequestTimedOutError', 'KafkaTimeoutError'):
        return prefix + ("Request timed out (%s). The cluster may be overloaded or lack a "
                         "quorum/controller; raise request_timeout if it is just slow." % exc)
    if _is_instance(exc, 'KafkaConnectionError', 'NodeNotReadyError'):
        return prefix + ("Lost connection to a broker (%s). Brokers are reached at their "
                         "advertised.listeners addresses, which must be reachable from this host."
                         % exc)
    if _is_instance(exc, 'IncompatibleBrokerVersion', 'UnsupportedVersionError'):
        return prefix + ("The broker does not support this request (%s). These modules need "
                         "Kafka 4.x brokers; bootstrap_servers must be broker listeners." % exc)
    if _is_instance(exc, 'KafkaConfigurationError'):
        return prefix + "Invalid client configuration: %s" % exc
    if _is_instance(exc, 'BrokerResponseError'):
        description = getattr(exc, 'description', '') or ''
        return prefix + "Kafka rejected the request: %s%s" % (
            exc, (' (%s)' % description) if description and description not in str(exc) else '')
    return prefix + '%s: %s' % (type(exc).__name__, exc)


# ------------------------------------------------------------------ clients

def open_admin_client(module):
    """A connected KafkaAdminClient (use with `with` or call close()).

    Raises KafkaModuleError with an actionable message on any failure.
    """
    return _connect(kafka_client_config(module.params), module)


def _connect(config, module=None):
    problem = kafka_python_problem()
    if problem is not None:
        raise KafkaModuleError("%s; install it with pip install '%s'." % (problem, KAFKA_PYTHON_REQUIREMENT))
    if module is not None:
        for path in _TEMP_FILES:
            module.add_cleanup_file(path)
    servers = config['bootstrap_servers']
    probe_bootstrap_servers(servers, min(PROBE_TIMEOUT_SECONDS, config['request_timeout_ms'] / 1000.0))
    _RECORDER.reset()
    try:
        return KafkaAdminClient(**config)
    except Exception as exc:  # pylint: disable=broad-except
        raise KafkaModuleError(describe_kafka_error(exc, 'Connecting to %s' % ','.join(servers)))


class LazyAdminClient(object):
    """Stands in for a KafkaAdminClient and connects on first use.

    Options are validated when it is created; the connection is opened by
    the first admin call, so modules that poll (wait: true) can also wait for
    a cluster that is still starting, and disconnect() after an error makes
    the next call reconnect.
    """

    def __init__(self, module):
        self._module = module
        self._config = kafka_client_config(module.params)
        for path in _TEMP_FILES:
            module.add_cleanup_file(path)
        self._admin = None

    @property
    def connected(self):
        return self._admin is not None

    def connect(self):
        if self._admin is None:
            self._admin = call_bounded(_connect, self.call_bound, self._config, self._module)
        return self._admin

    @property
    def call_bound(self):
        # request_timeout bounds each request inside kafka-python; the margin
        # covers the TCP probe and a retry. A call that outlives it (a request
        # the client could not encode never completes) is abandoned.
        return self._config['request_timeout_ms'] / 1000.0 + CALL_MARGIN_SECONDS

    def disconnect(self):
        admin, self._admin = self._admin, None
        if admin is not None:
            admin.close()

    close = disconnect

    def __getattr__(self, name):
        if name.startswith('_'):
            raise AttributeError(name)
        attribute = getattr(self.connect(), name)
        if not callable(attribute):
            return attribute

        def bounded(*args, **kwargs):
            return call_bounded(attribute, self.call_bound, *args, **kwargs)
        return bounded

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.disconnect()


def run_module(module, fn, validate=None, int64=()):
    """Validate the input, then run fn(module, admin) and report the outcome.

    Before any connection, validate_input() checks the parameters against
    the argument_spec (strict numbers: int64 names the options that are
    64-bit Kafka fields, every other int is 32-bit) and validate(params,
    problems), the module's own rules; all problems are refused in one
    message. `admin` is a LazyAdminClient: every KafkaAdminClient method,
    connecting on first use, each call bounded by request_timeout plus a
    margin. If fn returns a dict it is passed to module.exit_json(); fn may
    also call exit_json/fail_json itself. KafkaModuleError and Kafka errors
    become fail_json(msg=...); any other exception becomes a message naming
    the module, with the traceback kept for -vvv. The client is closed and
    temp files are removed in every case.
    """
    require_kafka_python(module)
    message = validate_input(module, validate, int64)
    if message:
        module.fail_json(msg=message)
    admin = result = None
    try:
        admin = LazyAdminClient(module)
        result = fn(module, admin)
    except KafkaModuleError as exc:
        _close_quietly(admin)
        module.fail_json(msg=str(exc))
    except CallTimeout as exc:
        _abandon(module, admin, exc)
    except Exception as exc:  # pylint: disable=broad-except
        _close_quietly(admin)
        module.fail_json(msg=unexpected_error_message(module, exc), exception=traceback.format_exc())
    finally:
        _close_quietly(admin)
    if isinstance(result, dict):
        module.exit_json(**result)
    return result


# Seconds a cluster call may take beyond request_timeout before it is abandoned.
CALL_MARGIN_SECONDS = 5.0


def validate_input(module, validate=None, int64=(), raw=None):
    """The refusal message for every input problem of the module, None when the input is valid.

    raw is the arguments before Ansible's type coercion (read from the module run when None).
    """
    problems = Problems()
    check_spec_types(problems, getattr(module, 'argument_spec', None) or {}, module.params,
                     raw_module_args() if raw is None else raw, int64)
    if validate is not None and not problems:
        # The module's rules read typed values; type problems are reported first.
        try:
            validate(module.params, problems)
        except KafkaModuleError as exc:
            problems.add(None, str(exc))
    return problems_message(problems)


def module_name(module):
    name = getattr(module, '_name', None) or os.path.basename(sys.argv[0] or 'module')
    return name.split('.')[-1]


def unexpected_error_message(module, exc):
    """A message for an exception no rule anticipated: module, the Kafka reading if any, what to do."""
    if _is_instance(exc, 'KafkaError') or isinstance(exc, (OSError, ssl.SSLError)):
        return describe_kafka_error(exc)
    return ("%s failed unexpectedly (%s: %s). Nothing was refused by input validation, so the input "
            "passed the documented checks; check the option values against the module documentation, "
            "run with -vvv for the traceback and report it as a bug of kraft.kafka."
            % (module_name(module), type(exc).__name__, str(exc)[:300]))


def _abandon(module, admin, exc):
    """A cluster call did not return: report, and end the process even if client threads hang."""
    if admin is not None:
        try:
            call_bounded(admin.disconnect, CALL_MARGIN_SECONDS)
        except Exception:  # pylint: disable=broad-except
            pass
    cleanup_temp_files()
    timeout = module.params.get('request_timeout') or 30
    try:
        module.fail_json(msg="%s: a call to the cluster gave %s (request_timeout %ss). The client could not "
                             "complete the request (an input it cannot encode, or a cluster that does not answer); "
                             "nothing more was sent. Check the inputs and the cluster, or raise request_timeout."
                             % (module_name(module), exc, timeout))
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(1)  # pylint: disable=protected-access


def _close_quietly(admin):
    # Runs before fail_json/exit_json as well: those exit the process, and
    # kafka-python's network thread must be stopped first.
    try:
        if admin is not None:
            admin.close()
    except Exception:  # pylint: disable=broad-except
        pass
    cleanup_temp_files()


# ------------------------------------------------------------------ polling

def _transient_errors():
    classes = [KafkaModuleError, OSError]
    if kafka_errors is not None:
        classes.append(kafka_errors.KafkaError)
    return tuple(classes)


def report_until_healthy(module, admin, probe, subject):
    """Shared body of the read-only health modules (quorum status, cluster health).

    Runs probe(admin) -> (state, reasons) once, or until healthy when
    module.params['wait'] is set, and returns the module result. A health
    gate that is still failing at the timeout must stop the play, so waiting
    without success fails the task with the reasons.
    """
    params = module.params
    for name in ('max_lag', 'wait_timeout'):
        if params[name] < 0:
            raise KafkaModuleError('%s must be 0 or more, got %d.' % (name, params[name]))
    state, reasons, attempts, elapsed = poll_until_ok(probe, admin, params['wait'], params['wait_timeout'])
    result = dict(state or {}, changed=False, healthy=not reasons, reasons=reasons,
                  attempts=attempts, elapsed=elapsed)
    if reasons and params['wait']:
        module.fail_json(msg='%s not healthy after %ss: %s' % (subject, elapsed, '; '.join(reasons)), **result)
    return result


def poll_until_ok(probe, admin, wait, timeout, interval=0.5):
    """Call probe(admin) -> (state, reasons) until reasons is empty.

    With wait false, probe runs once and errors propagate. With wait true,
    Kafka/connection errors count as a reason (the admin client reconnects
    for the next attempt) and probing repeats every `interval` seconds until
    `timeout` seconds have passed. Returns (state, reasons, attempts,
    elapsed); state is from the last successful probe (None if none was).
    Half a second by default: a probe is a few cheap metadata requests, and a
    health gate should pass soon after the cluster is healthy again.
    """
    start = time.monotonic()
    state, attempts = None, 0
    while True:
        attempts += 1
        try:
            state, reasons = probe(admin)
        except _transient_errors() as exc:
            if not wait:
                raise
            reasons = [describe_kafka_error(exc)]
            if hasattr(admin, 'disconnect'):
                admin.disconnect()
        elapsed = time.monotonic() - start
        if not reasons or not wait or elapsed >= timeout:
            return state, reasons, attempts, round(elapsed, 3)
        time.sleep(max(0.0, min(interval, timeout - elapsed)))


# ------------------------------------------------------------ quorum helpers

def kafka_uuid(value):
    """A Kafka Uuid as Kafka's tools print it (22-char base64), None for zero/unset."""
    if value is None:
        return None
    if not isinstance(value, uuid.UUID):
        text = str(value)
        if len(text) != 36:
            return text
        value = uuid.UUID(text)
    if value.int == 0:
        return None
    return base64.urlsafe_b64encode(value.bytes).decode('ascii').rstrip('=')


def _known(value):
    return value if value is not None and value >= 0 else None


def _replica_state(raw, status, leader, endpoints):
    log_end_offset = raw.get('log_end_offset', -1)
    caught_up = _known(raw.get('last_caught_up_timestamp'))
    lag = lag_time = None
    if leader is not None:
        lag = leader['log_end_offset'] - log_end_offset
        leader_time = _known(leader.get('last_caught_up_timestamp'))
        if lag <= 0:
            # Holding the leader's log end offset is being caught up now,
            # however long ago the last fetch was.
            lag_time = 0
        elif caught_up is not None and leader_time is not None:
            lag_time = max(0, leader_time - caught_up)
    return dict(
        replica_id=raw['replica_id'],
        directory_id=kafka_uuid(raw.get('replica_directory_id')),
        status=status,
        log_end_offset=log_end_offset,
        lag=lag,
        last_fetch_timestamp=_known(raw.get('last_fetch_timestamp')),
        last_caught_up_timestamp=caught_up,
        lag_time_ms=lag_time,
        endpoints=endpoints.get(raw['replica_id'], []),
    )


def _controller_endpoints(raw):
    endpoints = {}
    for node in raw.get('nodes') or []:
        endpoints[node['node_id']] = ['%s://%s:%s' % (l['name'], l['host'], l['port'])
                                      for l in node.get('listeners') or []]
    return endpoints


def summarize_quorum(raw):
    """Normalize admin.describe_metadata_quorum() output (see RETURN docs).

    Lags are relative to the leader's log end offset and last caught-up
    time, as kafka-metadata-quorum.sh reports them.
    """
    partition = raw['topics'][0]['partitions'][0]
    if partition.get('error'):
        raise KafkaModuleError('DescribeQuorum failed: %s' % partition['error'])
    leader_id = partition['leader_id']
    voters_raw = partition.get('current_voters') or []
    leader = next((v for v in voters_raw if v['replica_id'] == leader_id), None)
    endpoints = _controller_endpoints(raw)
    voters = [_replica_state(v, 'Leader' if v['replica_id'] == leader_id else 'Follower', leader, endpoints)
              for v in voters_raw]
    observers = [_replica_state(o, 'Observer', leader, endpoints) for o in partition.get('observers') or []]
    lags = [v['lag'] for v in voters if v['lag'] is not None]
    lag_times = [v['lag_time_ms'] for v in voters if v['lag_time_ms'] is not None]
    return dict(
        leader_id=leader_id if leader_id >= 0 else None,
        leader_epoch=partition['leader_epoch'],
        high_watermark=partition['high_watermark'],
        max_follower_lag=max(lags) if lags else None,
        max_follower_lag_time_ms=max(lag_times) if lag_times else None,
        voters=voters,
        observers=observers,
    )


def quorum_problems(quorum, max_lag, expected_voters=None):
    """Reasons (list of str) why the summarized quorum is not healthy."""
    if quorum['leader_id'] is None:
        return ['the metadata quorum has no leader (an election is running or a '
                'majority of the controllers is down)']
    reasons = []
    voter_ids = sorted(v['replica_id'] for v in quorum['voters'])
    if expected_voters is not None:
        missing = sorted(set(expected_voters) - set(voter_ids))
        extra = sorted(set(voter_ids) - set(expected_voters))
        if missing:
            reasons.append('expected voter(s) %s are not in the quorum (voters: %s)'
                           % (_ids(missing), _ids(voter_ids)))
        if extra:
            reasons.append('voter(s) %s are not in expected_voters %s'
                           % (_ids(extra), _ids(sorted(expected_voters))))
    for voter in quorum['voters']:
        if voter['lag'] is not None and voter['lag'] > max_lag:
            since = ('' if voter['lag_time_ms'] is None
                     else ', last caught up %d ms before the leader' % voter['lag_time_ms'])
            reasons.append('voter %d is %d records behind the leader (max_lag %d)%s'
                           % (voter['replica_id'], voter['lag'], max_lag, since))
    return reasons


def _ids(ids):
    return ', '.join(str(i) for i in ids)


# ------------------------------------------------------------ result helpers

_NAME_KEYS = ('name', 'topic', 'topic_name', 'resource_name', 'group_id', 'feature')


def _error_text(value):
    """None for success values kafka-python uses, else the error as text."""
    if value is None or value == 'OK':
        return None
    if isinstance(value, type) and issubclass(value, Exception):
        if kafka_errors is not None and issubclass(value, kafka_errors.NoError):
            return None
        description = getattr(value, 'description', '') or ''
        return '%s%s' % (value.__name__, (': %s' % description) if description else '')
    if isinstance(value, BaseException):
        if kafka_errors is not None and isinstance(value, kafka_errors.NoError):
            return None
        return str(value)
    if isinstance(value, dict):
        return _dict_error_text(value)
    return str(value)


def _dict_error_text(item):
    if 'error_code' in item:
        code = item.get('error_code') or 0
        if code == 0:
            return None
        error = kafka_errors.for_code(code) if kafka_errors else None
        label = error.__name__ if error else 'error %s' % code
        detail = item.get('error_message') or (getattr(error, 'description', '') if error else '')
        return '%s%s' % (label, (': %s' % detail) if detail else '')
    if 'error' in item:
        return _error_text(item['error'])
    return None


def _item_label(item, fallback):
    if isinstance(item, dict):
        for key in _NAME_KEYS:
            if item.get(key) is not None:
                label = str(item[key])
                if item.get('partition_index') is not None:
                    label += '-%s' % item['partition_index']
                return label
    return str(fallback)


def per_item_errors(response_items, label=''):
    """[(label, message)] for each failed item in a kafka-python result.

    Understands the shapes kafka-python 3 returns when it does not raise:
    lists of response dicts with error_code/error_message, dicts mapping a
    key to an error class/instance, 'OK' or a message string, dicts of
    {'error': ...}, nested dicts ({resource_type: {name: result}}), lists of
    (key, error) tuples and protocol response objects (via to_dict()).
    """
    items = response_items
    if hasattr(items, 'to_dict'):
        items = items.to_dict()
    failures = []
    if isinstance(items, dict) and 'error_code' not in items and 'error' not in items:
        for key, value in items.items():
            sub = '%s/%s' % (label, key) if label else str(key)
            if isinstance(value, (dict, list)) and not _is_leaf_dict(value):
                failures.extend(per_item_errors(value, sub))
            else:
                text = _error_text(value)
                if text:
                    failures.append((sub, text))
        return failures
    if isinstance(items, dict):
        text = _dict_error_text(items)
        return [(label or _item_label(items, '?'), text)] if text else []
    for index, item in enumerate(items or []):
        if isinstance(item, tuple) and len(item) == 2:
            text = _error_text(item[1])
            if text:
                failures.append((str(item[0]), text))
            continue
        text = _error_text(item)
        if text:
            failures.append((_item_label(item, index), text))
    return failures


def _is_leaf_dict(value):
    return isinstance(value, dict) and ('error_code' in value or 'error' in value)


def _matches_ignored(text, ignore):
    for entry in ignore or ():
        name = entry if isinstance(entry, str) else getattr(entry, '__name__', str(entry))
        if text.startswith(name):
            return True
    return False


def check_per_item_errors(response_items, what, ignore=()):
    """Raise KafkaModuleError listing every failed item of a kafka-python result.

    `what` completes "Failed to ...", e.g. 'create topics'. `ignore` holds
    error classes or class names that are acceptable (e.g.
    'TopicAlreadyExistsError'). Returns the list of ignored failures.
    """
    failures = per_item_errors(response_items)
    ignored = [f for f in failures if _matches_ignored(f[1], ignore)]
    fatal = [f for f in failures if f not in ignored]
    if fatal:
        raise KafkaModuleError('Failed to %s: %s' % (what, '; '.join('%s: %s' % f for f in fatal)))
    return ignored
