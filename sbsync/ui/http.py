"""The request type of staff views and the rendering rules of every page (sbsync/docs/ui.md): a full
page, or the partial an htmx request asks for, with the message area out of band."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django_htmx.middleware import HtmxDetails


class StaffRequest(HttpRequest):
    """A request that passed ``login_required`` and ``staff_required``, behind HtmxMiddleware."""

    htmx: HtmxDetails
    user: User


def is_partial_request(request: StaffRequest) -> bool:
    """An htmx request that swaps a region; a history restore needs the whole page."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def with_messages(request: StaffRequest, response: HttpResponse) -> HttpResponse:
    """Append the message area, swapped out of band: an in-place answer shows its own messages and
    clears the ones of an earlier action, so no message outlives what it was about."""
    response.write(render_to_string("sbsync/base.html#messages", {"oob": True}, request=request))
    return response


def render_partial(request: StaffRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    """A region of a page (``template#partial``) for an htmx swap, with the message area."""
    return with_messages(request, render(request, template, context))


def render_page(
    request: StaffRequest, template: str, context: dict[str, Any], *, partial: str
) -> HttpResponse:
    """The whole page, or only its ``partial`` when htmx asks for a region."""
    if is_partial_request(request):
        return render_partial(request, f"{template}#{partial}", context)
    return render(request, template, context)
