"""JSON answers for what no API view takes, so a client never gets Django's HTML pages under the API.

Unknown paths, whatever the method, are a JSON 404 (exempt from CSRF: the API has no cookies, and a POST
to a misspelt path must say "not found", not "CSRF failed"); a path that only lacks its trailing slash
says where the endpoint is. Views that are not ``sync_endpoint``s (the schema and docs) get the JSON 405.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from django.views.decorators.csrf import csrf_exempt

from sbsync.errors import error_body

SAFE_METHODS = ("GET", "HEAD")


@csrf_exempt
def not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    detail = f"No API endpoint at {request.path}."
    if not request.path_info.endswith("/"):
        try:
            match = resolve(f"{request.path_info}/", urlconf=getattr(request, "urlconf", None))
        except Resolver404:
            match = None
        if match is not None and match.func is not not_found:
            detail = f"{detail} The endpoint is {request.path}/ (paths end with a slash)."
    return JsonResponse(error_body("not_found", detail), status=404)


def read_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Answer any method but GET and HEAD with the API's JSON 405 before ``view`` sees it."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method not in SAFE_METHODS:
            body = error_body("method_not_allowed", f'Method "{request.method}" not allowed.')
            return JsonResponse(body, status=405, headers={"Allow": ", ".join(SAFE_METHODS)})
        return view(request, *args, **kwargs)

    return csrf_exempt(wrapper)
