"""Throttles: failed logins per username and per client address, and requests per token.

Counts live in the cache named by SBSYNC CACHE_ALIAS. In a deployment with several worker processes that
cache must be shared (Redis, as the demo uses when REDIS_URL is set); a per-process cache would give each
worker its own count.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from django.core.cache import caches
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from sbsync import conf

DURATIONS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    count, period = rate.split("/")
    return int(count), DURATIONS[period[0]]


def client_address(request: Request) -> str:
    """The client's address as the server sees it. Behind a proxy, configure the proxy to set
    REMOTE_ADDR (e.g. gunicorn --forwarded-allow-ips) rather than trusting X-Forwarded-For here."""
    return str(request.META.get("REMOTE_ADDR") or "unknown")


class LoginFailures:
    """Failed logins within the rate's window, per username and per client address."""

    def __init__(self, request: Request, username: str) -> None:
        self.cache = caches[conf.get("CACHE_ALIAS")]
        rate = conf.get("LOGIN_THROTTLE_RATE")
        self.limit, self.window = parse_rate(rate) if rate else (0, 0)
        digest = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
        self.keys = [f"sbsync:login-fail:user:{digest}", f"sbsync:login-fail:addr:{client_address(request)}"]

    def _recent(self, key: str, now: float) -> list[float]:
        return [t for t in self.cache.get(key, []) if t > now - self.window]

    def retry_after(self) -> int | None:
        """Seconds until another attempt is allowed, or None when not blocked."""
        if not self.limit:
            return None
        now = time.time()
        waits = [
            int(recent[0] + self.window - now) + 1
            for key in self.keys
            if len(recent := self._recent(key, now)) >= self.limit
        ]
        return max(waits) if waits else None

    def record(self) -> None:
        if not self.limit:
            return
        now = time.time()
        for key in self.keys:
            self.cache.set(key, [*self._recent(key, now), now], self.window)


class TokenRateThrottle(SimpleRateThrottle):
    """REQUEST_THROTTLE_RATE requests per API token (None disables it)."""

    scope = "sbsync-token"

    def __init__(self) -> None:
        self.cache = caches[conf.get("CACHE_ALIAS")]
        super().__init__()

    def get_rate(self) -> str | None:
        return conf.get("REQUEST_THROTTLE_RATE")

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        token = getattr(request, "auth", None)
        digest = getattr(token, "digest", None)
        return f"sbsync:throttle:token:{digest[:32]}" if digest else None
