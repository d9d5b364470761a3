"""Long-lived API tokens for service clients, issued and revoked by staff (the UI's tokens page).

A token is a knox token (stored hashed); a ServiceToken row names it and records who issued it. Revoking
deletes the knox token, so the API refuses it at once; the ServiceToken row stays as the record that
the token existed, with who revoked it and when (its status is then "revoked"). Both are saved through
the model, so the audit trail has a record of each, attributed to the person who acted.
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
        record = ServiceToken(
            digest=instance.digest,
            token_key=instance.token_key,
            name=name,
            user=user,
            issued_by=issued_by,
            expiry=instance.expiry,
        )
        _attribute(record, issued_by)
        record.save()
    return record, token


def _attribute(record: ServiceToken, user: Any) -> None:
    """Name ``user`` as the author of the history record the next save writes, whether or not the
    request passed simple-history's middleware (commands and tasks have no request)."""
    record._history_user = user  # type: ignore[attr-defined]


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


def revoke_service_token(record: ServiceToken, *, revoked_by: Any) -> bool:
    """Delete the knox token of ``record`` and note who revoked it and when. Returns whether a token was
    still there to delete (an expired or already revoked token is left as it is, and no record is added).

    Side effects, in one transaction: the API refuses the token from now on; ``revoked_at`` and
    ``revoked_by`` are saved, which adds the revocation to the audit trail.
    """
    with transaction.atomic():
        deleted, _ = get_token_model().objects.filter(digest=record.digest).delete()
        if not deleted:
            return False
        record.revoked_at, record.revoked_by = timezone.now(), revoked_by
        _attribute(record, revoked_by)
        record.save(update_fields=["revoked_at", "revoked_by"])
    return True


def with_status(tokens: QuerySet[ServiceToken]) -> QuerySet[ServiceToken]:
    """Annotate ``live``: knox still holds the token (it was neither revoked nor purged after expiry)."""
    return tokens.annotate(live=Exists(get_token_model().objects.filter(digest=OuterRef("digest"))))


def status_of(record: ServiceToken) -> str:
    """``active``, ``expired`` or ``revoked`` (``record`` annotated by ``with_status``)."""
    if record.revoked_at is not None:
        return "revoked"
    if record.expiry is not None and record.expiry <= timezone.now():
        return "expired"
    return "active" if getattr(record, "live", False) else "revoked"
