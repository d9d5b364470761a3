"""``sync_endpoint``: how every sbsync API view is declared.

It stacks DRF's own policy decorators under ``@api_view`` to pin what a host project's REST_FRAMEWORK
settings must not change for our API: knox token authentication (Bearer or Token), our JSON parser and
renderer, our throttles and the OpenAPI schema class. Two pins have no DRF decorator and are set on the
class ``api_view`` made for this view alone: our error shape (the exception handler, set per view and
never project-wide, so the host's own API keeps its handler) and the refusal of a body whose declared
Content-Length is over ``MAX_BODY_BYTES`` before anything reads it (413, even before authentication).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drf_spectacular.openapi import AutoSchema
from rest_framework.decorators import (
    api_view,
    authentication_classes,
    parser_classes,
    permission_classes,
    renderer_classes,
    schema,
    throttle_classes,
)
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.views import APIView

from sbsync import conf
from sbsync.api.authentication import BearerTokenAuthentication
from sbsync.api.errors import exception_handler
from sbsync.api.json import JSONParser, JSONRenderer
from sbsync.api.throttling import TokenRateThrottle
from sbsync.errors import ProtocolError


def refuse_large_body(request: Request) -> None:
    """413 when the declared Content-Length is over MAX_BODY_BYTES (the parser also stops reading there);
    411 for a body sent without one (chunked): Django reads a WSGI body only up to its Content-Length, so
    such a body would be read as empty and answered as if nothing had been sent."""
    if "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower() and not request.META.get(
        "CONTENT_LENGTH"
    ):
        raise ProtocolError(
            411,
            "length_required",
            "Send the body with a Content-Length header (chunked bodies are not read).",
        )
    length = request.META.get("CONTENT_LENGTH") or "0"
    limit = conf.get("MAX_BODY_BYTES")
    if length.isascii() and length.isdigit() and int(length) > limit:
        raise ProtocolError(413, "payload_too_large", f"The body is larger than the limit of {limit} bytes.")


def sync_endpoint(
    methods: list[str], *, public: bool = False, forms: bool = False
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare an API view. ``public``: no token needed (login, health). ``forms``: also accept
    form-encoded bodies (login, as the seed's client posts a form)."""

    def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
        func = authentication_classes([] if public else [BearerTokenAuthentication])(func)
        func = permission_classes([AllowAny] if public else [IsAuthenticated])(func)
        func = parser_classes([JSONParser, FormParser, MultiPartParser] if forms else [JSONParser])(func)
        func = renderer_classes([JSONRenderer])(func)
        func = throttle_classes([] if public else [TokenRateThrottle])(func)
        func = schema(AutoSchema())(func)
        view = api_view(methods)(func)
        # The base class @extend_schema builds on, whatever the host's settings (it reads the attribute
        # off the view function, which the stubs do not declare).
        view.schema = AutoSchema  # type: ignore[attr-defined]
        cls = view.cls
        parent_initial = cls.initial

        def initial(self: APIView, request: Request, *args: Any, **kwargs: Any) -> None:
            refuse_large_body(request)
            parent_initial(self, request, *args, **kwargs)

        cls.get_exception_handler = lambda self: exception_handler  # type: ignore[method-assign]
        cls.initial = initial  # type: ignore[method-assign]
        return view

    return decorator
