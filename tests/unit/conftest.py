# -*- coding: utf-8 -*-
"""Make this checkout importable as ansible_collections.kraft.kafka.

tools/venv.sh links the repo root as .cache/collections/ansible_collections/
kraft/kafka (the same path ansible.cfg uses). When that link is missing, for
example in a fresh clone tested without running tools/venv.sh, an equivalent
link is made in a temporary directory so the unit tests still run.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys
import tempfile

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _collections_root():
    cached = os.path.join(REPO_ROOT, '.cache', 'collections')
    if os.path.isdir(os.path.join(cached, 'ansible_collections', 'kraft', 'kafka', 'plugins')):
        return cached
    temp = tempfile.mkdtemp(prefix='kraft-kafka-collections-')
    os.makedirs(os.path.join(temp, 'ansible_collections', 'kraft'))
    os.symlink(REPO_ROOT, os.path.join(temp, 'ansible_collections', 'kraft', 'kafka'))
    return temp


_ROOT = _collections_root()
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
