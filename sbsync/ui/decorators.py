"""Preconditions of staff views, applied in this order: ``login_required`` then ``staff_required``
(staff, holding the Django permissions ``sbsync.ui.rules`` names for the route and method).

The UI redirects anonymous users to its own login page (``sbsync:login``), whatever the project's
LOGIN_URL says, so installing the app needs no settings for it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from csp.constants import NONE, SELF
from csp.decorators import csp
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect

from sbsync.ui import rules
from sbsync.ui.http import StaffRequest

View = Callable[..., HttpResponse]

SESSION_EXPIRED = "Your session has expired: log in again, then retry."


def forbidden(request: StaffRequest, missing: str) -> HttpResponse:
    """The UI's 403 page: ``missing`` says what the user lacks (a staff account, a permission)."""
    if request.htmx and request.method != "GET":
        return HttpResponse(
            f"Not allowed: this needs {missing}.", status=403, content_type="text/plain; charset=utf-8"
        )
    referer = request.headers.get("Referer", "")
    safe = url_has_allowed_host_and_scheme(referer, {request.get_host()}, request.is_secure())
    back = referer if referer and safe else "/"
    return render(request, "sbsync/403.html", {"missing": missing, "back": back}, status=403)


def login_required(view: View) -> View:
    """Anonymous users go to the UI's login page and come back afterwards. An htmx read (a poll after
    the session expired) redirects the whole page rather than swapping the login form into a region; an
    htmx write gets 401 instead, so the page keeps the unsaved change and offers to log in and retry
    (static/sbsync/js/ui.js)."""

    @wraps(view)
    def wrapper(request: StaffRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        login_url = reverse("sbsync:login")
        if request.htmx and request.method != "GET":
            return HttpResponse(SESSION_EXPIRED, status=401, content_type="text/plain; charset=utf-8")
        if request.htmx:
            back = request.htmx.current_url_abs_path or request.get_full_path()
            return HttpResponseClientRedirect(f"{login_url}?{urlencode({'next': back})}")
        return redirect_to_login(request.get_full_path(), login_url)

    return wrapper


def staff_required(view: View) -> View:
    """Only staff use the UI, and each page and write needs its Django permissions (``rules.ROUTES``):
    any other signed-in user gets 403, members of organizations included, and so does staff without
    the permission, on the UI's own page (what is missing, who to ask, log out or go back). Superusers
    hold every permission."""

    @wraps(view)
    def wrapper(request: StaffRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_staff:
            return forbidden(request, "a staff account")
        if missing := rules.missing_permissions(request):
            return forbidden(request, f"the permission {rules.describe(missing)}")
        return view(request, *args, **kwargs)

    return wrapper


# The UI's Content-Security-Policy (django-csp, sent by its CSPMiddleware): scripts, styles, images and
# requests from this server only, no inline script or style, no framing. Every page of the UI has it,
# whatever the project's own policy.
POLICY: dict[str, list[str]] = {
    "default-src": [SELF],
    "script-src": [SELF],
    "style-src": [SELF],
    "img-src": [SELF, "data:"],
    "connect-src": [SELF],
    "font-src": [SELF],
    "form-action": [SELF],
    "frame-ancestors": [NONE],
    "base-uri": [SELF],
    "object-src": [NONE],
}

ui_policy = csp(POLICY)
