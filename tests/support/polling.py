# -*- coding: utf-8 -*-
"""Polling for tests: Kafka converges (elections, ISR, metadata propagation),
so tests wait for a state with a deadline instead of sleeping a fixed time.

Shared by the integration tests, the smoke test and the Molecule testinfra
suites (which put this folder on sys.path).
"""

import time

# What a check may raise while the cluster is still converging.
TRANSIENT_ERRORS = (AssertionError, RuntimeError, ValueError, KeyError)


def wait_until(check, timeout, what='condition', interval=0.5, tolerate=TRANSIENT_ERRORS):
    """Call check() until it returns a truthy value and return that value.

    Exceptions listed in tolerate count as "not yet"; the last one is named
    in the AssertionError raised when timeout seconds have passed.
    """
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except tolerate as exc:
            last_error = exc
        time.sleep(interval)
    raise AssertionError('timed out after %ss waiting for %s (last error: %r)' % (timeout, what, last_error))
