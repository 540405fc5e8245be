# -*- coding: utf-8 -*-
"""Role defaults that decide something on their own, rendered with Ansible's
templar from the role's real defaults file (not a copy of the expression)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

try:  # ansible-core >= 2.19 templates only strings marked as trusted
    from ansible.template import trust_as_template
except ImportError:  # older releases template every string
    def trust_as_template(value):
        return value

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def render_default(role, name, facts):
    loader = DataLoader()
    defaults = loader.load_from_file(os.path.join(REPO_ROOT, 'roles', role, 'defaults', 'main.yml'))
    variables = dict(defaults, ansible_facts=facts)
    # Role defaults are trusted templates when a play loads the role.
    return Templar(loader=loader, variables=variables).template(trust_as_template(defaults[name]))


@pytest.mark.parametrize('facts, expected', [
    ({'virtualization_role': 'guest', 'virtualization_type': 'docker'}, False),
    ({'virtualization_role': 'guest', 'virtualization_type': 'podman'}, False),
    ({'virtualization_role': 'guest', 'virtualization_type': 'lxc'}, False),
    # A VM is a guest too, but it owns its firewall.
    ({'virtualization_role': 'guest', 'virtualization_type': 'kvm'}, True),
    ({'virtualization_role': 'host', 'virtualization_type': 'kvm'}, True),
    ({'virtualization_role': 'NA', 'virtualization_type': 'NA'}, True),
    # Facts not gathered: behave like a host.
    ({}, True),
])
def test_firewall_on_by_default_except_in_containers(facts, expected):
    rendered = render_default('kafka_service', 'kafka_firewall_enabled', facts)
    assert str(rendered).strip().lower() == str(expected).lower()
