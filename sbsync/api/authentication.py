"""knox token authentication accepting both ``Authorization: Bearer <token>`` (the seed's scheme) and
``Authorization: Token <token>`` (knox's), answering 401 with ``WWW-Authenticate: Bearer``."""

from __future__ import annotations

from typing import Any

from knox.auth import TokenAuthentication
from rest_framework import exceptions
from rest_framework.authentication import get_authorization_header
from rest_framework.request import Request

from sbsync.api.errors import AUTHENTICATE_HEADER

SCHEMES = (b"bearer", b"token")


class BearerTokenAuthentication(TokenAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in SCHEMES:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Invalid Authorization header: use 'Bearer <token>'.")
        return self.authenticate_credentials(parts[1])

    def authenticate_credentials(self, token: bytes) -> tuple[Any, Any]:
        try:
            return super().authenticate_credentials(token)  # type: ignore[no-any-return]
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid token.") from None

    def authenticate_header(self, request: Request) -> str:
        return AUTHENTICATE_HEADER
