"""Long-lived API tokens for service clients, issued and revoked by staff (the UI's tokens page).

A token is a knox token (stored hashed); a ServiceToken row names it and records who issued it. Revoking
deletes the knox token, so the API refuses it at once; the ServiceToken row stays as the record that
the token existed (its status is then "revoked").
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from knox.models import get_token_model

from sbsync.models import ServiceToken


def issue_service_token(
    *, user: Any, name: str, issued_by: Any, lifetime: timedelta
) -> tuple[ServiceToken, str]:
    """Create a knox token for ``user`` expiring after ``lifetime`` and its ServiceToken. Every token
    expires: a lifetime that is not a positive duration raises ValueError.

    Side effects: inserts a knox token and a ServiceToken. Returns the row and the token itself, which is
    not stored anywhere and must be shown to the issuer once.
    """
    if not isinstance(lifetime, timedelta) or lifetime <= timedelta(0):
        raise ValueError("A service token needs a positive lifetime.")
    with transaction.atomic():
        instance, token = get_token_model().objects.create(user=user, expiry=lifetime)
        record = ServiceToken.objects.create(
            digest=instance.digest,
            token_key=instance.token_key,
            name=name,
            user=user,
            issued_by=issued_by,
            expiry=instance.expiry,
        )
    return record, token


def may_issue_for(issuer: Any, user: Any) -> str | None:
    """Why ``issuer`` may not issue a token acting as ``user``, or None when they may.

    Anyone allowed to issue tokens may issue one for themselves; a token for another user needs the
    ``sbsync.issue_token_for_others`` permission, and a token for a superuser can only come from a
    superuser (it would otherwise lift the issuer to every power of the superuser).
    """
    if user.pk == issuer.pk:
        return None
    if not issuer.has_perm("sbsync.issue_token_for_others"):
        return "You may issue tokens only for yourself: tokens for other users need the permission “Can issue API tokens that act as another user”."
    if user.is_superuser and not issuer.is_superuser:
        return "Only a superuser may issue a token for a superuser."
    return None


def revoke_service_token(record: ServiceToken) -> bool:
    """Delete the knox token of ``record``. Side effect: the API refuses the token from now on.
    Returns whether a token was still there to delete."""
    deleted, _ = get_token_model().objects.filter(digest=record.digest).delete()
    return bool(deleted)


def with_status(tokens: QuerySet[ServiceToken]) -> QuerySet[ServiceToken]:
    """Annotate ``live``: knox still holds the token (it was neither revoked nor purged after expiry)."""
    return tokens.annotate(live=Exists(get_token_model().objects.filter(digest=OuterRef("digest"))))


def status_of(record: ServiceToken) -> str:
    """``active``, ``expired`` or ``revoked`` (``record`` annotated by ``with_status``)."""
    if record.expiry is not None and record.expiry <= timezone.now():
        return "expired"
    return "active" if getattr(record, "live", False) else "revoked"
