"""Backoff arithmetic of the transport (no server needed)."""

from __future__ import annotations

import email.utils
import time

from sbsync.client.transport import RetryPolicy, retry_after_seconds


def test_retry_after_reads_seconds_and_http_dates():
    soon = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert retry_after_seconds("2") == 2.0
    assert 25 < retry_after_seconds(soon) <= 30
    assert retry_after_seconds("not a date") is None and retry_after_seconds(None) is None


def test_backoff_is_jittered_under_an_exponential_cap_and_retry_after_is_capped():
    policy = RetryPolicy(base=0.5, cap=4)
    delays = [[policy.delay(attempt) for _ in range(200)] for attempt in range(6)]
    for attempt, samples in enumerate(delays):
        assert all(0 <= d <= min(4, 0.5 * 2**attempt) for d in samples)
        assert len(set(samples)) > 150  # jitter: retries of many clients do not line up
    assert max(delays[5]) > 2  # it grows
    assert policy.delay(0, retry_after=100) == 4 and policy.delay(3, retry_after=-5) == 0
