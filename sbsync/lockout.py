"""One lockout policy for every login (the API's ``auth/token/``, the staff UI's, the admin's):
django-axes, per account and per client address, with its counts in the shared cache.

axes checks the count of failures before a password is checked and counts a failure after, so clients
trying at the same moment all pass the check and get more password checks than the limit (12 of 60
against 10). ``AtomicCacheHandler`` counts each attempt first, with the cache's atomic add/incr, and
checks the password only when that count is within the limit; a successful login takes its attempt
back. With Redis (or any cache whose incr is atomic across processes) the limit then holds across
every worker: at most ``AXES_FAILURE_LIMIT`` passwords are checked per account and per address until
``AXES_COOLOFF_TIME`` has passed since the last attempt.

The project's settings (the demo's, and README "Add sbsync"):

    INSTALLED_APPS += ["axes"]
    AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
    MIDDLEWARE += ["axes.middleware.AxesMiddleware"]
    AXES_HANDLER = "sbsync.lockout.AtomicCacheHandler"
    AXES_LOCKOUT_CALLABLE = "sbsync.lockout.lockout_response"
    AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
"""

from __future__ import annotations

import contextlib
from typing import Any

from axes.conf import settings as axes_settings
from axes.handlers.cache import AxesCacheHandler
from axes.helpers import get_cache, get_cache_timeout, get_client_cache_keys, get_cool_off, get_failure_limit
from axes.signals import user_locked_out
from django.core.cache import BaseCache
from django.http import HttpRequest, HttpResponse

COUNTED = "sbsync_lockout_keys"


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
        setattr(request, COUNTED, keys)
        request.axes_failures_since_start = attempts  # type: ignore[attr-defined]
        return bool(attempts > get_failure_limit(request, credentials))

    def _count(self, key: str, timeout: int | None) -> int:
        """Add this attempt to ``key`` atomically; every attempt restarts the cool-off."""
        while True:
            if self.cache.add(key, 1, timeout):
                return 1
            try:
                count = self.cache.incr(key)
            except ValueError:  # expired between add and incr: start again
                continue
            self.cache.touch(key, timeout)
            return int(count)

    def user_login_failed(
        self, sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
    ) -> None:
        if request is None or not hasattr(request, COUNTED):
            # An attempt that did not pass through the backend's check: count it as axes does.
            super().user_login_failed(sender, credentials, request, **kwargs)
            return
        # Already counted. Only a refused attempt is a lockout: the one that reached the limit had its
        # password checked and is answered as any failed login.
        if request.axes_failures_since_start > get_failure_limit(request, credentials):  # type: ignore[attr-defined]
            request.axes_locked_out = True  # type: ignore[attr-defined]
            request.axes_credentials = credentials  # type: ignore[attr-defined]
            user_locked_out.send(
                "axes",
                request=request,
                username=credentials.get(axes_settings.AXES_USERNAME_FORM_FIELD),
                ip_address=request.axes_ip_address,  # type: ignore[attr-defined]
            )

    def user_logged_in(self, sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
        if axes_settings.AXES_RESET_ON_SUCCESS or not hasattr(request, COUNTED):
            super().user_logged_in(sender, request, user, **kwargs)
            return
        # A successful login is not a failure: take its attempt back.
        for key in getattr(request, COUNTED):
            with contextlib.suppress(ValueError):  # expired meanwhile
                self.cache.decr(key)


def is_locked_out(request: HttpRequest) -> bool:
    """Whether the last ``authenticate()`` of ``request`` was refused by the lockout."""
    return bool(getattr(request, "axes_locked_out", False))


def retry_after(request: HttpRequest) -> int:
    """Seconds until a locked-out client may try again: each attempt restarts the cool-off."""
    cool_off = get_cool_off(request)
    return max(1, int(cool_off.total_seconds())) if cool_off is not None else 0


def lockout_message(request: HttpRequest) -> str:
    wait = retry_after(request)
    if not wait:
        return "Too many failed logins: ask an administrator to unlock this account."
    minutes = (wait + 59) // 60
    return f"Too many failed logins: try again in {minutes} minute{'s' if minutes != 1 else ''}."


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: a view that answered the lockout itself (the API's JSON 429, the UI's login
    form) keeps its answer; any other login (the admin's) gets a plain 429 with Retry-After."""
    if original_response is not None and original_response.status_code == 429:
        return original_response
    response = HttpResponse(lockout_message(request), status=429, content_type="text/plain; charset=utf-8")
    if wait := retry_after(request):
        response["Retry-After"] = str(wait)
    return response
