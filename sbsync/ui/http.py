"""The request type of staff views and the one rendering rule of every page (sbsync/docs/ui.md): a full page, or the partial an htmx request asks for."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_htmx.middleware import HtmxDetails


class StaffRequest(HttpRequest):
    """A request that passed ``login_required`` and ``staff_required``, behind HtmxMiddleware."""

    htmx: HtmxDetails
    user: User


def is_partial_request(request: StaffRequest) -> bool:
    """An htmx request that swaps a region; a history restore needs the whole page."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def render_page(
    request: StaffRequest, template: str, context: dict[str, Any], *, partial: str
) -> HttpResponse:
    """The whole page, or only its ``partial`` when htmx asks for a region."""
    if is_partial_request(request):
        template = f"{template}#{partial}"
    return render(request, template, context)
