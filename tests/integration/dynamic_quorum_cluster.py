# -*- coding: utf-8 -*-
"""A real KRaft cluster with a dynamic (KIP-853) quorum on 127.0.0.1.

Nodes 1-3: controllers formatted with --initial-controllers (the bootstrap
voter set). Node 4: the only broker. Node 5 (and any id in `spare`): a
controller formatted with --no-initial-controllers, exactly like a controller
that site.yml adds to a running dynamic cluster: started, it only follows the
metadata log as an observer until someone runs add-controller for it.

Every node is its own process with its own config dir (node.dir), data dir and
log dir, so an inventory can point kafka_config_dir/kafka_data_dirs/kafka_log_dir
at them like the roles lay out a real host.
"""

import json
import re
import sys

from kafka_local_cluster import KafkaLocalCluster, random_cluster_id

INITIAL_CONTROLLERS = (1, 2, 3)
BROKER = 4
SPARE_CONTROLLERS = (5,)


class DynamicQuorumCluster(KafkaLocalCluster):
    """Dedicated controllers 1-3 (dynamic quorum), broker 4, spare controller 5 (observer)."""

    def __init__(self, base_dir, version=None):
        KafkaLocalCluster.__init__(self, base_dir, version=version,
                                   node_count=len(INITIAL_CONTROLLERS) + 1 + len(SPARE_CONTROLLERS))
        # Directory ids of the metadata log dirs, chosen up front like the
        # kafka_storage role does (kraft.kafka.kafka_directory_id).
        self.directory_ids = dict((n.id, random_cluster_id()) for n in self.nodes)

    # ------------------------------------------------------------ topology

    @staticmethod
    def is_controller(node):
        return node.id != BROKER

    @property
    def controllers(self):
        return [n for n in self.nodes if self.is_controller(n)]

    @property
    def bootstrap_servers(self):
        return ['127.0.0.1:%d' % self.node(BROKER).broker_port]

    @property
    def controller_bootstrap(self):
        """controller.quorum.bootstrap.servers: the initial controllers."""
        return ','.join(self.node(i).controller_address for i in INITIAL_CONTROLLERS)

    def initial_controllers(self):
        return ','.join('%d@%s:%s' % (i, self.node(i).controller_address, self.directory_ids[i])
                        for i in INITIAL_CONTROLLERS)

    def _server_properties(self, node):
        common = [
            ('node.id', node.id),
            ('controller.quorum.bootstrap.servers', self.controller_bootstrap),
            ('controller.listener.names', 'CONTROLLER'),
            ('listener.security.protocol.map', 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT'),
            ('log.dirs', node.data_dir),
            ('num.network.threads', 2),
            ('num.io.threads', 2),
            ('background.threads', 2),
            ('num.recovery.threads.per.data.dir', 1),
        ]
        if self.is_controller(node):
            own = [
                ('process.roles', 'controller'),
                ('listeners', 'CONTROLLER://127.0.0.1:%d' % node.controller_port),
                # add-controller reads the new voter's endpoint from here.
                ('advertised.listeners', 'CONTROLLER://127.0.0.1:%d' % node.controller_port),
            ]
        else:
            own = [
                ('process.roles', 'broker'),
                ('listeners', 'PLAINTEXT://127.0.0.1:%d' % node.broker_port),
                ('advertised.listeners', 'PLAINTEXT://127.0.0.1:%d' % node.broker_port),
                ('inter.broker.listener.name', 'PLAINTEXT'),
                ('num.partitions', 1),
                ('default.replication.factor', 1),
                ('min.insync.replicas', 1),
                ('offsets.topic.replication.factor', 1),
                ('offsets.topic.num.partitions', 3),
                ('transaction.state.log.replication.factor', 1),
                ('transaction.state.log.min.isr', 1),
                ('share.coordinator.state.topic.replication.factor', 1),
                ('share.coordinator.state.topic.min.isr', 1),
                ('group.initial.rebalance.delay.ms', 0),
                ('auto.create.topics.enable', 'false'),
                ('log.cleaner.threads', 1),
            ]
        return ''.join('%s=%s\n' % (k, v) for k, v in own + common)

    def _format_command(self, node):
        """Initial controllers bootstrap the voter set; the others join later (add-controller)."""
        if node.id in INITIAL_CONTROLLERS:
            quorum = ['--initial-controllers', self.initial_controllers()]
        else:
            quorum = ['--no-initial-controllers']
        return KafkaLocalCluster._format_command(self, node) + quorum

    def _after_format(self):
        # The on-disk directory id of a --no-initial-controllers node is
        # random: read it back so tests know every node's real id.
        for node in self.nodes:
            self.directory_ids[node.id] = self.meta_properties(node.id)['directory.id']

    def meta_properties(self, node_id):
        text = (self.node(node_id).data_dir / 'meta.properties').read_text()
        return dict(line.split('=', 1) for line in text.splitlines() if '=' in line and not line.startswith('#'))

    # -------------------------------------------------------------- health

    def _admin(self, timeout_ms=5000):
        from kafka.admin import KafkaAdminClient
        return KafkaAdminClient(bootstrap_servers=self.bootstrap_servers, client_id='kraft-kafka-tests',
                                request_timeout_ms=timeout_ms, bootstrap_timeout_ms=timeout_ms)

    def serving_state(self):
        """(ok, detail): the broker is registered unfenced, the quorum has a leader and
        every running spare controller is known to it (as voter or observer)."""
        cluster, partition, why = self.describe_serving()
        if why:
            return False, why
        unfenced = self.unfenced_brokers(cluster)
        known = set(r['replica_id'] for r in (partition.get('current_voters') or [])
                    + (partition.get('observers') or []))
        running = set(n.id for n in self.nodes if n.running)
        detail = 'unfenced brokers %s, quorum leader %s, replicas known %s' % (
            unfenced, partition['leader_id'], sorted(known))
        ok = partition['leader_id'] >= 0 and (BROKER not in running or BROKER in unfenced) \
            and running <= known
        return ok, detail

    # ------------------------------------------------------------- the CLI

    def describe_status(self):
        """`kafka-metadata-quorum.sh describe --status` against the controllers, as a dict of its lines."""
        result = self.cli('kafka-metadata-quorum.sh', '--bootstrap-controller', self.controller_bootstrap,
                          'describe', '--status')
        status = {}
        for line in result.stdout.splitlines():
            if ':' in line:
                key, value = line.split(':', 1)
                status[key.strip()] = value.strip()
        return status

    @staticmethod
    def cli_voter_ids(status):
        """Node ids in the CurrentVoters line ([{"id": 1, "directoryId": ...}, ...])."""
        return sorted(int(i) for i in re.findall(r'"id":\s*(\d+)', status.get('CurrentVoters', '')))

    @staticmethod
    def cli_observer_ids(status):
        return sorted(int(i) for i in re.findall(r'"id":\s*(\d+)', status.get('CurrentObservers', '')))

    # ----------------------------------------------------------- inventory

    def inventory(self, path, extra_vars=None):
        """An inventory like a site.yml deployment of this cluster: group kafka,
        dedicated controllers ctl1-3 and ctl5, broker broker4; each host's own
        config/data/log dirs, all on this machine over the local connection."""
        hosts = {}
        for node in self.nodes:
            name = ('ctl%d' if self.is_controller(node) else 'broker%d') % node.id
            hosts[name] = {
                'kafka_node_id': node.id,
                'kafka_process_roles': ['controller'] if self.is_controller(node) else ['broker'],
                'kafka_broker_port': node.broker_port,
                'kafka_controller_port': node.controller_port,
                'kafka_config_dir': str(node.dir),
                'kafka_data_dirs': [str(node.data_dir)],
                'kafka_log_dir': str(node.log_dir),
                'kafka_instance': 'kafka%d' % node.id,
            }
        group_vars = {
            'ansible_connection': 'local',
            'ansible_python_interpreter': sys.executable,
            'kafka_advertised_host': '127.0.0.1',
            'kafka_quorum_mode': 'dynamic',
            'kafka_home': str(self.home),
            # The test runs as the user that owns the processes and files.
            'kafka_user': _current_user(),
        }
        group_vars.update(extra_vars or {})
        path.write_text(json.dumps({'kafka': {'hosts': hosts, 'vars': group_vars}}))
        return path


def _current_user():
    import pwd
    import os
    return pwd.getpwuid(os.getuid()).pw_name
