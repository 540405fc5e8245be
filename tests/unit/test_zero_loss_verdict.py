# -*- coding: utf-8 -*-
"""The verdict of the zero-loss load tool (tests/load/zero_loss.py): what
counts as lost and as duplicated. The tool itself runs against real clusters
in molecule/operations."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import os
import threading
import time

import pytest

pytest.importorskip('kafka')

_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'load', 'zero_loss.py')
_SPEC = importlib.util.spec_from_file_location('zero_loss', _PATH)
zero_loss = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(zero_loss)


def test_clean_run():
    report = zero_loss.summarize({0, 1, 2}, {0: 1, 1: 1, 2: 1}, [], 0.1234)
    assert report['acknowledged'] == 3
    assert report['lost'] == 0
    assert report['duplicated'] == 0
    assert report['read'] == 3
    assert report['max_stall_s'] == 0.123


def test_acknowledged_but_not_read_is_lost():
    report = zero_loss.summarize({0, 1, 2}, {0: 1, 2: 1}, [], 0)
    assert report['lost'] == 1


def test_read_twice_is_a_duplicate_even_without_ack():
    # seq 3 was written (twice) but its acknowledgement never arrived.
    report = zero_loss.summarize({0, 1}, {0: 1, 1: 2, 3: 2}, [], 0)
    assert report['lost'] == 0
    assert report['duplicated'] == 2
    assert report['read'] == 5


def test_read_but_never_acknowledged_is_neither():
    report = zero_loss.summarize({0}, {0: 1, 1: 1}, [{'seq': 1, 'error': 'KafkaTimeoutError()'}], 0)
    assert (report['lost'], report['duplicated'], report['producer_errors']) == (0, 0, 1)
    assert report['first_errors'] == [{'seq': 1, 'error': 'KafkaTimeoutError()'}]


def test_stop_file_or_duration_ends_the_run(tmp_path):
    stop = tmp_path / 'stop'
    args = zero_loss.parse_args(['--bootstrap', 'x:9092', '--stop-file', str(stop)])
    flag = threading.Event()
    assert not zero_loss.should_stop(args, time.monotonic(), flag)
    stop.touch()
    assert zero_loss.should_stop(args, time.monotonic(), flag)
    with pytest.raises(SystemExit):
        zero_loss.parse_args(['--bootstrap', 'x:9092'])
