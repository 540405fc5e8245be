#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kraft.kafka maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: kafka_quorum_status
short_description: Report, and optionally wait for, the health of the KRaft metadata quorum
version_added: 0.1.0
description:
  - Describes the KRaft metadata quorum (the C(__cluster_metadata) log) like
    C(kafka-metadata-quorum.sh describe --status --replication) does, as structured data.
  - The quorum is healthy when it has a leader, every voter is at most O(max_lag) records behind
    the leader and, if O(expected_voters) is given, the voters are exactly those node ids.
  - With O(wait=true) it polls until the quorum is healthy and fails with the reasons if it is not
    within O(wait_timeout) seconds; without it, it reports RV(healthy) and never fails on an
    unhealthy quorum.
  - Read-only; never reports a change.
author:
  - kraft.kafka maintainers (@kraft-kafka)
extends_documentation_fragment:
  - kraft.kafka.kafka_connection
attributes:
  check_mode:
    support: full
    description: Runs the same read-only queries in check mode.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
options:
  wait:
    description:
      - Poll (about once a second) until the quorum is healthy.
      - Fail when it is still unhealthy after O(wait_timeout) seconds. Errors talking to the
        cluster count as unhealthy while waiting, so this also waits for a cluster that is
        still starting.
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds to wait for a healthy quorum when O(wait=true). A request in flight at the
        deadline may add up to O(request_timeout) seconds.
    type: int
    default: 120
  max_lag:
    description:
      - Largest number of records a voter may be behind the leader's log end offset and still
        count as healthy.
      - The default of 10 tolerates the few records a live follower trails by (the leader appends
        a no-op record every C(metadata.max.idle.interval.ms), 500 ms by default, besides real
        metadata changes), while a stopped or stuck voter exceeds it within seconds.
      - V(0) demands that every voter has caught up at the moment of the query, which flaps on a
        busy cluster.
    type: int
    default: 10
  expected_voters:
    description:
      - Node ids that must be exactly the voter set (C(controller.quorum.voters) or the dynamic
        voter set). Missing and unexpected voters are reported as reasons.
      - Not checked when omitted.
    type: list
    elements: int
seealso:
  - module: kraft.kafka.kafka_cluster_health
  - name: KIP-595 (Raft protocol for the metadata quorum)
    description: Meaning of leader epoch, high watermark, voters and observers.
    link: https://cwiki.apache.org/confluence/display/KAFKA/KIP-595%3A+A+Raft+Protocol+for+the+Metadata+Quorum
'''

EXAMPLES = r'''
- name: Show the metadata quorum
  kraft.kafka.kafka_quorum_status:
    bootstrap_servers: [kafka1.example.com:9092, kafka2.example.com:9092, kafka3.example.com:9092]
  delegate_to: localhost
  run_once: true
  register: quorum

- name: Wait until the three controllers form a caught-up quorum
  kraft.kafka.kafka_quorum_status:
    bootstrap_servers: [kafka1.example.com:9092, kafka2.example.com:9092]
    wait: true
    wait_timeout: 300
    expected_voters: [1, 2, 3]
  delegate_to: localhost
  run_once: true

- name: Over SASL_SSL, CA given as PEM text
  kraft.kafka.kafka_quorum_status:
    bootstrap_servers: [kafka1.example.com:9094]
    security_protocol: SASL_SSL
    sasl_mechanism: SCRAM-SHA-512
    sasl_username: admin
    sasl_password: "{{ vault_kafka_admin_password }}"
    ssl_cafile: "{{ lookup('file', 'files/kafka-ca.pem') }}"
  delegate_to: localhost
  run_once: true
'''

RETURN = r'''
cluster_id:
  description: The cluster id (as in C(meta.properties)).
  returned: success
  type: str
  sample: MkU3OEVBNTcwNTJENDM2Qk
leader_id:
  description: Node id of the quorum leader, the active controller; null when there is no leader.
  returned: success
  type: int
  sample: 1
leader_epoch:
  description: Epoch of the current leader; grows with every election.
  returned: success
  type: int
  sample: 3
high_watermark:
  description: Offset up to which the metadata log is committed by a majority of voters.
  returned: success
  type: int
  sample: 4711
max_follower_lag:
  description: Largest RV(voters[].lag) of all voters.
  returned: success
  type: int
  sample: 0
max_follower_lag_time_ms:
  description: Largest RV(voters[].lag_time_ms) of all voters; null when no voter reports it.
  returned: success
  type: int
  sample: 0
voters:
  description: Voters of the quorum, leader included.
  returned: success
  type: list
  elements: dict
  contains:
    replica_id:
      description: Node id.
      type: int
      sample: 2
    directory_id:
      description: Metadata log directory id (base64, as kafka-storage prints it); null for static quorums that do not track it.
      type: str
      sample: null
    status:
      description: V(Leader), V(Follower) (voters) or V(Observer) (observers).
      type: str
      sample: Follower
    log_end_offset:
      description: Log end offset of the replica as last known to the leader; -1 when unknown.
      type: int
      sample: 4711
    lag:
      description: Records the replica is behind the leader's log end offset; null when there is no leader.
      type: int
      sample: 0
    last_fetch_timestamp:
      description: Leader time (epoch ms) of the replica's last fetch; null when unknown.
      type: int
      sample: 1767225600000
    last_caught_up_timestamp:
      description: Leader time (epoch ms) when the replica last had the leader's log end offset; null when unknown.
      type: int
      sample: 1767225600000
    lag_time_ms:
      description: Milliseconds between the leader's and this replica's last caught-up time; null when unknown.
      type: int
      sample: 0
    endpoints:
      description: Controller listener endpoints the quorum knows for the node (empty for observers).
      type: list
      elements: str
      sample: [CONTROLLER://10.0.0.12:9093]
observers:
  description: Replicas that follow the metadata log without voting (brokers and controllers that are not voters). Same keys as RV(voters).
  returned: success
  type: list
  elements: dict
healthy:
  description: Whether the quorum met every condition (leader, O(max_lag), O(expected_voters)).
  returned: always
  type: bool
  sample: true
reasons:
  description: Why the quorum is not healthy; empty when healthy.
  returned: always
  type: list
  elements: str
  sample: ["voter 3 is 57 records behind the leader (max_lag 10), last caught up 28512 ms before the leader"]
attempts:
  description: Number of times the quorum was queried.
  returned: always
  type: int
  sample: 1
elapsed:
  description: Seconds spent querying and waiting.
  returned: always
  type: float
  sample: 0.05
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kraft.kafka.plugins.module_utils.kafka_validation import new_module
from ansible_collections.kraft.kafka.plugins.module_utils.kafka_validation import (
    check_integer, check_node_ids)

from ansible_collections.kraft.kafka.plugins.module_utils.kafka_client import (
    kafka_connection_argument_spec,
    report_until_healthy,
    quorum_problems,
    run_module,
    summarize_quorum,
)


def argument_spec():
    spec = kafka_connection_argument_spec()
    spec.update(
        wait=dict(type='bool', default=False),
        wait_timeout=dict(type='int', default=120),
        max_lag=dict(type='int', default=10),
        expected_voters=dict(type='list', elements='int'),
    )
    return spec


def quorum_probe(params):
    """probe(admin) -> (quorum summary with cluster id, reasons) for poll_until_ok."""
    def probe(admin):
        quorum = summarize_quorum(admin.describe_metadata_quorum())
        # DescribeQuorum does not carry the cluster id; DescribeCluster does.
        quorum['cluster_id'] = admin.describe_cluster().get('cluster_id')
        return quorum, quorum_problems(quorum, params['max_lag'], params['expected_voters'])
    return probe


def report_quorum(module, admin):
    return report_until_healthy(module, admin, quorum_probe(module.params), 'Metadata quorum')


def main():
    module = new_module(AnsibleModule, argument_spec=argument_spec(), supports_check_mode=True)
    run_module(module, report_quorum, validate=check_input)


def check_input(params, problems):
    """kraft.kafka.kafka_validation rules of this module."""
    check_node_ids(problems, 'expected_voters', params['expected_voters'],
                   'every voter would count as unexpected')
    for name in ('max_lag', 'wait_timeout'):
        check_integer(problems, name, params[name], 0)


if __name__ == '__main__':
    main()
