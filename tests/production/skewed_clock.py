"""gunicorn configuration of the app server whose clock runs ahead (libfaketime, test_faults.py).

libfaketime 0.9.10 with its monotonic clock left alone makes ``clock_nanosleep(CLOCK_MONOTONIC,
TIMER_ABSTIME)`` fail with EINVAL (libfaketime issue #426), and Python 3.11's ``time.sleep`` calls it,
so gunicorn's arbiter would crash. Its sleeps go through ``select`` here, which takes a relative
timeout. The wall clock, all that the test is about, stays faked."""

from __future__ import annotations

import select
import time


def _sleep(seconds: float) -> None:
    select.select([], [], [], seconds)


time.sleep = _sleep
