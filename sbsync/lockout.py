"""One lockout policy for every login (the API's ``auth/token/``, the staff UI's, the admin's):
django-axes, per account and per client address, with its counts in the shared cache.

axes checks the count of failures before a password is checked and counts a failure after, so clients
trying at the same moment all pass the check and get more password checks than the limit (12 of 60
against 10). ``lockout_handler.AtomicCacheHandler`` counts each attempt first, with the cache's
atomic add/incr, and checks the password only when that count is within the limit; a successful login takes its attempt back. With Redis (or any cache whose incr is atomic across processes) the limit then holds across
every worker: at most ``AXES_FAILURE_LIMIT`` passwords are checked per account and per address until
``AXES_COOLOFF_TIME`` has passed since the last attempt.

The project's settings (the demo's, and README "Add sbsync"):

    INSTALLED_APPS += ["axes"]
    AUTHENTICATION_BACKENDS = [
        "axes.backends.AxesStandaloneBackend",
        "django.contrib.auth.backends.ModelBackend",
    ]
    MIDDLEWARE += ["axes.middleware.AxesMiddleware"]
    AXES_HANDLER = "sbsync.lockout_handler.AtomicCacheHandler"
    AXES_LOCKOUT_CALLABLE = "sbsync.lockout.lockout_response"
    AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]

This module holds what views need, and imports axes only once a login was locked out, so a project
without axes still runs (``manage.py check`` warns it, sbsync.W004).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse


def is_locked_out(request: HttpRequest) -> bool:
    """Whether the last ``authenticate()`` of ``request`` was refused by the lockout."""
    return bool(getattr(request, "axes_locked_out", False))


def retry_after(request: HttpRequest) -> int:
    """Seconds until a locked-out client may try again: each attempt restarts the cool-off."""
    from axes.helpers import get_cool_off  # installed: only axes locks a request out

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
