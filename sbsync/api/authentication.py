"""knox token authentication accepting both ``Authorization: Bearer <token>`` (the seed's scheme) and
``Authorization: Token <token>`` (knox's), answering 401 with ``WWW-Authenticate: Bearer``.

One statement per request: the token looked up by its key with its user, written once per process
(sbsync/rows.py: compiling it as an ORM query cost more than running it), then checked as knox checks it
(digest, expiry, ``AUTO_REFRESH``, active user). knox also lists every token of the user on each request
to delete the expired ones; here only the presented token's own expiry is checked (an expired one is
deleted and refused, as knox does), and the periodic purge (``purge_expired``,
sbsync/monitoring/maintenance.py) deletes the others. A revoked (deleted) token is refused at its next
request: nothing about tokens is cached."""

from __future__ import annotations

import binascii
from hmac import compare_digest
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone
from knox.auth import TokenAuthentication
from knox.crypto import hash_token
from knox.models import get_token_model
from knox.settings import CONSTANTS, knox_settings
from knox.signals import token_expired
from rest_framework import exceptions
from rest_framework.authentication import get_authorization_header
from rest_framework.request import Request

from sbsync.api.errors import AUTHENTICATE_HEADER
from sbsync.rows import Columns, column_name, once_per_database

SCHEMES = (b"bearer", b"token")
INVALID = "Invalid token."


class BearerTokenAuthentication(TokenAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in SCHEMES:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Invalid Authorization header: use 'Bearer <token>'.")
        return self.authenticate_credentials(parts[1])

    def authenticate_credentials(self, token: bytes) -> tuple[Any, Any]:
        """knox's check of the presented token, over ``_token_lookup``'s rows instead of a queryset."""
        try:
            text = token.decode("utf-8")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(INVALID) from None
        for auth_token in _token_lookup().find(text[: CONSTANTS.TOKEN_KEY_LENGTH]):
            if self._cleanup_token(auth_token):
                continue
            try:
                digest = hash_token(text)
            except (TypeError, binascii.Error):
                raise exceptions.AuthenticationFailed(INVALID) from None
            if compare_digest(digest, auth_token.digest):
                if knox_settings.AUTO_REFRESH and auth_token.expiry:
                    self.renew_token(auth_token)
                return self.validate_user(auth_token)  # type: ignore[no-any-return]
        raise exceptions.AuthenticationFailed(INVALID)

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


class _TokenLookup:
    """The tokens whose key (the token's first characters) is the presented one's, each with its user."""

    def __init__(self, connection: BaseDatabaseWrapper) -> None:
        token_model, user_model = get_token_model(), get_user_model()
        quote = connection.ops.quote_name
        self.columns = Columns(connection, [(token_model, "t"), (user_model, "u")])
        user_column = quote(column_name(token_model, "user"))
        user_key = quote(column_name(user_model, "pk"))
        key_column = quote(column_name(token_model, "token_key"))
        self.sql = (
            f"SELECT {self.columns.sql} FROM {quote(token_model._meta.db_table)} t "
            f"JOIN {quote(user_model._meta.db_table)} u ON u.{user_key} = t.{user_column} "
            f"WHERE t.{key_column} = %s"
        )

    def find(self, key: str) -> list[Any]:
        with connection.cursor() as cursor:
            cursor.execute(self.sql, [key])
            rows = cursor.fetchall()
        found: list[Any] = []
        for row in rows:
            auth_token, user = self.columns.instances(row)
            setattr(auth_token, "user", user)  # noqa: B010  (knox's token model, typed as Model here)
            found.append(auth_token)
        return found


_token_lookup = once_per_database(_TokenLookup)
