"""knox token authentication accepting both ``Authorization: Bearer <token>`` (the seed's scheme) and
``Authorization: Token <token>`` (knox's), answering 401 with ``WWW-Authenticate: Bearer``.

One statement per request: the token looked up by its key with its user. knox also lists every token of
the user on each request to delete the expired ones; here only the presented token's own expiry is
checked (an expired one is deleted and refused, as knox does), and the periodic purge
(``purge_expired``, sbsync/monitoring/maintenance.py) deletes the others. A revoked (deleted) token is
refused at its next request: nothing about tokens is cached."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from knox.auth import TokenAuthentication
from knox.signals import token_expired
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

    def _cleanup_token(self, auth_token: Any) -> bool:
        """Whether the presented token has expired (then it is deleted, as knox does). knox's version
        also reads every other token of the user, one statement per request for housekeeping that the
        periodic purge does."""
        if auth_token.expiry is None or auth_token.expiry >= timezone.now():
            return False
        username = auth_token.user.get_username()
        auth_token.delete()
        token_expired.send(sender=self.__class__, username=username, source="auth_token")
        return True
