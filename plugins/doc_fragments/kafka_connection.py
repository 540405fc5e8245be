# -*- coding: utf-8 -*-
# Copyright: kraft.kafka maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r'''
options:
  bootstrap_servers:
    description:
      - Broker listeners to bootstrap from, as C(host:port).
      - One reachable broker is enough; list several so a stopped broker (for example during a
        rolling restart) does not break the task.
      - These must be B(broker) listeners (the client listener, e.g. C(9092)), not controller
        listeners. After bootstrapping, the client connects to each broker's C(advertised.listeners)
        address, which must also be reachable from the host running the module.
    type: list
    elements: str
    required: true
  security_protocol:
    description:
      - Protocol of the broker listener named in O(bootstrap_servers).
    type: str
    choices: [PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL]
    default: PLAINTEXT
  sasl_mechanism:
    description:
      - SASL mechanism; required when O(security_protocol) is C(SASL_PLAINTEXT) or C(SASL_SSL),
        and rejected otherwise.
      - Must be enabled on the listener (C(sasl.enabled.mechanisms)).
    type: str
    choices: [PLAIN, SCRAM-SHA-256, SCRAM-SHA-512]
  sasl_username:
    description:
      - SASL user name; required with a SASL O(security_protocol).
    type: str
  sasl_password:
    description:
      - SASL password; required with a SASL O(security_protocol). Never returned or logged.
    type: str
  ssl_cafile:
    description:
      - CA certificate(s) that sign the broker certificates, for C(SSL) and C(SASL_SSL).
      - Either a path on the host that runs the module or the PEM text itself (for example
        C("{{ lookup('file', 'ca.pem') }}")); PEM text is written to a temporary file readable only by
        the module user and removed when the module exits.
      - Without it the system trust store is used.
    type: str
  ssl_certfile:
    description:
      - Client certificate in PEM for mutual TLS, as a path or PEM text (see O(ssl_cafile)).
    type: str
  ssl_keyfile:
    description:
      - Private key of O(ssl_certfile), as a path or PEM text (see O(ssl_cafile)). Needs O(ssl_certfile).
      - Masked in results and logs like a password, since it may hold the key itself.
    type: str
  ssl_keyfile_password:
    description:
      - Password that decrypts O(ssl_keyfile). Never returned or logged.
    type: str
  ssl_check_hostname:
    description:
      - Verify that the broker certificate matches the address the client connects to.
      - Only disable this for test certificates.
    type: bool
    default: true
  request_timeout:
    description:
      - Seconds to wait for each Kafka request, and for the initial connection to the cluster.
      - A TCP check of O(bootstrap_servers) runs first, so an unreachable cluster fails within a
        few seconds regardless of this value.
    type: int
    default: 30
requirements:
  - kafka-python >= 3.0.12, < 4 on the Python interpreter that runs the module
    (C(python3 -m pip install 'kafka-python>=3.0.12,<4')).
notes:
  - >-
    These modules talk to Kafka over the network only. Run them where C(kafka-python) is installed and
    the brokers are reachable, usually the controller with C(delegate_to: localhost) and
    C(run_once: true), or any single host of the cluster.
  - Secrets (O(sasl_password), O(ssl_keyfile_password), O(ssl_keyfile)) are never included in results or error messages.
'''
