"""The one error shape of sbsync/docs/protocol.md section 1, for every API failure:

    {"error": "<code>", "detail": "<sentence>", "errors": {...}}   (``errors`` only when there are some)

``ProtocolError`` (sbsync/errors.py) is raised by the engine and by our views and answered here, once;
``exception_handler`` also maps DRF's and Django's exceptions, so a client never sees HTML or another
shape, whatever went wrong.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response

from sbsync.errors import ProtocolError, error_body

logger = logging.getLogger("sbsync.api")

AUTHENTICATE_HEADER = 'Bearer realm="api"'


def error_response(
    status_code: int,
    code: str,
    detail: str,
    errors: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    return Response(error_body(code, detail, errors), status=status_code, headers=headers)


def _validation_detail(errors: Any) -> tuple[str, dict[str, Any] | None]:
    if isinstance(errors, dict):
        first = next(iter(errors.items()), None)
        if first:
            field, messages = first
            message = messages[0] if isinstance(messages, list) and messages else messages
            return f"{field}: {message}", {
                k: [str(m) for m in v] if isinstance(v, list) else v for k, v in errors.items()
            }
    if isinstance(errors, list) and errors:
        return str(errors[0]), {"non_field_errors": [str(e) for e in errors]}
    return "Invalid input.", None


_DRF_CODES: list[tuple[type[exceptions.APIException], int, str]] = [
    (exceptions.ParseError, status.HTTP_400_BAD_REQUEST, "malformed_json"),
    (exceptions.UnsupportedMediaType, status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
    (exceptions.NotAuthenticated, status.HTTP_401_UNAUTHORIZED, "not_authenticated"),
    (exceptions.AuthenticationFailed, status.HTTP_401_UNAUTHORIZED, "authentication_failed"),
    (exceptions.PermissionDenied, status.HTTP_403_FORBIDDEN, "permission_denied"),
    (exceptions.NotFound, status.HTTP_404_NOT_FOUND, "not_found"),
    (exceptions.MethodNotAllowed, status.HTTP_405_METHOD_NOT_ALLOWED, "method_not_allowed"),
    (exceptions.NotAcceptable, status.HTTP_406_NOT_ACCEPTABLE, "not_acceptable"),
]


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF exception handler for sbsync's API views only (set per view, never project-wide)."""
    if isinstance(exc, ProtocolError):
        return Response(exc.body(), status=exc.status)
    if isinstance(exc, exceptions.Throttled):
        # DRF sets Throttled.wait in __init__; djangorestframework-stubs do not declare it.
        wait = int(exc.wait or 1)  # type: ignore[attr-defined]
        return error_response(
            status.HTTP_429_TOO_MANY_REQUESTS,
            "throttled",
            f"Too many requests: try again in {wait} second{'s' if wait != 1 else ''}.",
            headers={"Retry-After": str(wait)},
        )
    if isinstance(exc, exceptions.ValidationError):
        detail, errors = _validation_detail(exc.detail)
        return error_response(status.HTTP_400_BAD_REQUEST, "validation_error", detail, errors)
    if isinstance(exc, Http404):
        return error_response(status.HTTP_404_NOT_FOUND, "not_found", "Not found.")
    if isinstance(exc, DjangoPermissionDenied):
        return error_response(status.HTTP_403_FORBIDDEN, "permission_denied", "You may not do this.")
    for exc_class, status_code, code in _DRF_CODES:
        if isinstance(exc, exc_class):
            headers = {"WWW-Authenticate": AUTHENTICATE_HEADER} if status_code == 401 else None
            return error_response(status_code, code, str(exc.detail), headers=headers)
    if isinstance(exc, exceptions.APIException):
        return error_response(exc.status_code, exc.default_code, str(exc.detail))
    logger.exception("Unhandled error in %s", context.get("view"))
    return error_response(status.HTTP_500_INTERNAL_SERVER_ERROR, "server_error", "Internal server error.")
