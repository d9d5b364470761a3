"""``AtomicCacheHandler``: django-axes' cache handler counting each login attempt before its password is
checked (the why is in sbsync.lockout). Set ``AXES_HANDLER = "sbsync.lockout_handler.AtomicCacheHandler"``."""

from __future__ import annotations

import contextlib
from typing import Any

from axes.conf import settings as axes_settings
from axes.handlers.cache import AxesCacheHandler
from axes.helpers import get_cache, get_cache_timeout, get_client_cache_keys, get_failure_limit
from axes.signals import user_locked_out
from django.core.cache import BaseCache
from django.http import HttpRequest

# What the handler decided for a request: the keys counting its attempt, or that it was refused.
COUNTED = "sbsync_lockout_keys"
REFUSED = "sbsync_lockout_refused"
# Tries of add-then-incr before a request counts as uncountable: a key expiring between the two is rare,
# and a cache that refuses every try is down (FailSoftRedisCache), when limits are lifted rather than loop.
COUNT_TRIES = 3


class AtomicCacheHandler(AxesCacheHandler):
    """axes' cache handler, counting each attempt before its password is checked (see the module)."""

    def __init__(self) -> None:
        # The cache is looked up on each use, not kept: tests and projects may change CACHES.
        pass

    @property
    def cache(self) -> BaseCache:
        cache: BaseCache = get_cache()
        return cache

    def is_locked(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> bool:
        if not axes_settings.AXES_LOCK_OUT_AT_FAILURE:
            return False
        keys = get_client_cache_keys(request, credentials)
        timeout = get_cache_timeout(request)
        attempts = max(self._count(key, timeout) for key in keys)
        request.axes_failures_since_start = attempts  # type: ignore[attr-defined]
        if attempts > get_failure_limit(request, credentials):
            # Refused: its count is given back (the cool-off restarted all the same), so attempts refused
            # only because others were counting at the same moment do not use up the limit's last slots.
            self._give_back(keys)
            setattr(request, REFUSED, True)
            return True
        setattr(request, COUNTED, keys)
        return False

    def _give_back(self, keys: list[str]) -> None:
        for key in keys:
            with contextlib.suppress(ValueError):  # expired meanwhile
                self.cache.decr(key)

    def _count(self, key: str, timeout: int | None) -> int:
        """Add this attempt to ``key`` atomically; every attempt restarts the cool-off. 0 when the cache
        will not count it (unreachable: logins are then not limited, README "Production")."""
        for _ in range(COUNT_TRIES):
            if self.cache.add(key, 1, timeout):
                return 1
            try:
                count = self.cache.incr(key)
            except ValueError:  # expired between add and incr (or the cache is down): try again
                continue
            self.cache.touch(key, timeout)
            return int(count)
        return 0

    def user_login_failed(
        self, sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
    ) -> None:
        if request is not None and getattr(request, REFUSED, False):
            request.axes_locked_out = True  # type: ignore[attr-defined]
            request.axes_credentials = credentials  # type: ignore[attr-defined]
            user_locked_out.send(
                "axes",
                request=request,
                username=credentials.get(axes_settings.AXES_USERNAME_FORM_FIELD),
                ip_address=request.axes_ip_address,  # type: ignore[attr-defined]
            )
        elif request is None or not hasattr(request, COUNTED):
            # An attempt that did not pass through the backend's check: count it as axes does.
            super().user_login_failed(sender, credentials, request, **kwargs)
        # Otherwise the failure was counted before its password was checked. The attempt that reached the
        # limit is answered as any failed login; the next one is refused.

    def user_logged_in(self, sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
        if axes_settings.AXES_RESET_ON_SUCCESS or not hasattr(request, COUNTED):
            super().user_logged_in(sender, request, user, **kwargs)
            return
        # A successful login is not a failure: take its attempt back.
        self._give_back(getattr(request, COUNTED))
