from __future__ import annotations

import logging
import socket
import uuid

import pytest
from django.core.cache.backends.base import DEFAULT_TIMEOUT

from sbsync.cache_backends import FailSoftRedisCache


def cache_at(url: str) -> FailSoftRedisCache:
    return FailSoftRedisCache(url, {"OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}})


@pytest.fixture
def unreachable() -> FailSoftRedisCache:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return cache_at(f"redis://127.0.0.1:{port}/0")


def test_with_redis_unreachable_reads_miss_writes_are_dropped_and_it_says_so(
    unreachable, caplog, monkeypatch
):
    monkeypatch.setattr("sbsync.cache_backends._last_warning", [0.0])
    with caplog.at_level(logging.WARNING, logger="sbsync.cache"):
        unreachable.set("k", 1)
        answers = (
            unreachable.get("k"),
            unreachable.get("k", "fallback"),
            unreachable.get_many(["k"]),
            unreachable.add("k", 1),
            unreachable.has_key("k"),
            unreachable.delete("k"),
            unreachable.touch("k"),
            unreachable.set_many({"a": 1}),
        )
        unreachable.delete_many(["k"])
        with pytest.raises(ValueError, match="unreachable"):
            unreachable.incr("k")

    assert answers == (None, "fallback", {}, False, False, False, False, ["a"])
    warnings = [r.getMessage() for r in caplog.records if r.name == "sbsync.cache"]
    assert len(warnings) == 1  # once a minute, not once a call
    assert warnings[0].startswith("Cache unreachable (set:")


def test_with_redis_up_it_is_a_plain_redis_cache(settings):
    cache = cache_at(settings.TEST_REDIS_URL)
    key = f"sbsync-test:{uuid.uuid4().hex}"
    try:
        cache.set(key, {"a": 1})
        first = cache.get(key)
        added = cache.add(key, 2)
        cache.set(f"{key}:n", 1, timeout=DEFAULT_TIMEOUT)
        counted = cache.incr(f"{key}:n", 4)
        ttl = cache._cache.get_client(key).ttl(cache.make_and_validate_key(key))
    finally:
        cache.delete_many([key, f"{key}:n"])

    assert (first, added, counted) == ({"a": 1}, False, 5)
    assert 0 < ttl <= 300  # the default timeout applies, not "forever"
