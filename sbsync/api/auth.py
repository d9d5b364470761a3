"""Token endpoints (sbsync/docs/protocol.md section 2): log in for a knox token, log out one token or all."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from knox.models import AuthToken, get_token_model
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from sbsync import conf, lockout
from sbsync.api.decorators import sync_endpoint
from sbsync.api.errors import error_response
from sbsync.api.schema import ErrorResponse
from sbsync.errors import ProtocolError
from sbsync.tenancy import organizations_for_user

MAX_CREDENTIAL_LENGTH = 256

TokenResponse = inline_serializer(
    "TokenResponse",
    {
        "token": serializers.CharField(),
        "expiry": serializers.DateTimeField(allow_null=True),
        "user": inline_serializer(
            "TokenUser",
            {
                "id": serializers.IntegerField(),
                "username": serializers.CharField(),
                "email": serializers.CharField(),
            },
        ),
        "organizations": inline_serializer(
            "TokenOrganization",
            {
                "id": serializers.IntegerField(),
                "name": serializers.CharField(),
                "slug": serializers.CharField(),
                "group": serializers.CharField(),
            },
            many=True,
        ),
    },
)
LoginRequest = inline_serializer(
    "LoginRequest",
    {
        "username": serializers.CharField(min_length=1, max_length=MAX_CREDENTIAL_LENGTH),
        "password": serializers.CharField(min_length=1, max_length=MAX_CREDENTIAL_LENGTH),
    },
)


def _credential(data: Any, name: str) -> str:
    value = data.get(name) if hasattr(data, "get") else None
    if not isinstance(value, str) or not value:
        raise ProtocolError(
            400, "validation_error", f"{name} is required.", {name: ["This field is required."]}
        )
    if len(value) > MAX_CREDENTIAL_LENGTH:
        raise ProtocolError(400, "validation_error", f"{name} is too long.", {name: ["Too long."]})
    if "\x00" in value:
        raise ProtocolError(
            400, "validation_error", f"{name} may not contain NUL characters.", {name: ["NUL character."]}
        )
    return value


def token_payload(user: Any, token: str, expiry: Any) -> dict[str, Any]:
    return {
        "token": token,
        "expiry": expiry,
        "user": {"id": user.pk, "username": user.get_username(), "email": getattr(user, "email", "")},
        "organizations": [
            {"id": org.pk, "name": org.name, "slug": org.slug, "group": group.name}
            for org, group in organizations_for_user(user)
        ],
    }


@extend_schema(
    summary="Log in for an API token",
    request=LoginRequest,
    responses={
        200: TokenResponse,
        400: ErrorResponse,
        413: ErrorResponse,
        415: ErrorResponse,
        429: ErrorResponse,
    },
    examples=[
        OpenApiExample(
            "Login", value={"username": "john_manager", "password": "sbsync-demo"}, request_only=True
        )
    ],
    tags=["auth"],
)
@sync_endpoint(["POST"], public=True, forms=True)
def obtain_token(request: Request) -> Response:
    """Exchange a username and password (JSON or form) for a knox token that expires after TOKEN_TTL."""
    if not hasattr(request.data, "get"):
        raise ProtocolError(400, "validation_error", "Send an object with username and password.")
    username, password = _credential(request.data, "username"), _credential(request.data, "password")
    # The lockout (django-axes, sbsync.lockout) counts the attempt inside authenticate() and refuses it
    # there, before the password is checked, when the account or the address is locked out.
    user = authenticate(request._request, username=username, password=password)
    if user is None or not user.is_active:
        if lockout.is_locked_out(request._request):
            wait = lockout.retry_after(request._request)
            return error_response(
                429,
                "throttled",
                lockout.lockout_message(request._request),
                headers={"Retry-After": str(wait)} if wait else None,
            )
        raise ProtocolError(
            400, "invalid_credentials", "Unable to log in with the username and password given."
        )
    # As knox's LoginView and Django's login() do: records last_login and gives the attempt back.
    user_logged_in.send(sender=type(user), request=request._request, user=user)
    instance, token = AuthToken.objects.create(user=user, expiry=conf.as_timedelta(conf.get("TOKEN_TTL")))
    return Response(token_payload(user, token, instance.expiry))


@extend_schema(
    summary="Revoke the presented token",
    request=None,
    responses={204: None, 401: ErrorResponse, 429: ErrorResponse},
    tags=["auth"],
)
@sync_endpoint(["POST"])
def logout(request: Request) -> Response:
    request.auth.delete()
    return Response(status=204)


@extend_schema(
    summary="Revoke every token of the user",
    request=None,
    responses={204: None, 401: ErrorResponse, 429: ErrorResponse},
    tags=["auth"],
)
@sync_endpoint(["POST"])
def logout_all(request: Request) -> Response:
    get_token_model().objects.filter(user=request.user).delete()
    return Response(status=204)
