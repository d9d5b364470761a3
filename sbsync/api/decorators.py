"""``sync_endpoint``: how every sbsync API view is declared.

It wraps DRF's ``@api_view`` and pins what a host project's REST_FRAMEWORK settings must not change for
our API: knox token authentication (Bearer or Token), our JSON parser and renderer, our error shape
(exception handler set on the view, never project-wide), our throttles, and the OpenAPI schema class.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drf_spectacular.openapi import AutoSchema
from rest_framework.decorators import api_view
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.views import APIView

from sbsync import conf
from sbsync.api.authentication import BearerTokenAuthentication
from sbsync.api.errors import ApiError, exception_handler
from sbsync.api.json import JSONParser, JSONRenderer
from sbsync.api.throttling import TokenRateThrottle


def sync_endpoint(
    methods: list[str], *, public: bool = False, forms: bool = False
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare an API view. ``public``: no token needed (login, health). ``forms``: also accept
    form-encoded bodies (login, as the seed's client posts a form)."""

    def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
        view = api_view(methods)(func)
        cls = view.cls
        cls.authentication_classes = [] if public else [BearerTokenAuthentication]
        cls.permission_classes = [AllowAny] if public else [IsAuthenticated]
        cls.parser_classes = [JSONParser, FormParser, MultiPartParser] if forms else [JSONParser]
        cls.renderer_classes = [JSONRenderer]
        cls.throttle_classes = [] if public else [TokenRateThrottle]
        cls.schema = AutoSchema()
        # The base class @extend_schema builds on, whatever the host's settings (it reads the attribute
        # off the view function, which the stubs do not declare).
        view.schema = AutoSchema  # type: ignore[attr-defined]
        # api_view made a class for this view alone: replacing its methods pins them for this view only.
        cls.get_exception_handler = lambda self: exception_handler  # type: ignore[method-assign]
        original_initial = cls.initial

        def initial(self: APIView, request: Request, *args: Any, **kwargs: Any) -> None:
            length = request.META.get("CONTENT_LENGTH") or "0"
            limit = conf.get("MAX_BODY_BYTES")
            if length.isascii() and length.isdigit() and int(length) > limit:
                raise ApiError(
                    413, "payload_too_large", f"The body is larger than the limit of {limit} bytes."
                )
            original_initial(self, request, *args, **kwargs)

        cls.initial = initial  # type: ignore[method-assign]
        return view

    return decorator
