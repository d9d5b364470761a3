"""JSON 404 for unknown paths under the API, so a client never gets Django's HTML page."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from sbsync.errors import error_body


def not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    return JsonResponse(error_body("not_found", f"No API endpoint at {request.path}."), status=404)
