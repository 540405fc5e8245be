# -*- coding: utf-8 -*-
"""Run a playbook of this collection with ansible-playbook and read its outcome.

The json callback (ansible.posix.json) gives the per-task results and the
per-host stats of the PLAY RECAP (ok, changed, failures, ...), so tests can
assert both what a task returned and that a second run reports changed=0.
"""

import json
import os
import subprocess
import sys

from kafka_local_cluster import REPO_ROOT, ansible_env, write_inventory


class PlaybookRun(object):
    def __init__(self, proc):
        self.proc = proc
        self.rc = proc.returncode
        try:
            self.output = json.loads(proc.stdout[proc.stdout.index('{'):])
        except ValueError:
            self.output = {'plays': [], 'stats': {}}

    @property
    def stats(self):
        """{host: {ok, changed, failures, unreachable, skipped, ...}} (the PLAY RECAP)."""
        return self.output.get('stats') or {}

    @property
    def changed(self):
        return sum(host.get('changed', 0) for host in self.stats.values())

    @property
    def failed(self):
        return sum(host.get('failures', 0) + host.get('unreachable', 0) for host in self.stats.values())

    def tasks(self, name):
        """Every result (per play) of the task called `name`: list of {host: result}."""
        found = []
        for play in self.output.get('plays') or []:
            for task in play.get('tasks') or []:
                if task['task']['name'] == name:
                    found.append(task['hosts'])
        return found

    def result(self, name):
        """The result of task `name` on the one host that ran it (run_once)."""
        hosts = self.tasks(name)
        assert hosts, 'task %r did not run:\n%s' % (name, self.log())
        for result in hosts[-1].values():
            return result
        raise AssertionError('task %r has no host result' % name)

    def log(self):
        return 'rc %s\nstdout (tail):\n%s\nstderr (tail):\n%s' % (
            self.rc, self.proc.stdout[-8000:], self.proc.stderr[-3000:])

    def __repr__(self):
        return 'PlaybookRun(rc=%s, changed=%s, failed=%s)' % (self.rc, self.changed, self.failed)


def run_playbook(tmp_path, playbook, extra_vars=None, inventory=None, check=False, diff=False,
                 timeout=900, extra_args=()):
    """ansible-playbook playbooks/<playbook> with stdin not a terminal (prompts do not wait)."""
    command = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'),
               '-i', str(inventory or write_inventory(tmp_path)), str(REPO_ROOT / 'playbooks' / playbook)]
    if extra_vars:
        command += ['-e', json.dumps(extra_vars)]
    if check:
        command.append('--check')
    if diff:
        command.append('--diff')
    command += list(extra_args)
    proc = subprocess.run(command, cwd=str(REPO_ROOT), env=ansible_env(tmp_path), stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                          timeout=timeout, check=False)
    return PlaybookRun(proc)


def cluster_inventory(tmp_path, nodes, name='cluster.yml'):
    """An inventory of a site.yml-style "kafka" group for the local cluster's nodes.

    Every host runs locally; kraft.kafka.kafka_config's validate tasks derive
    their kafka_node facts, from which the playbooks derive bootstrap servers.
    """
    path = tmp_path / name
    hosts = dict(('kafka%d' % n.id, {'kafka_node_id': n.id, 'kafka_broker_port': n.broker_port,
                                     'kafka_controller_port': n.controller_port})
                 for n in nodes)
    path.write_text(json.dumps({'kafka': {'hosts': hosts, 'vars': {
        'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable,
        'kafka_advertised_host': '127.0.0.1'}}}))
    return path
