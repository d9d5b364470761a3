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

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from sbsync.ui import rules
from sbsync.ui.http import StaffRequest

View = Callable[..., HttpResponse]


def login_required(view: View) -> View:
    """Anonymous users go to the UI's login page and come back afterwards. An htmx request (a poll after
    the session expired) redirects the whole page rather than swapping the login form into a region."""

    @wraps(view)
    def wrapper(request: StaffRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        login_url = reverse("sbsync:login")
        if request.htmx:
            back = request.htmx.current_url_abs_path or request.get_full_path()
            return HttpResponseClientRedirect(f"{login_url}?{urlencode({'next': back})}")
        return redirect_to_login(request.get_full_path(), login_url)

    return wrapper


def staff_required(view: View) -> View:
    """Only staff use the UI, and each page and write needs its Django permissions (``rules.ROUTES``):
    any other signed-in user gets 403, members of organizations included, and so does staff without
    the permission. Superusers hold every permission."""

    @wraps(view)
    def wrapper(request: StaffRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_staff:
            raise PermissionDenied("The sbsync configuration pages are for staff only.")
        if missing := rules.missing_permissions(request):
            raise PermissionDenied(
                f"This needs the permission {rules.describe(missing)}: ask an administrator to grant it."
            )
        return view(request, *args, **kwargs)

    return wrapper
