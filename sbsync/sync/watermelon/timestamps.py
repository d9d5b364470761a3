"""The ``timestamp`` of the WatermelonDB protocol: the id of a stored checkpoint (models/watermelon.py).

WatermelonDB keeps one number between syncs and sends it back as ``lastPulledAt``. It must be a
JavaScript-safe integer, yet it has to carry everything an sbsync pull cursor carries per model (the
scope's position, the shared scope's position, the view fingerprint, a first sync's floor). A checkpoint
row holds the cursors; its id is the number. Nothing lives in process memory, so any worker can serve the
next request.

A checkpoint is valid only for the user and organization it was issued to. The checkpoint a pull started
from is deleted when the client presents the new one (it has applied it, so it will never go back), and
``purge_checkpoints`` removes the rest after TOMBSTONE_RETENTION_DAYS, when their positions would be past
the tombstone horizon anyway. An unknown or purged timestamp answers 410: reset the local database and
sync from null.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from sbsync.access import Access
from sbsync.errors import ProtocolError
from sbsync.models import WatermelonCheckpoint

MAX_SAFE_INTEGER = 2**53 - 1


def _refused(status: int, code: str, detail: str) -> ProtocolError:
    return ProtocolError(status, code, detail, {"last_pulled_at": [detail]})


def parse_timestamp(text: str | None) -> int | None:
    """``last_pulled_at`` as given in a query string: None for a first sync (absent, ``null``, ``0``),
    else a positive whole number; ProtocolError 400 ``invalid_timestamp`` otherwise."""
    if text is None or text in ("", "null", "0"):
        return None
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_SAFE_INTEGER:
        raise _refused(
            400,
            "invalid_timestamp",
            "last_pulled_at must be null or the timestamp a previous WatermelonDB pull returned.",
        )
    return int(text)


def load_checkpoint(access: Access, timestamp: int) -> WatermelonCheckpoint:
    """The checkpoint behind ``timestamp`` for the caller. Unknown, purged and someone else's checkpoints
    answer alike (ProtocolError 410 ``cursor_expired``), so the number reveals nothing about other
    clients."""
    checkpoint = WatermelonCheckpoint.objects.filter(
        pk=timestamp, user=access.user, organization=access.organization
    ).first()
    if checkpoint is None:
        raise _refused(
            410,
            "cursor_expired",
            f"last_pulled_at {timestamp} is unknown or expired: reset the local database and sync from null.",
        )
    return checkpoint


def issue_checkpoint(
    access: Access,
    cursors: dict[str, str],
    previous: WatermelonCheckpoint | None,
    unfinished: list[str] | None = None,
) -> WatermelonCheckpoint:
    """Store the cursors a pull reached (and the models whose first sync it left ``unfinished``); its id
    is the pull's timestamp. Side effect: deletes the checkpoint ``previous`` started from, which its
    client can no longer present."""
    checkpoint = WatermelonCheckpoint.objects.create(
        user=access.user,
        organization=access.organization,
        previous=previous.pk if previous else None,
        cursors=cursors,
        unfinished=unfinished or [],
        created_at=timezone.now(),
    )
    if checkpoint.pk > MAX_SAFE_INTEGER:  # about 9e15 pulls: never, but the client would corrupt it
        raise OverflowError("WatermelonDB timestamps are past JavaScript's safe integers.")
    if previous is not None and previous.previous is not None:
        WatermelonCheckpoint.objects.filter(
            pk=previous.previous, user=access.user, organization=access.organization
        ).delete()
    return checkpoint


def note_created(checkpoint_id: int, created: dict[str, list[str]]) -> None:
    """Remember rows a push naming the checkpoint created (model label → primary keys), so the next pull
    from it sends them as ``updated``: the client holds them already. Nothing to do when the checkpoint
    is gone (the client has pulled past it)."""
    with transaction.atomic():
        checkpoint = WatermelonCheckpoint.objects.select_for_update().filter(pk=checkpoint_id).first()
        if checkpoint is None:
            return
        merged: dict[str, Any] = dict(checkpoint.created)
        for label, keys in created.items():
            merged[label] = sorted({*merged.get(label, []), *keys})
        checkpoint.created = merged
        checkpoint.save(update_fields=["created"])


def purge_checkpoints(*, older_than: datetime) -> int:
    """Delete checkpoints issued before ``older_than``. Returns how many."""
    count, _ = WatermelonCheckpoint.objects.filter(created_at__lt=older_than).delete()
    return count
