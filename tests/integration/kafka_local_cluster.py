# -*- coding: utf-8 -*-
"""A real three-node KRaft cluster (combined broker+controller) on 127.0.0.1.

Used by tests/integration/conftest.py. Ports are chosen at run time so
several engineers (and CI jobs) can run clusters side by side.
"""

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_VERSION = '4.4.0'
SCALA_VERSION = '2.13'
NODE_COUNT = 3
STOP_GRACE_SECONDS = 60
START_TIMEOUT_SECONDS = 180

# Three JVMs per cluster share two cores with other engineers' clusters:
# small heaps, serial GC and C1-only JIT keep CPU and memory low.
SERVER_HEAP_OPTS = '-Xmx384m -Xms64m'
CLI_HEAP_OPTS = '-Xmx256m -Xms32m'
JVM_PERFORMANCE_OPTS = ('-server -XX:+UseSerialGC -XX:TieredStopAtLevel=1 '
                        '-XX:-UsePerfData -Djava.awt.headless=true')


class ClusterError(RuntimeError):
    """The local cluster could not be started or stopped cleanly."""


def kafka_version():
    return os.environ.get('KRAFT_TEST_KAFKA_VERSION', DEFAULT_VERSION)


def kafka_archive(version=None):
    version = version or kafka_version()
    return REPO_ROOT / '.cache' / 'dist' / ('kafka_%s-%s.tgz' % (SCALA_VERSION, version))


def free_ports(count):
    """`count` distinct ports the kernel just reported free on 127.0.0.1."""
    sockets = []
    try:
        for _index in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(('127.0.0.1', 0))
            sockets.append(sock)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for sock in sockets:
            sock.close()


def random_cluster_id():
    """A Kafka Uuid string (22 chars url-safe base64), like kafka-storage random-uuid."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode('ascii').rstrip('=')
        # Kafka avoids ids starting with '-' so they never look like CLI flags.
        if not text.startswith('-'):
            return text


def unpack_kafka(archive, dest):
    """Extract the distribution into dest; return the kafka_* home directory."""
    if not archive.is_file():
        raise ClusterError('%s is missing: run bash tools/kafka-standin/build.sh %s'
                           % (archive, kafka_version()))
    with tarfile.open(str(archive)) as tar:
        # Our own archive: keep its modes (bin/*.sh executable) as they are.
        if hasattr(tarfile, 'fully_trusted_filter'):
            tar.extractall(str(dest), filter='fully_trusted')
        else:
            tar.extractall(str(dest))
    homes = [p for p in Path(dest).iterdir() if p.is_dir() and p.name.startswith('kafka_')]
    if len(homes) != 1:
        raise ClusterError('expected one kafka_* directory in %s, found %s' % (archive, homes))
    return homes[0]


def tail(path, lines=40):
    try:
        with open(str(path), 'rb') as handle:
            data = handle.read().decode('utf-8', 'replace')
    except OSError:
        return '(no %s)' % path
    return '\n'.join(data.splitlines()[-lines:])


class KafkaNode(object):
    """One combined broker+controller process."""

    def __init__(self, node_id, base_dir, broker_port, controller_port):
        self.id = node_id
        self.dir = Path(base_dir) / ('node-%d' % node_id)
        self.data_dir = self.dir / 'data'
        self.log_dir = self.dir / 'logs'
        self.config_file = self.dir / 'server.properties'
        self.broker_port = broker_port
        self.controller_port = controller_port
        self.process = None

    @property
    def pid(self):
        return self.process.pid if self.process is not None else None

    @property
    def running(self):
        return self.process is not None and self.process.poll() is None

    @property
    def bootstrap(self):
        return '127.0.0.1:%d' % self.broker_port

    @property
    def controller_address(self):
        return '127.0.0.1:%d' % self.controller_port

    def as_dict(self):
        return dict(id=self.id, broker_port=self.broker_port, controller_port=self.controller_port,
                    log_dir=str(self.log_dir), data_dir=str(self.data_dir), pid=self.pid,
                    running=self.running)

    def __repr__(self):
        return 'KafkaNode(%r)' % self.as_dict()


class KafkaLocalCluster(object):
    """Three combined KRaft nodes with static controller.quorum.voters."""

    def __init__(self, base_dir, version=None, node_count=NODE_COUNT):
        self.base_dir = Path(base_dir)
        self.version = version or kafka_version()
        self.cluster_id = random_cluster_id()
        self.home = None
        ports = free_ports(2 * node_count)
        self.nodes = [KafkaNode(i + 1, self.base_dir, ports[2 * i], ports[2 * i + 1])
                      for i in range(node_count)]
        self.warnings = []

    # -------------------------------------------------------------- addresses

    @property
    def bootstrap_servers(self):
        return [n.bootstrap for n in self.nodes]

    @property
    def bootstrap(self):
        return ','.join(self.bootstrap_servers)

    @property
    def controller_bootstrap(self):
        return ','.join(n.controller_address for n in self.nodes)

    @property
    def quorum_voters(self):
        return ','.join('%d@%s' % (n.id, n.controller_address) for n in self.nodes)

    def node(self, node_id):
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise KeyError('no node %s in %s' % (node_id, [n.id for n in self.nodes]))

    # ------------------------------------------------------------ processes

    def cli_env(self, heap=CLI_HEAP_OPTS):
        env = dict(os.environ)
        env.update(KAFKA_HEAP_OPTS=heap, KAFKA_JVM_PERFORMANCE_OPTS=JVM_PERFORMANCE_OPTS,
                   KAFKA_JMX_OPTS='-Dcom.sun.management.jmxremote=false')
        env.pop('JMX_PORT', None)
        return env

    def cli(self, tool, *args, **kwargs):
        """Run bin/<tool> (e.g. 'kafka-topics.sh') and return CompletedProcess."""
        timeout = kwargs.pop('timeout', 120)
        check = kwargs.pop('check', True)
        env = self.cli_env()
        env['LOG_DIR'] = str(self.base_dir / 'cli-logs')
        result = subprocess.run([str(self.home / 'bin' / tool)] + [str(a) for a in args],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                universal_newlines=True, timeout=timeout, check=False, **kwargs)
        if check and result.returncode != 0:
            raise ClusterError('%s %s failed (%s):\n%s\n%s' % (
                tool, ' '.join(map(str, args)), result.returncode, result.stdout, result.stderr))
        return result

    def _server_properties(self, node):
        settings = [
            ('process.roles', 'broker,controller'),
            ('node.id', node.id),
            ('controller.quorum.voters', self.quorum_voters),
            ('listeners', 'PLAINTEXT://127.0.0.1:%d,CONTROLLER://127.0.0.1:%d'
             % (node.broker_port, node.controller_port)),
            ('advertised.listeners', 'PLAINTEXT://127.0.0.1:%d,CONTROLLER://127.0.0.1:%d'
             % (node.broker_port, node.controller_port)),
            ('inter.broker.listener.name', 'PLAINTEXT'),
            ('controller.listener.names', 'CONTROLLER'),
            ('listener.security.protocol.map', 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT'),
            ('log.dirs', node.data_dir),
            ('num.partitions', 1),
            ('default.replication.factor', 3),
            ('min.insync.replicas', 2),
            ('offsets.topic.replication.factor', 3),
            ('offsets.topic.num.partitions', 10),
            ('transaction.state.log.replication.factor', 3),
            ('transaction.state.log.min.isr', 2),
            ('share.coordinator.state.topic.replication.factor', 3),
            ('share.coordinator.state.topic.min.isr', 2),
            ('group.initial.rebalance.delay.ms', 0),
            ('auto.create.topics.enable', 'false'),
            ('num.network.threads', 2),
            ('num.io.threads', 2),
            ('num.recovery.threads.per.data.dir', 1),
            ('background.threads', 2),
            ('log.cleaner.threads', 1),
        ]
        return ''.join('%s=%s\n' % (k, v) for k, v in settings)

    def _write_config(self, node):
        for path in (node.dir, node.data_dir, node.log_dir):
            path.mkdir(parents=True, exist_ok=True)
        node.config_file.write_text(self._server_properties(node))

    def _format_command(self, node):
        """argv of kafka-storage format for one node; subclasses add quorum, SCRAM or release options."""
        return [str(self.node_home(node.id) / 'bin' / 'kafka-storage.sh'), 'format', '-t', self.cluster_id,
                '-c', str(node.config_file)]

    def node_home(self, node_id):
        """The Kafka installation a node runs (one for all nodes here)."""
        return self.home

    def _format(self):
        """kafka-storage format on every node, in parallel (each is a JVM start)."""
        procs = []
        for node in self.nodes:
            env = self.cli_env()
            env['LOG_DIR'] = str(node.log_dir)
            out = open(str(node.log_dir / 'format.out'), 'w')
            procs.append((node, out, subprocess.Popen(self._format_command(node), env=env, stdout=out,
                                                      stderr=subprocess.STDOUT)))
        for node, out, proc in procs:
            code = proc.wait(timeout=180)
            out.close()
            if code != 0:
                raise ClusterError('kafka-storage format failed on node %d:\n%s'
                                   % (node.id, tail(node.log_dir / 'format.out')))

    def start_node(self, node_id):
        """Start a node's process (storage must be formatted); does not wait."""
        node = self.node(node_id)
        if node.running:
            return node
        env = self.cli_env(heap=SERVER_HEAP_OPTS)
        env.update(LOG_DIR=str(node.log_dir), EXTRA_ARGS='-name kafkaServer')
        out = open(str(node.log_dir / 'server.out'), 'a')
        # Own session: teardown signals the node without touching pytest.
        node.process = subprocess.Popen(
            [str(self.home / 'bin' / 'kafka-server-start.sh'), str(node.config_file)],
            env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
        out.close()
        return node

    def stop_node(self, node_id, grace=STOP_GRACE_SECONDS):
        """SIGTERM a node and wait; SIGKILL (and record a warning) after `grace` s."""
        node = self.node(node_id)
        self._signal(node, signal.SIGTERM)
        self._reap(node, grace)
        return node

    def _signal(self, node, signum):
        if node.running:
            try:
                os.killpg(node.process.pid, signum)
            except ProcessLookupError:
                pass

    def _reap(self, node, grace):
        if node.process is None:
            return
        try:
            node.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            message = ('node %d (pid %d) ignored SIGTERM for %ss; sent SIGKILL'
                       % (node.id, node.process.pid, grace))
            self.warnings.append(message)
            sys.stderr.write('kafka_local_cluster: %s\n' % message)
            self._signal(node, signal.SIGKILL)
            node.process.wait(timeout=30)

    def start(self, timeout=START_TIMEOUT_SECONDS):
        self._unpack_distributions()
        for node in self.nodes:
            self._write_config(node)
        self._format()
        self._after_format()
        for node_id in self._first_started():
            self.start_node(node_id)
        self.wait_until_serving(timeout)
        return self

    def _first_started(self):
        """The nodes start() starts (all of them; subclasses may keep some back)."""
        return [node.id for node in self.nodes]

    def _unpack_distributions(self):
        """Unpack the Kafka the nodes run and the tests' CLI uses (self.home)."""
        self.home = unpack_kafka(kafka_archive(self.version), self.base_dir / 'dist')

    def _after_format(self):
        """Hook for subclasses: every node is formatted, none started yet."""

    def stop(self):
        """SIGTERM every node at once (so the quorum outlives the controlled
        shutdowns), then wait for each."""
        for node in self.nodes:
            self._signal(node, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for node in self.nodes:
            self._reap(node, max(1, deadline - time.monotonic()))

    # -------------------------------------------------------------- health

    def _admin(self, timeout_ms=5000):
        from kafka.admin import KafkaAdminClient
        return KafkaAdminClient(bootstrap_servers=[n.bootstrap for n in self.nodes if n.running],
                                client_id='kraft-kafka-tests', request_timeout_ms=timeout_ms,
                                bootstrap_timeout_ms=timeout_ms)

    def describe_serving(self):
        """(describe_cluster answer, metadata quorum partition, None), or
        (None, None, why) while the cluster cannot answer yet."""
        try:
            admin = self._admin()
        except Exception as exc:  # cluster still starting: keep polling
            return None, None, 'bootstrap: %s' % exc
        try:
            cluster = admin.describe_cluster()
            quorum = admin.describe_metadata_quorum()
        except Exception as exc:
            return None, None, 'describe: %s' % exc
        finally:
            admin.close()
        return cluster, quorum['topics'][0]['partitions'][0], None

    @staticmethod
    def unfenced_brokers(cluster):
        return sorted(b['broker_id'] for b in cluster['brokers'] if not b.get('is_fenced'))

    def serving_state(self):
        """(ok, detail): all running nodes registered unfenced and a quorum leader."""
        running = [n.id for n in self.nodes if n.running]
        if not running:
            return False, 'no node running'
        cluster, quorum, why = self.describe_serving()
        if why:
            return False, why
        unfenced = self.unfenced_brokers(cluster)
        leader = quorum['leader_id']
        detail = 'unfenced brokers %s, quorum leader %s' % (unfenced, leader)
        return (leader >= 0 and set(running) <= set(unfenced)), detail

    def wait_until_serving(self, timeout=START_TIMEOUT_SECONDS):
        """Poll until every running node is an unfenced broker and the quorum has a leader."""
        deadline = time.monotonic() + timeout
        detail = 'not polled'
        while time.monotonic() < deadline:
            dead = [n for n in self.nodes if n.process is not None and n.process.poll() is not None]
            if dead:
                raise ClusterError('node(s) %s exited:\n%s' % (
                    [n.id for n in dead],
                    '\n'.join('--- node %d\n%s' % (n.id, tail(n.log_dir / 'server.out')) for n in dead)))
            ok, detail = self.serving_state()
            if ok:
                return detail
            time.sleep(0.5)
        raise ClusterError('cluster not serving after %ss (%s); logs under %s'
                           % (timeout, detail, self.base_dir))

    def ensure_all_running(self, timeout=START_TIMEOUT_SECONDS):
        """Restart stopped nodes and wait until all serve (for test cleanup)."""
        for node in self.nodes:
            if not node.running:
                self.start_node(node.id)
        return self.wait_until_serving(timeout)

    def describe(self):
        return dict(cluster_id=self.cluster_id, bootstrap=self.bootstrap,
                    controller_bootstrap=self.controller_bootstrap, home=str(self.home),
                    nodes=[n.as_dict() for n in self.nodes])


# ------------------------------------------------------------- module runner

def ansible_env(tmp_dir):
    env = dict(os.environ)
    env.update(
        ANSIBLE_CONFIG=str(REPO_ROOT / 'ansible.cfg'),
        ANSIBLE_STDOUT_CALLBACK='ansible.posix.json',
        ANSIBLE_LOAD_CALLBACK_PLUGINS='1',
        ANSIBLE_RETRY_FILES_ENABLED='0',
        ANSIBLE_NOCOLOR='1',
        ANSIBLE_LOCAL_TEMP=str(Path(tmp_dir) / 'ansible-local'),
        ANSIBLE_REMOTE_TEMP=str(Path(tmp_dir) / 'ansible-remote'),
    )
    return env


def write_inventory(tmp_dir):
    """localhost over the local connection with this interpreter (it has kafka-python)."""
    path = Path(tmp_dir) / 'inventory.ini'
    path.write_text('localhost ansible_connection=local ansible_python_interpreter=%s\n'
                    % sys.executable)
    return path


def run_ansible_module(module_name, args, check=False, diff=False, tmp_dir=None, timeout=600):
    """Run one module task through ansible-playbook; return its result dict.

    A failing module is returned (with failed=True), not raised: tests assert
    on it. Only a broken Ansible run (no JSON result) raises.
    """
    tmp_dir = Path(tmp_dir or tempfile.mkdtemp(prefix='kraft-kafka-ansible-'))
    tmp_dir.mkdir(parents=True, exist_ok=True)
    play = [{
        'hosts': 'localhost',
        'gather_facts': False,
        'tasks': [{'name': 'module under test', module_name: args,
                   'check_mode': bool(check), 'diff': bool(diff)}],
    }]
    fd, playbook = tempfile.mkstemp(prefix='play-', suffix='.yml', dir=str(tmp_dir))
    with os.fdopen(fd, 'w') as handle:
        json.dump(play, handle)  # JSON is YAML; no templating surprises from quoting
    try:
        proc = subprocess.run(
            [str(Path(sys.executable).parent / 'ansible-playbook'), '-i',
             str(write_inventory(tmp_dir)), playbook],
            cwd=str(REPO_ROOT), env=ansible_env(tmp_dir), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, universal_newlines=True, timeout=timeout, check=False)
    finally:
        os.unlink(playbook)
    return _task_result(proc)


def _task_result(proc):
    try:
        output = json.loads(proc.stdout[proc.stdout.index('{'):])
        result = output['plays'][0]['tasks'][0]['hosts']['localhost']
    except (ValueError, KeyError, IndexError):
        raise RuntimeError('ansible-playbook gave no task result (rc %s)\nstdout:\n%s\nstderr:\n%s'
                           % (proc.returncode, proc.stdout, proc.stderr))
    result.setdefault('failed', False)
    result.setdefault('changed', False)
    result['_stderr'] = proc.stderr
    return result
